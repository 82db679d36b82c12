"""TeamsSender: every proactive Bot Connector call of the bot, paced and retried.

Teams allows a bot 7 operations per second and 60 per 30 seconds in one conversation or thread
(and ~50 requests per second per app and tenant), answers more with 429, and sometimes answers
412, 502 or 504 to a call that is fine a moment later. The SDK retries none of these, so every
send, update and reply goes through here:

- a sliding-window limiter per conversation (a channel's new posts and its threads together, a
  personal chat) reserves a slot before the call, so concurrent callers never exceed a window,
  plus one app-wide window;
- 429/412/502/504 and transport errors are retried with exponential back-off and jitter, never
  sooner than the answer's Retry-After.

The limiter is per process. Two processes writing to one thread (two notifier Lambdas) can still
meet a 429, which the retry absorbs. `clock` and `sleep` are injectable so tests run on virtual
time.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from microsoft_teams.api.activities import ActivityParams
from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.api.clients.conversation.params import CreateConversationParams
from microsoft_teams.api.models import Account, ConversationAccount
from microsoft_teams.cards import AdaptiveCard

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRIED_STATUSES = frozenset({429, 412, 502, 504})
MARGIN_SECONDS = 1e-6
MEMBERS_PAGE = 500  # the Bot Connector's largest page of members


@dataclass(frozen=True)
class Window:
    """At most `limit` operations in any `seconds`."""

    limit: int
    seconds: float


THREAD_WINDOWS = (Window(7, 1.0), Window(60, 30.0))
APP_WINDOWS = (Window(50, 1.0),)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_seconds: float = 1.0
    max_seconds: float = 32.0


class TeamsSendError(RuntimeError):
    """A Bot Connector call failed for good (after retries, or with a status not retried)."""

    def __init__(self, operation: str, status: int | None, detail: str) -> None:
        super().__init__(f"Teams {operation} failed ({status or 'no answer'}): {detail}")
        self.status = status


class RateLimiter:
    """Sliding windows per key; `reserve` returns how long to wait for the reserved slot."""

    def __init__(self, windows: tuple[Window, ...], clock: Callable[[], float]) -> None:
        self._windows = windows
        self._clock = clock
        self._slots: dict[str, deque[float]] = defaultdict(deque)
        self._span = max(w.seconds for w in windows)

    def reserve(self, key: str) -> float:
        """Reserve the next free slot for `key`; how long from now until it."""
        now = self._clock()
        return self.reserve_at(key, now) - now

    def reserve_at(self, key: str, now: float) -> float:
        """Reserve the next free slot at or after `now`; its time."""
        slots = self._slots[key]
        while slots and slots[0] <= now - self._span:
            slots.popleft()
        at = max(now, slots[-1]) if slots else now
        for window in self._windows:
            # Slots are reserved in time order: the (limit)-th latest one must leave the window
            # (with a microsecond to spare against rounding).
            if len(slots) >= window.limit:
                at = max(at, slots[-window.limit] + window.seconds + MARGIN_SECONDS)
        slots.append(at)
        return at


def retry_after_seconds(response: httpx.Response, now: Callable[[], float] = time.time) -> float:
    """The answer's Retry-After in seconds (delta or HTTP date); 0 when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - now())


def as_activity(activity: str | ActivityParams | AdaptiveCard) -> ActivityParams:
    if isinstance(activity, str):
        return MessageActivityInput(text=activity)
    if isinstance(activity, AdaptiveCard):
        message: MessageActivityInput = MessageActivityInput().add_card(activity)
        return message
    return activity


class TeamsSender:
    """Proactive sends, updates, replies and new channel threads through the app's API client.

    `api` is `App.api` (an initialized app's `microsoft_teams.api.ApiClient`); `bot_id` is the app
    id, stamped as the sender of each activity.
    """

    def __init__(
        self,
        api: Any,
        bot_id: str,
        *,
        tenant_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        policy: RetryPolicy | None = None,
        thread_windows: tuple[Window, ...] = THREAD_WINDOWS,
    ) -> None:
        self._api = api
        self._bot_id = bot_id
        self._tenant_id = tenant_id
        self._sleep = sleep
        self._jitter = jitter
        self._policy = policy or RetryPolicy()
        self._threads = RateLimiter(thread_windows, clock)
        self._app = RateLimiter(APP_WINDOWS, clock)
        self._scoped: dict[str, Any] = {}

    async def send(
        self, service_url: str, conversation_id: str, activity: str | ActivityParams | AdaptiveCard
    ) -> str:
        """Post into a conversation (a personal chat, or a channel thread's conversation id);
        returns the new activity id."""
        params = self._stamp(as_activity(activity), conversation_id)
        api = self._client(service_url)
        sent = await self._call(
            "send",
            conversation_id,
            lambda: api.conversations.create_activity(conversation_id, params),
        )
        return str(sent.id)

    async def reply(
        self,
        service_url: str,
        conversation_id: str,
        root_id: str,
        activity: str | ActivityParams | AdaptiveCard,
    ) -> str:
        """Reply in the thread of a channel post `root_id` of `conversation_id`."""
        return await self.send(service_url, thread_id(conversation_id, root_id), activity)

    async def update(
        self,
        service_url: str,
        conversation_id: str,
        activity_id: str,
        activity: str | ActivityParams | AdaptiveCard,
    ) -> None:
        """Replace a sent activity in place (PUT .../activities/{id})."""
        params = self._stamp(as_activity(activity), conversation_id)
        api = self._client(service_url)
        await self._call(
            "update",
            conversation_id,
            lambda: api.conversations.update_activity(conversation_id, activity_id, params),
        )

    async def start_thread(
        self, service_url: str, channel_id: str, activity: str | ActivityParams | AdaptiveCard
    ) -> tuple[str, str]:
        """A new top-level post in a channel (Bot Connector create-conversation with the channel
        id); returns (the thread's conversation id, the post's activity id)."""
        params = CreateConversationParams(
            isGroup=True,
            channel_data={"channel": {"id": channel_id}},
            activity=as_activity(activity),
            tenant_id=self._tenant_id,
        )
        api = self._client(service_url)
        resource = await self._call(
            "new thread", channel_id, lambda: api.conversations.create(params)
        )
        activity_id = resource.activity_id or resource.id.partition(";messageid=")[2]
        return thread_id(channel_id, activity_id), activity_id

    async def member_ids(self, service_url: str, conversation_id: str) -> list[str]:
        """Entra object ids of a conversation's members (a team: its id), every page."""
        api = self._client(service_url)
        ids: list[str] = []
        token: str | None = None
        while True:
            page = await self._call(
                "members",
                conversation_id,
                lambda token=token: api.conversations.get_paged_members(  # type: ignore[misc]
                    conversation_id, MEMBERS_PAGE, token
                ),
            )
            ids += [m.aad_object_id for m in page.members if m.aad_object_id]
            token = page.continuation_token
            if not token:
                return ids

    def _stamp(self, params: ActivityParams, conversation_id: str) -> ActivityParams:
        params.from_ = Account(id=self._bot_id)
        params.conversation = ConversationAccount(id=conversation_id)
        return params

    def _client(self, service_url: str) -> Any:
        key = service_url.rstrip("/")
        if key not in self._scoped:
            self._scoped[key] = self._api.clone(service_url=key)
        return self._scoped[key]

    async def _call(self, operation: str, thread: str, call: Callable[[], Awaitable[T]]) -> T:
        policy = self._policy
        for attempt in range(policy.attempts):
            await self._pace(thread)
            try:
                return await call()
            except httpx.HTTPStatusError as error:
                status = error.response.status_code
                if status not in RETRIED_STATUSES or attempt + 1 == policy.attempts:
                    raise TeamsSendError(operation, status, _reason(error.response)) from None
                delay = max(self._backoff(attempt), retry_after_seconds(error.response))
            except httpx.TransportError as error:
                if attempt + 1 == policy.attempts:
                    raise TeamsSendError(operation, None, type(error).__name__) from None
                delay = self._backoff(attempt)
                status = None
            log.warning(
                "Teams %s answered %s: retry %d in %.1f s",
                operation,
                status or "nothing",
                attempt + 1,
                delay,
            )
            await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _pace(self, thread: str) -> None:
        wait = max(self._threads.reserve(base_thread(thread)), self._app.reserve("app"))
        if wait > 0:
            await self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        # Equal jitter: half the exponential step fixed, half random, capped.
        step = min(self._policy.max_seconds, self._policy.base_seconds * 2**attempt)
        return float(step / 2 + self._jitter() * step / 2)


def thread_id(conversation_id: str, root_id: str) -> str:
    """The conversation id of a channel post's thread."""
    return f"{conversation_id.partition(';messageid=')[0]};messageid={root_id}"


def base_thread(conversation_id: str) -> str:
    """The rate-limit key: the conversation without `;messageid=`, so a channel's new posts and
    all its threads share one budget (stricter than Teams' per-thread count, never looser)."""
    return conversation_id.partition(";messageid=")[0].strip()


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or error.get("message") or response.reason_phrase)
    return response.reason_phrase
