"""Callouts engine: the pure domain (`backend.domain`), its adapters and entry points."""
