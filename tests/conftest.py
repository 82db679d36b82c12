"""Loaded first for every test: being in the `tests` package, it puts the repository root on
sys.path (pytest's prepend import mode), so any test may import helpers from `tests.fakes`."""
