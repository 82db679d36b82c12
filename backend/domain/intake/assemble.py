"""The shared validation behind every intake (workbook, JSON, Slack modal): rows in, CallJob out.

A problem attached to one receiver row leaves that receiver out of the job; any other problem
(configuration, questions, templates, no receivers at all) means no job is built. Either way the
result carries every problem found, and a result with problems is never submitted.
"""

from __future__ import annotations

import html
import re
import zoneinfo
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from pydantic import ValidationError

from backend.domain.models import (
    CallJob,
    JobSettings,
    Question,
    QuestionType,
    Receiver,
    SlackOrigin,
)
from backend.domain.phones import PhoneError, normalise_prefix, to_e164
from backend.domain.problems import Problem
from backend.domain.speech import (
    SpeechError,
    SpeechTemplate,
    question_name,
    receiver_context,
    ssml_error,
)

JOB_KEYS = ("greeting", "ending", "phone_prefix", "name")
INT_SETTINGS = (
    "max_attempts",
    "retry_delay_seconds",
    "call_timeout_seconds",
    "concurrency",
    "max_receivers",
)
SETTING_KEYS = (
    *INT_SETTINGS,
    "allowed_countries",
    "calling_window",
    "timezone",
    "voice",
    "language",
)
CONFIG_KEYS = (*JOB_KEYS, *SETTING_KEYS)
QUESTION_TYPES_TEXT = ", ".join(t.value for t in QuestionType)
TEMPLATE_VARIABLES = ("id", "receiver_id")
MAX_ID_LENGTH = 100
MAX_SPOKEN_CHARS = 3_000  # Amazon Polly's limit on the text of one prompt (SSML tags excluded)

_JOB_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
_WINDOW = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*(?:-|–|to)\s*(\d{1,2})[:.](\d{2})\s*$")
_QUOTED = re.compile(r"'[^']*'|[\d,]+")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class IntakeLimits:
    max_bytes: int = 10_000_000
    max_receivers: int = 10_000
    max_unzipped_bytes: int = 250_000_000  # zip-bomb guard: sum of the workbook's parts
    max_listed_per_kind: int = 20  # identical problems listed before one "...and N more" line
    max_questions: int = 50
    max_template_chars: int = 3_000  # Amazon Polly speaks at most 3,000 characters per request


DEFAULT_LIMITS = IntakeLimits()


@dataclass
class IntakeResult:
    job: CallJob | None  # None when problems make a job impossible to build
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.job is not None and not self.problems


@dataclass(frozen=True, slots=True)
class QuestionRow:
    template: str
    type_text: str
    row: int  # sheet row (workbook), index (JSON), position (modal)


@dataclass(frozen=True, slots=True)
class ReceiverRow:
    id: str
    phone: str
    fields: dict[str, str]
    row: int


@dataclass(frozen=True)
class SheetNames:
    """Where problems point in a workbook: the sheet titles as the author wrote them."""

    configures: str = "Configures"
    questions: str = "Questions"
    receivers: str = "Receivers"
    config_rows: Mapping[str, int] = field(default_factory=dict)


class _Where:
    """Builds problems pointing at workbook cells, or at JSON field paths when sheets is None."""

    def __init__(self, sheets: SheetNames | None) -> None:
        self.sheets = sheets

    def config(self, key: str, message: str) -> Problem:
        if self.sheets is None:
            return Problem(message, field=f"settings.{key}" if key in SETTING_KEYS else key)
        row = self.sheets.config_rows.get(key)
        return Problem(message, self.sheets.configures, row, "Value" if row else key)

    def question(self, row: int, column: str, message: str) -> Problem:
        if self.sheets is None:
            name = "template" if column == "question_template" else "type"
            return Problem(message, field=f"questions[{row}].{name}")
        return Problem(message, self.sheets.questions, row, column)

    def receiver(self, row: int, column: str, message: str) -> Problem:
        if self.sheets is None:
            name = column if column in ("id", "phone_number") else f"fields.{column}"
            return Problem(message, field=f"receivers[{row}].{name}")
        return Problem(message, self.sheets.receivers, row, column)

    def receivers(self, message: str) -> Problem:
        if self.sheets is None:
            return Problem(message, field="receivers")
        return Problem(message, self.sheets.receivers)

    def ref(self, row: int) -> str:
        return f"receivers[{row}]" if self.sheets is None else f"row {row}"


class ProblemLog:
    """Collects problems; after `cap` of one kind, the rest are counted into one summary line."""

    def __init__(self, cap: int) -> None:
        self.items: list[Problem] = []
        self.job_level = False
        self._cap = cap
        self._counts: Counter[tuple[str | None, str | None, str]] = Counter()
        self._first: dict[tuple[str | None, str | None, str], Problem] = {}

    def add(self, problem: Problem, *, job_level: bool = True) -> None:
        self.job_level = self.job_level or job_level
        if job_level:
            self.items.append(problem)
            return
        column = problem.column if problem.sheet else None
        key = (problem.sheet, column, _QUOTED.sub("", problem.message))
        self._counts[key] += 1
        if self._counts[key] <= self._cap:
            self.items.append(problem)
            self._first.setdefault(key, problem)

    def finish(self) -> list[Problem]:
        for key, count in self._counts.items():
            extra = count - self._cap
            if extra > 0:
                first = self._first[key]
                rows = "row" if extra == 1 else "rows"
                self.items.append(
                    Problem(
                        f"…and {extra:,} more {rows} with the same problem: {first.message}",
                        first.sheet,
                        None,
                        first.column if first.sheet else None,
                    )
                )
        return self.items


def assemble_job(
    config: Mapping[str, str],
    questions: Sequence[QuestionRow],
    receivers: Sequence[ReceiverRow],
    *,
    job_id: str,
    extra_columns: Sequence[str],
    limits: IntakeLimits = DEFAULT_LIMITS,
    origin: SlackOrigin | None = None,
    sheet_names: SheetNames | None = SheetNames(),
    settings: JobSettings | None = None,
    created_by: str | None = None,
    truncated: bool = False,
    receivers_readable: bool = True,
) -> IntakeResult:
    """Validate and normalise the parts of a job; return the job and every problem found.

    `config` holds Configures-style text values (greeting, ending, phone_prefix, name and the
    optional settings). `settings`, when given (JSON intake), replaces the setting keys of
    `config`. `sheet_names=None` makes problems name JSON field paths instead of sheet cells.
    `truncated` says the reader stopped at the receiver limit (there were more rows);
    `receivers_readable=False` says the reader already reported why it could not read receivers
    (so "no receivers" and unknown template variables are not reported again).
    """
    where = _Where(sheet_names)
    problems = ProblemLog(limits.max_listed_per_kind)

    unknown = [key for key in config if key not in CONFIG_KEYS]
    for key in unknown:
        problems.add(
            where.config(
                key,
                f"unknown setting '{key}': use one of {', '.join(CONFIG_KEYS)}, or delete the row",
            )
        )
    if not _JOB_ID.match(job_id):
        problems.add(
            Problem(
                f"job id '{job_id}' must be 1-80 letters, digits, '.', '_' or '-'",
                field="job_id",
            )
        )

    prefix: str | None = ""  # None: phone_prefix is broken, so phone numbers cannot be checked
    try:
        prefix = normalise_prefix(config.get("phone_prefix", ""))
    except PhoneError as error:
        problems.add(where.config("phone_prefix", str(error)))
        prefix = None

    if settings is None:
        settings = _parse_settings(config, where, problems)
    elif settings.calling_window is not None:
        why = window_problem(settings.calling_window.start, settings.calling_window.end)
        if why:
            shown = f"{settings.calling_window.start}-{settings.calling_window.end}"
            problems.add(where.config("calling_window", f"calling_window '{shown}' {why}"))

    limit = min(limits.max_receivers, settings.max_receivers)
    if truncated or len(receivers) > limit:
        problems.add(
            where.receivers(
                f"the job has more than {limit:,} receivers, the limit: "
                "split the receivers into several jobs"
            )
        )
        receivers = receivers[:limit]

    if sheet_names is not None:  # the workbook format: both are required (see the template)
        for key, example in (
            ("greeting", "Hello {{ name }}, ..."),
            ("ending", "Thank you, goodbye"),
        ):
            unreadable = key in sheet_names.config_rows and key not in config  # a formula
            if not unreadable and not config.get(key, "").strip():
                problems.add(
                    where.config(
                        key,
                        f"the {key} is empty: add a '{key}' row to Configures with what is said "
                        f"{'first' if key == 'greeting' else 'last'}, e.g. {example}",
                    )
                )

    size = limits.max_template_chars
    greeting = _compile(config.get("greeting", ""), "greeting", where, problems, "greeting", size)
    ending = _compile(config.get("ending", ""), "ending", where, problems, "ending", size)
    if len(questions) > limits.max_questions:
        problems.add(
            where.question(
                questions[limits.max_questions].row,
                "question_template",
                f"the job has more than {limits.max_questions} questions: keep calls short",
            )
        )
        questions = questions[: limits.max_questions]
    question_models: list[Question] = []
    question_templates: list[SpeechTemplate | None] = []
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
            compiled = _compile(row.template, name, where, problems, row.row, size)
        question_templates.append(compiled)
        if kind is not None:
            question_models.append(Question(template=row.template, type=kind))

    names = set(TEMPLATE_VARIABLES).union(extra_columns)
    for receiver_row in receivers:
        names.update(receiver_row.fields)
    candidates: list[tuple[SpeechTemplate | None, str | int]] = [
        (greeting, "greeting"),
        *((t, q.row) for t, q in zip(question_templates, questions, strict=True)),
        (ending, "ending"),
    ]
    located = [(t, loc) for t, loc in candidates if t is not None]
    renderable = [
        (t, loc)
        for t, loc in located
        if receivers_readable and not _missing_variables(t, loc, names, where, problems)
    ]

    valid = _check_receivers(receivers, prefix, settings, extra_columns, where, problems)
    if not receivers and not truncated and receivers_readable:
        problems.add(
            where.receivers(
                "there are no receivers: add one row per person with an id and a phone_number"
            )
        )

    valid = _render_all(valid, renderable, where, problems)
    if valid:
        _check_ssml(valid[0][0], renderable, where, problems)

    result_problems = problems.finish()
    if problems.job_level or not valid or len(question_models) != len(questions):
        return IntakeResult(None, result_problems)
    try:
        job = CallJob(
            job_id=job_id,
            name=config.get("name", ""),
            greeting=config.get("greeting", ""),
            ending=config.get("ending", ""),
            phone_prefix=prefix or "",
            questions=tuple(question_models),
            extra_columns=tuple(extra_columns),
            settings=settings,
            origin=origin,
            created_by=created_by,
        )
    except ValidationError as error:
        for item in error.errors():
            path = ".".join(str(part) for part in item["loc"])
            result_problems.append(Problem(f"{path}: {item['msg']}", field=path))
        return IntakeResult(None, result_problems)
    job = job.model_copy(update={"receivers": tuple(receiver for receiver, _ in valid)})
    return IntakeResult(job, result_problems)


def _compile(
    source: str,
    name: str,
    where: _Where,
    problems: ProblemLog,
    location: str | int,
    limit: int,
) -> SpeechTemplate | None:
    if len(source) > limit:
        problems.add(
            _at_template(
                location,
                where,
                f"the {name} is {len(source):,} characters long: keep it under {limit:,}",
            )
        )
        return None
    try:
        return SpeechTemplate(source, name)
    except SpeechError as error:
        problems.add(_at_template(location, where, error.message))
        return None


def _at_template(location: str | int, where: _Where, message: str) -> Problem:
    if isinstance(location, str):
        return where.config(location, message)
    return where.question(location, "question_template", message)


def _question_type(row: QuestionRow, where: _Where, problems: ProblemLog) -> QuestionType | None:
    text = row.type_text.strip()
    kind = QuestionType.parse(text) if text else None
    if kind is None:
        what = f"unknown question type '{text}'" if text else "the question type is empty"
        problems.add(
            where.question(row.row, "question_type", f"{what}: use one of {QUESTION_TYPES_TEXT}")
        )
    return kind


def _missing_variables(
    template: SpeechTemplate,
    location: str | int,
    names: set[str],
    where: _Where,
    problems: ProblemLog,
) -> bool:
    missing = sorted(template.variables - names)
    for variable in missing:
        if variable in ("phone_number", "phone"):
            message = (
                f"the {template.name} uses {{{{ {variable} }}}}: the phone number is never "
                "read out, remove it"
            )
        else:
            columns = ", ".join(sorted(names))
            message = (
                f"the {template.name} uses {{{{ {variable} }}}} but the receivers have no "
                f"'{variable}' column (variables: {columns}): add the column or fix the spelling"
            )
        problems.add(_at_template(location, where, message))
    return bool(missing)


def _check_receivers(
    receivers: Sequence[ReceiverRow],
    prefix: str | None,
    settings: JobSettings,
    extra_columns: Sequence[str],
    where: _Where,
    problems: ProblemLog,
) -> list[tuple[Receiver, int]]:
    allowed = frozenset(settings.allowed_countries)
    known_fields = frozenset(extra_columns)
    ids: dict[str, int] = {}
    phones: dict[str, int] = {}
    valid: list[tuple[Receiver, int]] = []
    for row in receivers:
        good = True
        receiver_id = row.id.strip()
        if not receiver_id:
            problems.add(
                where.receiver(row.row, "id", "the id is empty: give every receiver an id"),
                job_level=False,
            )
            good = False
        elif len(receiver_id) > MAX_ID_LENGTH:
            problems.add(
                where.receiver(row.row, "id", f"the id is longer than {MAX_ID_LENGTH} characters"),
                job_level=False,
            )
            good = False
        elif receiver_id in ids:
            problems.add(
                where.receiver(
                    row.row,
                    "id",
                    f"duplicate id '{receiver_id}': already used on {where.ref(ids[receiver_id])}; "
                    "give every receiver its own id",
                ),
                job_level=False,
            )
            good = False
        else:
            ids[receiver_id] = row.row
        phone = ""
        try:
            if prefix is not None:
                phone = to_e164(row.phone, prefix, allowed)
        except PhoneError as error:
            problems.add(where.receiver(row.row, "phone_number", str(error)), job_level=False)
            good = False
        if phone:
            first = phones.get(phone)
            if first is not None:
                problems.add(
                    where.receiver(
                        row.row,
                        "phone_number",
                        f"duplicate phone number: the same number is on {where.ref(first)}; "
                        "each person is called once per job",
                    ),
                    job_level=False,
                )
                good = False
            else:
                phones[phone] = row.row
        if known_fields:
            for name in row.fields:
                if name not in known_fields:
                    problems.add(
                        where.receiver(
                            row.row, name, f"field '{name}' is not one of the extra_columns"
                        ),
                        job_level=False,
                    )
                    good = False
        if good:
            receiver = Receiver.model_construct(
                id=receiver_id, phone_number=phone, fields=row.fields
            )
            valid.append((receiver, row.row))
    return valid


def _render_all(
    valid: list[tuple[Receiver, int]],
    renderable: list[tuple[SpeechTemplate, str | int]],
    where: _Where,
    problems: ProblemLog,
) -> list[tuple[Receiver, int]]:
    """Render every prompt of every receiver: the only way to find every undefined variable.

    A template the sandbox refuses is refused for everyone: reported once, at the template.
    """
    kept: list[tuple[Receiver, int]] = []
    templates = list(renderable)
    for receiver, row in valid:
        context = receiver_context(receiver)
        good = True
        empty_said: set[str] = set()
        for template, location in list(templates):
            for variable in sorted(template.spoken - empty_said):
                value = receiver.fields.get(variable)
                if value is not None and not value.strip():
                    empty_said.add(variable)
                    problems.add(
                        where.receiver(
                            row,
                            variable,
                            f"'{variable}' is empty but the {template.name} says "
                            f"{{{{ {variable} }}}}: fill it in (merged cells read as empty: "
                            f"unmerge them), or write {{{{ {variable} or 'friend' }}}} in the "
                            "template",
                        ),
                        job_level=False,
                    )
                    good = False
            try:
                prompt = template.render(context, receiver.id)
            except SpeechError as error:
                if error.variable is None and error.receiver_id is None:
                    problems.add(_at_template(location, where, error.message))
                    templates.remove((template, location))
                else:
                    column = error.variable or template.name
                    problems.add(where.receiver(row, column, error.message), job_level=False)
                good = False
                continue
            if good and len(prompt) > MAX_SPOKEN_CHARS:
                spoken = len(html.unescape(_TAG.sub("", prompt)))
                if spoken > MAX_SPOKEN_CHARS:
                    problems.add(
                        where.receiver(
                            row,
                            template.name,
                            f"the {template.name} for this receiver is {spoken:,} characters "
                            f"long: a call can speak at most {MAX_SPOKEN_CHARS:,} at a time; "
                            "shorten the template or this receiver's values",
                        ),
                        job_level=False,
                    )
                    good = False
        if good:
            kept.append((receiver, row))
    return kept


def _check_ssml(
    receiver: Receiver,
    located: list[tuple[SpeechTemplate, str | int]],
    where: _Where,
    problems: ProblemLog,
) -> None:
    """The template text itself must make well-formed SSML (values are escaped already)."""
    context = receiver_context(receiver)
    for template, location in located:
        try:
            prompt = template.render(context, receiver.id)
        except SpeechError:
            continue
        if "{{" in prompt or "{%" in prompt:
            problems.add(
                _at_template(
                    location,
                    where,
                    f"the {template.name} would read out template markup ('{{{{' or '{{%') "
                    "word for word: remove {% raw %} or the stray braces",
                )
            )
            continue
        error = ssml_error(prompt)
        if error:
            problems.add(
                _at_template(
                    location,
                    where,
                    f"the {template.name} is not valid SSML ({error}): write '&' as 'and' "
                    'and use only SSML tags such as <break time="1s"/>',
                )
            )


def _parse_settings(config: Mapping[str, str], where: _Where, problems: ProblemLog) -> JobSettings:
    values: dict[str, Any] = {}
    for key in INT_SETTINGS:
        text = config.get(key, "").strip()
        if not text:
            continue
        try:
            values[key] = int(float(text)) if float(text).is_integer() else text
        except ValueError:
            values[key] = text
    countries = config.get("allowed_countries", "").strip()
    if countries:
        codes = [c.upper() for c in re.split(r"[\s,;]+", countries) if c]
        unknown = [c for c in codes if c not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            problems.add(
                where.config(
                    "allowed_countries",
                    f"allowed_countries: {', '.join(unknown)} is not a two-letter country code "
                    "such as HK, GB, US",
                )
            )
        values["allowed_countries"] = tuple(c for c in codes if c not in unknown)
    window: dict[str, str] = {}
    text = config.get("calling_window", "").strip()
    if text:
        match = _WINDOW.match(text)
        if match is None:
            problems.add(
                where.config(
                    "calling_window",
                    f"calling_window '{text}' should be two times like 09:00-20:00, "
                    "the first before the second",
                )
            )
        else:
            h1, m1, h2, m2 = (int(part) for part in match.groups())
            start, end = f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"
            why = window_problem(start, end)
            if why:
                problems.add(where.config("calling_window", f"calling_window '{text}' {why}"))
            else:
                window.update(start=start, end=end)
    zone = config.get("timezone", "").strip()
    if zone:
        if _known_zone(zone):
            window["timezone"] = zone
        else:
            problems.add(
                where.config(
                    "timezone",
                    f"timezone '{zone}' is not a time zone name such as Asia/Hong_Kong",
                )
            )
    if window:
        values["calling_window"] = window
    for key in ("voice", "language"):
        text = config.get(key, "").strip()
        if text:
            values[key] = text
    try:
        return JobSettings.model_validate(values)
    except ValidationError as error:
        bad_keys: set[str] = set()
        for item in error.errors():
            key = str(item["loc"][0]) if item["loc"] else "settings"
            if key in bad_keys:
                continue
            bad_keys.add(key)
            shown = config.get(key, "")
            if key in INT_SETTINGS:
                message = _int_setting_message(key, shown)
            else:
                message = f"{key} '{shown}': {item['msg']}"
            problems.add(where.config(key, message))
        values = {k: v for k, v in values.items() if k not in bad_keys}
        try:
            return JobSettings.model_validate(values)
        except ValidationError:
            return JobSettings()


def window_problem(start: str, end: str) -> str | None:
    """Why `start`-`end` ("HH:MM") cannot be a calling window, or None.

    Overnight windows (`20:00-08:00`) are refused on purpose: a reversed window is far more
    often a typo than a wish to phone people at 3 a.m. `24:00` is allowed as an end.
    """
    try:
        (h1, m1), (h2, m2) = ((int(p) for p in t.split(":")) for t in (start, end))
    except ValueError:
        return "should be two times like 09:00-20:00"
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 > 0):
        return "is not a time of day: use hours 00-23 (an end of 24:00 is allowed), minutes 00-59"
    if (h1, m1) == (h2, m2):
        return "starts and ends at the same time: give a later end, such as 09:00-20:00"
    if (h1, m1) > (h2, m2):
        return (
            "runs overnight (its end is before its start): calls start only within one day, "
            "so write the first time before the second, such as 09:00-20:00"
        )
    return None


def _int_setting_message(key: str, shown: object) -> str:
    bounds = JobSettings.model_fields[key].metadata
    low = next((getattr(b, "ge", None) for b in bounds if getattr(b, "ge", None) is not None), None)
    high = next(
        (getattr(b, "le", None) for b in bounds if getattr(b, "le", None) is not None), None
    )
    if low is not None and high is not None:
        return f"{key} '{shown}' must be a whole number from {low:,} to {high:,}"
    return f"{key} '{shown}' must be a whole number"


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # No time-zone database at all (some minimal images): nothing to check against.
        return not zoneinfo.available_timezones()
    return True
