"""Chat-side state (Slack and Teams alike): previewed jobs waiting for Start, start claims, and
job cards.

The parsed job is stored here between the preview and the Start click (keyed by job id): a button
value holds only the job id. `claim_start` is atomic so a double click, a redelivered request or
a re-uploaded identical file starts a job once. Locally this is a small SQLite file; on AWS
`bot.core.aws_state.DynamoBotState` implements the same protocol.

Message references (`*_ref`) are opaque strings of the platform: Slack message timestamps, Teams
activity ids. Records stored before the Teams adapter (`thread_ts`, `preview_ts`, `card_ts`, no
platform) load as Slack ones.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from backend.domain.dnc import DO_NOT_CALL
from backend.domain.job_state import JobState
from backend.domain.models import (
    CallJob,
    CallResult,
    CallStatus,
    ChatOrigin,
    ChatPlatform,
    QuestionType,
)
from backend.domain.retry import may_reach
from backend.domain.summary import AnswerTally, tally_from_counts


class CardState(StrEnum):
    """What a job card shows: a job state (`JobState`, the one vocabulary) mapped by `of`, or one
    of two card-only states."""

    RUNNING = JobState.RUNNING.value
    FINISHED = JobState.FINISHED.value  # the report was posted (a cancelled job's too)
    STOPPED = JobState.STOPPED.value  # the run failed or was stopped before its report
    CANCELLING = "cancelling"  # card only: Cancel was pressed, calls in flight finish
    REJECTED = "rejected"  # card only: the start-job Lambda refused the job

    @classmethod
    def of(cls, state: JobState) -> CardState:
        """The card state of a job state."""
        return _CARD_STATES[state]

    @classmethod
    def parse(cls, text: str) -> CardState:
        """A stored card state, whatever its case."""
        return cls(text.strip().lower())


_CARD_STATES: dict[JobState, CardState] = {
    JobState.QUEUED: CardState.RUNNING,
    JobState.RUNNING: CardState.RUNNING,
    JobState.FINISHED: CardState.FINISHED,
    JobState.CANCELLED: CardState.FINISHED,
    JobState.FAILED: CardState.STOPPED,
    JobState.STOPPED: CardState.STOPPED,
    JobState.INTERRUPTED: CardState.STOPPED,
}

# A start claim whose card was never posted (the run that claimed it died) may be taken over
# after this long: well over the longest a start runs (the bot Lambda's 60 s timeout).
START_CLAIM_SECONDS = 300.0

RUNNING = CardState.RUNNING
CANCELLING = CardState.CANCELLING
FINISHED = CardState.FINISHED
# A job that ended without a report: the start-job Lambda refused it, or its execution failed.
REJECTED = CardState.REJECTED
STOPPED = CardState.STOPPED
ENDED = frozenset({FINISHED, REJECTED, STOPPED})


# Field names of the Slack-only records of before -> today's.
_LEGACY_KEYS = {"thread_ts": "thread_ref", "preview_ts": "preview_ref", "card_ts": "card_ref"}


def _renamed(data: dict[str, Any]) -> dict[str, Any]:
    return {_LEGACY_KEYS.get(key, key): value for key, value in data.items()}


@dataclass
class PendingJob:
    """A job shown in a preview, not started yet."""

    job: dict[str, Any]  # job_to_json form
    team_id: str
    channel_id: str
    user_id: str
    thread_ref: str | None = None  # the upload message (the preview is posted in its thread)
    preview_ref: str | None = None
    filename: str | None = None
    created_at: float = field(default_factory=time.time)
    platform: ChatPlatform = "slack"
    tenant_id: str | None = None  # Teams
    service_url: str | None = None  # Teams

    def origin(self, user_id: str | None = None) -> ChatOrigin:
        """Where a job started from this preview reports (by `user_id`, else who previewed)."""
        return ChatOrigin(
            platform=self.platform,
            team_id=self.team_id,
            tenant_id=self.tenant_id,
            channel_id=self.channel_id,
            user_id=user_id or self.user_id,
            thread_ref=self.thread_ref,
            service_url=self.service_url,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> PendingJob:
        return cls(**_renamed(json.loads(raw)))


@dataclass
class JobCard:
    """The job card message and the running counts it shows.

    The counts are kept incrementally (on AWS each stream batch adds to the stored card; nobody
    re-reads every result), in the shape of `backend.domain.summary`: `answer_tallies()` returns
    the same `AnswerTally` values as `summary(job, results).questions` (a test checks it).
    """

    job_id: str
    name: str
    team_id: str
    channel_id: str
    user_id: str
    card_ref: str | None
    thread_ref: str | None
    total: int
    questions: list[str]
    state: CardState = RUNNING
    reason: str | None = None  # why a REJECTED or STOPPED job ended
    statuses: dict[str, str] = field(default_factory=dict)  # receiver id -> CallStatus value
    # per question: answer -> count; "" = no answer
    tallies: list[dict[str, int]] = field(default_factory=list)
    question_types: list[str] = field(default_factory=list)  # QuestionType values
    report_posted: bool = False
    retry_of: str | None = None
    created_at: float = field(default_factory=time.time)
    do_not_call: int = 0  # NotCallable results because the number is on the do-not-call list
    sms: dict[str, int] | None = None  # a job with an SMS template: SmsTally.to_json() at the end
    platform: ChatPlatform = "slack"
    tenant_id: str | None = None  # Teams
    service_url: str | None = None  # Teams
    preview_ref: str | None = None  # the preview the job was started from
    preview_link: str | None = None  # a link to it, shown on the card

    @classmethod
    def for_job(cls, job: CallJob, card_ref: str | None = None) -> JobCard:
        origin = job.origin
        if origin is None:
            raise ValueError(f"job {job.job_id} did not come from a chat")
        return cls(
            job_id=job.job_id,
            name=job.name or job.job_id,
            team_id=origin.team_id,
            channel_id=origin.channel_id,
            user_id=origin.user_id,
            card_ref=card_ref or origin.card_ref,
            thread_ref=origin.thread_ref,
            total=len(job.receivers),
            questions=[q.template for q in job.questions],
            tallies=[{} for _ in job.questions],
            question_types=[q.type.value for q in job.questions],
            platform=origin.platform,
            tenant_id=origin.tenant_id,
            service_url=origin.service_url,
        )

    def origin(self) -> ChatOrigin:
        """Where the job reports: this card's conversation, thread and card message."""
        return ChatOrigin(
            platform=self.platform,
            team_id=self.team_id,
            tenant_id=self.tenant_id,
            channel_id=self.channel_id,
            user_id=self.user_id,
            thread_ref=self.thread_ref,
            card_ref=self.card_ref,
            service_url=self.service_url,
        )

    @property
    def done(self) -> int:
        return len(self.statuses)

    def counts(self) -> Counter[str]:
        return Counter(self.statuses.values())

    def add(self, result: CallResult) -> bool:
        """Count a result once; False for a repeat (streams deliver at least once)."""
        if result.receiver_id in self.statuses:
            return False
        self.statuses[result.receiver_id] = result.status.value
        if result.status is CallStatus.NOT_CALLABLE and result.error == DO_NOT_CALL:
            self.do_not_call += 1
        while len(self.tallies) < len(self.questions):
            self.tallies.append({})
        # As in the report: every question of every finished call is counted, a missing answer
        # (not reached, hung up early) as "No answer"; answers beyond the questions are not.
        for index, tally in enumerate(self.tallies[: len(self.questions)]):
            answer = result.answers[index] if index < len(result.answers) else None
            key = answer or ""
            tally[key] = tally.get(key, 0) + 1
        return True

    def answer_tallies(self) -> tuple[AnswerTally, ...]:
        """Per question, the answers in the report's order (see backend.domain.summary)."""
        return tuple(
            tally_from_counts(
                number,
                _question_type(self.question_types, number - 1),
                template,
                self.tallies[number - 1] if number <= len(self.tallies) else {},
            )
            for number, template in enumerate(self.questions, start=1)
        )

    def unreached(self) -> list[str]:
        """Receivers a retry may reach: not reached, and their number is callable."""
        return [rid for rid, status in self.statuses.items() if may_reach(CallStatus(status))]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> JobCard:
        data = _renamed(json.loads(raw))
        data["state"] = CardState.parse(str(data.get("state") or RUNNING))
        return cls(**data)


def _question_type(types: list[str], index: int) -> QuestionType:
    try:
        return QuestionType(types[index])
    except (IndexError, ValueError):  # a card stored before the types were: an open question
        return QuestionType.NUMBER


_RUN = re.compile(r"^(?P<base>.+)\.run(?P<n>\d+)$")
RUN_SUFFIX_ROOM = 8  # ".run" and up to 4 digits: a run id stays within the job id's 80


def run_job_id(job_id: str, run: int) -> str:
    """The id of the `run`th run of a job (run 1 is the job itself): `<id>.run2`..."""
    match = _RUN.match(job_id)
    base = match.group("base") if match else job_id
    return base if run <= 1 else f"{base[: 80 - RUN_SUFFIX_ROOM]}.run{run}"


def current_run(state: BotState, job_id: str) -> tuple[str, JobCard | None]:
    """The run of a job to show or start now: the first that did not end (its card: it is
    running, a duplicate must not start it again) or the next fresh id (None). A job whose
    runs all ended can so be run again, with a new id (the engine starts a job id once)."""
    match = _RUN.match(job_id)
    run = int(match.group("n")) if match else 1
    while True:
        candidate = run_job_id(job_id, run)
        card = state.card(candidate)
        if card is None or card.state not in ENDED:
            return candidate, card
        run += 1


class BotState(Protocol):
    """Where adapters keep previews, start claims and cards (SQLite locally, DynamoDB on AWS)."""

    def save_pending(self, job_id: str, pending: PendingJob) -> None: ...

    def pending(self, job_id: str) -> PendingJob | None: ...

    def withdraw_pending(self, job_id: str) -> None:
        """Forget a previewed job (its preview was cancelled): Start on it finds nothing."""
        ...

    def claim_start(self, job_id: str, user_id: str, now: float | None = None) -> bool:
        """True for the first caller only (atomic); a claim older than START_CLAIM_SECONDS
        whose job has no card (it was never posted) is expired and may be claimed again."""
        ...

    def release_start(self, job_id: str) -> None:
        """Undo a claim when the submit failed, so Start can be clicked again."""
        ...

    def save_card(self, card: JobCard) -> None: ...

    def card(self, job_id: str) -> JobCard | None: ...

    def recent_cards(self, channel_id: str, limit: int = 5) -> list[JobCard]: ...


class SqliteBotState:
    """BotState in one SQLite file (or in memory): the local bot and the tests."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(
                """
                PRAGMA journal_mode=WAL;
                CREATE TABLE IF NOT EXISTS pending (job_id TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS starts (job_id TEXT PRIMARY KEY, user_id TEXT, at REAL);
                CREATE TABLE IF NOT EXISTS cards (
                    job_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, created_at REAL NOT NULL,
                    value TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS cards_by_channel ON cards (channel_id, created_at);
                """
            )

    def save_pending(self, job_id: str, pending: PendingJob) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO pending (job_id, value) VALUES (?, ?)",
                (job_id, pending.to_json()),
            )

    def pending(self, job_id: str) -> PendingJob | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM pending WHERE job_id = ?", (job_id,)
            ).fetchone()
        return PendingJob.from_json(row[0]) if row else None

    def withdraw_pending(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM pending WHERE job_id = ?", (job_id,))

    def claim_start(self, job_id: str, user_id: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO starts (job_id, user_id, at) VALUES (?, ?, ?) "
                "ON CONFLICT (job_id) DO UPDATE SET user_id = excluded.user_id, at = excluded.at "
                "WHERE starts.at < ? AND NOT EXISTS (SELECT 1 FROM cards WHERE job_id = ?)",
                (job_id, user_id, now, now - START_CLAIM_SECONDS, job_id),
            )
            return cursor.rowcount == 1

    def release_start(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM starts WHERE job_id = ?", (job_id,))

    def save_card(self, card: JobCard) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO cards (job_id, channel_id, created_at, value) "
                "VALUES (?, ?, ?, ?)",
                (card.job_id, card.channel_id, card.created_at, card.to_json()),
            )

    def card(self, job_id: str) -> JobCard | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM cards WHERE job_id = ?", (job_id,)).fetchone()
        return JobCard.from_json(row[0]) if row else None

    def recent_cards(self, channel_id: str, limit: int = 5) -> list[JobCard]:
        with self._lock:
            rows = self._db.execute(
                "SELECT value FROM cards WHERE channel_id = ? ORDER BY created_at DESC LIMIT ?",
                (channel_id, limit),
            ).fetchall()
        return [JobCard.from_json(row[0]) for row in rows]
