"""Counts per status and answer tallies per question: the report's Summary sheet, the Slack job
card and the terminal all show this one computation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from backend.domain.answers import NO_ANSWER, answer_categories
from backend.domain.dnc import DO_NOT_CALL
from backend.domain.models import CallJob, CallResult, CallStatus, QuestionType

TOP_VALUES = 10  # open answers (numbers, dates, times): how many distinct values are listed
OTHER = "Other"


@dataclass(frozen=True, slots=True)
class AnswerTally:
    """How one question was answered, over the finished results."""

    number: int  # 1-based, as in the report's "Question N" column
    question_type: QuestionType
    template: str
    counts: tuple[tuple[str, int], ...]  # (answer, count) in display order, "No answer" last

    @property
    def answered(self) -> int:
        return sum(count for answer, count in self.counts if answer != NO_ANSWER)

    def count(self, answer: str) -> int:
        return dict(self.counts).get(answer, 0)


@dataclass(frozen=True, slots=True)
class JobSummary:
    job_id: str
    total: int  # receivers in the job (plus any result for a receiver the job does not list)
    done: int  # receivers with a final result
    statuses: Mapping[CallStatus, int]  # every CallStatus in enum order, zero included
    questions: tuple[AnswerTally, ...]
    do_not_call: int = 0  # of the NotCallable: numbers on the do-not-call list

    @property
    def pending(self) -> int:
        return self.total - self.done

    @property
    def reached(self) -> int:
        return sum(count for status, count in self.statuses.items() if status.reached)

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "total": self.total,
            "done": self.done,
            "pending": self.pending,
            "statuses": {status.value: count for status, count in self.statuses.items()},
            "do_not_call": self.do_not_call,
            "questions": [
                {
                    "number": tally.number,
                    "type": tally.question_type.value,
                    "template": tally.template,
                    "answers": dict(tally.counts),
                }
                for tally in self.questions
            ],
        }


def latest_results(results: Iterable[CallResult]) -> dict[str, CallResult]:
    """One result per receiver id: a later result for a receiver supersedes an earlier one."""
    latest: dict[str, CallResult] = {}
    for result in results:
        latest[result.receiver_id] = result
    return latest


def summary(job: CallJob, results: Iterable[CallResult]) -> JobSummary:
    """Summarise the results received so far (pass them all, in any order; duplicates allowed)."""
    latest = latest_results(results)
    known = {receiver.id for receiver in job.receivers}
    unknown = sum(1 for receiver_id in latest if receiver_id not in known)
    statuses = Counter(result.status for result in latest.values())
    return JobSummary(
        job_id=job.job_id,
        total=len(job.receivers) + unknown,
        done=len(latest),
        statuses={status: statuses.get(status, 0) for status in CallStatus},
        questions=tuple(
            _tally(number, question.type, question.template, latest.values())
            for number, question in enumerate(job.questions, start=1)
        ),
        do_not_call=sum(
            1
            for result in latest.values()
            if result.status is CallStatus.NOT_CALLABLE and result.error == DO_NOT_CALL
        ),
    )


def _tally(
    number: int, question_type: QuestionType, template: str, results: Iterable[CallResult]
) -> AnswerTally:
    index = number - 1
    answers = Counter(
        result.answers[index] if index < len(result.answers) else None for result in results
    )
    return tally_from_counts(number, question_type, template, answers)


def tally_from_counts(
    number: int,
    question_type: QuestionType,
    template: str,
    counts: Mapping[str | None, int] | Mapping[str, int],
) -> AnswerTally:
    """The display rule for one question's answers: fixed categories in order (zeros included),
    open answers' top TOP_VALUES then OTHER, NO_ANSWER (key None or "") last.

    Takes counts, not results, so a running tally (the Slack job card) shows exactly what the
    report's Summary sheet shows."""
    missing = sum(n for answer, n in counts.items() if not answer)
    given = {answer: n for answer, n in counts.items() if answer}
    fixed = answer_categories(question_type)
    ordered: list[tuple[str, int]]
    if fixed is not None:
        ordered = [(answer, given.get(answer, 0)) for answer in fixed]
        # A stray value (should not happen) is still counted, never dropped.
        ordered += sorted((a, n) for a, n in given.items() if a not in fixed)
    else:
        ranked = sorted(given.items(), key=lambda an: (-an[1], an[0]))
        ordered = ranked[:TOP_VALUES]
        rest = sum(n for _, n in ranked[TOP_VALUES:])
        if rest:
            ordered.append((OTHER, rest))
    ordered.append((NO_ANSWER, missing))
    return AnswerTally(number, question_type, template, tuple(ordered))
