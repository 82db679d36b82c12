"""Strict JSON for the voice path's dataclass records (`CallResult`, `CallSession`).

The contact flow's Lambda imports no pydantic (importing it is most of a cold start: silence on
the line), so these records read their own JSON here: the object must have every required field
and no unknown one, and each value must have the right type. A wrong one raises `FieldError`
naming the field (`result.status: ...`), never a silent default.

Datetimes are written as pydantic writes them (ISO 8601, `Z` for UTC), so records stored before
the records became dataclasses read back unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

_E = TypeVar("_E", bound=Enum)


class FieldError(ValueError):
    """A record's JSON is unusable: `field` (a dotted path) and what is wrong with it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem

    def within(self, prefix: str) -> FieldError:
        """The same error one level down: `result` + `status` -> `result.status`."""
        return FieldError(f"{prefix}.{self.field}" if self.field else prefix, self.problem)


def json_object(
    data: Mapping[str, Any] | str | bytes, what: str, fields: Collection[str], required: set[str]
) -> Mapping[str, Any]:
    """`data` (an object or its JSON text) checked for missing and unknown fields."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
            raise FieldError("", f"{what} is not valid JSON: {str(error)[:200]}") from None
    if not isinstance(data, Mapping):
        raise FieldError("", f"{what} must be a JSON object, not {_kind(data)}")
    missing = sorted(required - data.keys())
    if missing:
        raise FieldError(missing[0], f"is required in {what}")
    unknown = sorted(str(key) for key in data.keys() - set(fields))
    if unknown:
        raise FieldError(unknown[0], f"is not a field of {what} (fields: {', '.join(fields)})")
    return data


def member(kind: type[_E], value: Any, field: str, what: str) -> _E:
    """The member of the enum `kind` whose value is `value`; FieldError naming the values."""
    for candidate in kind:
        if candidate.value == value:
            return candidate
    known = ", ".join(str(candidate.value) for candidate in kind)
    raise FieldError(field, f"{str(value)[:40]!r} is not {what} ({known})")


def text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise FieldError(field, f"must be a string, not {_kind(value)}")
    return value


def optional_text(value: Any, field: str) -> str | None:
    return None if value is None else text(value, field)


def integer(value: Any, field: str, minimum: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise FieldError(field, f"must be a whole number, not {_kind(value)}")
    if minimum is not None and value < minimum:
        raise FieldError(field, f"must be {minimum} or more, not {value}")
    return value


def number(value: Any, field: str, minimum: float | None = None) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise FieldError(field, f"must be a number, not {_kind(value)}")
    if minimum is not None and not value >= minimum:  # also refuses NaN
        raise FieldError(field, f"must be {minimum:g} or more, not {value}")
    return float(value)


def flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise FieldError(field, f"must be true or false, not {_kind(value)}")
    return value


def items(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise FieldError(field, f"must be a list, not {_kind(value)}")
    return list(value)


def moment(value: Any, field: str) -> datetime:
    """An ISO 8601 date and time (or a datetime already)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise FieldError(field, f"must be an ISO 8601 date and time, not {_kind(value)}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(field, f"{value[:40]!r} is not an ISO 8601 date and time") from None


def optional_moment(value: Any, field: str) -> datetime | None:
    return None if value is None else moment(value, field)


def moment_json(value: datetime) -> str:
    """`value` as pydantic writes it: ISO 8601, `Z` for a UTC offset."""
    written = value.isoformat()
    return written[:-6] + "Z" if written.endswith("+00:00") else written


def optional_moment_json(value: datetime | None) -> str | None:
    return None if value is None else moment_json(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return f"{type(value).__name__} {str(value)[:40]}"


def dumps(data: Mapping[str, Any]) -> str:
    """A record's `to_json()` as compact JSON text (what the stores keep)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
