"""What a simulated call leaves behind: the transcript, the disconnect reason, the voice used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from backend.domain.ssml_text import spoken_text as ssml_spoken_text
from backend.domain.voices import DEFAULT_LANGUAGE, DEFAULT_VOICE

# Connect's DisconnectReason values the simulator produces.
CONTACT_FLOW_DISCONNECT = "CONTACT_FLOW_DISCONNECT"
CUSTOMER_DISCONNECT = "CUSTOMER_DISCONNECT"
TELECOM_UNANSWERED = "TELECOM_UNANSWERED"
TELECOM_BUSY = "TELECOM_BUSY"
TELECOM_NUMBER_INVALID = "TELECOM_NUMBER_INVALID"


@dataclass(frozen=True)
class TranscriptLine:
    """One thing said on the call: by the system (a prompt) or the person (what Lex heard)."""

    speaker: Literal["system", "person"]
    text: str
    intent: str | None = None
    answer: str | None = None


@dataclass
class CallOutcome:
    connected: bool
    disconnect_reason: str
    transcript: list[TranscriptLine] = field(default_factory=list)
    duration_seconds: float = 0.0
    path: list[str] = field(default_factory=list)  # identifiers of the actions run, in order
    voice: str = DEFAULT_VOICE  # the Polly voice the flow set (Connect's default: Joanna)
    language: str = DEFAULT_LANGUAGE  # the contact's language the flow set (the bots' locale)


def spoken_text(prompt: str) -> str:
    """What a listener hears from an SSML prompt: tags dropped, entities decoded."""
    return ssml_spoken_text(prompt)
