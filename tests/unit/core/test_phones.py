"""Phone numbers: E.164 normalisation, disallowed types, countries, masking."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.phones import PhoneError, mask_phone, normalise_prefix, region_of, to_e164


@pytest.mark.parametrize(
    ("raw", "prefix", "expected"),
    [
        ("51234567", "+852", "+85251234567"),
        ("5123 4567", "+852", "+85251234567"),
        ("85251234567", "+852", "+85251234567"),  # Excel dropped the + but kept the code
        ("85251234567", "", "+85251234567"),
        ("+44 7400 123456", "+852", "+447400123456"),  # an explicit code wins over the prefix
        ("0044-7400-123456", "", "+447400123456"),
        ("07400 123456", "+44", "+447400123456"),  # national trunk 0
        ("(201) 555-0123", "+1", "+12015550123"),
    ],
)
def test_numbers_become_e164(raw: str, prefix: str, expected: str) -> None:
    assert to_e164(raw, prefix) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("5123abcd", "contains letters"),
        ("123", "too short"),
        ("", "empty"),
        ("+449012345678", "premium-rate numbers are not allowed"),
        ("+445512345678", "universal access (UAN) numbers are not allowed"),
        ("51234567#", "characters other than digits"),
        ("51234567", "not a valid number"),  # no prefix, no country code
    ],
)
def test_bad_numbers_say_what_is_wrong(raw: str, fragment: str) -> None:
    prefix = "" if raw == "51234567" else "+852"
    with pytest.raises(PhoneError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        to_e164(raw, prefix)


def test_allowed_countries_refuse_other_countries() -> None:
    assert to_e164("51234567", "+852", {"HK"}) == "+85251234567"
    with pytest.raises(PhoneError, match=r"in GB, which is not in allowed_countries \(HK\)"):
        to_e164("+447400123456", "+852", {"HK"})


@pytest.mark.parametrize(("prefix", "expected"), [("852", "+852"), (" +44 ", "+44"), ("", "")])
def test_prefix_with_or_without_plus(prefix: str, expected: str) -> None:
    assert normalise_prefix(prefix) == expected


@pytest.mark.parametrize("prefix", ["+99999", "abc", "+999"])
def test_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(PhoneError, match="phone_prefix"):
        normalise_prefix(prefix)


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+85212345678", "+852****5678"),
        ("+447400123456", "+44******3456"),
        ("+12015550123", "+1******0123"),
        ("12345678", "****5678"),
        ("", "****"),
    ],
)
def test_mask_phone_keeps_country_code_and_last_four(e164: str, masked: str) -> None:
    assert mask_phone(e164) == masked


def test_region_of() -> None:
    assert region_of("+85251234567") == "HK"
    assert region_of("nonsense") is None


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=30), st.sampled_from(["", "+852", "+44", "+1"]))
def test_any_text_is_a_number_or_a_phone_error(raw: str, prefix: str) -> None:
    e164 = ""
    with contextlib.suppress(PhoneError):
        e164 = to_e164(raw, prefix)
    assert not e164 or (e164.startswith("+") and e164[1:].isdigit())
    assert mask_phone(raw)  # never raises


@pytest.mark.parametrize(
    "raw", ["５１２３ ４５６７", "+８５２ ５１２３ ４５６７", "٥١٢٣٤٥٦٧", "５１２３－４５６７"]
)
def test_full_width_and_other_script_digits_are_read(raw: str) -> None:
    assert to_e164(raw, "+852") == "+85251234567"


@pytest.mark.parametrize("prefix", ["８５２", "＋８５２"])
def test_full_width_prefix_is_read(prefix: str) -> None:
    assert normalise_prefix(prefix) == "+852"


_REGIONS = (
    "HK",
    "GB",
    "US",
    "AU",
    "DE",
    "IT",
    "SG",
    "FR",
    "IN",
    "JP",
    "BR",
    "MX",
    "AR",
    "RU",
    "CN",
)


def _parsed(compact: str, region: str | None) -> object:
    import phonenumbers

    try:
        return phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException as error:
        return error.error_type


@settings(max_examples=400, deadline=None)
@given(
    st.text("0123456789", min_size=1, max_size=18),
    st.sampled_from((None, *_REGIONS)),
)
def test_the_plain_parse_agrees_with_phonenumbers_whenever_it_answers(
    digits: str, region: str | None
) -> None:
    from backend.domain.phones import _plain_parse

    compact = "+" + digits if region is None else digits
    fast = _plain_parse(compact, region)
    if fast is not None:
        assert fast == _parsed(compact, region)


@pytest.mark.parametrize(
    ("compact", "region"),
    [("+85251234567", None), ("51234567", "HK"), ("7911123456", "GB"), ("+12125551234", None)],
)
def test_the_plain_parse_answers_for_plain_numbers(compact: str, region: str | None) -> None:
    from backend.domain.phones import _plain_parse

    assert _plain_parse(compact, region) == _parsed(compact, region)


@pytest.mark.parametrize(
    ("compact", "region"),
    [
        ("07911123456", "GB"),
        ("85251234567", "HK"),
        ("0012125551234", "HK"),
        ("+4407911123456", None),
        ("88669688674", "RU"),  # 8 is Russia's national prefix
        ("232515787564", "AR"),  # Argentina's prefix rules (carrier codes) apply
    ],
)
def test_the_plain_parse_leaves_prefixes_to_phonenumbers(compact: str, region: str | None) -> None:
    from backend.domain.phones import _plain_parse

    assert _plain_parse(compact, region) is None


def test_number_kind_agrees_with_phonenumbers_on_every_example_number() -> None:
    import phonenumbers
    from phonenumbers import PhoneNumberType

    from backend.domain.phones import number_kind

    checked = 0
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in range(PhoneNumberType.VOICEMAIL + 1):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for number in (
                example,
                phonenumbers.PhoneNumber(
                    country_code=example.country_code,
                    national_number=(example.national_number or 0) + 1,
                ),
            ):
                assert number_kind(number) == phonenumbers.number_type(number), number
                checked += 1
    assert checked > 1_000


@settings(max_examples=300, deadline=None)
@given(st.sampled_from((1, 7, 44, 49, 61, 81, 86, 852, 39, 54)), st.integers(0, 10**12))
def test_number_kind_agrees_with_phonenumbers_on_any_number(code: int, national: int) -> None:
    import phonenumbers

    from backend.domain.phones import number_kind

    number = phonenumbers.PhoneNumber(country_code=code, national_number=national)
    assert number_kind(number) == phonenumbers.number_type(number)
