"""Question rows -> Question models and their compiled templates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from backend.domain.intake.locations import Where
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.intake.rows import QuestionRow
from backend.domain.intake.templates import compile_template
from backend.domain.models import Question, QuestionType
from backend.domain.speech import SpeechTemplate, question_name, translated_name
from backend.domain.voices import LANGUAGE_PROBLEM, canonical_language

QUESTION_TYPES_TEXT = ", ".join(t.value for t in QuestionType)


@dataclass(frozen=True)
class CheckedQuestions:
    rows: Sequence[QuestionRow]  # the rows kept (at most the question limit)
    models: list[Question]  # one per row whose type is known
    templates: list[SpeechTemplate | None]  # one per row; None when it does not compile
    # One per row: language -> its compiled translation (the ones that compile).
    translated: list[dict[str, SpeechTemplate]] = field(default_factory=list)

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
    translated: list[dict[str, SpeechTemplate]] = []
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
        translations = _translations(row, index, where, problems, max_template_chars)
        translated.append(translations)
        if kind is not None:
            texts = {language: t.source for language, t in translations.items()}
            models.append(Question(template=row.template, type=kind, translations=texts))
    return CheckedQuestions(questions, models, templates, translated)


def _translations(
    row: QuestionRow, index: int, where: Where, problems: ProblemLog, max_template_chars: int
) -> dict[str, SpeechTemplate]:
    """A row's `question_template:<language>` cells, compiled; an unsupported language or a
    template that does not compile is a problem on that cell."""
    compiled: dict[str, SpeechTemplate] = {}
    for written, text in row.translations.items():
        column = f"question_template:{written}"
        language = canonical_language(written)
        if language is None:
            problems.add(
                where.question(row.row, column, f"{column}: '{written}' is {LANGUAGE_PROBLEM}")
            )
            continue
        name = translated_name(question_name(index), language)
        template = compile_template(
            text,
            name,
            where,
            problems,
            (row.row, f"question_template:{language}"),
            max_template_chars,
        )
        if template is not None:
            compiled[language] = template
    return compiled


def _question_type(row: QuestionRow, where: Where, problems: ProblemLog) -> QuestionType | None:
    text = row.type_text.strip()
    kind = QuestionType.parse(text) if text else None
    if kind is None:
        what = f"unknown question type '{text}'" if text else "the question type is empty"
        problems.add(
            where.question(row.row, "question_type", f"{what}: use one of {QUESTION_TYPES_TEXT}")
        )
    return kind
