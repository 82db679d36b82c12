"""Simulated people: who picks up and what they say, from an answers CSV or at random.

Answers CSV (header row first, one row per receiver and attempt):

    receiver_id,attempt,pickup,hang_up_after,answers
    S001,1,answer,,okay|yes I do|A
    S002,1,busy,,
    S002,2,answer,1,ok|?

`attempt` defaults to 1; `pickup` is answer (default), no_answer, busy, invalid, voicemail (an
answering machine: its greeting, then silence while it records) or silent (picks up and says
nothing); `hang_up_after`
= k hangs up after answering k questions; `answers` holds one utterance per bot turn separated by
`|`: an empty one is silence, `?` or `repeat` asks to hear the question again, digits (optionally
ending in `#`) are keypad presses, `stop` (or `*` on the keypad) asks not to be called again.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from backend.domain.models import CallJob, QuestionType
from backend.domain.problems import Problem
from backend.domain.voices import DEFAULT_LANGUAGE

Pickup = Literal["answer", "no_answer", "busy", "invalid", "voicemail", "silent"]
PICKUPS: tuple[Pickup, ...] = ("answer", "no_answer", "busy", "invalid", "voicemail", "silent")
_PICKUP_ALIASES: dict[str, Pickup] = {
    "answer": "answer",
    "answered": "answer",
    "pickup": "answer",
    "yes": "answer",
    "noanswer": "no_answer",
    "unanswered": "no_answer",
    "busy": "busy",
    "invalid": "invalid",
    "invalidnumber": "invalid",
    "voicemail": "voicemail",
    "answeringmachine": "voicemail",
    "machine": "voicemail",
    "silent": "silent",
    "silence": "silent",
}
# What an answering machine says when it picks up; the bots understand none of it (Fallback).
VOICEMAIL_GREETING = (
    "the person you are calling is not available please leave your message after the tone"
)
ANSWERS_SEPARATOR = "|"


@dataclass
class SimulatedPerson:
    """One person on one attempt: whether they pick up, then one utterance per bot turn.

    When the utterances run out the person stays silent. `hang_up_after=k` hangs up once k
    questions have been answered (0: right after picking up, before answering anything); asking to
    repeat, silence and phrases the bot does not understand are not answers.
    `bot_fails=True` plays a call whose Lex bot fails on every turn (the flow's error branch):
    only what the flow hears itself, the keypad, reaches the call.
    """

    pickup: Pickup = "answer"
    utterances: list[str] = field(default_factory=list)
    hang_up_after: int | None = None
    bot_fails: bool = False

    def __post_init__(self) -> None:
        if self.pickup not in PICKUPS:
            raise ValueError(f"pickup must be one of {', '.join(PICKUPS)}, not {self.pickup!r}")
        if self.hang_up_after is not None and self.hang_up_after < 0:
            raise ValueError("hang_up_after must be 0 or more")
        # A machine plays its greeting, then records silence; a silent person says nothing.
        if self.pickup == "voicemail" and not self.utterances:
            self.utterances = [VOICEMAIL_GREETING]
        if self.pickup == "silent":
            self.utterances = []


# A receiver the answers file does not mention does not pick up: a visible NoAnswer in the report
# rather than invented answers.
NOBODY = SimulatedPerson(pickup="no_answer")


def person_for(
    people: Mapping[str, Sequence[SimulatedPerson]], receiver_id: str, attempt: int
) -> SimulatedPerson:
    """The person for an attempt (1-based): attempts beyond the listed ones repeat the last one."""
    attempts = people.get(receiver_id)
    if not attempts:
        return NOBODY
    return attempts[min(max(attempt, 1), len(attempts)) - 1]


class AnswersFileError(ValueError):
    """An answers CSV that cannot be used; `problems` name the row and column of each fault."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        listed = "; ".join(str(problem) for problem in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"{path.name}: {listed}{more}")


_COLUMN_ALIASES = {
    "receiverid": "receiver_id",
    "receiver": "receiver_id",
    "id": "receiver_id",
    "attempt": "attempt",
    "pickup": "pickup",
    "hangupafter": "hang_up_after",
    "answers": "answers",
    "utterances": "answers",
}


def _column_key(name: str) -> str | None:
    return _COLUMN_ALIASES.get("".join(ch for ch in name.lower() if ch.isalnum()))


def load_answers_csv(path: Path | str) -> dict[str, list[SimulatedPerson]]:
    """Read an answers CSV into {receiver_id: [person on attempt 1, attempt 2, ...]}.

    Raises AnswersFileError listing every bad row (row numbers count the header as row 1).
    """
    file = Path(path)
    sheet = None  # the error names the file; problems name row and column
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise AnswersFileError(file, [Problem(f"file not found: {file}")]) from error
    except UnicodeDecodeError as error:
        raise AnswersFileError(file, [Problem("not UTF-8 text: save the CSV as UTF-8")]) from error
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise AnswersFileError(file, [Problem("the file is empty: add a header row", sheet, 1)])
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _column_key(name)
        if key and key not in columns:
            columns[key] = index
    problems: list[Problem] = [
        Problem(f"missing column {required!r}", sheet, 1, required)
        for required in ("receiver_id", "pickup", "answers")
        if required not in columns
    ]
    if problems:
        raise AnswersFileError(file, problems)

    rows: dict[str, dict[int, tuple[int, SimulatedPerson]]] = {}
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            index = columns.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        receiver_id = cell("receiver_id")
        if receiver_id.endswith(".0") and receiver_id[:-2].isdigit():
            receiver_id = receiver_id[:-2]  # an id that went through Excel
        if not receiver_id:
            problems.append(Problem("receiver_id is empty", sheet, row_number, "receiver_id"))
            continue
        attempt = _int_cell(cell("attempt"), 1, minimum=1)
        if attempt is None:
            problems.append(
                Problem("attempt must be a whole number from 1", sheet, row_number, "attempt")
            )
            continue
        pickup = pickup_of(cell("pickup")) if cell("pickup") else "answer"
        if pickup is None:
            problems.append(
                Problem(
                    f"pickup {cell('pickup')!r} is not one of {', '.join(PICKUPS)}",
                    sheet,
                    row_number,
                    "pickup",
                )
            )
            continue
        hang_up_after = _int_cell(cell("hang_up_after"), None, minimum=0)
        if cell("hang_up_after") and hang_up_after is None:
            problems.append(
                Problem(
                    "hang_up_after must be empty or a whole number from 0",
                    sheet,
                    row_number,
                    "hang_up_after",
                )
            )
            continue
        answers_cell = cell("answers")
        utterances = (
            [part.strip() for part in answers_cell.split(ANSWERS_SEPARATOR)] if answers_cell else []
        )
        attempts = rows.setdefault(receiver_id, {})
        if attempt in attempts:
            problems.append(
                Problem(
                    f"receiver {receiver_id} attempt {attempt} is already on row "
                    f"{attempts[attempt][0]}",
                    sheet,
                    row_number,
                    "attempt",
                )
            )
            continue
        attempts[attempt] = (row_number, SimulatedPerson(pickup, utterances, hang_up_after))

    people: dict[str, list[SimulatedPerson]] = {}
    for receiver_id, attempts in rows.items():
        expected = list(range(1, len(attempts) + 1))
        if sorted(attempts) != expected:
            missing = sorted(set(range(1, max(attempts) + 1)) - set(attempts))
            row_number = attempts[max(attempts)][0]
            problems.append(
                Problem(
                    f"receiver {receiver_id} has attempt {max(attempts)} but no attempt "
                    f"{', '.join(str(m) for m in missing)}",
                    sheet,
                    row_number,
                    "attempt",
                )
            )
            continue
        people[receiver_id] = [attempts[number][1] for number in expected]
    if problems:
        raise AnswersFileError(file, sorted(problems, key=lambda problem: problem.row or 0))
    return people


def _int_cell(text: str, default: int | None, *, minimum: int) -> int | None:
    if not text:
        return default
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit() or int(text) < minimum:
        return None
    return int(text)


# --------------------------------------------------------------------------- random people

_SPOKEN: dict[QuestionType, tuple[str, ...]] = {
    QuestionType.OK: ("okay", "ok", "oh ok", "alright", "got it", "ok thank you"),
    QuestionType.YES_NO: ("yes", "yes I do", "yup", "yeah", "sure", "no", "nope", "no I don't"),
    QuestionType.MULTIPLE_CHOICE: ("A", "B", "C", "letter b", "option c", "I choose A", "A A", "D"),
    QuestionType.NUMBER: ("twelve", "3", "it is 42", "three point five", "about twenty", "7"),
    QuestionType.DATE: ("tomorrow", "next monday", "30 November", "the 1st of December", "friday"),
    QuestionType.TIME: ("3 pm", "15:30", "half past three", "noon", "at 10 am", "quarter to five"),
}
# What people say in each supported language (the bots' es_US locale understands these).
_SPOKEN_BY_LANGUAGE: dict[str, dict[QuestionType, tuple[str, ...]]] = {
    "en-US": _SPOKEN,
    "es-US": {
        QuestionType.OK: ("de acuerdo", "vale", "está bien", "entendido", "ok", "gracias"),
        QuestionType.YES_NO: ("sí", "sí claro", "claro", "por supuesto", "no", "no gracias"),
        QuestionType.MULTIPLE_CHOICE: ("A", "B", "la letra c", "opción b", "elijo A", "D"),
        QuestionType.NUMBER: ("doce", "3", "son 42", "tres coma cinco", "unos veinte", "7"),
        QuestionType.DATE: ("mañana", "el próximo lunes", "30 de noviembre", "el viernes"),
        QuestionType.TIME: ("las tres", "15:30", "las tres y media", "mediodía", "a las diez"),
    },
}
_REPEAT: dict[str, tuple[str, ...]] = {
    "en-US": ("?", "repeat", "say that again"),
    "es-US": ("?", "repita", "otra vez"),
}
_NOT_UNDERSTOOD = {"en-US": "um, let me think", "es-US": "eh, déjeme pensar"}
_STOP: dict[str, tuple[str, ...]] = {
    "en-US": ("stop", "stop calling me", "remove me", "unsubscribe", "*"),
    "es-US": ("alto", "no me llame más", "quíteme de la lista", "basta", "*"),
}

_KEYPAD: dict[QuestionType, tuple[str, ...]] = {
    QuestionType.OK: ("1",),
    QuestionType.YES_NO: ("1", "2"),
    QuestionType.MULTIPLE_CHOICE: ("1", "2", "3", "4"),
    QuestionType.NUMBER: ("12#", "5#", "40#"),
    QuestionType.DATE: (),  # filled per job from a reference date below
    QuestionType.TIME: ("1530#", "0900#"),
}


def _utterance(
    rng: random.Random, question_type: QuestionType, reference: date, language: str
) -> str:
    if rng.random() < 0.15:
        if question_type is QuestionType.DATE:
            return (reference + timedelta(days=rng.randint(1, 30))).strftime("%Y%m%d#")
        return rng.choice(_KEYPAD[question_type])
    return rng.choice(_SPOKEN_BY_LANGUAGE[language][question_type])


def _random_person(
    rng: random.Random,
    questions: Sequence[QuestionType],
    reference: date,
    first: bool,
    language: str = DEFAULT_LANGUAGE,
) -> SimulatedPerson:
    roll = rng.random()
    if first and roll < 0.01:
        return SimulatedPerson("invalid")
    if roll < (0.12 if first else 0.2):
        return SimulatedPerson("no_answer")
    if roll < (0.19 if first else 0.25):
        return SimulatedPerson("busy")
    if roll < (0.22 if first else 0.28):
        return SimulatedPerson("voicemail")
    if roll < (0.23 if first else 0.29):
        return SimulatedPerson("silent")
    utterances: list[str] = []
    for question_type in questions:
        quirk = rng.random()
        if quirk < 0.05:
            utterances.append(rng.choice(_REPEAT[language]))
        elif quirk < 0.08:
            utterances.append("")  # silence, then an answer on the re-ask
        elif quirk < 0.10:
            utterances.append(_NOT_UNDERSTOOD[language])  # not understood: Fallback
        utterances.append(_utterance(rng, question_type, reference, language))
    hang_up_after = rng.randrange(len(questions)) if questions and rng.random() < 0.04 else None
    return SimulatedPerson("answer", utterances, hang_up_after)


def _opts_out(
    rng: random.Random, person: SimulatedPerson, language: str = DEFAULT_LANGUAGE
) -> SimulatedPerson:
    """About 1 in 100 people who answer say "stop" (or press star) instead of an answer."""
    if person.pickup != "answer" or not person.utterances or rng.random() >= OPT_OUT_SHARE:
        return person
    at = rng.randrange(len(person.utterances))
    said = rng.choice(_STOP[language])
    return SimulatedPerson("answer", [*person.utterances[:at], said], None)


OPT_OUT_SHARE = 0.01


def random_people(
    job: CallJob, seed: int | str, reference_date: date | None = None
) -> dict[str, list[SimulatedPerson]]:
    """A realistic, deterministic mix of people for every receiver and attempt of a job.

    About 77% pick up and answer with valid speech or keypad input for each question type (a few
    ask to repeat, stay silent once, or are not understood once), about 11% do not answer, 7% are
    busy, 3% reach a voicemail, 1% pick up and stay silent, 1% have an invalid number, 4% of
    those who pick up and answer hang up midway, and 1% of those who answer say "stop". The same
    seed gives the same people; each receiver draws from its own stream, so adding receivers does
    not change the others.
    """
    reference = reference_date or date(2026, 12, 1)  # keypad dates: the month after
    questions = [question.type for question in job.questions]
    people: dict[str, list[SimulatedPerson]] = {}
    for receiver in job.receivers:
        rng = random.Random(f"{seed}:{receiver.id}")
        stop_rng = random.Random(f"{seed}:{receiver.id}:stop")  # leaves the main stream as it was
        attempts: list[SimulatedPerson] = []
        language = job.language_of(receiver)  # each person speaks their own language
        for attempt in range(job.settings.max_attempts):
            person = _random_person(rng, questions, reference, attempt == 0, language)
            if attempts and attempts[0].pickup == "invalid":
                person = attempts[0]
            attempts.append(_opts_out(stop_rng, person, language))
        people[receiver.id] = attempts
    return people


def pickup_of(text: str) -> Pickup | None:
    """Parse a pickup value as the CSV does (case, spaces and underscores ignored)."""
    return _PICKUP_ALIASES.get("".join(ch for ch in text.lower() if ch.isalnum()))


def simulated_people(
    answers: Path | None, seed: int
) -> Callable[[CallJob], Mapping[str, Sequence[SimulatedPerson]]]:
    """Who picks up and what they say, for the local chat bots: an answers CSV, else a random but
    repeatable mix per job."""
    scripted = load_answers_csv(answers) if answers else None

    def people(job: CallJob) -> Mapping[str, Sequence[SimulatedPerson]]:
        return scripted if scripted is not None else random_people(job, seed)

    return people


def answering_person(job: CallJob) -> SimulatedPerson:
    """Someone who picks up and gives a plain valid answer to every question (a test call's
    default person): `okay`, `yes`, `A`, `twelve`, `tomorrow`, `3 pm`."""
    return SimulatedPerson("answer", [_SPOKEN[question.type][0] for question in job.questions])
