"""Before Start: how long a job will take and what it will cost (docs/estimate.md).

The model, in four steps:

1. Call lengths from the job's own prompts (person #1 and a sample of others, rendered as they
   will be said): an answered call is ringing + greeting + each question said and answered
   (`reask_share` of questions asked a second time) + the ending, at `SECONDS_PER_WORD`; a
   voicemail or silence (NoHuman) hears the greeting and the first question `no_input_limit`
   times; no-answer and busy calls ring for `NO_ANSWER_SECONDS` / `BUSY_SECONDS`.
2. Calls: each receiver gets attempts until reached or `max_attempts`, a share `Rates.retried`
   of attempts being retried, so `Σ_k retried^k` attempts each.
3. Wall clock: the attempts go through a fluid model of the engine's scheduler: `concurrency`
   lines, retries ready `retry_delay_seconds` after their attempt, calls started only while the
   calling window is open (`calling_rules.open_spans`, in the zones most receivers have).
4. Cost: call minutes x Connect, answered minutes x telephony for each receiver's country, Lex
   intervals per bot turn, Polly characters, and the Lambda / Step Functions / DynamoDB requests
   per attempt, all priced from `prices.Prices`.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.domain.calling_rules import Span, deadline, describe, open_spans, zone_names
from backend.domain.dnc import call_day
from backend.domain.models import CallJob, JobSettings, Receiver
from backend.domain.phones import region_of
from backend.domain.prices import Prices
from backend.domain.session import SORRY
from backend.domain.speech import Speech, SpeechError
from backend.domain.ssml_text import spoken_text

# Speaking and listening (the phone simulator uses the same figures for its people).
SECONDS_PER_WORD = 0.4  # Polly's neural voices say about 150 words a minute
ANSWER_SECONDS = 2.0  # a person's reply and the bot recognising it
SILENCE_SECONDS = 5.0  # the bot's input time-out
RING_SECONDS = 6.0  # ringing before a person picks up
NO_ANSWER_SECONDS = 30.0
BUSY_SECONDS = 2.0
PROMPT_SAMPLE = 20  # receivers whose prompts are rendered to measure the call length

# Requests per attempt on AWS (dialer, flow turns, disconnect; docs/aws.md "Cost per 1,000").
LAMBDA_PER_ATTEMPT = 2  # dialer + DISCONNECTED handler
LAMBDA_PER_CONNECTED = 1  # the flow's start event (+1 per bot turn)
LAMBDA_PER_JOB = 4  # start-job, report, execution event, notifier share
LAMBDA_GB_SECONDS = 0.05  # about 0.1 s at 512 MB per invocation
TRANSITIONS_PER_ATTEMPT = 8
TRANSITIONS_PER_JOB = 15
WRITES_PER_ATTEMPT = 10  # claim, dial fact, session, line leases (transactions), result
READS_PER_ATTEMPT = 4
CHUNKS = 24  # the fluid model splits each wave of attempts in this many parts


class Rates(BaseModel):
    """What happens to an attempt (shares of attempts; normalised to sum to 1).

    Defaults are planning figures for calls to parents' and customers' mobiles; give your own
    from past reports (`callouts estimate --answer-rate`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    answered: float = Field(default=0.75, ge=0, le=1)
    no_answer: float = Field(default=0.14, ge=0, le=1)
    busy: float = Field(default=0.07, ge=0, le=1)
    no_human: float = Field(default=0.04, ge=0, le=1, description="voicemail or silence")
    reask_share: float = Field(default=0.10, ge=0, le=1, description="questions asked twice")

    @model_validator(mode="after")
    def _some(self) -> Rates:
        if self.answered + self.no_answer + self.busy + self.no_human <= 0:
            raise ValueError("at least one of the shares must be above 0")
        return self

    @classmethod
    def with_answer_rate(cls, answered: float) -> Rates:
        """`answered` of attempts picked up; the rest split as the defaults split it."""
        base = cls()
        rest = base.no_answer + base.busy + base.no_human
        scale = (1 - answered) / rest
        return cls(
            answered=answered,
            no_answer=base.no_answer * scale,
            busy=base.busy * scale,
            no_human=base.no_human * scale,
        )

    def _total(self) -> float:
        return self.answered + self.no_answer + self.busy + self.no_human

    @property
    def retried(self) -> float:
        """Share of attempts ending NoAnswer, Busy or NoHuman (`CallStatus.retryable`)."""
        return (self.no_answer + self.busy + self.no_human) / self._total()

    def share(self, name: str) -> float:
        value: float = getattr(self, name)
        return value / self._total()


@dataclass(frozen=True, slots=True)
class CostLine:
    item: str
    quantity: float
    unit: str
    unit_price: float
    cost: float


@dataclass(frozen=True, slots=True)
class CallLengths:
    """Seconds of one attempt, by how it ends, and what an answered call says and hears."""

    answered: float
    no_human: float
    turns: float  # bot turns of an answered call
    lex_intervals: float  # Lex streaming intervals of an answered call
    characters: float  # characters said by Polly in an answered call


@dataclass(frozen=True)
class Estimate:
    job_id: str
    receivers: int
    concurrency: int
    attempts: float  # expected calls placed
    reached: float  # expected receivers reached
    call_seconds: float  # every call, from dial to hang-up (ringing included)
    answered_seconds: float  # calls picked up (answered or voicemail), from pick-up
    lengths: CallLengths
    duration_seconds: float  # wall clock, start to last call ended
    starts_at: datetime
    ends_at: datetime
    window: str
    past_deadline: bool
    costs: tuple[CostLine, ...]
    prices_checked_on: str
    notes: tuple[str, ...] = field(default=())

    @property
    def total_cost(self) -> float:
        return sum(line.cost for line in self.costs)

    @property
    def call_minutes(self) -> float:
        return self.call_seconds / 60

    def duration_line(self) -> str:
        """One line for previews: `Expected duration: about 2 h 10 min (1,230 calls, ...)`."""
        text = f"Expected duration: about {human_duration(self.duration_seconds)}"
        text += f" ({self.attempts:,.0f} calls, {self.concurrency} at a time"
        text += f", ends {self.ends_at:%a %d %b %H:%M} UTC)"
        if self.past_deadline:
            text += "; past the job's deadline: the unreached then end as Expired"
        return text

    def cost_line(self) -> str:
        """One line for previews: `Expected cost: about $12.40 (Connect $5.10, ...)`."""
        biggest = sorted(self.costs, key=lambda line: -line.cost)[:3]
        parts = ", ".join(f"{line.item} {money(line.cost)}" for line in biggest)
        total = money(self.total_cost)
        return f"Expected cost: about {total} ({parts}; prices of {self.prices_checked_on})"


def money(amount: float) -> str:
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.4f}"


def human_duration(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def _spoken(ssml: str) -> str:
    """What a listener hears of an SSML prompt: tags dropped, entities decoded."""
    return spoken_text(ssml)


def _words(ssml: str) -> int:
    return len(_spoken(ssml).split())


def _say(ssml: str) -> float:
    return _words(ssml) * SECONDS_PER_WORD


def _sample(receivers: Sequence[Receiver]) -> list[Receiver]:
    if len(receivers) <= PROMPT_SAMPLE:
        return list(receivers)
    step = len(receivers) / PROMPT_SAMPLE
    return [receivers[int(i * step)] for i in range(PROMPT_SAMPLE)]


def call_lengths(job: CallJob, rates: Rates, lex_interval_seconds: float = 15.0) -> CallLengths:
    """Mean seconds of an answered and of a NoHuman call, from the prompts as they are said."""
    speech = Speech(job)
    rendered = []
    for receiver in _sample(job.receivers):
        try:
            rendered.append(speech.prompts(receiver))
        except SpeechError:
            continue  # intake reports the receiver; the others measure the call
    if not rendered:
        raise ValueError("no receiver's prompts can be rendered")
    n = len(rendered)
    sorry = _say(SORRY)
    greeting = sum(_say(p.greeting) for p in rendered) / n
    ending = sum(_say(p.ending) for p in rendered) / n
    questions = [sum(_say(p.questions[i]) for p in rendered) / n for i in range(len(job.questions))]
    asked = sum(questions) + ANSWER_SECONDS * len(questions)
    again = rates.reask_share * sum(sorry + q + ANSWER_SECONDS for q in questions)
    answered = RING_SECONDS + greeting + asked + again + ending
    first = questions[0] if questions else 0.0
    tries = job.settings.no_input_limit
    no_human = RING_SECONDS + greeting + first + (tries - 1) * (sorry + first)
    no_human += tries * (ANSWER_SECONDS + SILENCE_SECONDS) / 2
    intervals = 0.0
    for q in questions:
        turn = q + ANSWER_SECONDS
        intervals += math.ceil(turn / lex_interval_seconds) * (1 + rates.reask_share)
    characters = (
        sum(len(_spoken(x)) for p in rendered for x in (p.greeting, *p.questions, p.ending)) / n
    )
    return CallLengths(
        answered=answered,
        no_human=no_human if questions else answered,
        turns=len(questions) * (1 + rates.reask_share),
        lex_intervals=intervals,
        characters=characters,
    )


def expected_attempts(max_attempts: int, retried: float) -> float:
    """Attempts per receiver: 1 + retried + retried² + ... (`max_attempts` terms)."""
    return sum(retried**k for k in range(max_attempts))


def _majority(job: CallJob) -> tuple[tuple[str, ...], str | None]:
    """The zones most receivers are called in, and the number of one of them."""
    numbers: dict[tuple[str, ...], str] = {}
    counts: Counter[tuple[str, ...]] = Counter()
    for receiver in job.receivers:
        names = zone_names(receiver, job.settings)
        counts[names] += 1
        numbers.setdefault(names, receiver.phone_number)
    if not counts:
        return (), None
    names = counts.most_common(1)[0][0]
    return names, numbers[names]


class _OpenClock:
    """Walks wall-clock time through the calling window's open spans; knows local midnight
    (the daily cap, `max_calls_per_day`, counts calls per local day of the number)."""

    def __init__(self, spans: list[Span], start: datetime, phone_number: str | None = None) -> None:
        self.spans = spans
        self.start = start
        self.phone_number = phone_number

    def next_day(self, t: float) -> float:
        """The offset of the local midnight after offset `t`."""
        if self.phone_number is None:
            return t
        _, midnight = call_day(self.phone_number, self.start + timedelta(seconds=t))
        return self._offset(midnight)

    def _offset(self, moment: datetime) -> float:
        return (moment - self.start).total_seconds()

    def open_at(self, t: float) -> float:
        """The first open moment at or after offset `t` (t itself when past every span)."""
        for opens, closes in self.spans:
            if self._offset(closes) > t:
                return max(t, self._offset(opens))
        return t

    def advance(self, t: float, work: float) -> float:
        """The offset at which `work` seconds of open time after `t` have passed."""
        for opens, closes in self.spans:
            begin, end = self._offset(opens), self._offset(closes)
            if end <= t:
                continue
            begin = max(begin, t)
            if begin + work <= end:
                return begin + work
            work -= end - begin
            t = end
        return t + work


def makespan(
    receivers: int,
    attempts_max: int,
    retried: float,
    mean_call: float,
    longest_call: float,
    concurrency: int,
    retry_delay: float,
    clock: _OpenClock,
    calls_per_day: int = 0,
) -> float:
    """Seconds from start until the last expected call ends (fluid model, see the module doc)."""
    chunks = min(receivers, CHUNKS)
    if chunks == 0:
        return 0.0
    size = receivers / chunks
    ready: list[tuple[float, int, float]] = [(0.0, 1, size) for _ in range(chunks)]
    heapq.heapify(ready)
    free = last = 0.0
    while ready:
        at, attempt, calls = heapq.heappop(ready)
        begin = clock.open_at(max(free, at))
        free = clock.advance(begin, calls * mean_call / concurrency)
        ended = max(free, clock.open_at(at) + longest_call)
        last = max(last, ended)
        if attempt < attempts_max and calls * retried > 1e-6:
            again = ended + retry_delay
            if calls_per_day and attempt % calls_per_day == 0:  # the day's calls are spent
                again = max(again, clock.next_day(ended))
            heapq.heappush(ready, (again, attempt + 1, calls * retried))
    return last


def job_lines(settings: JobSettings, max_lines: int | None = None) -> int:
    """Calls a job has live at once: its `concurrency`, but never more than the deployment's
    line budget `max_lines` (AWS: the stack's `MaxConcurrentCalls`, shared by all jobs)."""
    if max_lines is None or max_lines < 1:
        return settings.concurrency
    return min(settings.concurrency, max_lines)


def estimate(
    job: CallJob,
    start: datetime,
    *,
    concurrency: int | None = None,
    rates: Rates | None = None,
    prices: Prices | None = None,
) -> Estimate:
    """The expected duration and cost of running `job` from `start` (aware)."""
    rates = rates or Rates()
    prices = prices or Prices()
    settings = job.settings
    lines = max(1, concurrency or settings.concurrency)
    n = len(job.receivers)
    lengths = (
        call_lengths(job, rates, prices.lex_interval_seconds) if n else CallLengths(0, 0, 0, 0, 0)
    )
    per_receiver = expected_attempts(settings.max_attempts, rates.retried)
    attempts = n * per_receiver
    mix = {
        "answered": lengths.answered,
        "no_human": lengths.no_human,
        "no_answer": NO_ANSWER_SECONDS,
        "busy": BUSY_SECONDS,
    }
    mean_call = sum(rates.share(name) * seconds for name, seconds in mix.items())
    picked_up = rates.share("answered") + rates.share("no_human")
    answered_seconds = attempts * (
        rates.share("answered") * (lengths.answered - RING_SECONDS)
        + rates.share("no_human") * max(0.0, lengths.no_human - RING_SECONDS)
    )
    end_of_deadline = deadline(settings, start)
    horizon = end_of_deadline + timedelta(days=60)
    names, number = _majority(job)
    spans = open_spans(names, settings.calling_window, start, horizon)
    clock = _OpenClock(spans, start, number)
    seconds = makespan(
        n,
        settings.max_attempts,
        rates.retried,
        mean_call,
        max(lengths.answered, NO_ANSWER_SECONDS),
        lines,
        float(settings.retry_delay_seconds),
        clock,
        settings.max_calls_per_day,
    )
    ends = start + timedelta(seconds=seconds)
    connected = attempts * picked_up
    costs = _costs(
        job, prices, attempts, connected, answered_seconds, attempts * mean_call, lengths, rates
    )
    return Estimate(
        job_id=job.job_id,
        receivers=n,
        concurrency=lines,
        attempts=attempts,
        reached=n
        * (1 - rates.retried**settings.max_attempts)
        * rates.share("answered")
        / max(1e-9, 1 - rates.retried),
        call_seconds=attempts * mean_call,
        answered_seconds=answered_seconds,
        lengths=lengths,
        duration_seconds=seconds,
        starts_at=start,
        ends_at=ends,
        window=describe(settings.calling_window),
        past_deadline=ends > end_of_deadline,
        costs=costs,
        prices_checked_on=prices.checked_on,
    )


def _telephony_price(job: CallJob, prices: Prices) -> float:
    """Per-minute telephony averaged over the receivers' countries."""
    if not job.receivers:
        return prices.telephony(None)
    regions = Counter(region_of(r.phone_number) for r in job.receivers)
    total = sum(regions.values())
    return sum(prices.telephony(region) * count for region, count in regions.items()) / total


def _costs(
    job: CallJob,
    prices: Prices,
    attempts: float,
    connected: float,
    answered_seconds: float,
    call_seconds: float,
    lengths: CallLengths,
    rates: Rates,
) -> tuple[CostLine, ...]:
    answered_calls = attempts * rates.share("answered")
    turns = answered_calls * lengths.turns
    intervals = answered_calls * lengths.lex_intervals
    characters = answered_calls * lengths.characters
    invocations = (
        attempts * LAMBDA_PER_ATTEMPT + connected * LAMBDA_PER_CONNECTED + turns + LAMBDA_PER_JOB
    )
    transitions = attempts * TRANSITIONS_PER_ATTEMPT + TRANSITIONS_PER_JOB
    writes = attempts * WRITES_PER_ATTEMPT + 2 * turns
    reads = attempts * READS_PER_ATTEMPT + turns
    call_minutes = call_seconds / 60
    answered_minutes = answered_seconds / 60
    telephony = _telephony_price(job, prices)

    def line(item: str, quantity: float, unit: str, price: float, per: float = 1.0) -> CostLine:
        return CostLine(item, quantity, unit, price, quantity * price / per)

    return (
        line("Connect", call_minutes, "call minutes", prices.connect_per_minute),
        line("telephony", answered_minutes, "answered minutes", telephony),
        line("Lex", intervals, "15-second intervals", prices.lex_per_interval),
        line("Polly", characters, "characters", prices.polly_per_million_chars, 1e6),
        line(
            "Lambda",
            invocations,
            "invocations",
            prices.lambda_per_million_requests / 1e6
            + LAMBDA_GB_SECONDS * prices.lambda_per_gb_second,
        ),
        line(
            "Step Functions",
            transitions,
            "state transitions",
            prices.step_functions_per_thousand_transitions,
            1e3,
        ),
        line(
            "DynamoDB",
            writes + reads,
            "requests",
            (
                prices.dynamodb_per_million_writes * writes
                + prices.dynamodb_per_million_reads * reads
            )
            / max(1.0, writes + reads),
            1e6,
        ),
    )
