"""The JSON form of a job: the job-queue message other systems send, and its reader."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from backend.domain.dnc import DoNotCallLookup
from backend.domain.intake.assemble import (
    DEFAULT_LIMITS,
    IntakeLimits,
    IntakeResult,
    assemble_job,
    with_do_not_call,
)
from backend.domain.intake.cells import cell_text
from backend.domain.intake.config_keys import INT_SETTINGS
from backend.domain.intake.gc_pause import cycle_collection_paused
from backend.domain.intake.rows import QuestionRow, ReceiverRow
from backend.domain.intake.settings import int_setting_message
from backend.domain.models import JOB_ID_RULE, TRANSLATED_KEYS, CallJob, ChatOrigin, JobSettings
from backend.domain.problems import Problem
from backend.domain.repeat import ScheduleError
from backend.domain.schedule import parse_start_at
from backend.domain.zones import zone

_TEXT_FIELDS = (
    "name",
    "greeting",
    "ending",
    "phone_prefix",
    "voicemail_message",
    "sms_template",
)


def job_to_json(job: CallJob) -> dict[str, Any]:
    """The stable JSON form of a job (see backend/schemas/call_job.schema.json)."""
    return job.model_dump(mode="json")


def job_from_json(
    payload: bytes | str | Mapping[str, Any],
    *,
    limits: IntakeLimits = DEFAULT_LIMITS,
    now: datetime | None = None,
    dnc: DoNotCallLookup | None = None,
) -> IntakeResult:
    """Read a job message; problems name the field path (`receivers[3].phone_number`).

    Phone numbers may be national numbers when `phone_prefix` is set, exactly as in a workbook:
    the same validation runs (assemble_job), and the job returned has them in E.164.
    `dnc`: the do-not-call list; its receivers are marked in the job (`with_do_not_call`),
    replacing any `do_not_call` the message gives (kept as given without a list).
    """
    with cycle_collection_paused():
        return _job_from_json(payload, limits, now, dnc)


def _job_from_json(
    payload: bytes | str | Mapping[str, Any],
    limits: IntakeLimits,
    now: datetime | None,
    dnc: DoNotCallLookup | None,
) -> IntakeResult:
    problems: list[Problem] = []
    if isinstance(payload, bytes | str):
        loaded = load_json(payload, limits.max_json_bytes)
        if isinstance(loaded, Problem):
            return IntakeResult(None, [loaded])
        payload = loaded
    if not isinstance(payload, Mapping):
        return _fail("the job must be a JSON object with job_id, questions and receivers", "")

    for key in payload:
        if key not in CallJob.model_fields:
            problems.append(
                Problem(
                    f"unknown field '{key}': fields are {', '.join(CallJob.model_fields)}",
                    field=str(key),
                )
            )
    job_id = payload.get("job_id")
    if not isinstance(job_id, str):
        problems.append(Problem(f"job_id is required: a text of {JOB_ID_RULE}", field="job_id"))
        job_id = ""
    config: dict[str, str] = {}
    for key in _TEXT_FIELDS:
        value = payload.get(key)
        if value is None:
            continue
        if not isinstance(value, str | int):
            problems.append(Problem(f"{key} must be a string", field=key))
            continue
        config[key] = str(value)

    config.update(_translations(payload.get("translations"), problems))
    now = now or datetime.now(UTC)
    settings = _settings(payload.get("settings"), problems, now)
    origin = _model(ChatOrigin, payload.get("origin"), "origin", problems)
    created_by = payload.get("created_by")
    if created_by is not None and not isinstance(created_by, str):
        problems.append(Problem("created_by must be a string", field="created_by"))
        created_by = None

    questions = _questions(payload.get("questions", []), problems)
    receivers = _receivers(payload.get("receivers", []), problems)
    extra_columns = _extra_columns(payload.get("extra_columns"), receivers, problems)

    result = assemble_job(
        config,
        questions,
        receivers,
        job_id=job_id or "job",
        extra_columns=extra_columns,
        limits=limits,
        origin=origin,
        sheet_names=None,
        settings=settings,
        created_by=created_by,
        now=now,
    )
    if result.job is not None and dnc is None:
        marked = _do_not_call(payload.get("do_not_call"), result.job, problems)
        result = replace(result, job=result.job.model_copy(update={"do_not_call": marked}))
    if problems:
        return IntakeResult(None, [*problems, *result.problems], result.warnings)
    return with_do_not_call(result, dnc)


def _do_not_call(value: Any, job: CallJob, problems: list[Problem]) -> tuple[str, ...]:
    """The message's own `do_not_call` receiver ids (in job order), or problems naming it."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(Problem("do_not_call must be a list of receiver ids", field="do_not_call"))
        return ()
    unknown = set(value) - {receiver.id for receiver in job.receivers}
    if unknown:
        shown = ", ".join(sorted(unknown)[:5])
        message = f"do_not_call names unknown receiver ids: {shown}"
        problems.append(Problem(message, field="do_not_call"))
        return ()
    wanted = set(value)
    return tuple(receiver.id for receiver in job.receivers if receiver.id in wanted)


def load_json(text: bytes | str, max_bytes: int, what: str = "job") -> Any:
    """The parsed JSON, or a Problem saying why not; cheap for any input (size first, and
    nesting deeper than the parser's recursion limit is refused, not a crash)."""
    if len(text) > max_bytes:
        return Problem(f"the {what} message is over the {max_bytes:,} byte limit")
    try:
        return json.loads(text)
    except RecursionError:
        return Problem(f"the {what} is not valid JSON for a job: it is nested too deeply")
    except (ValueError, TypeError) as error:  # JSONDecodeError and UnicodeDecodeError
        return Problem(f"the {what} is not valid JSON: {str(error)[:200]}")


def _settings(value: Any, problems: list[Problem], now: datetime) -> JobSettings:
    """JSON settings; `true` is not a number here, although pydantic would read it as 1."""
    if isinstance(value, Mapping):
        value = _start_at(value, problems, now)
        for key in INT_SETTINGS:
            if isinstance(value.get(key), bool):
                shown = json.dumps(value[key])
                problems.append(Problem(int_setting_message(key, shown), field=f"settings.{key}"))
        value = {k: v for k, v in value.items() if not isinstance(v, bool) or k not in INT_SETTINGS}
    return _model(JobSettings, value, "settings", problems) or JobSettings()


def _translations(value: Any, problems: list[Problem]) -> dict[str, str]:
    """`{"es-US": {"greeting": ...}}` as the Configures keys `greeting:es-US`, ..."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(
            Problem(
                'translations must be an object such as {"es-US": {"greeting": "...", '
                '"ending": "..."}}',
                field="translations",
            )
        )
        return {}
    config: dict[str, str] = {}
    for language, texts in value.items():
        path = f"translations.{language}"
        if not isinstance(texts, Mapping):
            problems.append(Problem("must be an object of greeting, ending...", field=path))
            continue
        for key, text in texts.items():
            if key not in TRANSLATED_KEYS or not isinstance(text, str):
                problems.append(
                    Problem(
                        f"'{key}' must be one of {', '.join(TRANSLATED_KEYS)}, with a string",
                        field=f"{path}.{key}",
                    )
                )
                continue
            config[f"{key}:{language}"] = text
    return config


def _start_at(
    value: Mapping[str, Any], problems: list[Problem], now: datetime
) -> Mapping[str, Any]:
    """A start_at text read as the workbook reads it (`tomorrow 18:00` in the job's zone)."""
    text = value.get("start_at")
    if not isinstance(text, str):
        return value
    name = value.get("timezone")
    tz = (zone(name) if isinstance(name, str) else None) or ZoneInfo("UTC")
    try:
        return {**value, "start_at": parse_start_at(text, tz, now)}
    except ScheduleError as error:
        problems.append(Problem(str(error), field="settings.start_at"))
        return {k: v for k, v in value.items() if k != "start_at"}


def _fail(message: str, field: str) -> IntakeResult:
    return IntakeResult(None, [Problem(message, field=field or None)])


M = TypeVar("M", bound=BaseModel)


def _model(model: type[M], value: Any, name: str, problems: list[Problem]) -> M | None:
    if value is None:
        return None
    try:
        return model.model_validate(value)
    except ValidationError as error:
        for item in error.errors():
            path = ".".join([name, *(str(part) for part in item["loc"])])
            problems.append(Problem(item["msg"], field=path))
        return None


def _scalar(value: Any) -> str | None:
    if value is None:
        return ""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return cell_text(value) if not isinstance(value, str) else value.strip()
    return None


def _questions(value: Any, problems: list[Problem]) -> list[QuestionRow]:
    if not isinstance(value, list):
        problems.append(Problem("questions must be a list", field="questions"))
        return []
    rows: list[QuestionRow] = []
    for index, item in enumerate(value):
        path = f"questions[{index}]"
        if not isinstance(item, Mapping):
            problems.append(
                Problem("each question is an object with template and type", field=path)
            )
            continue
        for key in item:
            if key not in ("template", "type", "translations"):
                problems.append(Problem(f"unknown field '{key}'", field=f"{path}.{key}"))
        template, kind = item.get("template", ""), item.get("type", "")
        if not isinstance(template, str) or not isinstance(kind, str):
            problems.append(Problem("template and type must be strings", field=path))
            continue
        translations = item.get("translations") or {}
        if not isinstance(translations, Mapping) or not all(
            isinstance(text, str) for text in translations.values()
        ):
            problems.append(
                Problem(
                    'translations must map a language to a template: {"es-US": "..."}',
                    field=f"{path}.translations",
                )
            )
            continue
        rows.append(
            QuestionRow(
                template=template,
                type_text=kind,
                row=index,
                translations={str(k): v for k, v in translations.items()},
            )
        )
    return rows


def _receivers(value: Any, problems: list[Problem]) -> list[ReceiverRow]:
    if not isinstance(value, list):
        problems.append(Problem("receivers must be a list", field="receivers"))
        return []
    rows: list[ReceiverRow] = []
    for index, item in enumerate(value):
        path = f"receivers[{index}]"
        if not isinstance(item, Mapping):
            problems.append(
                Problem("each receiver is an object with id, phone_number and fields", field=path)
            )
            continue
        for key in item:
            if key not in ("id", "phone_number", "fields"):
                problems.append(Problem(f"unknown field '{key}'", field=f"{path}.{key}"))
        receiver_id, phone = _scalar(item.get("id")), _scalar(item.get("phone_number"))
        if receiver_id is None:
            problems.append(Problem("id must be a string", field=f"{path}.id"))
        if phone is None:
            problems.append(Problem("phone_number must be a string", field=f"{path}.phone_number"))
        raw_fields = item.get("fields") or {}
        fields: dict[str, str] = {}
        if not isinstance(raw_fields, Mapping):
            problems.append(Problem("fields must be an object of strings", field=f"{path}.fields"))
            continue
        for name, raw in raw_fields.items():
            text = _scalar(raw)
            if text is None:
                problems.append(Problem("must be a string", field=f"{path}.fields.{name}"))
            else:
                fields[str(name)] = text
        if receiver_id is not None and phone is not None:
            rows.append(ReceiverRow(id=receiver_id, phone=phone, fields=fields, row=index))
    return rows


def _extra_columns(value: Any, receivers: list[ReceiverRow], problems: list[Problem]) -> list[str]:
    if value is None:
        names: dict[str, None] = {}
        for row in receivers:
            names.update(dict.fromkeys(row.fields))
        return list(names)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem("extra_columns must be a list of strings", field="extra_columns"))
        return []
    return list(value)
