"""JSON Schemas of the messages other systems send; regenerate with `python -m backend.schemas`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backend.domain.models import CallJob

CALL_JOB_SCHEMA_PATH = Path(__file__).with_name("call_job.schema.json")


def call_job_schema() -> dict[str, Any]:
    """The schema of the job message, generated from the CallJob model."""
    schema = CallJob.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://callouts.example/schemas/call_job.schema.json",
        **schema,
    }


def load_call_job_schema() -> dict[str, Any]:
    """The committed schema file (what other systems code against)."""
    loaded: dict[str, Any] = json.loads(CALL_JOB_SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def write_call_job_schema(path: Path = CALL_JOB_SCHEMA_PATH) -> None:
    path.write_text(json.dumps(call_job_schema(), indent=2) + "\n", encoding="utf-8")
