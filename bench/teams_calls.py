"""Teams API calls for a 1,000-person job: the Teams bot (SDK app, conversation handlers, Teams
sink) on the local engine with random simulated people, the core notifier with the Teams bot's
default batching and pacing, against the fake Bot Connector.

The job is started the way a teacher does it: a workbook sent in the personal chat, previewed,
then Start pressed. Prints the calls by operation, calls per 10 results (aim <= 1) and the most
calls in any one-second window per conversation (Teams allows 7).
"""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

RECEIVERS = 1_000


def _max_per_second(moments: list[float]) -> int:
    moments = sorted(moments)
    best = start = 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def _workbook() -> bytes:
    """The example workbook with RECEIVERS people."""
    from openpyxl import load_workbook

    from backend.domain.workbook_template import write_example

    buffer = io.BytesIO()
    write_example(buffer)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = book["Receivers"]
    template = [cell.value for cell in sheet[2]]
    sheet.delete_rows(2, sheet.max_row)
    for i in range(RECEIVERS):
        row = list(template)
        row[0], row[1], row[2] = f"R{i:05d}", f"+8529123{i:04d}", f"Person {i}"
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _run(tmp: Path) -> tuple[list[Any], float, int]:
    from backend.local.engine import LocalEngine
    from backend.local.simulator import random_people
    from backend.local.store import SqliteStore
    from bot.core.notifier import ChatNotifier
    from bot.core.state import SqliteBotState
    from bot.teams import cards
    from bot.teams.where import PLATFORM
    from tests.e2e.teams.conftest import FileServer, execute, file_message
    from tests.fakes.teams_connector import FakeTeamsConnector
    from tests.fakes.teams_harness import TeamsHarness
    from tests.fakes.teams_issuer import FakeTeamsIssuer

    issuer, connector, files = FakeTeamsIssuer().start(), FakeTeamsConnector().start(), FileServer()
    state = SqliteBotState(tmp / "bot.sqlite3")
    engine: Any = None

    class Engine:  # the harness wants the submitter before the engine has its notifier
        def submit(self, job: Any) -> bool:
            return bool(engine.submit(job))

        def cancel(self, job_id: str, requested_by: str | None = None) -> bool:
            return bool(engine.cancel(job_id, requested_by))

    h = TeamsHarness(issuer, connector, state, Engine())
    settings = h.settings
    notifier = ChatNotifier(  # the Teams bot's production defaults
        {PLATFORM: h.bot.deps.sink},
        state,
        batch_size=settings.batch_size,
        flush_seconds=settings.flush_seconds,
    )
    engine = LocalEngine(
        SqliteStore(tmp / "jobs.sqlite3"),
        people=lambda job: random_people(job, 1),
        listeners=[notifier],
        report_dir=tmp / "reports",
    )
    files.files["bench.xlsx"] = _workbook()
    url = connector.service_url
    try:
        async with h.running():
            await h.post(file_message(url, "bench.xlsx", files.url("bench.xlsx")))
            await h.worker.run_all()
            preview = connector.calls[-1].cards()[0]
            job_id = next(
                a["data"]["job_id"]
                for a in preview["body"][-1]["actions"]
                if a["data"]["action"] == cards.START
            )
            started = time.perf_counter()
            await h.post(execute(url, cards.START, job_id=job_id))
            await asyncio.to_thread(engine.wait, job_id)
            await asyncio.to_thread(notifier.close)
            elapsed = time.perf_counter() - started
        card = state.card(job_id)
        return list(connector.calls), elapsed, card.done if card else 0
    finally:
        notifier.close()
        files.stop()
        connector.stop()
        issuer.stop()


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, root.as_posix())
    with tempfile.TemporaryDirectory() as tmp:
        calls, elapsed, results = asyncio.run(_run(Path(tmp)))
    preview_calls = 1  # the preview of the workbook, before Start
    job_calls = calls[preview_calls:]
    by_operation: dict[str, int] = defaultdict(int)
    moments: dict[str, list[float]] = defaultdict(list)
    for call in job_calls:
        by_operation[call.operation] += 1
        moments[call.conversation_id].append(call.at)
    total = len(job_calls)
    print(
        f"job of {RECEIVERS:,} receivers ({results:,} results), Teams bot on the local engine: "
        f"{elapsed:.1f} s wall clock"
    )
    print("Teams API calls of the job (after its preview) by operation:")
    for operation, count in sorted(by_operation.items(), key=lambda item: -item[1]):
        print(f"  {operation:24s} {count:5d}")
    print(f"  {'total':24s} {total:5d}")
    ratio = total / max(1, results)
    verdict = "OK" if ratio <= 0.1 else "OVER"
    print(f"calls per result: {ratio:.3f} = {ratio * 10:.2f} per 10 results (aim <= 1) {verdict}")
    worst = max((_max_per_second(m) for m in moments.values()), default=0)
    print(f"max calls in one second per conversation: {worst} (Teams allows 7)")


if __name__ == "__main__":
    main()
