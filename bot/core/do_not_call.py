"""The do-not-call list command (`dnc add|remove|check NUMBER`), the same in Slack and Teams.

Adding protects someone, so anyone who may start jobs (in this channel) may add; removing a number
or checking one (which tells whether a person asked not to be called) is for admins only. The
answer is plain text with the number masked; the adapter shows it only to the user who asked.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.core.commands import NUMBER_HINT
from bot.core.text import mask_numbers

if TYPE_CHECKING:
    from backend.domain.dnc import DoNotCallList
    from bot.core.access import AccessRules

log = logging.getLogger(__name__)

NOT_SET_UP = "The do-not-call list is not set up for this bot."


def do_not_call(
    dnc: DoNotCallList | None,
    access: AccessRules,
    *,
    action: str,
    raw: str,
    channel_id: str,
    user_id: str,
    source: str,
) -> str:
    """Run `dnc ACTION NUMBER` for `user_id` in `channel_id`; `source` is recorded with an
    added number (`slack:U123`, `teams:<entra id>`). Returns what to tell the user."""
    from backend.domain.dnc import add_number, is_listed, remove_number
    from backend.domain.phones import PhoneError, mask_phone, to_e164

    if dnc is None:
        return NOT_SET_UP
    refusal = access.may_start(channel_id, user_id) if action == "add" else None
    if not access.is_admin(user_id) and (action != "add" or refusal):
        return refusal or f"Only admins can {action} numbers on the do-not-call list."
    try:
        number = to_e164(raw)
    except PhoneError as error:
        return f"{mask_numbers(str(error))}. {NUMBER_HINT}"
    shown = mask_phone(number)
    log.info("dnc %s by %s", action, user_id)
    if action == "add":
        if add_number(dnc, number, source):
            return f"🔕 {shown} is on the do-not-call list: no job will call it."
        return f"{shown} was already on the do-not-call list."
    if action == "remove":
        if remove_number(dnc, number):
            return f"{shown} is off the do-not-call list: jobs may call it again."
        return f"{shown} was not on the do-not-call list."
    listed = is_listed(dnc, number)
    return f"{shown} is {'on' if listed else 'not on'} the do-not-call list."
