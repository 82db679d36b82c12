"""The core of Call me first (bot/core/call_me_first.py) and the preview's estimate lines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.domain.intake import read_workbook
from backend.domain.models import CallJob
from bot.core.call_me_first import (
    PlayedTestCall,
    SqliteNumberBook,
    request_test_call,
    user_key,
)
from bot.core.commands import CommandKind, parse, usage
from bot.core.preview import preview_of
from bot.core.state import SqliteBotState
from tests.e2e.slack.conftest import example_workbook

KEY = user_key("slack", "T1", "U1")


def job() -> CallJob:
    found = read_workbook(example_workbook(), filename="call_job.xlsx").job
    assert found is not None
    return found


class Placer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Mapping[str, Any] | None]] = []

    def place(
        self,
        job: CallJob,
        to: str,
        test_id: str,
        *,
        origin: Mapping[str, Any] | None,
        requested_by: str | None,
        number_key: str | None,
    ) -> PlayedTestCall | None:
        self.calls.append((to, origin))
        return None


def test_commands_parse_test_and_its_number() -> None:
    assert parse("test").kind is CommandKind.TEST
    assert parse("test J1").job_id == "J1"
    changed = parse("test number +852 9123 4567")
    assert changed.kind is CommandKind.TEST_NUMBER
    assert changed.number == "+852 9123 4567"
    assert parse("test number").kind is CommandKind.INCOMPLETE
    assert "test [JOB]" in usage("/callout", test_calls=True)
    assert "test [JOB]" not in usage("@Callouts")


def test_the_number_is_asked_for_then_checked_then_remembered() -> None:
    book, placer = SqliteNumberBook(), Placer()
    kwargs: dict[str, Any] = {
        "key": KEY,
        "book": book,
        "placer": placer,
        "dnc": None,
        "origin": {"platform": "slack"},
        "requested_by": "U1",
    }
    asked = request_test_call(job(), **kwargs)
    assert asked.ask_number
    assert placer.calls == []
    refused = request_test_call(job(), number="not a number", **kwargs)
    assert "not placed" in refused.text
    assert book.test_number(KEY) is None
    queued = request_test_call(job(), number="9123 4567", **kwargs)
    assert "+852****4567" in queued.text
    assert "91234567" not in queued.text
    assert not queued.finished  # queued (AWS): its outcome comes later
    assert "`/callout test number" in queued.text  # the platform's own hint
    teams = request_test_call(job(), **{**kwargs, "invoke": "@Callouts"})
    assert "`@Callouts test number" in teams.text
    assert book.test_number(KEY) == "+85291234567"
    again = request_test_call(job(), **kwargs)  # remembered: no question
    assert not again.ask_number
    assert [to for to, _ in placer.calls] == ["+85291234567"] * 3


def test_the_preview_carries_the_estimate_lines() -> None:
    result = read_workbook(example_workbook(), filename="call_job.xlsx")
    preview = preview_of(result, title="picnic", state=SqliteBotState())
    assert any(line.startswith("Expected duration: about ") for line in preview.extra_lines)
    assert any(line.startswith("Expected cost: about $") for line in preview.extra_lines)


def test_the_preview_estimate_never_gives_a_job_more_lines_than_the_stack_has() -> None:
    result = read_workbook(example_workbook(), filename="call_job.xlsx")
    assert result.job is not None
    own = result.job.settings.concurrency
    assert own > 1

    def duration(max_lines: int | None) -> str:
        preview = preview_of(result, title="picnic", state=SqliteBotState(), max_lines=max_lines)
        return next(line for line in preview.extra_lines if line.startswith("Expected duration"))

    assert f"{own} at a time" in duration(None)  # no budget given: the job's own concurrency
    assert "1 at a time" in duration(1)  # MaxConcurrentCalls 1: one line, whatever the job says
    assert f"{own} at a time" in duration(own + 50)  # a bigger budget never raises the job's


def test_a_played_call_is_finished_with_its_outcome() -> None:
    from bot.core.call_me_first import SimulatedTestCalls

    book = SqliteNumberBook()
    reply = request_test_call(
        job(),
        key=KEY,
        book=book,
        placer=SimulatedTestCalls(),
        dnc=None,
        origin=None,
        requested_by="U1",
        number="9123 4567",
    )
    assert reply.finished
    assert reply.transcript
