"""The languages a call can speak: Polly voices and the Lex V2 locale of each, one table.

The contact flow sets the person's voice with `UpdateContactTextToSpeechVoice` (dynamic
`TextToSpeechVoice`, static engine `Neural`) and the contact's language with `UpdateContactData`
(`LanguageCode`), which is the Lex V2 locale Connect asks the answer bots for. A language is
supported only when BOTH exist: a Polly voice with a neural variant and a Lex V2 locale, and
when the bots in `lex_bots/` and the phrases in `phrases.py` have that locale.

Sources, checked 2026-12-02: Amazon Polly "Available voices" (neural column), the Lex V2
developer guide "Languages and locales supported", the Connect "Set voice" block (language and
voice set dynamically; the "Set language attribute" option is `UpdateContactData.LanguageCode`,
which the Lex V2 block uses as the bot locale) and AWS's sample-agentic-connect-experience flow,
which sets both dynamically before one multi-locale bot alias.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """One language a call can be made in."""

    code: str  # BCP-47, as written in workbooks and as Connect's LanguageCode: "es-US"
    name: str  # said in messages: "Spanish (US)"
    lex_locale: str  # the answer bots' LocaleId: "es_US"
    default_voice: str
    voices: tuple[str, ...]  # Polly voices with a neural variant that speak it
    verified: str  # what was checked, shown in docs/voice.md


# English voices with a neural variant, by language variant: all speak to the en_US bots.
NEURAL_ENGLISH_VOICES: dict[str, tuple[str, ...]] = {
    "en-US": (
        "Danielle",
        "Gregory",
        "Ivy",
        "Joanna",
        "Joey",
        "Justin",
        "Kendra",
        "Kevin",
        "Kimberly",
        "Matthew",
        "Ruth",
        "Salli",
        "Stephen",
    ),
    "en-GB": ("Amy", "Arthur", "Brian", "Emma"),
    "en-AU": ("Olivia",),
    "en-IE": ("Niamh",),
    "en-IN": ("Kajal",),
    "en-NZ": ("Aria",),
    "en-SG": ("Jasmine",),
    "en-ZA": ("Ayanda",),
}

LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        Language(
            code="en-US",
            name="English (US)",
            lex_locale="en_US",
            default_voice="Joanna",
            voices=tuple(sorted(v for vs in NEURAL_ENGLISH_VOICES.values() for v in vs)),
            verified="Polly neural voices (every English variant); Lex V2 locale en_US",
        ),
        Language(
            code="es-US",
            name="Spanish (US)",
            lex_locale="es_US",
            default_voice="Lupe",
            voices=("Lupe", "Pedro"),
            verified="Polly neural voices Lupe, Pedro (Penélope is standard only); "
            "Lex V2 locale es_US",
        ),
    )
}
DEFAULT_LANGUAGE = "en-US"
DEFAULT_VOICE = LANGUAGES[DEFAULT_LANGUAGE].default_voice
SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(LANGUAGES)

VOICES: tuple[str, ...] = tuple(
    sorted({voice for language in LANGUAGES.values() for voice in language.voices})
)
_BY_FOLDED = {voice.casefold(): voice for voice in VOICES}
_LANGUAGE_BY_FOLDED = {code.casefold(): code for code in LANGUAGES}


def canonical_voice(text: str) -> str | None:
    """`"amy "` -> `"Amy"`; None when no supported language has a neural voice of that name."""
    return _BY_FOLDED.get(text.strip().casefold())


def canonical_language(text: str) -> str | None:
    """`"es_us"` / `"ES-US"` -> `"es-US"`; None for a language the calls cannot speak."""
    return _LANGUAGE_BY_FOLDED.get(text.strip().casefold().replace("_", "-"))


def voice_for(language: str, preferred: str) -> str:
    """The voice a person in `language` hears: the job's voice when it speaks that language,
    else the language's default voice."""
    spoken = LANGUAGES[language]
    return preferred if preferred in spoken.voices else spoken.default_voice


def lex_locale(language: str) -> str:
    """`"es-US"` -> `"es_US"`."""
    return LANGUAGES[language].lex_locale


def language_of_locale(locale_id: str) -> str | None:
    """`"es_US"` -> `"es-US"`; None for a locale no supported language has."""
    return next((c for c, lang in LANGUAGES.items() if lang.lex_locale == locale_id), None)


SUPPORTED_TEXT = ", ".join(f"{code} ({LANGUAGES[code].name})" for code in SUPPORTED_LANGUAGES)
VOICE_PROBLEM = (
    "not a voice the calls can use: choose an Amazon Polly neural voice of a supported "
    f"language ({', '.join(VOICES)}), or leave it empty for {DEFAULT_VOICE}"
)
LANGUAGE_PROBLEM = (
    f"not a supported language: calls can speak {SUPPORTED_TEXT}; "
    f"leave it empty for the job's language"
)
