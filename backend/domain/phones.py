"""Phone numbers: E.164 normalisation, callable-type checks, allowed countries and masking."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType, ValidationResult

_PUNCTUATION = re.compile(r"[\s\-().\/\u00a0\u2010-\u2015]")
_PREFIX = re.compile(r"^\+?(\d{1,4})$")

# Types a person can be phoned on; everything else (premium rate, shared cost, UAN, pager,
# voicemail, unknown) costs the caller money or reaches no person.
CALLABLE_TYPES = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.VOIP,
        PhoneNumberType.PERSONAL_NUMBER,
    }
)
_TYPE_NAMES = {
    PhoneNumberType.PREMIUM_RATE: "premium-rate",
    PhoneNumberType.SHARED_COST: "shared-cost",
    PhoneNumberType.UAN: "universal access (UAN)",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown-type",
}


class PhoneError(ValueError):
    """A number that cannot be called; the message tells the person what to fix."""


def _ascii_digits(text: str) -> str:
    """Full-width (CJK input) and other-script digits as ASCII: `５１２３` -> `5123`."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def normalise_prefix(prefix: str) -> str:
    """`852`, `+852`, ` +852 ` -> `+852`; empty stays empty. PhoneError if not a country code."""
    text = _ascii_digits(prefix).strip().replace(" ", "")
    if not text:
        return ""
    match = _PREFIX.match(text)
    if not match:
        raise PhoneError(f"phone_prefix '{prefix}' should be a country calling code such as +852")
    code = int(match.group(1))
    if phonenumbers.region_code_for_country_code(code) == "ZZ":
        raise PhoneError(f"phone_prefix '{prefix}' is not a country calling code (e.g. +852, +44)")
    return f"+{code}"


@lru_cache(maxsize=64)
def _region_for_prefix(prefix: str) -> str | None:
    if not prefix:
        return None
    region: str = phonenumbers.region_code_for_country_code(int(prefix[1:]))
    return None if region == "ZZ" else region


def to_e164(raw: str, prefix: str = "", allowed_countries: Collection[str] = ()) -> str:
    """Return the E.164 form of `raw` or raise PhoneError.

    `prefix` is a normalised phone_prefix (`+852` or empty): it applies when the number has no
    `+`/`00` country code. A number stored without `+` but with its country code (Excel drops the
    `+`: `85212345678`) is accepted when it is not valid as a national number.
    """
    text = raw.strip()
    if not text:
        raise PhoneError("the phone number is empty: type the number to call")
    compact = _PUNCTUATION.sub("", _ascii_digits(text))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    body = compact[1:] if compact.startswith("+") else compact
    if not body.isdigit() or not body.isascii():
        if any(ch.isalpha() for ch in body):
            raise PhoneError(f"phone number '{text}' contains letters: type digits only")
        raise PhoneError(f"phone number '{text}' has characters other than digits and +")
    candidates: list[tuple[str, str | None]]
    if compact.startswith("+"):
        candidates = [(compact, None)]
    else:
        region = _region_for_prefix(prefix)
        candidates = [(body, region)] if region else []
        candidates.append(("+" + body, None))
    number = None
    kind = PhoneNumberType.UNKNOWN
    first_error: PhoneError | None = None
    for candidate, region in candidates:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        # number_type is UNKNOWN for every invalid number: one metadata walk instead of two
        kind = phonenumbers.number_type(parsed)
        if kind != PhoneNumberType.UNKNOWN:
            number = parsed
            break
        if first_error is None:
            first_error = _invalid_reason(text, parsed, bool(prefix) or compact.startswith("+"))
    if number is None:
        if first_error is None:
            first_error = PhoneError(
                f"phone number '{text}' is not a valid number: "
                "add the country code (+852...) or set phone_prefix in Configures"
            )
        raise first_error
    if kind not in CALLABLE_TYPES:
        name = _TYPE_NAMES.get(kind, "this type of")
        raise PhoneError(f"phone number '{text}': {name} numbers are not allowed")
    if allowed_countries:
        region = phonenumbers.region_code_for_number(number)
        if region not in allowed_countries:
            raise PhoneError(
                f"phone number '{text}' is in {region or 'an unknown country'}, which is not in "
                f"allowed_countries ({', '.join(sorted(allowed_countries))})"
            )
    e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164


def _invalid_reason(text: str, parsed: phonenumbers.PhoneNumber, has_country: bool) -> PhoneError:
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason == ValidationResult.TOO_SHORT or reason == ValidationResult.INVALID_LENGTH:
        detail = "is too short" if reason == ValidationResult.TOO_SHORT else "has the wrong length"
        return PhoneError(f"phone number '{text}' {detail}: check the digits")
    if reason == ValidationResult.TOO_LONG:
        return PhoneError(f"phone number '{text}' is too long: check the digits")
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        return PhoneError(f"phone number '{text}' has an unknown country code")
    hint = "check the digits" if has_country else "add the country code or set phone_prefix"
    return PhoneError(f"phone number '{text}' is not a valid number: {hint}")


def callback_e164(raw: str, prefix: str = "") -> str:
    """A number people may call back, in E.164: any valid number (office, toll-free, 0300...)."""
    text = _ascii_digits(str(raw)).strip()
    try:
        parsed = phonenumbers.parse(
            text, None if text.startswith("+") else _region_for_prefix(prefix)
        )
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        hint = "start it with + and the country code" if not prefix else "check the digits"
        raise PhoneError(f"'{raw}' is not a valid phone number: {hint}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def spoken_number(e164: str, caller_e164: str = "") -> str:
    """How a number is read out: national format to someone in the same country, else with +."""
    try:
        number = phonenumbers.parse(e164, None)
        same = (
            caller_e164
            and phonenumbers.parse(caller_e164, None).country_code == number.country_code
        )
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if same
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return str(phonenumbers.format_number(number, style))


def region_of(e164: str) -> str | None:
    """ISO region (`HK`, `GB`) of an E.164 number, or None if unknown."""
    try:
        region: str | None = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    return region if region and region != "ZZ" else None


def time_zones(e164: str) -> tuple[str, ...]:
    """IANA time zones the number may be in (empty when unknown)."""
    from phonenumbers import timezone  # loads a large table: only when asked

    single = _country_zone(e164, vars(timezone).get("TIMEZONE_DATA", {}))  # not in the stubs
    if single:  # most countries have one zone: no need to parse (intake asks for 10,000 numbers)
        return single
    try:
        zones = timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return ()
    return tuple(zone for zone in zones if zone != "Etc/Unknown")


def _country_zone(e164: str, zones_by_code: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The zone of a country that has only one (`+852...` -> Asia/Hong_Kong); () otherwise."""
    digits = e164.removeprefix("+")
    for size in (1, 2, 3):  # country calling codes are prefix-free
        code = digits[:size]
        if code.isdigit() and int(code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            zones = zones_by_code.get(code, ())
            return zones if len(zones) == 1 and zones[0] != "Etc/Unknown" else ()
    return ()


def mask_phone(e164: str) -> str:
    """`+85212345678` -> `+852****5678`: country code and last four digits only. Never raises."""
    text = str(e164 or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return "****"
    country = ""
    if text.startswith("+"):
        for size in (1, 2, 3):
            code = digits[:size]
            if phonenumbers.region_code_for_country_code(int(code)) != "ZZ":
                country = code
                break
    national = digits[len(country) :]
    keep = 4 if len(national) > 6 else max(0, len(national) - 4)
    hidden = len(national) - keep
    tail = national[len(national) - keep :] if keep else ""
    return f"{'+' + country if country else ''}{'*' * hidden}{tail}"
