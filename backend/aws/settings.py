"""AWS settings: every environment variable the Lambda functions read, in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

ENV_PREFIX = "CALLOUTS_"


class AwsSettings(BaseModel):
    """Set by template.yaml on each function; empty means "this function does not use it".

    Read from `CALLOUTS_<FIELD>` variables (any case) by `from_env`: a plain model rather than
    pydantic-settings, whose import alone is a sixth of the contact flow Lambda's cold import.
    """

    model_config = ConfigDict(extra="ignore")

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
        env = os.environ if environ is None else environ
        values = {
            name[len(ENV_PREFIX) :].lower(): value
            for name, value in env.items()
            if name.upper().startswith(ENV_PREFIX)
        }
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def settings() -> AwsSettings:
    """The settings of this process, read once (tests call `settings.cache_clear()`)."""
    return AwsSettings.from_env()
