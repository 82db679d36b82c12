"""Estimate before Start: the model's properties (backend/domain/estimate.py, prices.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.estimate import Rates, estimate, expected_attempts, job_lines
from backend.domain.models import CallJob, JobSettings, Question, QuestionType, Receiver
from backend.domain.prices import PriceError, Prices

MONDAY_10_HKT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def job(
    receivers: int = 50,
    questions: int = 3,
    *,
    prefix: str = "+8525",
    width: int = 7,
    question_text: str = "Will {{ name }} come to the picnic?",
    **settings: object,
) -> CallJob:
    values: dict[str, object] = {"max_receivers": max(receivers, 1), "calling_window": "any"}
    values.update(settings)
    return CallJob(
        job_id="estimate-test",
        greeting="Hello {{ name }}, this is the school calling.",
        ending="Thank you, goodbye.",
        questions=tuple(
            Question(template=question_text, type=QuestionType.YES_NO) for _ in range(questions)
        ),
        receivers=tuple(
            Receiver(id=str(i), phone_number=f"{prefix}{i:0{width}d}", fields={"name": f"P{i}"})
            for i in range(receivers)
        ),
        extra_columns=("name",),
        settings=JobSettings.model_validate(values),
    )


def test_a_breakdown_with_every_service_and_a_total() -> None:
    found = estimate(job(), MONDAY_10_HKT)
    items = [line.item for line in found.costs]
    assert items == [
        "Connect",
        "telephony",
        "Lex",
        "Polly",
        "Lambda",
        "Step Functions",
        "DynamoDB",
    ]
    assert found.total_cost == pytest.approx(sum(line.cost for line in found.costs))
    assert found.total_cost > 0
    assert found.duration_line().startswith("Expected duration: about ")
    assert found.cost_line().startswith("Expected cost: about $")
    assert "2026-12-01" in found.cost_line()  # the date the prices were recorded


def test_calls_follow_the_retry_rate() -> None:
    assert expected_attempts(1, 0.3) == 1
    assert expected_attempts(3, 0.5) == pytest.approx(1.75)
    found = estimate(job(100, max_attempts=2), MONDAY_10_HKT, rates=Rates.with_answer_rate(1.0))
    assert found.attempts == pytest.approx(100)  # everyone answers: nobody retried


@settings(max_examples=12, deadline=None)
@given(small=st.integers(1, 60), extra=st.integers(1, 200))
def test_more_receivers_never_cost_less_or_finish_sooner(small: int, extra: int) -> None:
    fewer = estimate(job(small), MONDAY_10_HKT)
    more = estimate(job(small + extra), MONDAY_10_HKT)
    assert more.total_cost > fewer.total_cost
    assert more.duration_seconds >= fewer.duration_seconds
    assert more.call_minutes > fewer.call_minutes


@settings(max_examples=12, deadline=None)
@given(lines=st.integers(1, 50), extra=st.integers(1, 50))
def test_more_lines_never_take_longer_and_cost_the_same(lines: int, extra: int) -> None:
    shape = job(300)
    slow = estimate(shape, MONDAY_10_HKT, concurrency=lines)
    fast = estimate(shape, MONDAY_10_HKT, concurrency=lines + extra)
    assert fast.duration_seconds <= slow.duration_seconds + 1e-6
    assert fast.total_cost == pytest.approx(slow.total_cost)


@settings(max_examples=12, deadline=None)
@given(low=st.floats(0.05, 0.9), step=st.floats(0.05, 0.5))
def test_a_better_answer_rate_means_fewer_calls(low: float, step: float) -> None:
    high = min(1.0, low + step)
    shape = job(200, max_attempts=3)
    worse = estimate(shape, MONDAY_10_HKT, rates=Rates.with_answer_rate(low))
    better = estimate(shape, MONDAY_10_HKT, rates=Rates.with_answer_rate(high))
    assert better.attempts <= worse.attempts
    assert better.reached >= worse.reached


def test_longer_questions_make_longer_calls() -> None:
    short = estimate(job(20, question_text="Coming?"), MONDAY_10_HKT)
    long = estimate(job(20, question_text="Coming? " * 40), MONDAY_10_HKT)
    assert long.lengths.answered > short.lengths.answered
    assert long.total_cost > short.total_cost
    more_questions = estimate(job(20, questions=6), MONDAY_10_HKT)
    assert (
        more_questions.lengths.lex_intervals
        > estimate(job(20), MONDAY_10_HKT).lengths.lex_intervals
    )


def test_calling_hours_push_the_end_to_the_next_window() -> None:
    # 400 people, 2 lines, from 19:30 in Hong Kong: half an hour of calling, then the night.
    evening = datetime(2026, 11, 30, 11, 30, tzinfo=UTC)
    hours = estimate(job(400, calling_window=None), evening, concurrency=2)
    anytime = estimate(job(400), evening, concurrency=2)
    assert hours.duration_seconds > anytime.duration_seconds + 12 * 3600
    assert hours.total_cost == pytest.approx(anytime.total_cost)
    assert hours.window == "09:00-20:00 Mon-Sat"


def test_retries_wait_their_delay_and_the_daily_cap_waits_for_midnight() -> None:
    quick = estimate(job(5, max_attempts=3, retry_delay_seconds=60), MONDAY_10_HKT)
    slow = estimate(job(5, max_attempts=3, retry_delay_seconds=3600), MONDAY_10_HKT)
    assert slow.duration_seconds > quick.duration_seconds + 2 * 3000
    capped = estimate(job(5, max_attempts=4, max_calls_per_day=3), MONDAY_10_HKT)
    midnight_hkt = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert capped.ends_at > midnight_hkt


def test_a_job_past_its_deadline_says_so() -> None:
    found = estimate(job(2_000, deadline_hours=1), MONDAY_10_HKT, concurrency=1)
    assert found.past_deadline
    assert "Expired" in found.duration_line()


def test_telephony_is_priced_by_the_receivers_country() -> None:
    hong_kong = estimate(job(50), MONDAY_10_HKT)
    us = estimate(job(50, prefix="+1212555", width=4), MONDAY_10_HKT)
    cost = {e: next(line for line in e.costs if line.item == "telephony") for e in (hong_kong, us)}
    assert cost[hong_kong].unit_price == Prices().telephony("HK")
    assert cost[us].unit_price == Prices().telephony("US")
    assert Prices().telephony("ZZ") == Prices().telephony_per_minute["*"]


def test_prices_file_overrides_some_keys(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {"connect_per_minute": 1.0, "telephony_per_minute": {"HK": 2.0}, "checked_on": "x"}
        )
    )
    prices = Prices.load(path)
    assert prices.connect_per_minute == 1.0
    assert prices.telephony("HK") == 2.0
    assert prices.telephony("US") == Prices().telephony("US")  # merged, not replaced
    found = estimate(job(10), MONDAY_10_HKT, prices=prices)
    connect = next(line for line in found.costs if line.item == "Connect")
    assert connect.cost == pytest.approx(found.call_minutes * 1.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{nope", "not JSON"),
        ("[1]", "must hold an object"),
        ('{"connect_per_minute": -1}', "connect_per_minute"),
        ('{"lex_price": 1}', "lex_price"),
    ],
)
def test_a_bad_prices_file_is_named_with_the_key(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(PriceError, match=message):
        Prices.load(path)


def test_the_clock_starts_at_the_given_time() -> None:
    found = estimate(job(3), MONDAY_10_HKT)
    assert found.starts_at == MONDAY_10_HKT
    assert found.ends_at == MONDAY_10_HKT + timedelta(seconds=found.duration_seconds)


def test_a_job_gets_its_own_lines_but_never_more_than_the_line_budget() -> None:
    settings = JobSettings(concurrency=12)
    assert job_lines(settings) == 12  # no budget known (local runs)
    assert job_lines(settings, 8) == 8  # the stack's MaxConcurrentCalls is lower
    assert job_lines(settings, 50) == 12  # a bigger budget never raises the job's own
    assert job_lines(settings, 0) == 12  # an unset (0) budget is no budget
