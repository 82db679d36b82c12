"""The Slack form's receiver lines: quoting, header names like the workbook, separators."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.forms import parse_receivers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('S1, 91234567, "Chan, Tai Man"', ("S1", "91234567", {"name": "Chan, Tai Man"})),
        ("S1; 91234567; Chan, Tai Man", ("S1", "91234567", {"name": "Chan, Tai Man"})),
        ("S1\t9123 4567\tChan, Tai Man", ("S1", "9123 4567", {"name": "Chan, Tai Man"})),
        ("ID, Phone, Name\nS1, 91234567, Ann", ("S1", "91234567", {"name": "Ann"})),
        (
            "\ufeffid;Phone Number;First Name\nS1;91234567;Ann",
            ("S1", "91234567", {"first_name": "Ann"}),
        ),
        ("Name, Phone, Receiver ID\nAnn, 91234567, S1", ("S1", "91234567", {"name": "Ann"})),
        (
            'id, phone, name\nS1, 91234567, "Ann ""the"" first"',
            ("S1", "91234567", {"name": 'Ann "the" first'}),
        ),
    ],
)
def test_receiver_lines_are_read_like_the_workbook(
    text: str, expected: tuple[str, str, dict[str, str]]
) -> None:
    receivers, extra, problems = parse_receivers(text)
    assert problems == {}
    assert [(r[0], r[1], r[2]) for r in receivers] == [expected]
    assert extra == list(expected[2])


def test_a_header_line_names_the_template_variables() -> None:
    receivers, extra, problems = parse_receivers("ID, Phone, Name, Class\nS1, 91234567, Ann, 3A")
    assert problems == {}
    assert extra == ["name", "class"]
    assert receivers[0][2] == {"name": "Ann", "class": "3A"}


LINE = st.lists(
    st.sampled_from(
        [
            "S1",
            "91234567",
            "+852 5123 4567",
            '"Chan, Tai"',
            "Ann",
            "",
            " ",
            '"',
            "\u200e",
            "\ufeff",
            "id",
            "phone",
            "name",
            "x;y",
        ]
    ),
    max_size=5,
).flatmap(lambda cells: st.sampled_from([", ", ";", "\t"]).map(lambda sep: sep.join(cells)))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, max_size=6).map("\n".join))
def test_generated_lines_are_read_or_named(text: str) -> None:
    receivers, extra, problems = parse_receivers(text)
    for _, phone, fields, line in receivers:
        assert phone  # every receiver kept has a number to check
        assert set(fields) == set(extra)
        assert 1 <= line <= len(text.splitlines())
    if not receivers and text.strip():
        assert problems or extra  # nothing read is said, or only a header line was given


def test_a_header_line_alone_asks_for_receivers() -> None:
    receivers, _extra, problems = parse_receivers("id, phone")
    assert receivers == []
    assert "paste one line per person" in problems["receivers"]
