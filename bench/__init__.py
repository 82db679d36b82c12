"""`make bench`: speed, memory and call-count figures, printed (never asserted)."""
