"""render_all's shortcut for jobs of plain templates gives what measuring each prompt gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.intake import templates as intake_templates
from backend.domain.intake.locations import SheetNames, Where
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.intake.templates import Located, render_all
from backend.domain.models import Receiver
from backend.domain.problems import Problem
from backend.domain.speech import SpeechTemplate

SOURCES = (
    "Hello {{ name }}.",
    "{{ name }} and {{ name }} of {{ group }}",
    "Goodbye {{ id }}!",
    "{{ group }}{{ group }}{{ group }}",
    "Will you come?",
    "Hello {{ name|upper }}.",  # not plain: the shortcut is off for the job
)
VALUES = st.one_of(
    st.sampled_from(["", "  ", "Ann", "Tom & Jerry", "<b>", 'O\'Brien "Bo"']),
    st.integers(0, 1_600).map(lambda n: "x" * n),
    st.integers(0, 700).map(lambda n: "&" * n),  # 5 characters each once escaped
)


def _render(
    sources: list[str], rows: list[tuple[str, str]], budget: int
) -> tuple[list[tuple[Receiver, int]], list[Problem]]:
    renderable: list[Located] = [
        (SpeechTemplate(source, f"question {i}"), i) for i, source in enumerate(sources)
    ]
    valid = [
        (
            Receiver.model_construct(
                id=str(row), phone_number="+85251234567", fields={"name": name, "group": group}
            ),
            row,
        )
        for row, (name, group) in enumerate(rows, start=2)
    ]
    problems = ProblemLog(20)
    kept = render_all(valid, renderable, Where(SheetNames()), problems, budget)
    return kept, problems.finish()


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.lists(st.sampled_from(SOURCES), min_size=1, max_size=4),
    st.lists(st.tuples(VALUES, VALUES), min_size=1, max_size=6),
    st.one_of(st.integers(0, 20_000), st.just(200_000_000)),
)
def test_the_plain_shortcut_changes_no_result_and_no_problem(
    sources: list[str], rows: list[tuple[str, str]], budget: int
) -> None:
    fast = _render(sources, rows, budget)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(intake_templates._AllPlain, "of", classmethod(lambda cls, templates: None))
        measured = _render(sources, rows, budget)
    assert fast == measured


def test_receivers_sharing_values_each_get_their_own_result() -> None:
    long = "x" * 1_600  # said twice by the second template: over 3,000 characters
    kept, problems = _render(
        ["Hello {{ name }}.", "{{ name }} and {{ name }}"],
        [("Ann", "A"), (long, "A"), ("Ann", "A"), ("  ", "A")],
        200_000_000,
    )
    assert [row for _, row in kept] == [2, 4]
    assert [(p.row, p.column) for p in problems] == [(3, "question 1"), (5, "name")]


@pytest.mark.parametrize(("budget", "refused"), [(1_033, True), (1_034, False)])
def test_the_budget_counts_each_prompt_as_built_escaped_values_and_text(
    budget: int, refused: bool
) -> None:
    # Each prompt builds 500 characters of value ('&' is said as '&amp;') plus its 17 of text:
    # after two receivers 1,034 are spent, checked before the third.
    kept, problems = _render(["Hello {{ name }}."], [("&" * 100, "A")] * 3, budget)
    assert (kept == []) is refused
    assert bool(problems) is refused
