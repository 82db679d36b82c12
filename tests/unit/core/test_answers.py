"""Answer normalisation: what Lex V2 returns -> one canonical answer per question type."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.answers import answer_categories, answer_hint, normalise_answer
from backend.domain.models import QuestionType

OK = QuestionType.OK
YN = QuestionType.YES_NO
MC = QuestionType.MULTIPLE_CHOICE
NUM = QuestionType.NUMBER
DATE = QuestionType.DATE
TIME = QuestionType.TIME


@pytest.mark.parametrize(
    ("question_type", "intent", "slots", "expected"),
    [
        (OK, "OkIntent", {}, "OK"),
        (OK, "1", {}, "OK"),
        (YN, "YesIntent", {}, "Yes"),
        (YN, "NoIntent", {"answer": None}, "No"),
        (YN, "YesIntent", {"answer": "1"}, "Yes"),
        (YN, "NoIntent", {"answer": "2"}, "No"),
        (YN, "1", {}, "Yes"),
        (YN, "2", {}, "No"),
        (MC, "ChoiceIntent", {"answer": "B"}, "B"),
        (MC, "ChoiceIntent", {"answer": "a"}, "A"),
        (MC, "ChoiceIntent", {"answer": "A A"}, "A"),
        (MC, "ChoiceIntent", {"answer": "letter b"}, "B"),
        (MC, "ChoiceIntent", {"answer": "option C."}, "C"),
        (MC, "ChoiceIntent", {"answer": "dee"}, "D"),
        (MC, "ChoiceIntent", {"answer": "5"}, "E"),
        (MC, "3", {}, "C"),
        (MC, "CIntent", {}, "C"),
        (NUM, "NumberIntent", {"answer": "12"}, "12"),
        (NUM, "NumberIntent", {"answer": "3.5"}, "3.5"),
        (NUM, "NumberIntent", {"answer": "-2"}, "-2"),
        (NUM, "NumberIntent", {"answer": "12.0"}, "12"),
        (NUM, "NumberIntent", {"answer": "3.50"}, "3.5"),
        (NUM, "NumberIntent", {"answer": "1,200"}, "1200"),
        (NUM, "42", {}, "42"),
        (DATE, "DateIntent", {"answer": "2026-11-30"}, "2026-11-30"),
        (DATE, "DateIntent", {"answer": "20261205"}, "2026-12-05"),
        (DATE, "20261205", {}, "2026-12-05"),
        (TIME, "TimeIntent", {"answer": "15:30"}, "15:30"),
        (TIME, "TimeIntent", {"answer": "15:30:00"}, "15:30"),
        (TIME, "TimeIntent", {"answer": "9:05"}, "09:05"),
        (TIME, "1530", {}, "15:30"),
        # intent names as Connect may spell them
        (YN, " yesintent ", {}, "Yes"),
        (NUM, "NumberIntent", {"value": "7"}, "7"),
    ],
)
def test_recognised_answers(
    question_type: QuestionType, intent: str, slots: dict[str, str | None], expected: str
) -> None:
    assert normalise_answer(question_type, intent, slots) == expected


@pytest.mark.parametrize(
    ("question_type", "intent", "slots"),
    [
        (YN, None, {}),
        (YN, "", {}),
        (YN, "FallbackIntent", {}),
        (YN, "AMAZON.FallbackIntent", {}),
        (MC, "RepeatIntent", {"answer": "A"}),
        (MC, "AMAZON.RepeatIntent", {}),
        (NUM, "YesIntent", {}),  # an intent of another question type
        (YN, "NumberIntent", {"answer": "1"}),
        (OK, "YesIntent", {}),
        (DATE, "TimeIntent", {"answer": "15:30"}),
        (YN, "3", {}),
        (OK, "2", {}),
        (MC, "ChoiceIntent", {"answer": "F"}),
        (MC, "ChoiceIntent", {"answer": "6"}),
        (MC, "ChoiceIntent", {"answer": "A B"}),
        (MC, "ChoiceIntent", {"answer": ""}),
        (MC, "ChoiceIntent", {}),
        (MC, "ChoiceIntent", {"answer": "banana"}),
        (NUM, "NumberIntent", {"answer": None}),
        (NUM, "NumberIntent", {"answer": "twelve"}),
        (NUM, "NumberIntent", {"answer": "NaN"}),
        (NUM, "NumberIntent", {"answer": "1e999999"}),
        (DATE, "DateIntent", {"answer": "2026-W48"}),
        (DATE, "DateIntent", {"answer": "2026-11"}),
        (DATE, "DateIntent", {"answer": "2026-02-30"}),
        (DATE, "DateIntent", {}),
        (DATE, "1", {}),
        (DATE, "20261345", {}),
        (TIME, "TimeIntent", {"answer": "MO"}),
        (TIME, "TimeIntent", {"answer": "25:00"}),
        (TIME, "TimeIntent", {"answer": "12:75"}),
        (TIME, "TimeIntent", {"answer": None}),
    ],
)
def test_no_answer(
    question_type: QuestionType, intent: str | None, slots: dict[str, str | None]
) -> None:
    assert normalise_answer(question_type, intent, slots) is None


def test_every_type_has_a_hint_and_fixed_categories_where_expected() -> None:
    for question_type in QuestionType:
        assert answer_hint(question_type)
    assert answer_hint(YN) == "say yes or no, or press 1 for yes and 2 for no"
    assert answer_categories(MC) == ("A", "B", "C", "D", "E")
    assert answer_categories(YN) == ("Yes", "No")
    assert answer_categories(NUM) is None


CANONICAL = {
    OK: r"OK",
    YN: r"Yes|No",
    MC: r"[A-E]",
    NUM: r"-?\d+(\.\d+)?",
    DATE: r"\d{4}-\d{2}-\d{2}",
    TIME: r"([01]\d|2[0-3]):[0-5]\d",
}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    question_type=st.sampled_from(list(QuestionType)),
    intent=st.one_of(
        st.none(),
        st.sampled_from(
            [
                "OkIntent",
                "YesIntent",
                "NoIntent",
                "ChoiceIntent",
                "NumberIntent",
                "DateIntent",
                "TimeIntent",
                "FallbackIntent",
                "1",
                "2",
                "1530",
            ]
        ),
        st.text(max_size=12),
    ),
    value=st.one_of(st.none(), st.text(max_size=20), st.from_regex(r"-?\d{1,4}(\.\d{1,3})?")),
)
def test_any_input_gives_a_canonical_answer_or_none(
    question_type: QuestionType, intent: str | None, value: str | None
) -> None:
    answer = normalise_answer(question_type, intent, {"answer": value})
    assert answer is None or re.fullmatch(CANONICAL[question_type], answer)
