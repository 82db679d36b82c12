"""Saying "stop" in a call: the intent, the keypad key and what the call answers.

Light on purpose (no phonenumbers, no Jinja2): the contact flow's Lambda imports it.
"""

from __future__ import annotations

from backend.domain.phrases import phrases, speak
from backend.domain.voices import DEFAULT_LANGUAGE

OPT_OUT_INTENT = "OptOutIntent"  # in every answer bot: "stop", "remove me", "unsubscribe", "*"
OPT_OUT_KEY = "*"  # keypad key of the opt-out: Number/Date/Time answers use digits and `#`
# The English confirmation; every language's is in phrases.py (CallSession says the person's).
OPT_OUT_CONFIRMATION = speak(phrases(DEFAULT_LANGUAGE).opt_out_confirmation)
OPT_OUT_SOURCE = "opt-out"  # DncEntry.source of a number added by the person in a call


def is_opt_out(intent: str | None, slot: str | None = None) -> bool:
    """Whether a bot turn asks to stop the calls (the intent, or `*` pressed on the keypad)."""
    name = (intent or "").strip().removeprefix("AMAZON.")
    return name in (OPT_OUT_INTENT, OPT_OUT_KEY) or (slot or "").strip() == OPT_OUT_KEY
