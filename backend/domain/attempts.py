"""Retry policy shared by the local engine and the state machine's semantics."""

from __future__ import annotations

from backend.domain.models import CallStatus, JobSettings


def should_retry(status: CallStatus, attempt: int, settings: JobSettings) -> bool:
    """`NoAnswer` and `Busy` are tried again until `max_attempts` attempts were made."""
    return status.retryable and attempt < settings.max_attempts


def retry_delay(settings: JobSettings) -> float:
    """Seconds between the end of an attempt and the start of the next one."""
    return float(settings.retry_delay_seconds)
