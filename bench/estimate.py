"""Estimate before Start vs the local engine (printed, never asserted; goal: within ±20%).

Each job shape is estimated (`backend.domain.estimate`, default rates) and then run on the local
engine in virtual time with random simulated people (fixed seed) through the real contact flow
and bots. Printed per shape: the expected and simulated wall-clock duration and call minutes
(every call from dial to hang-up, the engine's busy slot time), and their ratio.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from backend.domain.estimate import estimate
from backend.domain.models import (
    CallJob,
    JobSettings,
    Question,
    QuestionType,
    Receiver,
)
from backend.local.engine import LocalEngine
from backend.local.simulator import random_people
from backend.local.store import SqliteStore

SEED = 20261201
GOAL = 0.20


@dataclass(frozen=True)
class Shape:
    name: str
    receivers: int
    questions: int
    concurrency: int
    max_attempts: int = 2
    retry_delay: int = 300
    window: str | None = "any"  # None: the default 09:00-20:00 Mon-Sat
    start: datetime = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Hong Kong


SHAPES = (
    Shape("small, 8 people, 3 questions", 8, 3, 10),
    Shape("large, 1,000 people, 6 questions", 1_000, 6, 20),
    Shape("retries, 400 people, 4 attempts, 10 min apart", 400, 4, 10, 4, 600),
    # Starts 18:00 in Hong Kong: two hours of calling, the night, then the next day.
    Shape(
        "hours window, 1,500 people from 18:00 HKT",
        1_500,
        3,
        8,
        window=None,
        start=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
    ),
)


def make_job(shape: Shape) -> CallJob:
    types = list(QuestionType)
    settings: dict[str, object] = {
        "concurrency": shape.concurrency,
        "max_attempts": shape.max_attempts,
        "retry_delay_seconds": shape.retry_delay,
        "max_receivers": max(shape.receivers, 1),
        "organisation": "Sunny Bay Primary School",
    }
    if shape.window is not None:
        settings["calling_window"] = shape.window
    return CallJob(
        job_id=f"bench-estimate-{shape.receivers}-{shape.questions}-{shape.max_attempts}",
        greeting="Hello {{ name }}, this is the class {{ class }} teacher calling about the "
        "school picnic next Friday.",
        ending="Thank you {{ name }}. We will send the details by letter. Goodbye!",
        questions=tuple(
            Question(
                template=f"Question {i + 1}: will {{{{ name }}}} be able to tell us about the "
                "picnic plans?",
                type=types[i % len(types)],
            )
            for i in range(shape.questions)
        ),
        receivers=tuple(
            Receiver(
                id=f"R{i:05d}",
                phone_number=f"+8525{i:07d}",
                fields={"name": f"Chan Tai Man {i}", "class": f"{i % 6 + 1}A"},
            )
            for i in range(shape.receivers)
        ),
        extra_columns=("name", "class"),
        settings=JobSettings.model_validate(settings),
    )


@dataclass(frozen=True)
class Compared:
    shape: Shape
    expected_hours: float
    simulated_hours: float
    expected_minutes: float
    simulated_minutes: float
    calls_expected: float
    calls_simulated: int
    cost: float
    wall: float

    @property
    def duration_ratio(self) -> float:
        return self.expected_hours / self.simulated_hours if self.simulated_hours else 0.0

    @property
    def minutes_ratio(self) -> float:
        return self.expected_minutes / self.simulated_minutes if self.simulated_minutes else 0.0


def compare(shape: Shape) -> Compared:
    job = make_job(shape)
    found = estimate(job, shape.start)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "estimate.db")
        engine = LocalEngine(
            store,
            random_people(job, SEED),
            report_dir=None,
            clock=lambda: shape.start,
            worker_threads=1,
        )
        engine.run(job)
    stats = engine.last_stats
    return Compared(
        shape=shape,
        expected_hours=found.duration_seconds / 3600,
        simulated_hours=stats.makespan_seconds / 3600,
        expected_minutes=found.call_minutes,
        simulated_minutes=stats.busy_slot_seconds / 60,
        calls_expected=found.attempts,
        calls_simulated=stats.calls,
        cost=found.total_cost,
        wall=time.perf_counter() - started,
    )


def _mark(ratio: float) -> str:
    return "ok" if abs(ratio - 1) <= GOAL else "OUT OF ±20%"


def main() -> None:
    print("estimate vs simulated run (virtual time, random people, seed fixed; goal ±20%)")
    for shape in SHAPES:
        c = compare(shape)
        print(f"{shape.name} (concurrency {shape.concurrency}):")
        print(
            f"  duration      estimate {c.expected_hours:8.2f} h   simulated "
            f"{c.simulated_hours:8.2f} h   ratio {c.duration_ratio:5.2f}  {_mark(c.duration_ratio)}"
        )
        print(
            f"  call minutes  estimate {c.expected_minutes:8.1f}     simulated "
            f"{c.simulated_minutes:8.1f}     ratio {c.minutes_ratio:5.2f}  {_mark(c.minutes_ratio)}"
        )
        print(
            f"  calls         estimate {c.calls_expected:8.1f}     simulated "
            f"{c.calls_simulated:8d}     expected cost ${c.cost:,.2f}   ({c.wall:.1f} s to run)"
        )


if __name__ == "__main__":
    main()
