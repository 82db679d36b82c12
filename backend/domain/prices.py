"""The one price table of the estimate (docs/estimate.md): per-minute and per-request prices.

Defaults are AWS us-east-1 list prices as recorded on `CHECKED_ON`; they were NOT confirmed
online from the machine that wrote them (it could not open the pricing pages). Override any of
them with a JSON file (`Prices.load(path)`: only the keys given change), named by the CLI's
`--prices FILE` or the `CALLOUTS_PRICES_FILE` environment variable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CHECKED_ON = "2026-12-01"
CHECKED_ONLINE = False  # the figures below are recorded, not confirmed against the price pages

# Outbound telephony per minute from a US DID, by destination region (ISO 3166); `*` = any
# other country. Mobiles cost more than landlines in many countries: these are mid figures.
DEFAULT_TELEPHONY: dict[str, float] = {
    "US": 0.0125,
    "CA": 0.0125,
    "GB": 0.025,
    "IE": 0.03,
    "AU": 0.04,
    "NZ": 0.05,
    "SG": 0.03,
    "HK": 0.04,
    "JP": 0.08,
    "DE": 0.03,
    "FR": 0.03,
    "*": 0.10,
}


class PriceError(ValueError):
    """A prices file that cannot be used; the message names the file and the key."""


class Prices(BaseModel):
    """Prices in US dollars. Every field is one line of the estimate's cost breakdown."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    checked_on: str = Field(default=CHECKED_ON, description="When these figures were recorded.")
    connect_per_minute: float = Field(
        default=0.018, ge=0, description="Amazon Connect voice service usage, per minute."
    )
    telephony_per_minute: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_TELEPHONY),
        description="Outbound telephony per minute by destination region; '*' = elsewhere.",
    )
    lex_per_interval: float = Field(
        default=0.0065, ge=0, description="Lex V2 streaming speech, per 15-second interval."
    )
    lex_interval_seconds: float = Field(default=15.0, gt=0)
    polly_per_million_chars: float = Field(
        default=0.0,
        ge=0,
        description="Text-to-speech: included in Connect's per-minute price (set it when billed "
        "apart).",
    )
    lambda_per_million_requests: float = Field(default=0.20, ge=0)
    lambda_per_gb_second: float = Field(default=0.0000133334, ge=0, description="arm64")
    step_functions_per_thousand_transitions: float = Field(default=0.025, ge=0)
    dynamodb_per_million_writes: float = Field(default=0.625, ge=0)
    dynamodb_per_million_reads: float = Field(default=0.125, ge=0)

    def telephony(self, region: str | None) -> float:
        """Per-minute telephony to a region, the `*` price when the region is not listed."""
        table = self.telephony_per_minute
        if region and region.upper() in table:
            return table[region.upper()]
        return table.get("*", DEFAULT_TELEPHONY["*"])

    @classmethod
    def load(cls, path: Path) -> Prices:
        """Defaults overridden by the keys of a JSON file (telephony entries merge by region)."""
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as error:
            raise PriceError(f"cannot read the prices file {path}: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise PriceError(f"the prices file {path} is not JSON: {error}") from None
        if not isinstance(data, dict):
            raise PriceError(f"the prices file {path} must hold an object of price keys")
        telephony = data.get("telephony_per_minute")
        if isinstance(telephony, dict):
            data = {**data, "telephony_per_minute": {**DEFAULT_TELEPHONY, **telephony}}
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            where = "; ".join(
                f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
            )
            raise PriceError(f"the prices file {path}: {where}") from None
