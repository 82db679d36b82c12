"""Saying "stop" in a call: the intent, the keypad key and what the call answers.

Light on purpose (no phonenumbers, no Jinja2): the contact flow's Lambda imports it.
"""

from __future__ import annotations

OPT_OUT_INTENT = "OptOutIntent"  # in every answer bot: "stop", "remove me", "unsubscribe", "*"
OPT_OUT_KEY = "*"  # keypad key of the opt-out: Number/Date/Time answers use digits and `#`
OPT_OUT_CONFIRMATION = (
    "<speak>Thank you. You will not be called again by this service. Goodbye.</speak>"
)
OPT_OUT_SOURCE = "opt-out"  # DncEntry.source of a number added by the person in a call


def is_opt_out(intent: str | None, slot: str | None = None) -> bool:
    """Whether a bot turn asks to stop the calls (the intent, or `*` pressed on the keypad)."""
    name = (intent or "").strip().removeprefix("AMAZON.")
    return name in (OPT_OUT_INTENT, OPT_OUT_KEY) or (slot or "").strip() == OPT_OUT_KEY
