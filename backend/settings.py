"""Local and core settings, read once from the environment (prefix `CALLOUTS_`).

AWS and Slack settings live with their adapters (`backend.aws.settings`, `bot/`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """`CALLOUTS_HOME=.callouts`, `CALLOUTS_DB=...`, `CALLOUTS_CONCURRENCY=...`, ..."""

    model_config = SettingsConfigDict(env_prefix="CALLOUTS_", extra="ignore")

    home: Path = Field(default=Path(".callouts"), description="Where local state is kept.")
    db: Path | None = Field(
        default=None, description="SQLite file of the local engine; default: <home>/callouts.db."
    )
    out: Path = Field(
        default=Path("out"), description="Default report directory of `callouts run`."
    )
    concurrency: int | None = Field(
        default=None, ge=1, le=1_000, description="Overrides the job's concurrent-call cap."
    )
    worker_threads: int = Field(
        default=8, ge=1, le=256, description="Threads running simulated calls that start together."
    )
    # Estimate before Start (docs/estimate.md): a JSON file overriding backend/domain/prices.py.
    prices_file: Path | None = Field(
        default=None, description="JSON file of prices for the estimate (docs/estimate.md)."
    )

    @property
    def db_path(self) -> Path:
        return self.db if self.db is not None else self.home / "callouts.db"
