"""Powertools Logger, Tracer and Metrics shared by every handler (POWERTOOLS_* env vars).

Every log line is scrubbed before it is written: phone numbers are masked (`+852****5678`) and
task tokens replaced, whatever object was logged (a receiver, an event with
POWERTOOLS_LOGGER_LOG_EVENT on, an error message).

`tracer` is built on first use: creating a Powertools Tracer imports and patches the X-Ray SDK
(about a third of a cold start), which the contact flow's Lambda does without - Lambda's
active tracing still records its invocations.
"""

from __future__ import annotations

import logging
import os
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

__all__ = ["MetricUnit", "count", "logger", "metrics", "scrub"]  # and `tracer`, on first use

_PHONE = re.compile(r"\+\d{7,15}\b")
_TOKEN_TEXT = re.compile(r"(?i)(task_?token\\?[\"']?\s*[:=]\s*\\?[\"']?)([^\"'\s,}\\]+)")
_TOKEN_KEYS = {"task_token", "tasktoken"}
REDACTED = "***"


def scrub(value: Any) -> Any:
    """The value with phone numbers masked and task tokens redacted, at any depth."""
    if isinstance(value, str):
        return _PHONE.sub(_masked, _TOKEN_TEXT.sub(rf"\1{REDACTED}", value))
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in _TOKEN_KEYS else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [scrub(item) for item in value]
    return value


def _masked(match: re.Match[str]) -> str:
    # phonenumbers (about 40 ms of a cold import) loads once a log line holds a number: the
    # contact flow's Lambda logs none on a good turn.
    from backend.domain.phones import mask_phone

    return mask_phone(match.group(0))


class ScrubbingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: LogRecord) -> str:
        # Scrub the text too: objects (a Receiver) are only turned into text by the serializer.
        return str(scrub(super().serialize(scrub(dict(log)))))


class ScrubbingFilter(logging.Filter):
    """For plain `logging` records (backend.* modules) written by the Lambda runtime's handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True


logger = Logger(logger_formatter=ScrubbingFormatter())
metrics = Metrics()


@cache
def _tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer()


def __getattr__(name: str) -> Tracer:
    """`from backend.aws.observability import tracer` builds the Tracer then, not before."""
    if name == "tracer":
        return _tracer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # on Lambda only: tests keep their own handlers
    for _handler in logging.getLogger().handlers:
        _handler.addFilter(ScrubbingFilter())


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
