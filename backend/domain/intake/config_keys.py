"""The Configures keys: what a workbook's Configures sheet (or a JSON job) may set."""

from __future__ import annotations

JOB_KEYS = ("greeting", "ending", "phone_prefix", "name", "voicemail_message", "sms_template")
INT_SETTINGS = (
    "max_attempts",
    "retry_delay_seconds",
    "call_timeout_seconds",
    "concurrency",
    "max_receivers",
    "deadline_hours",
    "max_calls_per_day",
    "no_input_limit",
)
SETTING_KEYS = (
    *INT_SETTINGS,
    "allowed_countries",
    "calling_window",
    "calling_days",
    "timezone",
    "organisation",
    "callback_number",
    "voice",
    "language",
    "start_at",  # scheduled and recurring jobs (backend/domain/schedule.py)
    "repeat",
)
CONFIG_KEYS = (*JOB_KEYS, *SETTING_KEYS)
