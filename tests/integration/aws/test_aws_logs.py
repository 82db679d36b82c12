"""Log lines never carry a phone number or a task token, whatever object gets logged."""

from __future__ import annotations

import io
import json
import logging

from backend.aws.observability import ScrubbingFilter, logger
from backend.domain.models import Receiver

NUMBER = "+85251234567"
TOKEN = "AAAAKgAAAAIAAAAAAAAAAWl0c2F0b2tlbi8rPQ=="


def _powertools_lines(*args: object, **keys: object) -> str:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logger.registered_formatter)
    powertools = logging.getLogger(logger.name)
    powertools.addHandler(handler)
    try:
        logger.warning(*args, **keys)
    finally:
        powertools.removeHandler(handler)
    return lines.getvalue()


def test_a_logged_receiver_or_event_is_masked() -> None:
    receiver = Receiver(id="1", phone_number=NUMBER, fields={"name": "Chan"})
    body = json.dumps({"task_token": TOKEN, "job_id": "j", "receiver_id": "1", "attempt": 1})
    line = _powertools_lines(
        "dialling",
        receiver=receiver,
        event={"Records": [{"body": body}], "taskToken": TOKEN},
        error=f"refused {NUMBER}",
    )
    assert "+852****4567" in line
    assert NUMBER not in line
    assert TOKEN not in line
    record = json.loads(line)
    assert record["event"]["taskToken"] == "***"
    assert json.loads(record["event"]["Records"][0]["body"])["job_id"] == "j"


def test_plain_logging_records_are_scrubbed_by_the_lambda_filter() -> None:
    record = logging.LogRecord(
        "backend.aws.dialing",
        logging.ERROR,
        __file__,
        1,
        "bad task %s for %s",
        (TOKEN, NUMBER),
        None,
    )
    record.msg = "task_token=%s phone %s"
    assert ScrubbingFilter().filter(record)
    assert TOKEN not in record.getMessage()
    assert NUMBER not in record.getMessage()
