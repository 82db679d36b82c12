"""bot.core.access: the allow-lists and admin rule every adapter applies."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.access import NOT_ON_LIST, NOT_THIS_CHANNEL, AccessRules, GroupLookupError


def test_empty_lists_allow_everybody_and_admins_may_always() -> None:
    assert AccessRules().may_start("C", "U") is None
    rules = AccessRules(allowed_channels=("C1",), allowed_users=("U1",), admin_users=("A",))
    assert rules.may_start("C2", "A") is None
    assert rules.may_start("C2", "U1") == NOT_THIS_CHANNEL
    assert rules.may_start("C1", "U2") == NOT_ON_LIST
    assert rules.may_start("C1", "U1") is None
    assert rules.may_cancel("A", "U1")
    assert rules.may_cancel("U1", "U1")
    assert not rules.may_cancel("U2", "U1")


def test_groups_come_from_the_injected_lookup_cached_for_five_minutes() -> None:
    asked: list[str] = []
    now = [0.0]

    def members(group: str) -> Iterable[str]:
        asked.append(group)
        return ["U1"]

    rules = AccessRules(allowed_groups=("G",), group_members=members, clock=lambda: now[0])
    assert rules.may_start("C", "U1") is None
    assert rules.may_start("C", "U2") == NOT_ON_LIST
    assert asked == ["G"]
    now[0] = 301.0
    rules.may_start("C", "U1")
    assert asked == ["G", "G"]


def test_an_unreadable_group_refuses_with_the_lookups_words() -> None:
    def members(group: str) -> Iterable[str]:
        raise GroupLookupError("groups cannot be read: ask an admin")

    rules = AccessRules(allowed_groups=("G",), group_members=members)
    assert rules.may_start("C", "U") == "groups cannot be read: ask an admin"
    assert AccessRules(allowed_groups=("G",)).may_start("C", "U") == NOT_ON_LIST
