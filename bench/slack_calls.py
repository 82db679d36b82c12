"""Slack API calls for a 1,000-person job: local engine, random simulated people, the real
notifier (default batching and pacing) against the fake Slack Web API.

Prints the calls by method, calls per 10 results (aim <= 1) and the most posts in any one-second
window per channel (aim <= 1).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

RECEIVERS = 1_000


def _max_per_second(moments: list[float]) -> int:
    moments = sorted(moments)
    best = 0
    start = 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, root.as_posix())
    import io

    from backend.domain.intake import read_workbook
    from backend.domain.models import CallJob, ChatOrigin
    from backend.domain.workbook_template import write_example
    from backend.local.engine import LocalEngine
    from backend.local.simulator import random_people
    from backend.local.store import SqliteStore
    from bot.core.state import SqliteBotState
    from bot.slack.client import lazy_client
    from bot.slack.deps import Deps
    from bot.slack.files import download
    from bot.slack.notifier import slack_notifier
    from bot.slack.settings import BotSettings
    from tests.fakes.slack_api import FakeSlack

    buffer = io.BytesIO()
    write_example(buffer)
    example = read_workbook(buffer.getvalue(), filename="example.xlsx", job_id="bench-1000").job
    assert example is not None
    base = example.receivers[0]
    job: CallJob = example.model_copy(
        update={
            "receivers": tuple(
                base.model_copy(update={"id": f"R{i:05d}", "phone_number": f"+8525{i:07d}"})
                for i in range(RECEIVERS)
            )
        }
    )
    channel = "CBENCH"
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        settings = BotSettings(
            SLACK_BOT_TOKEN=fake.bot_token,
            SLACK_SIGNING_SECRET="bench",  # noqa: S106
            SLACK_API_URL=fake.base_url,
        )
        client = lazy_client(settings)
        state = SqliteBotState(Path(tmp) / "bot.sqlite3")
        notifier = slack_notifier(client, state)  # production defaults
        engine = LocalEngine(
            SqliteStore(Path(tmp) / "jobs.sqlite3"),
            people=lambda j: random_people(j, 1),
            listeners=[notifier],
            report_dir=Path(tmp) / "reports",
        )
        deps = Deps(settings, client, engine, state, download)
        started = time.perf_counter()
        deps.jobs.start(job, ChatOrigin(team_id="TBENCH", channel_id=channel, user_id="UBENCH"))
        engine.wait(job.job_id)
        elapsed = time.perf_counter() - started
        notifier.close()
        calls = list(fake.calls)

    by_method: dict[str, int] = defaultdict(int)
    posts: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        by_method[call.method] += 1
        if call.method in ("chat.postMessage", "files.completeUploadExternal"):
            target = call.args.get("channel") or call.args.get("channel_id") or "?"
            posts[str(target)].append(call.at)
    total = len(calls)
    print(f"job of {RECEIVERS:,} receivers, local engine + notifier: {elapsed:.1f} s wall clock")
    print("Slack API calls by method:")
    for method, count in sorted(by_method.items(), key=lambda item: -item[1]):
        print(f"  {method:32s} {count:5d}")
    print(f"  {'total':32s} {total:5d}")
    per_ten = total / (RECEIVERS / 10)
    print(f"calls per 10 results: {per_ten:.2f} (aim <= 1) {'OK' if per_ten <= 1 else 'OVER'}")
    worst = max((_max_per_second(m) for m in posts.values()), default=0)
    print(
        f"max posts in one second per channel: {worst} (aim <= 1) {'OK' if worst <= 1 else 'OVER'}"
    )


if __name__ == "__main__":
    main()
