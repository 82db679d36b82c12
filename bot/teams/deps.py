"""TeamsDeps: what the Teams handlers (bot.teams.conversation) and worker tasks share.

Built once per process by bot.teams.app.build_app and passed to `conversation.register(app, deps)`.
Handlers stay thin: they read the activity, call the chat-ops core with these, and answer through
`sender` (proactive) or the handler's context (inline, within Teams' 15 s).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.domain.dnc import DoNotCallList
from backend.domain.ports import JobSubmitter, ScheduleBook
from bot.core.access import AccessRules
from bot.core.call_me_first import CallPlacer, NumberBook
from bot.core.state import BotState
from bot.teams.places import Places
from bot.teams.sender import TeamsSender
from bot.teams.settings import TeamsSettings
from bot.teams.sink import TeamsSink
from bot.teams.worker import Tasks, Worker


@dataclass
class TeamsDeps:
    settings: TeamsSettings
    state: BotState  # previews, start claims, job cards (SQLite locally, DynamoDB on AWS)
    submitter: JobSubmitter  # starts and cancels jobs (local engine or the AWS job queue)
    sender: TeamsSender  # proactive posts, updates, thread replies: paced and retried
    sink: TeamsSink  # the core's ChatSink for Teams (job cards, results, reports)
    access: AccessRules  # who may start/cancel where (Entra users, teams, channels, admins)
    worker: Worker  # deferred work (`worker.defer(name, payload)`) beyond the 15 s answer
    tasks: Tasks  # where handlers register the worker tasks they defer
    places: Places  # channels the bot is in, where a job previewed in a chat may report
    dnc: DoNotCallList | None = None  # the do-not-call list (preview counts, `dnc` command)
    # Scheduled jobs (docs/schedule.md): None when this deployment has no scheduler.
    schedule_book: ScheduleBook | None = None
    # Call me first (bot/core/call_me_first.py): who places test calls, requesters' numbers
    # (both needed, or no test calls).
    test_calls: CallPlacer | None = None
    numbers: NumberBook | None = None
