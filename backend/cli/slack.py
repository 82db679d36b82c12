"""Commands registered on the `callouts` app."""

from backend.cli import app  # noqa: F401
