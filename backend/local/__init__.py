"""Laptop adapters: SQLite store, local engine, simulated dialer, phone simulator."""
