"""Run every benchmark module in turn; one failing benchmark does not hide the others."""

from __future__ import annotations

import importlib
import sys
import time
import traceback

MODULES = (
    "intake_report",
    "bad_inputs",
    "voice_path",
    "engine",
    "estimate",
    "slack_calls",
    "teams_calls",
    "package_sizes",
    "aws_lines",
    "aws_scale",
)


def main() -> int:
    failed = []
    for name in MODULES:
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").main()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"--- bench.{name}: {time.perf_counter() - started:.1f} s", flush=True)
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
