"""AWS settings: every environment variable the Lambda functions read, in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache

ENV_PREFIX = "CALLOUTS_"


class SettingsError(ValueError):
    """An environment variable the settings cannot use (names the variable)."""


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """Set by template.yaml on each function; empty means "this function does not use it".

    Read from `CALLOUTS_<FIELD>` variables (any case) by `from_env`. A plain dataclass, not a
    pydantic model: every Lambda reads it, the contact flow's too, and that one imports no
    pydantic (importing it was most of its cold start; backend/domain/results.py says why).
    """

    intake_bucket: str = ""
    data_bucket: str = ""
    job_queue_url: str = ""
    calls_queue_url: str = ""
    jobs_table: str = ""
    results_table: str = ""
    sessions_table: str = ""
    idempotency_table: str = ""
    state_machine_arn: str = ""
    connect_instance_id: str = ""
    contact_flow_id: str = ""
    source_phone_number: str = ""
    max_running_jobs: int = 1
    max_concurrent_calls: int = 10
    completion_topic_arn: str = ""
    event_bus_name: str = "default"
    report_url_expiry_seconds: int = 7 * 24 * 3600
    session_ttl_seconds: int = 2 * 24 * 3600
    slack_secret_arn: str = ""
    dnc_table: str = ""  # the do-not-call list and daily dial counts
    dnc_secret_arn: str = ""  # HMAC secret of the do-not-call list (Secrets Manager)
    bot_languages: str = "en-US"  # the BotLocales stack parameter: languages the bots speak
    # Scheduled and recurring jobs (backend/aws/schedules.py).
    schedule_group: str = ""  # the stack's EventBridge Scheduler schedule group
    schedule_bucket: str = ""  # the scheduled jobs, one document per schedule
    job_queue_arn: str = ""  # the schedules' target
    scheduler_role_arn: str = ""  # the role the schedules send with (sqs:SendMessage only)
    schedule_dead_letter_arn: str = ""  # occurrences Scheduler could not deliver (alarmed)

    @property
    def enabled_languages(self) -> tuple[str, ...]:
        return tuple(code.strip() for code in self.bot_languages.split(",") if code.strip())

    # SMS to the unreached (docs/sms.md): empty origination identity = SMS is not set up
    sms_origination_identity: str = ""
    sms_configuration_set: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AwsSettings:
        """The `CALLOUTS_*` variables of `environ` (default: this process's); others ignored.

        Raises SettingsError naming the variable when a number setting is not a whole number.
        """
        env = os.environ if environ is None else environ
        numbers = {spec.name for spec in fields(cls) if type(spec.default) is int}
        known = {spec.name for spec in fields(cls)}
        values: dict[str, str | int] = {}
        for name, value in env.items():
            key = name[len(ENV_PREFIX) :].lower()
            if not name.upper().startswith(ENV_PREFIX) or key not in known:
                continue
            values[key] = _whole_number(name, value) if key in numbers else value
        return cls(**values)  # type: ignore[arg-type]


def _whole_number(variable: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise SettingsError(f"{variable} must be a whole number, not {value[:40]!r}") from None


@lru_cache(maxsize=1)
def settings() -> AwsSettings:
    """The settings of this process, read once (tests call `settings.cache_clear()`)."""
    return AwsSettings.from_env()
