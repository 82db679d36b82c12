"""Simulated people: the answers CSV and the random mix."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from backend.domain.models import CallJob, JobSettings, Question, QuestionType, Receiver
from backend.domain.opt_out import is_opt_out
from backend.local.simulator import (
    NOBODY,
    AnswersFileError,
    BotLibrary,
    SimulatedPerson,
    load_answers_csv,
    person_for,
    random_people,
)

BOTS = BotLibrary.load(reference_date=date(2026, 11, 28))


def write(tmp_path: Path, text: str, name: str = "answers.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_answers_csv(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "receiver_id,attempt,pickup,hang_up_after,answers\n"
        "S001,1,answer,,okay|yes I do|A\n"
        "S002,1,busy,,\n"
        "S002,2,Answer,1,ok| ? |\n"
        "S003,,No Answer,,\n"
        "12345678.0,1,invalid,,\n"
        ",,,,\n",
    )
    people = load_answers_csv(path)
    assert people == {
        "S001": [SimulatedPerson("answer", ["okay", "yes I do", "A"])],
        "S002": [
            SimulatedPerson("busy", []),
            SimulatedPerson("answer", ["ok", "?", ""], hang_up_after=1),
        ],
        "S003": [SimulatedPerson("no_answer")],
        "12345678": [SimulatedPerson("invalid")],
    }


def test_columns_in_any_order_with_a_bom_and_optional_columns(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_bytes("answers,Receiver ID,Pickup\r\nyes|no,R1,\r\n".encode("utf-8-sig"))
    assert load_answers_csv(path) == {"R1": [SimulatedPerson("answer", ["yes", "no"])]}


def test_a_receiver_without_a_row_does_not_answer() -> None:
    people = {"R1": [SimulatedPerson("busy"), SimulatedPerson("answer", ["ok"])]}
    assert person_for(people, "R9", 1) is NOBODY
    assert NOBODY.pickup == "no_answer"
    assert person_for(people, "R1", 1).pickup == "busy"
    assert person_for(people, "R1", 2).utterances == ["ok"]
    assert person_for(people, "R1", 5).utterances == ["ok"]  # later attempts repeat the last


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            "R1,1,answer,,ok\nR1,1,busy,,\n",
            "row 3, column attempt: receiver R1 attempt 1 is already",
        ),
        ("R1,two,answer,,ok\n", "row 2, column attempt: attempt must be a whole number"),
        ("R1,0,answer,,ok\n", "row 2, column attempt"),
        ("R1,1,maybe,,ok\n", "row 2, column pickup: pickup 'maybe' is not one of"),
        ("R1,1,answer,-1,ok\n", "row 2, column hang_up_after"),
        ("R1,1,answer,soon,ok\n", "row 2, column hang_up_after"),
        (",1,answer,,ok\n", "row 2, column receiver_id: receiver_id is empty"),
        ("R1,2,answer,,ok\n", "row 2, column attempt: receiver R1 has attempt 2 but no attempt 1"),
    ],
)
def test_bad_rows_are_named(tmp_path: Path, rows: str, expected: str) -> None:
    path = write(tmp_path, "receiver_id,attempt,pickup,hang_up_after,answers\n" + rows)
    with pytest.raises(AnswersFileError) as error:
        load_answers_csv(path)
    assert expected in str(error.value)
    assert str(error.value).startswith("answers.csv: ")
    assert error.value.problems[0].row is not None
    assert error.value.problems[0].sheet is None


def test_every_bad_row_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "receiver_id,pickup,answers\nR1,maybe,ok\nR2,answer,ok\nR3,later,ok\n",
    )
    with pytest.raises(AnswersFileError) as error:
        load_answers_csv(path)
    assert [problem.row for problem in error.value.problems] == [2, 4]


def test_missing_columns_and_files(tmp_path: Path) -> None:
    with pytest.raises(AnswersFileError, match="missing column 'answers'"):
        load_answers_csv(write(tmp_path, "receiver_id,pickup\nR1,answer\n"))
    with pytest.raises(AnswersFileError, match="the file is empty"):
        load_answers_csv(write(tmp_path, ""))
    with pytest.raises(AnswersFileError, match="file not found"):
        load_answers_csv(tmp_path / "nope.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(AnswersFileError, match="not UTF-8"):
        load_answers_csv(binary)


def test_simulated_person_validates() -> None:
    with pytest.raises(ValueError, match="pickup must be one of"):
        SimulatedPerson(pickup="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hang_up_after"):
        SimulatedPerson(hang_up_after=-1)


def make_job(receivers: int = 400, max_attempts: int = 2) -> CallJob:
    return CallJob(
        job_id="random-job",
        questions=tuple(Question(template="q", type=t) for t in QuestionType),
        receivers=tuple(
            Receiver(id=f"R{i:04d}", phone_number=f"+8529{i:07d}") for i in range(receivers)
        ),
        settings=JobSettings(max_attempts=max_attempts),
    )


def test_random_people_are_deterministic_per_seed() -> None:
    job = make_job(50)
    assert random_people(job, 7) == random_people(job, 7)
    assert random_people(job, 7) != random_people(job, 8)
    # each receiver has its own stream: adding receivers does not change the others
    bigger = random_people(make_job(60), 7)
    assert {key: bigger[key] for key in random_people(job, 7)} == random_people(job, 7)


def test_random_people_are_a_realistic_mix() -> None:
    job = make_job(400, max_attempts=3)
    people = random_people(job, seed=42)
    assert set(people) == {receiver.id for receiver in job.receivers}
    assert all(len(attempts) == 3 for attempts in people.values())
    first = Counter(attempts[0].pickup for attempts in people.values())
    assert first["answer"] > 0.7 * 400
    assert first["no_answer"] > 0.05 * 400
    assert first["busy"] > 0.02 * 400
    answered = [a[0] for a in people.values() if a[0].pickup == "answer"]
    hang_ups = [person for person in answered if person.hang_up_after is not None]
    assert 0 < len(hang_ups) < 0.1 * len(answered)
    quirks = [p for p in answered if len(p.utterances) > len(QuestionType)]
    assert 0 < len(quirks) < 0.6 * len(answered)


def test_random_utterances_are_understood_by_the_bots() -> None:
    job = make_job(200)
    types = [question.type for question in job.questions]
    for attempts in random_people(job, seed=3).values():
        for person in attempts:
            if person.pickup != "answer":
                continue
            # the last utterance of each question is a valid answer of that question's type,
            # unless the person says "stop" instead (the call ends there)
            answers = [u for u in person.utterances if not _is_quirk(u)]
            if answers and is_opt_out(BOTS.match(types[len(answers) - 1], answers[-1]).intent):
                answers = answers[:-1]
            else:
                assert len(answers) == len(types)
            for question_type, utterance in zip(types, answers, strict=False):
                result = BOTS.match(question_type, utterance.rstrip("#"))
                assert result.intent not in {"FallbackIntent", "RepeatIntent"}, (
                    question_type,
                    utterance,
                )


def _is_quirk(utterance: str) -> bool:
    return utterance in {"", "?", "repeat", "say that again", "um, let me think"}
