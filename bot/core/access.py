"""Who may start and cancel call jobs, and where: the same rules for Slack and Teams.

An empty allow-list allows everybody; admins may always start, cancel and manage the
do-not-call list. Group membership (Slack user groups, Entra groups) comes from a lookup the
adapter injects; its answers are cached for `GROUP_CACHE_SECONDS`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 300

NOT_THIS_CHANNEL = "Call jobs cannot be started in this channel. Ask an admin which channel to use."
NOT_ON_LIST = "You are not on the list of people who may start call jobs. Ask an admin."

GroupMembers = Callable[[str], Iterable[str]]  # group id -> its members' user ids


class GroupLookupError(RuntimeError):
    """The group's members could not be read; the message says why, for the user."""


@dataclass
class AccessRules:
    allowed_channels: tuple[str, ...] = ()
    allowed_users: tuple[str, ...] = ()
    allowed_groups: tuple[str, ...] = ()
    admin_users: tuple[str, ...] = ()
    group_members: GroupMembers | None = None  # None: groups cannot be checked (none allow)
    clock: Callable[[], float] = time.monotonic
    _cache: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict, repr=False)

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admin_users

    def members(self, group: str) -> frozenset[str]:
        """Members of a group, cached for GROUP_CACHE_SECONDS."""
        cached = self._cache.get(group)
        if cached is None or self.clock() - cached[0] > GROUP_CACHE_SECONDS:
            found = frozenset(self.group_members(group)) if self.group_members else frozenset()
            cached = self._cache[group] = (self.clock(), found)
        return cached[1]

    def may_start(self, channel_id: str, user_id: str) -> str | None:
        """None when the user may start a job in this channel, else why not."""
        if self.is_admin(user_id):
            return None
        if self.allowed_channels and channel_id not in self.allowed_channels:
            return NOT_THIS_CHANNEL
        if not self.allowed_users and not self.allowed_groups:
            return None
        if user_id in self.allowed_users:
            return None
        try:
            if any(user_id in self.members(group) for group in self.allowed_groups):
                return None
        except GroupLookupError as error:
            log.error("groups not readable: %s", error)
            return str(error)
        return NOT_ON_LIST

    def may_cancel(self, user_id: str, creator: str) -> bool:
        return user_id == creator or self.is_admin(user_id)
