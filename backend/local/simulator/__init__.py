"""Phone simulator: runs `contact_flows/` against simulated people answering through `lex_bots/`."""

from backend.local.simulator.executor import FlowExecutionError, PhoneSimulator
from backend.local.simulator.lex import BotLibrary, BotMatcher, LexResult
from backend.local.simulator.outcome import (
    CONTACT_FLOW_DISCONNECT,
    CUSTOMER_DISCONNECT,
    TELECOM_BUSY,
    TELECOM_NUMBER_INVALID,
    TELECOM_UNANSWERED,
    CallOutcome,
    TranscriptLine,
    spoken_text,
)
from backend.local.simulator.people import (
    NOBODY,
    AnswersFileError,
    SimulatedPerson,
    answering_person,
    load_answers_csv,
    person_for,
    random_people,
)

__all__ = [
    "CONTACT_FLOW_DISCONNECT",
    "CUSTOMER_DISCONNECT",
    "NOBODY",
    "TELECOM_BUSY",
    "TELECOM_NUMBER_INVALID",
    "TELECOM_UNANSWERED",
    "AnswersFileError",
    "BotLibrary",
    "BotMatcher",
    "CallOutcome",
    "FlowExecutionError",
    "LexResult",
    "PhoneSimulator",
    "SimulatedPerson",
    "TranscriptLine",
    "answering_person",
    "load_answers_csv",
    "person_for",
    "random_people",
    "spoken_text",
]
