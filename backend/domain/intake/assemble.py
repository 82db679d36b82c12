"""The shared validation behind every intake (workbook, JSON, Slack modal): rows in, CallJob out.

A problem attached to one receiver row leaves that receiver out of the job; any other problem
(configuration, questions, templates, no receivers at all) means no job is built. Either way the
result carries every problem found, and a result with problems is never submitted.

The checks themselves live next door: settings.py (Configures values), questions.py,
receivers.py, templates.py; locations.py says where a problem points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from pydantic import ValidationError

from backend.domain.call_time import timeout_problem
from backend.domain.dnc import DoNotCallLookup, mark_do_not_call
from backend.domain.intake.config_keys import CONFIG_KEYS
from backend.domain.intake.hours import check_hours
from backend.domain.intake.identity import check_identity
from backend.domain.intake.languages import (
    check_languages,
    is_translation_key,
    question_need,
    read_translations,
    translated_key,
)
from backend.domain.intake.locations import Location, SheetNames, Where
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.intake.questions import CheckedQuestions, check_questions
from backend.domain.intake.receivers import check_receivers
from backend.domain.intake.rows import QuestionRow, ReceiverRow
from backend.domain.intake.settings import check_settings, parse_settings
from backend.domain.intake.templates import (
    TEMPLATE_VARIABLES,
    Located,
    check_ssml,
    compile_template,
    missing_variables,
    render_all,
    reserved_columns,
)
from backend.domain.models import (
    JOB_ID,
    JOB_ID_RULE,
    LANGUAGE_COLUMN,
    MAX_RECEIVERS,
    TRANSLATED_KEYS,
    CallJob,
    ChatOrigin,
    JobSettings,
    Receiver,
    window_problem,
)
from backend.domain.phones import PhoneError, normalise_prefix
from backend.domain.problems import Problem
from backend.domain.schedule import check_schedule
from backend.domain.sms import SMS_KEY, SMS_NAME
from backend.domain.speech import VOICEMAIL_NAME, SpeechTemplate, TextTemplate, translated_name

# The names other modules imported from here before the split stay importable from here.
__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_LIMITS",
    "IntakeLimits",
    "IntakeResult",
    "ProblemLog",
    "QuestionRow",
    "ReceiverRow",
    "SheetNames",
    "assemble_job",
    "window_problem",
    "with_do_not_call",
]


@dataclass(frozen=True)
class IntakeLimits:
    max_bytes: int = 10_000_000
    max_receivers: int = MAX_RECEIVERS  # a job's own max_receivers (default 10,000) is lower
    max_unzipped_bytes: int = 250_000_000  # zip-bomb guard: sum of the workbook's parts
    max_listed_per_kind: int = 20  # identical problems listed before one "...and N more" line
    max_questions: int = 50
    max_template_chars: int = 3_000  # Amazon Polly speaks at most 3,000 characters per request
    max_value_chars: int = 3_000  # one receiver value: longer than any prompt can say
    max_cells: int = 1_000_000  # cells in the workbook's sheets, counted before parsing
    max_render_chars: int = 200_000_000  # characters built rendering every prompt of the job


DEFAULT_LIMITS = IntakeLimits()
WORKBOOK_SHEETS = SheetNames()  # the template's sheet titles


@dataclass
class IntakeResult:
    job: CallJob | None  # None when problems make a job impossible to build
    problems: list[Problem]
    # Worth saying but not stopping the job (e.g. no organisation set): shown by validate/preview.
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.job is not None and not self.problems


def with_do_not_call(result: IntakeResult, dnc: DoNotCallLookup | None) -> IntakeResult:
    """Intake's do-not-call rule: the job's receivers on the list are marked
    (`CallJob.do_not_call`: NotCallable, never dialled). Without a list the result is unchanged."""
    if dnc is None or result.job is None:
        return result
    return replace(result, job=mark_do_not_call(result.job, dnc))


def assemble_job(
    config: Mapping[str, str],
    questions: Sequence[QuestionRow],
    receivers: Sequence[ReceiverRow],
    *,
    job_id: str,
    extra_columns: Sequence[str],
    limits: IntakeLimits = DEFAULT_LIMITS,
    origin: ChatOrigin | None = None,
    sheet_names: SheetNames | None = WORKBOOK_SHEETS,
    settings: JobSettings | None = None,
    created_by: str | None = None,
    truncated: bool = False,
    receivers_readable: bool = True,
    now: datetime | None = None,
    dnc: DoNotCallLookup | None = None,
) -> IntakeResult:
    """Validate and normalise the parts of a job; return the job and every problem found.

    `config` holds Configures-style text values (greeting, ending, phone_prefix, name and the
    optional settings). `settings`, when given (JSON intake), replaces the setting keys of
    `config`. `sheet_names=None` makes problems name JSON field paths instead of sheet cells.
    `truncated` says the reader stopped at the receiver limit (there were more rows);
    `receivers_readable=False` says the reader already reported why it could not read receivers
    (so "no receivers" and unknown template variables are not reported again).
    `now` is the intake's clock (a start_at in the past, a relative one such as "tomorrow").
    `dnc`: the do-not-call list; its receivers are marked in the job (`with_do_not_call`).
    """
    now = now or datetime.now(UTC)
    where = Where(sheet_names)
    problems = ProblemLog(limits.max_listed_per_kind)
    _check_keys_and_job_id(config, job_id, where, problems)

    prefix: str | None = ""  # None: phone_prefix is broken, so phone numbers cannot be checked
    try:
        prefix = normalise_prefix(config.get("phone_prefix", ""))
    except PhoneError as error:
        problems.add(where.config("phone_prefix", str(error)))
        prefix = None

    if settings is None:
        settings = parse_settings(config, where, problems, now)
    else:
        check_settings(settings, where, problems)
    warnings: list[Problem] = []
    settings = check_identity(settings, prefix, where, problems, warnings)

    receivers = _within_receiver_limit(receivers, settings, limits, truncated, where, problems)

    _require_greeting_and_ending(config, where, problems)

    located, checked = _compile_templates(config, questions, limits, where, problems)
    translations = {
        language: texts
        for language, texts in read_translations(config, where, problems).items()
        if language != settings.language
    }
    by_language = _translations(
        translations, checked, settings.language, located, limits, where, problems
    )
    located = [item for items in by_language.values() for item in items]

    names = set(TEMPLATE_VARIABLES).union(extra_columns)
    for receiver_row in receivers:
        names.update(receiver_row.fields)
    renderable = [
        item
        for item in located
        if receivers_readable and not missing_variables(*item, names, where, problems)
    ]

    reserved_columns(located, names, where, problems)
    valid = check_receivers(
        receivers,
        prefix,
        settings,
        extra_columns,
        where,
        problems,
        max_value_chars=limits.max_value_chars,
    )
    valid = check_hours(valid, settings, where, problems, now)
    valid = check_languages(
        valid,
        settings.language,
        _available(by_language),
        _needed(config, checked),
        where,
        problems,
    )
    _check_schedule(settings, valid, now, where, problems, warnings)
    if not receivers and not truncated and receivers_readable:
        problems.add(
            where.receivers(
                "there are no receivers: add one row per person with an id and a phone_number"
            )
        )

    valid = _render_by_language(valid, renderable, by_language, settings, where, problems, limits)
    if valid:
        spoken = [(t, loc) for t, loc in renderable if not isinstance(t, TextTemplate)]
        check_ssml(valid[0][0], spoken, where, problems)

    result_problems = problems.finish()
    if problems.job_level or not valid or not checked.complete:
        return IntakeResult(None, result_problems, warnings)
    try:
        job = CallJob(
            job_id=job_id,
            name=config.get("name", ""),
            greeting=config.get("greeting", ""),
            ending=config.get("ending", ""),
            voicemail_message=config.get("voicemail_message", ""),
            sms_template=config.get(SMS_KEY, ""),
            phone_prefix=prefix or "",
            questions=tuple(checked.models),
            extra_columns=tuple(extra_columns),
            settings=settings,
            origin=origin,
            created_by=created_by,
            translations=translations,
        )
    except ValidationError as error:
        return IntakeResult(None, [*result_problems, *_field_problems(error)], warnings)
    job = job.model_copy(update={"receivers": tuple(receiver for receiver, _ in valid)})
    too_short = timeout_problem(job)
    if too_short:
        return IntakeResult(
            None, [*result_problems, where.config("call_timeout_seconds", too_short)], warnings
        )
    return with_do_not_call(IntakeResult(job, result_problems, warnings), dnc)


def _compile_templates(
    config: Mapping[str, str],
    questions: Sequence[QuestionRow],
    limits: IntakeLimits,
    where: Where,
    problems: ProblemLog,
) -> tuple[list[Located], CheckedQuestions]:
    """Every template of the job compiled once, each with where it came from (a Configures key
    or a Questions row); the ones that do not compile are problems and left out."""
    size = limits.max_template_chars
    greeting = compile_template(
        config.get("greeting", ""), "greeting", where, problems, "greeting", size
    )
    ending = compile_template(config.get("ending", ""), "ending", where, problems, "ending", size)
    voicemail_source = config.get("voicemail_message", "")
    voicemail = (
        compile_template(
            voicemail_source, VOICEMAIL_NAME, where, problems, "voicemail_message", size
        )
        if voicemail_source.strip()
        else None
    )
    checked = check_questions(
        questions,
        where,
        problems,
        max_questions=limits.max_questions,
        max_template_chars=size,
    )
    sms_source = config.get(SMS_KEY, "")
    sms = (
        compile_template(sms_source, SMS_NAME, where, problems, SMS_KEY, size, TextTemplate)
        if sms_source.strip()
        else None
    )
    candidates: list[tuple[SpeechTemplate | None, Location]] = [
        (greeting, "greeting"),
        *((t, q.row) for t, q in zip(checked.templates, checked.rows, strict=True)),
        (ending, "ending"),
        (voicemail, "voicemail_message"),
        (sms, SMS_KEY),
    ]
    return [(t, loc) for t, loc in candidates if t is not None], checked


def _translations(
    translations: Mapping[str, Mapping[str, str]],
    checked: CheckedQuestions,
    language: str,
    located: list[Located],
    limits: IntakeLimits,
    where: Where,
    problems: ProblemLog,
) -> dict[str, list[Located]]:
    """The job's templates by language: its own (`located`) in `language`, then each
    translation (Configures `greeting:es-US`..., Questions `question_template:es-US`)."""
    by_language: dict[str, list[Located]] = {language: list(located)}
    for other, texts in translations.items():
        for key in ("greeting", "ending", "voicemail_message"):
            if key not in texts:
                continue
            name = translated_name(VOICEMAIL_NAME if key == "voicemail_message" else key, other)
            template = compile_template(
                texts[key],
                name,
                where,
                problems,
                translated_key(key, other),
                limits.max_template_chars,
            )
            if template is not None:
                by_language.setdefault(other, []).append((template, translated_key(key, other)))
    for row, compiled in zip(checked.rows, checked.translated, strict=True):
        for other, question in compiled.items():
            if other != language:
                location = (row.row, translated_key("question_template", other))
                by_language.setdefault(other, []).append((question, location))
    return by_language


def _available(by_language: Mapping[str, list[Located]]) -> dict[str, set[str]]:
    """What each language has, in the names `check_languages` asks for."""
    available: dict[str, set[str]] = {}
    for language, items in by_language.items():
        for _, location in items:
            if isinstance(location, tuple):
                name = question_need(location[0])
            else:
                name = location.partition(":")[0] if isinstance(location, str) else ""
            available.setdefault(language, set()).add(name)
    return available


def _needed(config: Mapping[str, str], checked: CheckedQuestions) -> list[str]:
    """What every language other than the job's must have: each template the call says."""
    needed = ["greeting", *(question_need(row.row) for row in checked.rows), "ending"]
    if config.get("voicemail_message", "").strip():
        needed.append("voicemail_message")
    return needed


def _render_by_language(
    valid: list[tuple[Receiver, int]],
    renderable: list[Located],
    by_language: Mapping[str, list[Located]],
    settings: JobSettings,
    where: Where,
    problems: ProblemLog,
    limits: IntakeLimits,
) -> list[tuple[Receiver, int]]:
    """Every receiver's prompts rendered in their own language (render_all per language)."""
    groups: dict[str, list[tuple[Receiver, int]]] = {}
    for receiver, row in valid:
        written = receiver.fields.get(LANGUAGE_COLUMN, "").strip()
        groups.setdefault(written or settings.language, []).append((receiver, row))
    kept: set[int] = set()
    # Templates said in one language only (greeting, questions, ending, voicemail message) come
    # from the person's language; any other (the SMS text) is rendered for everyone.
    own = by_language.get(settings.language, [])
    shared = {id(item) for item in own if not _translatable(item[1])}
    for language, group in groups.items():
        mine = {id(item) for item in by_language.get(language, [])} | shared
        templates = [item for item in renderable if id(item) in mine]
        rendered = render_all(group, templates, where, problems, limits.max_render_chars)
        kept.update(row for _, row in rendered)
    return [(receiver, row) for receiver, row in valid if row in kept]


def _translatable(location: Location) -> bool:
    return not isinstance(location, str) or location.partition(":")[0] in TRANSLATED_KEYS


def _check_schedule(
    settings: JobSettings,
    valid: Sequence[tuple[Receiver, int]],
    now: datetime,
    where: Where,
    problems: ProblemLog,
    warnings: list[Problem],
) -> None:
    """start_at and repeat (backend/domain/schedule.py): problems stop the job, warnings not."""
    checked = check_schedule(settings, [receiver for receiver, _ in valid], now)
    for key, message in checked.problems:
        problems.add(where.config(key, message))
    warnings.extend(where.config(key, message) for key, message in checked.warnings)


def _check_keys_and_job_id(
    config: Mapping[str, str], job_id: str, where: Where, problems: ProblemLog
) -> None:
    for key in config:
        if key not in CONFIG_KEYS and not is_translation_key(key):
            problems.add(
                where.config(
                    key,
                    f"unknown setting '{key}': use one of {', '.join(CONFIG_KEYS)}, "
                    "or delete the row",
                )
            )
    if not JOB_ID.match(job_id):
        problems.add(
            Problem(
                f"job id '{job_id}' must be {JOB_ID_RULE}",
                field="job_id",
            )
        )


def _within_receiver_limit(
    receivers: Sequence[ReceiverRow],
    settings: JobSettings,
    limits: IntakeLimits,
    truncated: bool,
    where: Where,
    problems: ProblemLog,
) -> Sequence[ReceiverRow]:
    """The receivers up to the job's limit; a problem when there were more (or too high a limit)."""
    if (
        "max_receivers" in settings.model_fields_set
        and settings.max_receivers > limits.max_receivers
    ):
        problems.add(
            where.config(
                "max_receivers",
                f"max_receivers {settings.max_receivers:,} is above the limit of "
                f"{limits.max_receivers:,} receivers per job: use at most "
                f"{limits.max_receivers:,} and split longer lists into several jobs",
            )
        )
    limit = min(limits.max_receivers, settings.max_receivers)
    if not truncated and len(receivers) <= limit:
        return receivers
    raise_it = (
        f"set max_receivers (up to {limits.max_receivers:,}) in Configures or "
        if settings.max_receivers < limits.max_receivers
        else ""
    )
    problems.add(
        where.receivers(
            f"the job has more than {limit:,} receivers, the limit: "
            f"{raise_it}split the receivers into several jobs"
        )
    )
    return receivers[:limit]


def _field_problems(error: ValidationError) -> list[Problem]:
    """The model's own refusals, named by field path."""
    problems = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        problems.append(Problem(f"{path}: {item['msg']}", field=path))
    return problems


def _require_greeting_and_ending(
    config: Mapping[str, str], where: Where, problems: ProblemLog
) -> None:
    """Every job says something first and last, whatever door it came through."""
    sheets = where.sheets
    for key, example in (("greeting", "Hello {{ name }}, ..."), ("ending", "Thank you, goodbye")):
        unreadable = sheets is not None and key in sheets.config_rows and key not in config
        if unreadable or config.get(key, "").strip():  # unreadable: a formula, reported already
            continue
        said = "first" if key == "greeting" else "last"
        if sheets is None:
            message = f"the {key} is empty: give '{key}' the text said {said}, e.g. {example}"
        else:
            message = (
                f"the {key} is empty: add a '{key}' row to Configures with what is said "
                f"{said}, e.g. {example}"
            )
        problems.add(where.config(key, message))
