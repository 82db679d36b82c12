"""AwsSettings.from_env: the CALLOUTS_* variables every Lambda reads (a dataclass, no pydantic)."""

from __future__ import annotations

import dataclasses

import pytest

from backend.aws.settings import AwsSettings, SettingsError


def test_settings_come_from_callouts_variables_in_any_case() -> None:
    settings = AwsSettings.from_env(
        {
            "CALLOUTS_SESSIONS_TABLE": "sessions",
            "callouts_jobs_table": "jobs",
            "Callouts_Max_Concurrent_Calls": "25",
            "CALLOUTS_BOT_LANGUAGES": "en-US, es-US",
            "CALLOUTS_NOT_A_SETTING": "ignored",
            "SESSIONS_TABLE": "not ours",
            "PATH": "/usr/bin",
        }
    )
    assert settings.sessions_table == "sessions"
    assert settings.jobs_table == "jobs"
    assert settings.max_concurrent_calls == 25
    assert settings.enabled_languages == ("en-US", "es-US")
    assert settings.results_table == ""  # unset: "this function does not use it"
    assert settings.event_bus_name == "default"
    assert settings.session_ttl_seconds == 2 * 24 * 3600


def test_every_number_setting_is_read_as_an_integer() -> None:
    numbers = [f.name for f in dataclasses.fields(AwsSettings) if type(f.default) is int]
    assert set(numbers) == {
        "max_running_jobs",
        "max_concurrent_calls",
        "report_url_expiry_seconds",
        "session_ttl_seconds",
    }
    settings = AwsSettings.from_env({f"CALLOUTS_{name.upper()}": " 7 " for name in numbers})
    assert [getattr(settings, name) for name in numbers] == [7] * len(numbers)


def test_a_number_setting_that_is_not_a_whole_number_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="CALLOUTS_MAX_RUNNING_JOBS must be a whole number"):
        AwsSettings.from_env({"CALLOUTS_MAX_RUNNING_JOBS": "two"})
    with pytest.raises(SettingsError, match=r"callouts_session_ttl_seconds .* not '1\.5'"):
        AwsSettings.from_env({"callouts_session_ttl_seconds": "1.5"})


def test_settings_are_frozen() -> None:
    settings = AwsSettings.from_env({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.jobs_table = "x"  # type: ignore[misc]
