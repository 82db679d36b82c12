"""Question rows -> Question models and their compiled templates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backend.domain.intake.locations import Where
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.intake.rows import QuestionRow
from backend.domain.intake.templates import compile_template
from backend.domain.models import Question, QuestionType
from backend.domain.speech import SpeechTemplate, question_name

QUESTION_TYPES_TEXT = ", ".join(t.value for t in QuestionType)


@dataclass(frozen=True)
class CheckedQuestions:
    rows: Sequence[QuestionRow]  # the rows kept (at most the question limit)
    models: list[Question]  # one per row whose type is known
    templates: list[SpeechTemplate | None]  # one per row; None when it does not compile

    @property
    def complete(self) -> bool:
        return len(self.models) == len(self.rows)


def check_questions(
    questions: Sequence[QuestionRow],
    where: Where,
    problems: ProblemLog,
    *,
    max_questions: int,
    max_template_chars: int,
) -> CheckedQuestions:
    if len(questions) > max_questions:
        problems.add(
            where.question(
                questions[max_questions].row,
                "question_template",
                f"the job has more than {max_questions} questions: keep calls short",
            )
        )
        questions = questions[:max_questions]
    models: list[Question] = []
    templates: list[SpeechTemplate | None] = []
    for index, row in enumerate(questions):
        kind = _question_type(row, where, problems)
        if not row.template.strip():
            problems.add(
                where.question(
                    row.row, "question_template", "the question is empty: type what to ask"
                )
            )
            compiled = None
        else:
            name = question_name(index)
            compiled = compile_template(
                row.template, name, where, problems, row.row, max_template_chars
            )
        templates.append(compiled)
        if kind is not None:
            models.append(Question(template=row.template, type=kind))
    return CheckedQuestions(questions, models, templates)


def _question_type(row: QuestionRow, where: Where, problems: ProblemLog) -> QuestionType | None:
    text = row.type_text.strip()
    kind = QuestionType.parse(text) if text else None
    if kind is None:
        what = f"unknown question type '{text}'" if text else "the question type is empty"
        problems.add(
            where.question(row.row, "question_type", f"{what}: use one of {QUESTION_TYPES_TEXT}")
        )
    return kind
