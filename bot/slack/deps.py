"""What the Slack listeners share (`Deps`), built once per app by `bot.slack.app.build_app`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from backend.domain.dnc import DoNotCallList
from backend.domain.ports import JobSubmitter, ScheduleBook
from bot.core.access import AccessRules, GroupLookupError
from bot.core.call_me_first import CallPlacer, NumberBook
from bot.core.jobs import ChatJobs
from bot.core.schedules import ChatSchedules
from bot.core.state import BotState
from bot.slack.files import Downloader
from bot.slack.settings import BotSettings
from bot.slack.sink import SlackSink

log = logging.getLogger(__name__)

GROUPS_UNREADABLE = (
    "I could not check the user groups allowed to start call jobs (the app needs "
    "the `usergroups:read` scope). Ask an admin."
)


def access_rules(settings: BotSettings, client: WebClient) -> AccessRules:
    """The allow-lists of the settings; user groups read with `usergroups.users.list`."""

    def members(group: str) -> list[str]:
        try:
            users = client.usergroups_users_list(usergroup=group).get("users") or []
        except SlackApiError as error:
            log.error("user groups not readable: %s", error.response.get("error"))
            raise GroupLookupError(GROUPS_UNREADABLE) from error
        return [str(user) for user in users]

    return AccessRules(
        allowed_channels=settings.allowed_channels,
        allowed_users=settings.allowed_users,
        allowed_groups=settings.allowed_usergroups,
        admin_users=settings.admin_users,
        group_members=members,
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Deps:
    """What the listeners share."""

    def __init__(
        self,
        settings: BotSettings,
        client: WebClient,
        submitter: JobSubmitter,
        state: BotState,
        downloader: Downloader,
        dnc: DoNotCallList | None = None,
        schedules: ScheduleBook | None = None,
        test_calls: CallPlacer | None = None,
        numbers: NumberBook | None = None,
    ) -> None:
        self.settings = settings
        self.dnc = dnc  # the do-not-call list (`/callout dnc`, preview counts)
        # Call me first (bot/core/call_me_first.py): who places test calls, requesters' numbers.
        self.test_calls = test_calls if numbers is not None else None
        self.numbers = numbers
        self.client = client
        self.submitter = submitter
        self.state = state
        self.downloader = downloader
        self.access = access_rules(settings, client)
        self.sink = SlackSink(client)
        self.jobs = ChatJobs(state, submitter, self.access, {"slack": self.sink})
        # Scheduled jobs (docs/schedule.md); None: this deployment has no scheduler.
        self.schedules = (
            ChatSchedules(self.jobs, schedules, self.access, _utc_now)
            if schedules is not None
            else None
        )

    def may_start(self, channel_id: str, user_id: str) -> str | None:
        """None when the user may start a job in this channel, else why not."""
        return self.access.may_start(channel_id, user_id)

    def ephemeral(self, channel: str, user: str, text: str, **kwargs: Any) -> None:
        self.client.chat_postEphemeral(channel=channel, user=user, text=text, **kwargs)
