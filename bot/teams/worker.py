"""Work that outlasts Teams' 15 s answer window, run after the request is acknowledged.

Teams wants the HTTP answer to an activity within 15 s; the SDK runs the handler before it
answers. So the front (bot.teams.http) validates the JWT, answers, and hands the work to a
`Worker`:

- `LocalWorker` (`callouts bot --teams`): an asyncio task on the server's own loop;
- `LambdaWorker` (AWS): an asynchronous invocation of the bot's own function
  (`InvocationType=Event`) whose event `{"callouts_teams_task": name, "payload": {...}}` is
  dispatched by bot.teams.lambda_handler to the task registered under that name.

A task is `async (payload) -> None`, registered with `Tasks.register`. Payloads are JSON: the work
posts its answers proactively with the stored conversation id and service URL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

TASK_KEY = "callouts_teams_task"
PAYLOAD_KEY = "payload"

Task = Callable[[dict[str, Any]], Awaitable[None]]


class Worker(Protocol):
    def defer(self, task: str, payload: dict[str, Any]) -> None:
        """Run task `task` with `payload` after the current request is answered."""
        ...


class Tasks:
    """Named tasks the worker runs."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}

    def register(self, name: str, task: Task) -> None:
        if name in self._tasks:
            raise ValueError(f"worker task {name!r} is registered twice")
        self._tasks[name] = task

    def __contains__(self, name: object) -> bool:
        return name in self._tasks

    async def run(self, name: str, payload: dict[str, Any]) -> None:
        task = self._tasks.get(name)
        if task is None:
            raise KeyError(f"no worker task {name!r}")
        await task(payload)


def is_task_event(event: Mapping[str, Any]) -> bool:
    return isinstance(event, Mapping) and TASK_KEY in event


class LocalWorker:
    """Runs each task as an asyncio task on `loop` (the bot server's loop). Errors are logged."""

    def __init__(self, tasks: Tasks, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.tasks = tasks
        self._loop = loop
        self._running: set[concurrent.futures.Future[None]] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def defer(self, task: str, payload: dict[str, Any]) -> None:
        if task not in self.tasks:
            raise KeyError(f"no worker task {task!r}")
        loop = self._loop or asyncio.get_running_loop()
        future = asyncio.run_coroutine_threadsafe(self._run(task, payload), loop)
        self._running.add(future)
        future.add_done_callback(self._running.discard)

    async def _run(self, task: str, payload: dict[str, Any]) -> None:
        try:
            await self.tasks.run(task, payload)
        except Exception:
            log.exception("Teams worker task %s failed", task)

    async def drain(self) -> None:
        """Wait for every deferred task (tests, shutdown)."""
        while self._running:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in list(self._running)))


class LambdaWorker:
    """Invokes `function_name` asynchronously with the task; `client` is a boto3 Lambda client."""

    def __init__(self, function_name: str, client: Any) -> None:
        self._function = function_name
        self._client = client

    def defer(self, task: str, payload: dict[str, Any]) -> None:
        body = json.dumps({TASK_KEY: task, PAYLOAD_KEY: payload}, separators=(",", ":"))
        self._client.invoke(FunctionName=self._function, InvocationType="Event", Payload=body)
