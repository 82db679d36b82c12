"""One event loop for the Teams SDK per process, reachable from synchronous code.

The SDK is async and its HTTP client belongs to the loop it first ran on, while the chat-ops core
(the notifier's sink, start/cancel) is synchronous and runs on engine or worker threads. So the
bot's loop runs on its own thread (`BackgroundLoop`) or is the loop already serving requests
(`LoopRunner.bind`), and synchronous callers hand it coroutines with `run`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

RUN_TIMEOUT_SECONDS = 120.0  # a paced, retried Bot Connector call finishes well within this


class LoopRunner:
    """Runs coroutines on `loop` for callers on other threads."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = RUN_TIMEOUT_SECONDS) -> T:
        loop = self.loop
        if loop is None:
            coro.close()
            raise RuntimeError("the Teams event loop is not running yet")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError("called on the Teams loop itself: await the coroutine instead")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


class BackgroundLoop(LoopRunner):
    """A loop of its own on a daemon thread (the notifier Lambda, the local bot)."""

    def __init__(self, name: str = "teams-loop") -> None:
        loop = asyncio.new_event_loop()
        super().__init__(loop)
        self._thread = threading.Thread(target=loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        loop = self.loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout=5)
