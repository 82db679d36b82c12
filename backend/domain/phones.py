"""Phone numbers: E.164 normalisation, callable-type checks, allowed countries and masking."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType, ValidationResult

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
    if text.isascii():
        return text
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
            parsed = _plain_parse(candidate, region) or phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        # number_type is UNKNOWN for every invalid number: one metadata walk instead of two
        kind = number_kind(parsed)
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
    # format_number(number, E164), without its checks for the formats intake never asks for
    return f"+{number.country_code}{phonenumbers.national_significant_number(number)}"


@lru_cache(maxsize=512)
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


class _NationalRules:
    """What `_plain_parse` needs of one country's metadata, looked up and compiled once."""

    __slots__ = ("code", "code_text", "international_prefix", "national_prefix")

    def __init__(self, metadata: Any) -> None:
        self.code: int = metadata.country_code
        self.code_text = str(self.code)
        idd, prefix = metadata.international_prefix, metadata.national_prefix_for_parsing
        self.international_prefix = _pattern(idd) if idd else None
        self.national_prefix = _pattern(prefix) if prefix else None


@lru_cache(maxsize=512)
def _rules(country_code: int, region: str | None) -> _NationalRules | None:
    """The rules of `region`, or (region None) of the country with `country_code`."""
    if region is not None:
        metadata = PhoneMetadata.metadata_for_region(region, None)
    else:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(
            country_code, phonenumbers.region_code_for_country_code(country_code)
        )
    if metadata is None or metadata.country_code is None:
        return None
    return _NationalRules(metadata)


def _plain_parse(compact: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """`phonenumbers.parse(compact, region)` for the plain digit strings most cells hold, at a
    fraction of its cost; None (parse it the full way) whenever parse would do more than take
    the country code off: a national or international prefix, a leading zero, odd lengths.

    `compact` is `+` and digits or digits only, with `region` then (tests check both agree).
    """
    if compact.startswith("+"):
        digits = compact[1:]
        if len(digits) <= 3 or digits[0] == "0":
            return None
        for size in (1, 2, 3):  # country calling codes are prefix-free
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                break
        else:
            return None
        national = digits[size:]
        rules = _rules(code, None)
    else:
        rules = _rules(0, region) if region else None
        if rules is None:
            return None
        national = compact
        idd = rules.international_prefix
        if national.startswith(rules.code_text) or (idd and idd.match(national)):
            return None
    if rules is None or not 2 <= len(national) <= 17 or national[0] == "0":
        return None
    if rules.national_prefix and rules.national_prefix.match(national):
        return None
    return phonenumbers.PhoneNumber(country_code=rules.code, national_number=int(national))


# phonenumbers' number_type, in its order: the first of these types whose pattern matches.
_SPECIAL_TYPES = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)
_Desc = tuple[frozenset[int], re.Pattern[str]] | None
# The patterns that apply to numbers of one length (None: the type has no number that long).
_Patterns = tuple[
    re.Pattern[str] | None,
    tuple[tuple[re.Pattern[str], int], ...],
    re.Pattern[str] | None,
    re.Pattern[str] | None,
]


def _desc(desc: Any) -> _Desc:
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)


def _of_length(desc: _Desc, length: int) -> re.Pattern[str] | None:
    """The type's pattern if a number of `length` digits can be of that type."""
    if desc is None:
        return None
    lengths, pattern = desc
    return pattern if not lengths or length in lengths else None


class _NumberTypes:
    """A country's number-type patterns compiled once (phonenumbers looks each up per call),
    and sorted per number length: only the types a number of that length can be are tried."""

    def __init__(self, metadata: Any) -> None:
        described = ((_desc(getattr(metadata, name)), kind) for name, kind in _SPECIAL_TYPES)
        self._specials = tuple((desc, kind) for desc, kind in described if desc is not None)
        self._general = _desc(metadata.general_desc)
        self._fixed = _desc(metadata.fixed_line)
        self._mobile = _desc(metadata.mobile)
        self._same = bool(metadata.same_mobile_and_fixed_line_pattern)
        self._by_length: dict[int, _Patterns] = {}  # bounded: numbers have at most 17 digits

    def _patterns(self, length: int) -> _Patterns:
        found = self._by_length.get(length)
        if found is None:
            specials = tuple(
                (pattern, int(kind))
                for desc, kind in self._specials
                if (pattern := _of_length(desc, length)) is not None
            )
            found = self._by_length[length] = (
                _of_length(self._general, length),
                specials,
                _of_length(self._fixed, length),
                _of_length(self._mobile, length),
            )
        return found

    def kind(self, national: str) -> int:
        general, specials, fixed, mobile = self._patterns(len(national))
        if general is None or general.fullmatch(national) is None:
            return PhoneNumberType.UNKNOWN
        for pattern, kind in specials:
            if pattern.fullmatch(national) is not None:
                return kind
        if fixed is not None and fixed.fullmatch(national) is not None:
            if self._same or (mobile is not None and mobile.fullmatch(national) is not None):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not self._same and mobile is not None and mobile.fullmatch(national) is not None:
            return PhoneNumberType.MOBILE
        return PhoneNumberType.UNKNOWN


@lru_cache(maxsize=512)
def _number_types(code: int, region: str) -> _NumberTypes | None:
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    return None if metadata is None else _NumberTypes(metadata)


def number_kind(number: phonenumbers.PhoneNumber) -> int:
    """`phonenumbers.number_type(number)`, with the patterns compiled once per country: intake
    asks for up to 100,000 numbers (tests check both agree on every example number)."""
    code = number.country_code or 0
    types = _number_types(code, phonenumbers.region_code_for_number(number) or "")
    if types is None:
        return PhoneNumberType.UNKNOWN
    return types.kind(phonenumbers.national_significant_number(number))


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

    single = _country_zone(e164.removeprefix("+")[:3])
    if single:  # most countries have one zone: no need to parse (intake asks for 10,000 numbers)
        return single
    try:
        zones = timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return ()
    return tuple(zone for zone in zones if zone != "Etc/Unknown")


@lru_cache(maxsize=1024)
def _country_zone(digits: str) -> tuple[str, ...]:
    """The zone of a country that has only one (`852...` -> Asia/Hong_Kong); () otherwise.

    `digits` are a number's first three digits: country calling codes are prefix-free and at
    most three digits long, so the answer is the same for every number starting with them.
    """
    from phonenumbers import timezone

    zones_by_code: dict[str, tuple[str, ...]] = vars(timezone).get("TIMEZONE_DATA", {})
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
