"""ProblemLog: the problems of one intake, with repeats of one row problem summarised."""

from __future__ import annotations

import re
from collections import Counter

from backend.domain.problems import Problem

_QUOTED = re.compile(r"'[^']*'|[\d,]+")


class ProblemLog:
    """Collects problems; after `cap` of one kind, the rest are counted into one summary line."""

    def __init__(self, cap: int) -> None:
        self.items: list[Problem] = []
        self.job_level = False
        self._cap = cap
        self._counts: Counter[tuple[str | None, str | None, str]] = Counter()
        self._first: dict[tuple[str | None, str | None, str], Problem] = {}

    def add(self, problem: Problem, *, job_level: bool = True) -> None:
        self.job_level = self.job_level or job_level
        if job_level:
            self.items.append(problem)
            return
        column = problem.column if problem.sheet else None
        key = (problem.sheet, column, _QUOTED.sub("", problem.message))
        self._counts[key] += 1
        if self._counts[key] <= self._cap:
            self.items.append(problem)
            self._first.setdefault(key, problem)

    def finish(self) -> list[Problem]:
        for key, count in self._counts.items():
            extra = count - self._cap
            if extra > 0:
                first = self._first[key]
                rows = "row" if extra == 1 else "rows"
                self.items.append(
                    Problem(
                        f"…and {extra:,} more {rows} with the same problem: {first.message}",
                        first.sheet,
                        None,
                        first.column if first.sheet else None,
                    )
                )
        return self.items
