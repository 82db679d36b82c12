"""ChatNotifier: the ResultListener that keeps a job's card and thread up to date, in Slack or
Teams alike: it decides what is sent when, and a `ChatSink` (bot/core/ports.py) per platform
renders and sends it (the job's origin platform picks the sink).

- the job card is one message, updated in place, at most once per `min_update_interval` per
  card (coalesced: many results, one update);
- results go into the card's thread in batches: a batch is sent when `batch_size` results wait
  or the oldest waited `flush_seconds`, and at job end; at most one post per `min_post_interval`
  per channel, so results that pile up meanwhile share a message (up to `max_per_message`);
- the report is delivered into the thread when the job ends.

Locally a background thread flushes (so a result reaches the chat within `flush_seconds` + a
tick); on AWS the notifier Lambda calls `flush(force=True)` at the end of each stream batch.
Jobs without a chat origin (or of a platform without a sink here) are ignored. Delivery errors
are logged, never raised into the engine.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from backend.domain.models import CallJob, CallResult
from backend.domain.ports import ReportFiles
from backend.domain.problems import Problem
from bot.core.ports import CardGone, ChatSink, DeliveryError
from bot.core.state import (
    CANCELLING,
    FINISHED,
    REJECTED,
    RUNNING,
    STOPPED,
    BotState,
    CardState,
    JobCard,
)

log = logging.getLogger(__name__)

MAX_SEND_FAILURES = 3


def read_local_report(report: ReportFiles) -> bytes:
    return Path(report.xlsx).read_bytes()


@dataclass
class _Live:
    job: CallJob
    card: JobCard
    pending: list[CallResult] = field(default_factory=list)
    first_pending_at: float | None = None
    dirty: bool = False
    last_update_at: float | None = None
    failures: int = 0


class ChatNotifier:
    def __init__(
        self,
        sinks: Mapping[str, ChatSink],
        state: BotState,
        *,
        batch_size: int = 40,
        max_per_message: int = 100,
        flush_seconds: float = 5.0,
        min_post_interval: float = 1.1,
        min_update_interval: float = 1.2,
        background: bool = True,
        read_report: Callable[[ReportFiles], bytes] = read_local_report,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sinks = dict(sinks)  # platform ("slack", "teams") -> its sink
        self.state = state
        self.batch_size = batch_size
        self.max_per_message = max(batch_size, max_per_message)
        self.flush_seconds = flush_seconds
        self.min_post_interval = min_post_interval
        self.min_update_interval = min_update_interval
        self.read_report = read_report
        self._clock = clock
        self._sleep = sleep
        self._live: dict[str, _Live] = {}
        self._last_post: dict[str, float] = {}
        self._lock = threading.RLock()  # guards _live and the cards
        self._io = threading.Lock()  # one flush at a time: keeps the chat's order and pacing
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._background = background
        self._thread: threading.Thread | None = None

    def _ours(self, job: CallJob) -> bool:
        return job.origin is not None and job.origin.platform in self.sinks

    def _sink(self, card: JobCard) -> ChatSink:
        return self.sinks[card.platform]

    # -- ResultListener --------------------------------------------------------------------------

    def on_job_started(self, job: CallJob) -> None:
        if not self._ours(job):
            return
        with self._io:
            live = self._get_live(job)
            if live.card.card_ref is None:  # not started from a chat button: post the card now
                self._post_card(live)
        self._ensure_thread()

    def on_result(self, job: CallJob, result: CallResult) -> None:
        if not self._ours(job):
            return
        with self._lock:
            live = self._get_live(job)
            if live.card.add(result):
                if not live.pending:
                    live.first_pending_at = self._clock()
                live.pending.append(result)
                live.dirty = True
            full = len(live.pending) >= self.batch_size
        self._ensure_thread()
        if full:
            self._wake.set()

    def on_job_finished(
        self, job: CallJob, results: Sequence[CallResult], report: ReportFiles
    ) -> None:
        if not self._ours(job):
            return
        with self._lock:
            live = self._get_live(job)
            for result in results:
                if live.card.add(result):
                    live.pending.append(result)
            live.card.state = FINISHED
            if report.sms is not None:  # the SMS line of the card (docs/sms.md)
                live.card.sms = report.sms.to_json()
            live.dirty = True
        for _ in range(MAX_SEND_FAILURES):
            self.flush(job.job_id, force=True)
            if not self.undelivered(job.job_id):
                break
            self._sleep(self.min_post_interval)
        if self.undelivered(job.job_id) and not self._background:
            self.forget(job.job_id)
            raise DeliveryError(f"job {job.job_id}: results not delivered to the chat")
        self._post_report(live, report)
        with self._lock:
            self._live.pop(job.job_id, None)

    def on_job_stopped(
        self, job_id: str, state: CardState, reason: str, problems: Sequence[Problem] = ()
    ) -> bool:
        """A job that ends without a report: `REJECTED` (the start-job Lambda refused it) or
        `STOPPED` (its execution failed). The card shows the final state and the reason, and the
        reason (every problem of a rejection) goes into its thread.

        False when the job has no card (it did not come from a chat served here). A card that
        already ended is left as it is (events are delivered at least once); so is a rejection
        of a job that has results (it did start). Raises DeliveryError when the chat could not
        be reached and nobody retries (AWS: the event is delivered again)."""
        if state not in (REJECTED, STOPPED):
            raise ValueError(f"not a stop state: {state}")
        self.forget(job_id)  # the stored card is the truth (another container may have moved on)
        card = self.state.card(job_id)
        if card is None or card.platform not in self.sinks:
            return False
        if card.state not in (RUNNING, CANCELLING) or (state == REJECTED and card.done):
            log.warning("job %s is %s: %s event not shown", job_id, card.state, state)
            return True
        card.state = state
        card.reason = reason
        with self._io:
            try:
                self._show_stopped_card(card, reason)
                self._pace(card.channel_id)
                self._sink(card).post_stopped(card, reason, problems)
            except DeliveryError as error:
                log.exception("could not show that job %s is %s", job_id, state)
                if not self._background:
                    raise DeliveryError(f"job {job_id}: {state} not shown") from error
                return True
            # Saved last: a redelivered event finds the card still running and shows it again.
            self.state.save_card(card)
        return True

    def _show_stopped_card(self, card: JobCard, reason: str) -> None:
        """Update the card in place; post it anew when it is gone (or was never posted)."""
        sink = self._sink(card)
        if card.card_ref is not None:
            try:
                sink.update_card(card, reason)
                return
            except CardGone:
                log.warning("card of job %s was deleted: posting it again", card.job_id)
        self._pace(card.channel_id)
        card.card_ref = sink.post_card(card, reason)
        stored = self.state.card(card.job_id)  # a retry must update this card, not post another
        if stored is not None:
            stored.card_ref = card.card_ref
            self.state.save_card(stored)

    # -- flushing --------------------------------------------------------------------------------

    def flush(self, job_id: str | None = None, *, force: bool = False) -> None:
        """Post due batches and card updates; `force` posts everything now (pacing kept)."""
        with self._io:
            with self._lock:
                lives = (
                    [self._live[job_id]]
                    if job_id in self._live
                    else ([] if job_id else list(self._live.values()))
                )
            for live in lives:
                while True:
                    batch = self._take_batch(live, force)
                    if not batch or not self._post_batch(live, batch):
                        break  # a failed post is tried again at the next flush
                self._update_card(live, force=force)

    def undelivered(self, job_id: str) -> int:
        """Results of a job accepted but not posted yet (AWS: retry the stream batch)."""
        with self._lock:
            live = self._live.get(job_id)
            return len(live.pending) if live else 0

    def forget(self, job_id: str) -> None:
        """Drop the in-memory card of a job: the next result reloads it from the state store
        (AWS: another container may have updated it since)."""
        with self._lock:
            self._live.pop(job_id, None)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _ensure_thread(self) -> None:
        if not self._background or self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="chat-notifier", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        tick = max(0.02, min(self.flush_seconds, self.min_update_interval, 1.0) / 2)
        while not self._stop.is_set():
            self._wake.wait(tick)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the loop must survive anything a chat or a bug throws
                log.exception("chat notifier flush failed")

    def _take_batch(self, live: _Live, force: bool) -> list[CallResult]:
        with self._lock:
            if not live.pending:
                return []
            age = self._clock() - (live.first_pending_at or self._clock())
            if not force and len(live.pending) < self.batch_size and age < self.flush_seconds:
                return []
            channel = live.card.channel_id
            wait = self._last_post.get(channel, -1e9) + self.min_post_interval - self._clock()
            if wait > 0 and not force:
                return []
            # Results that piled up while pacing go out together (up to max_per_message).
            batch = live.pending[: self.max_per_message]
            del live.pending[: self.max_per_message]
            live.first_pending_at = self._clock() if live.pending else None
        return batch

    def _pace(self, channel: str) -> None:
        wait = self._last_post.get(channel, -1e9) + self.min_post_interval - self._clock()
        if wait > 0:
            self._sleep(wait)
        self._last_post[channel] = self._clock()

    # -- chat calls ------------------------------------------------------------------------------

    def _get_live(self, job: CallJob) -> _Live:
        with self._lock:
            live = self._live.get(job.job_id)
            if live is None:
                card = self.state.card(job.job_id) or JobCard.for_job(job)
                live = self._live[job.job_id] = _Live(job, card)
                # The bot posted this card a moment ago (Start): that post counts for pacing.
                age = time.time() - card.created_at
                if card.card_ref is not None and 0 <= age < self.min_post_interval:
                    last = self._last_post.get(card.channel_id, -1e9)
                    self._last_post[card.channel_id] = max(last, self._clock() - age)
            return live

    def _post_card(self, live: _Live) -> None:
        card = live.card
        self._pace(card.channel_id)
        try:
            card.card_ref = self._sink(card).post_card(card)
            live.last_update_at = self._clock()
            self.state.save_card(card)
        except DeliveryError:
            log.exception("could not post the card of job %s", card.job_id)

    def _post_batch(self, live: _Live, batch: list[CallResult]) -> bool:
        card = live.card
        sink = self._sink(card)
        fits = sink.fitting_results(live.job, batch)
        if fits < len(batch):  # too long for one message: the rest goes out next
            with self._lock:
                live.pending[:0] = batch[fits:]
                live.first_pending_at = live.first_pending_at or self._clock()
            batch = batch[:fits]
        self._pace(card.channel_id)
        try:
            sink.post_results(card, live.job, batch)
            live.failures = 0
            return True
        except DeliveryError:
            live.failures += 1
            log.exception("could not post %d results of job %s", len(batch), card.job_id)
            if self._background and live.failures >= MAX_SEND_FAILURES:
                # Local run: the results are in the engine's store and report; stop retrying.
                log.error("job %s: %d results left out of the thread", card.job_id, len(batch))
                live.failures = 0
                return False
            with self._lock:  # put them back for the next flush
                live.pending[:0] = batch
                live.first_pending_at = live.first_pending_at or self._clock()
            return False

    def _update_card(self, live: _Live, *, force: bool) -> None:
        with self._lock:
            if not live.dirty:
                return
            now = self._clock()
            if (
                live.last_update_at is not None
                and now - live.last_update_at < self.min_update_interval
            ):
                if not force:
                    return
                wait = live.last_update_at + self.min_update_interval - now
            else:
                wait = 0.0
            if live.card.state == RUNNING:  # the bot's Cancel button may have been pressed
                stored = self.state.card(live.card.job_id)
                if stored is not None and stored.state == CANCELLING:
                    live.card.state = CANCELLING
            card = JobCard.from_json(live.card.to_json())  # snapshot: results keep arriving
            live.dirty = False
        if card.card_ref is None:
            return
        if wait > 0:
            self._sleep(wait)
        try:
            self._sink(card).update_card(card)
        except CardGone:
            # Someone deleted the card: post it again; the thread follows the new card.
            self._repost_card(live, card)
        except DeliveryError:
            log.exception("could not update the card of job %s", card.job_id)
            with self._lock:
                live.dirty = True
        live.last_update_at = self._clock()
        # Without a background flusher (AWS), results not yet in the thread must not be saved as
        # counted: the stream redelivers them and they are counted and posted then.
        if self._background or not live.pending:
            self.state.save_card(card)

    def _repost_card(self, live: _Live, card: JobCard) -> None:
        log.warning("card of job %s was deleted: posting it again", card.job_id)
        self._pace(card.channel_id)
        try:
            ref = self._sink(card).post_card(card)
        except DeliveryError:
            log.exception("could not post the card of job %s again", card.job_id)
            with self._lock:
                live.dirty = True
            return
        with self._lock:
            live.card.card_ref = card.card_ref = ref
        # Saved now, whatever else is pending: every later post must go to the new card.
        stored = self.state.card(card.job_id) or card
        stored.card_ref = card.card_ref
        self.state.save_card(stored)

    def _post_report(self, live: _Live, report: ReportFiles) -> None:
        card = live.card
        if card.report_posted:
            return
        try:
            content = self.read_report(report)
        except OSError:
            log.exception("report of job %s not readable", card.job_id)
            return
        with self._io:
            self._pace(card.channel_id)
            try:
                self._sink(card).post_report(card, report, content)
            except DeliveryError as error:
                log.exception("could not deliver the report of job %s", card.job_id)
                if not self._background:  # AWS: the completion event is delivered again
                    raise DeliveryError(f"job {card.job_id}: report not posted") from error
                return
            card.report_posted = True
            self.state.save_card(card)
