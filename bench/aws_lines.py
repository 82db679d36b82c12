"""Phone-line utilisation of the AWS scheduling, in virtual time (printed, never asserted).

A discrete-event model of the deployed call path, using the deployed code's own rules:

- the Distributed Map keeps `tasks.map_width(...)` children in flight and starts items in the
  order of `tasks.call_tasks` (soonest callable first);
- a child's Dial task puts a message on the calls queue; the dialer (`calling_rules`) answers
  "wait N s" outside the calling window (the child's Wait state: a Map slot, no line), leases a
  line from the counter (`lines.LineLeases`: at most the budget) or defers the message by
  `dialing.no_line_delay` when every line is taken;
- the task ends at the last answer (the flow's SendTaskSuccess) but the line is held until the
  DISCONNECTED event (ending played + event latency); a NoAnswer/Busy attempt is retried after
  `retry_delay_seconds` (the child's RetryDelay Wait state: a Map slot, no line).

The old design is modelled too: MaxConcurrency = the line budget, every wait held a slot, and the
slot was freed at the last answer while the ending still played (live calls above the budget).

Utilisation = busy line-seconds / (budget x seconds) over the time at least `budget` people were
callable (window open, not done, not waiting out a retry delay), and over the time anyone was.
Goal: >= 95%, with 25% NoAnswer/Busy attempts and a job spread over three time zones;
live calls never above the budget.

Run alone: .venv/bin/python -m bench.aws_lines
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from backend.aws.dialing import no_line_delay
from backend.aws.tasks import call_tasks, map_width
from backend.domain.calling_rules import Expired, is_allowed, next_call_time
from backend.domain.models import (
    CallingWindow,
    CallJob,
    JobSettings,
    Question,
    QuestionType,
    Receiver,
)

SEED = 20261201
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Hong Kong; London and New York closed
# Phone-number prefixes (8 digits follow) and the zone `phones.time_zones` gives each.
ZONES = {"+8525": "Hong Kong", "+44207": "London", "+1212": "New York"}
RECEIVERS = 3_000
LINES = 10
RETRY_SHARE = 0.25
ENDING_SECONDS = 10  # the ending plays after the last answer
EVENT_LATENCY_SECONDS = 1  # DISCONNECTED -> EventBridge -> Lambda


def make_job(receivers: int = RECEIVERS) -> CallJob:
    prefixes = list(ZONES)
    people = tuple(
        Receiver(id=f"r{n:05d}", phone_number=f"{prefixes[n % 3]}{5_000_000 + n:07d}")
        for n in range(receivers)
    )
    return CallJob(
        job_id="bench-lines",
        greeting="Hello",
        ending="Goodbye",
        questions=(Question(template="Say OK", type=QuestionType.OK),),
        receivers=people,
        settings=JobSettings(
            max_attempts=2,
            retry_delay_seconds=300,
            concurrency=LINES,
            calling_window=CallingWindow(),
            max_receivers=100_000,
        ),
    )


@dataclass
class Model:
    job: CallJob
    lines: int
    old: bool  # the previous design: Map slots are the lines
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))

    def __post_init__(self) -> None:
        self.now = 0.0
        self.events: list[tuple[float, int, str, int]] = []
        self.seq = 0
        self.live = 0  # calls on the phone (dial .. DISCONNECTED)
        self.leased = 0
        self.max_live = 0
        self.attempt: dict[int, int] = {}
        self.waiting_retry: set[int] = set()
        self.done: set[int] = set()
        order = [t["receiver_id"] for t in call_tasks(self.job, T0)]
        if self.old:  # the old task file kept the workbook order
            order = [r.id for r in self.job.receivers]
        index = {r.id: i for i, r in enumerate(self.job.receivers)}
        self.order = [index[r] for r in order]
        self.width = self.lines if self.old else map_width(len(self.order), self.lines)
        self.next_item = 0
        self.sample = {zone: zone for zone in range(len(ZONES))}  # receiver n is in zone n % 3
        self.eligible = dict.fromkeys(range(len(ZONES)), 0)
        for who in range(len(self.job.receivers)):
            self.set_eligible(who, 1)
        self.busy = 0.0  # line-seconds
        self.saturated = self.anyone = 0.0  # seconds with >= lines / >= 1 callable
        self.busy_saturated = self.busy_anyone = 0.0

    def at(self, delay: float, kind: str, who: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (self.now + delay, self.seq, kind, who))

    def clock(self) -> datetime:
        return T0 + timedelta(seconds=self.now)

    def callable_now(self) -> int:
        """People who could be on a call now: window open, not done, not waiting a retry."""
        moment = self.clock()
        return sum(
            count
            for zone, count in self.eligible.items()
            if is_allowed(self.job.receivers[self.sample[zone]], self.job.settings, moment)
        )

    def set_eligible(self, who: int, delta: int) -> None:
        self.eligible[who % len(ZONES)] += delta

    def start_items(self) -> None:
        while self.next_item < len(self.order) and self.in_flight < self.width:
            who = self.order[self.next_item]
            self.next_item += 1
            self.in_flight += 1
            self.attempt[who] = 1
            self.at(0, "receive", who)

    def receive(self, who: int) -> None:
        receiver = self.job.receivers[who]
        moment = self.clock()
        if not is_allowed(receiver, self.job.settings, moment):
            opens = next_call_time(receiver, moment, self.job.settings, T0)
            if isinstance(opens, Expired):
                self.done.add(who)  # the deadline: the receiver ends as Expired
                return
            wait = (opens - moment).total_seconds() + 1
            self.at(wait, "receive", who)  # WaitForCallingWindow, then Dial again
            return
        if not self.old:
            if self.leased >= self.lines:
                self.at(no_line_delay(100), "receive", who)
                return
            self.leased += 1
        self.live += 1
        self.max_live = max(self.max_live, self.live)
        if self.rng.random() < RETRY_SHARE:
            talk = self.rng.choice((30.0, 5.0))  # rings out / busy tone
            self.at(talk, "task_done_retry", who)
            self.at(talk + EVENT_LATENCY_SECONDS, "disconnected", who)
        else:
            talk = self.rng.uniform(120, 240)
            self.at(talk, "task_done", who)  # the last answer: SendTaskSuccess
            self.at(talk + ENDING_SECONDS + EVENT_LATENCY_SECONDS, "disconnected", who)

    def task_done(self, who: int, retry: bool) -> None:
        if retry and self.attempt[who] < self.job.settings.max_attempts:
            self.attempt[who] += 1
            self.waiting_retry.add(who)
            self.set_eligible(who, -1)
            self.at(self.job.settings.retry_delay_seconds, "retry", who)
            return
        self.done.add(who)
        self.set_eligible(who, -1)
        self.in_flight -= 1
        self.start_items()

    def run(self) -> dict[str, float]:
        self.in_flight = 0
        self.start_items()
        last_sample = 0.0
        demand = self.callable_now()
        while self.events:
            moment, _, kind, who = heapq.heappop(self.events)
            span = moment - last_sample
            busy = min(self.live, self.lines) * span
            self.busy += busy
            if demand >= self.lines:
                self.saturated += span
                self.busy_saturated += busy
            if demand >= 1:
                self.anyone += span
                self.busy_anyone += busy
            self.now = last_sample = moment
            if kind == "receive":
                self.receive(who)
            elif kind == "disconnected":
                self.live -= 1
                if not self.old:
                    self.leased -= 1
            elif kind == "retry":
                self.waiting_retry.discard(who)
                self.set_eligible(who, 1)
                self.receive(who)
            else:
                self.task_done(who, retry=kind == "task_done_retry")
            demand = self.callable_now()
        return {
            "util_saturated": self.busy_saturated / max(1e-9, self.saturated * self.lines),
            "util_anyone": self.busy_anyone / max(1e-9, self.anyone * self.lines),
            "max_live": float(self.max_live),
            "hours": self.now / 3600,
        }


def main() -> None:
    job = make_job()
    print(
        f"{RECEIVERS:,} receivers in 3 time zones ({', '.join(ZONES.values())}), window "
        f"08:00-21:00 local, {LINES} lines, {RETRY_SHARE:.0%} NoAnswer/Busy, retry after "
        f"{job.settings.retry_delay_seconds} s, calls 2-4 min + {ENDING_SECONDS} s ending"
    )
    print(
        f"{'design':<34} {'util (>=budget callable)':>25} {'util (anyone)':>14} "
        f"{'max live':>9} {'hours':>6}"
    )
    for old, name in ((True, "old: Map slots = lines"), (False, "leased lines (deployed)")):
        figures = Model(job, LINES, old).run()
        print(
            f"{name:<34} {figures['util_saturated']:>24.1%} {figures['util_anyone']:>14.1%} "
            f"{int(figures['max_live']):>9} {figures['hours']:>6.1f}"
        )
    print(f"goal: >= 95% while at least {LINES} people are callable; max live <= {LINES}")


if __name__ == "__main__":
    main()
