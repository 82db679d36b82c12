"""The Polly voices and the Lex locale a call job may ask for.

The contact flow sets the job's voice with `UpdateContactTextToSpeechVoice` (dynamic
`TextToSpeechVoice`, static engine `Neural`), so a voice must exist in Polly with a neural variant;
an unknown voice would make Connect take the action's error branch on every call. The bots in
`lex_bots/` have one locale, `en_US`: prompts are English, so only English voices are offered.
Source: Amazon Polly "Available voices" (neural column), checked 2026-11.
"""

from __future__ import annotations

DEFAULT_VOICE = "Joanna"
DEFAULT_LANGUAGE = "en-US"
SUPPORTED_LANGUAGES: tuple[str, ...] = (DEFAULT_LANGUAGE,)

# English voices with a neural variant, by language variant.
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
VOICES: tuple[str, ...] = tuple(
    sorted(voice for voices in NEURAL_ENGLISH_VOICES.values() for voice in voices)
)
_BY_FOLDED = {voice.casefold(): voice for voice in VOICES}
_LANGUAGES = {language.casefold().replace("_", "-"): language for language in SUPPORTED_LANGUAGES}


def canonical_voice(text: str) -> str | None:
    """`"amy "` -> `"Amy"`; None when Polly has no neural English voice of that name."""
    return _BY_FOLDED.get(text.strip().casefold())


def canonical_language(text: str) -> str | None:
    """`"en_us"` -> `"en-US"`; None for a locale the bots do not have."""
    return _LANGUAGES.get(text.strip().casefold().replace("_", "-"))


VOICE_PROBLEM = (
    "not a voice the calls can use: choose an English Amazon Polly neural voice "
    f"({', '.join(VOICES)}), or leave it empty for {DEFAULT_VOICE}"
)
LANGUAGE_PROBLEM = (
    f"not supported: the answer bots understand {', '.join(SUPPORTED_LANGUAGES)} only; "
    f"leave it empty or write {DEFAULT_LANGUAGE}"
)
