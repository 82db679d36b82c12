"""Per-person language at intake: translated template keys and columns, the receivers'
`language` column, and whether every person's language has every template.

A translation is written as the template's key or column with the language after a colon:
`greeting:es-US` (Configures), `question_template:es-US` (Questions); the workbook reader keeps
headers as `greeting_es_us`, which means the same. The job's own templates are in its
`language` setting; a person whose language differs needs every template in theirs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from backend.domain.intake.cells import header_key
from backend.domain.intake.locations import Where
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.models import LANGUAGE_COLUMN, TRANSLATED_KEYS, CallJob, Receiver
from backend.domain.voices import LANGUAGE_PROBLEM, LANGUAGES, SUPPORTED_TEXT, canonical_language

QUESTION_TEMPLATE = "question_template"
_BASES = (*TRANSLATED_KEYS, QUESTION_TEMPLATE)


def split_translated(key: str) -> tuple[str, str] | None:
    """`greeting:es-US` or `greeting_es_us` -> (`greeting`, the language as written); None for
    a key that is not a translation."""
    for base in _BASES:
        for separator in (":", "_"):
            if key.startswith(base + separator) and len(key) > len(base) + 1:
                return base, key[len(base) + 1 :]
    return None


def translated_key(base: str, language: str) -> str:
    return f"{base}:{language}"


def read_translations(
    config: Mapping[str, str], where: Where, problems: ProblemLog
) -> dict[str, dict[str, str]]:
    """The Configures translations by language; a translation for an unsupported language is
    a problem naming the key."""
    found: dict[str, dict[str, str]] = {}
    for key, value in config.items():
        split = split_translated(key)
        if split is None or split[0] == QUESTION_TEMPLATE:
            continue
        base, written = split
        language = canonical_language(written)
        if language is None:
            shown = f"{base}:{written.replace('_', '-')}"
            problems.add(where.config(key, f"{shown}: '{written}' is {LANGUAGE_PROBLEM}"))
            continue
        if value.strip():
            found.setdefault(language, {})[base] = value
    return found


def is_translation_key(key: str) -> bool:
    split = split_translated(key)
    return split is not None and split[0] != QUESTION_TEMPLATE


def receiver_language(
    receiver: Receiver, row: int, default: str, where: Where, problems: ProblemLog
) -> tuple[Receiver, str] | None:
    """The receiver with its `language` cell written canonically, and that language; None (a
    row problem) when the language is not supported."""
    written = receiver.fields.get(LANGUAGE_COLUMN, "").strip()
    if not written:
        return receiver, default
    language = canonical_language(written)
    if language is None:
        problems.add(
            where.receiver(
                row,
                LANGUAGE_COLUMN,
                f"language '{written}' is not supported: calls can speak {SUPPORTED_TEXT}; "
                f"write one of them, or leave it empty for the job's language ({default})",
            ),
            job_level=False,
        )
        return None
    if language != written:
        fields = {**receiver.fields, LANGUAGE_COLUMN: language}
        receiver = receiver.model_copy(update={"fields": fields})
    return receiver, language


def check_languages(
    valid: list[tuple[Receiver, int]],
    default: str,
    available: Mapping[str, Collection[str]],
    needed: Sequence[str],
    where: Where,
    problems: ProblemLog,
) -> list[tuple[Receiver, int]]:
    """The receivers whose language is supported and has every template; the rest are row
    problems naming the missing translations (keys or columns).

    `available` maps a language to the template names it has (`greeting`, `ending`,
    `voicemail_message`, `question_template:<row>`); `needed` lists the names every language
    other than the job's must have.
    """
    kept: list[tuple[Receiver, int]] = []
    for receiver, row in valid:
        found = receiver_language(receiver, row, default, where, problems)
        if found is None:
            continue
        receiver, language = found
        if language != default:
            have = available.get(language, ())
            missing = [name for name in needed if name not in have]
            if missing:
                problems.add(
                    where.receiver(
                        row,
                        LANGUAGE_COLUMN,
                        f"this person's language is {language} ({LANGUAGES[language].name}) "
                        f"but the job has no {language} text for "
                        f"{', '.join(_shown(name, language) for name in missing)}: add the "
                        f"translation, or write {default} as this person's language",
                    ),
                    job_level=False,
                )
                continue
        kept.append((receiver, row))
    return kept


def _shown(name: str, language: str) -> str:
    base, _, row = name.partition("@")
    key = translated_key(base, language)
    return f"{key} (row {row})" if row else key


def question_need(row: int) -> str:
    """The name `check_languages` uses for question row `row`'s template."""
    return f"{QUESTION_TEMPLATE}@{row}"


def unsupported_header(column: str) -> str | None:
    """Why a Questions header `question_template:xx` names no supported language, or None."""
    split = split_translated(header_key(column))
    if split is None or split[0] != QUESTION_TEMPLATE or canonical_language(split[1]):
        return None
    return f"{column}: '{split[1]}' is {LANGUAGE_PROBLEM}"


def disabled_languages(job: CallJob, enabled: Collection[str]) -> str | None:
    """Why a deployment whose bots have only the `enabled` languages cannot run the job."""
    missing = [language for language in job.languages if language not in enabled]
    if not missing:
        return None
    return (
        f"this deployment's answer bots do not speak {', '.join(missing)}: it has "
        f"{', '.join(enabled) or 'no language'}; add the language to the stack's BotLocales "
        "parameter and deploy again, or call these people in an enabled language"
    )
