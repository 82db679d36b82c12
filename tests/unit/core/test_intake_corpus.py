"""The bad-input corpus (bench/bad_inputs.py) through every door, under a memory and time limit.

All cases run in one subprocess with RLIMIT_AS and a per-case alarm (a hang or a memory blow-up
fails its case instead of the test run); each asserts the verdict, where the problem points, and
that no traceback escaped.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.bad_inputs import CASES, Case, run_all

SECONDS_PER_CASE = 60  # intake alone; generous for a loaded 2-core machine, a hang is minutes
MEMORY_MB = 1_500  # the whole worker: a 1 GB string cannot be built under it


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict[str, Any]]:
    names = [case.name for case in CASES]
    results = run_all(names, seconds=SECONDS_PER_CASE, memory_mb=MEMORY_MB)
    return {result["name"]: result for result in results}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_bad_input_is_answered(case: Case, outcomes: dict[str, dict[str, Any]]) -> None:
    outcome = outcomes[case.name]
    assert outcome.get("error") is None, outcome.get("error")  # no traceback, hang or MemoryError
    assert outcome["accepted"] is case.ok, outcome["problems"][:5]
    if case.ok:
        assert case.fragment in outcome["job"]
        assert outcome["problems"] == []
        return
    assert outcome["problems"], "refused without a reason"
    matching = [
        p for p in outcome["problems"] if case.fragment in p["message"] and case.where in p["where"]
    ]
    assert matching, outcome["problems"][:5]
    for problem in outcome["problems"]:
        assert "Traceback" not in problem["message"]
