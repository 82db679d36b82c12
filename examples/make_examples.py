"""Regenerate examples/call_job.xlsx from the project's own code.

Run: .venv/bin/python examples/make_examples.py
"""

from __future__ import annotations

from pathlib import Path

from backend.domain.workbook_template import write_example

EXAMPLE = Path(__file__).resolve().parent / "call_job.xlsx"


def main() -> None:
    write_example(EXAMPLE)
    print(f"wrote {EXAMPLE}")


if __name__ == "__main__":
    main()
