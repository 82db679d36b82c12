"""A small two-language job (en-US + es-US) as the JSON job message, for every runner's tests."""

from __future__ import annotations

from typing import Any

from backend.domain.intake import job_from_json
from backend.domain.models import CallJob


def bilingual_payload(job_id: str = "bilingual", **settings: Any) -> dict[str, Any]:
    """Two people in English, two in Spanish; every template has its es-US translation."""
    return {
        "job_id": job_id,
        "greeting": "Hello {{ name }}, this is Sunny School.",
        "ending": "Thank you, goodbye.",
        "translations": {
            "es-US": {
                "greeting": "Hola {{ name }}, le llama la escuela Sunny.",
                "ending": "Gracias, adiós.",
            }
        },
        "questions": [
            {
                "template": "Will {{ name }} come on Friday?",
                "type": "Yes/No",
                "translations": {"es-US": "¿Vendrá {{ name }} el viernes?"},
            },
            {
                "template": "How many people will come?",
                "type": "Number",
                "translations": {"es-US": "¿Cuántas personas vendrán?"},
            },
            {
                "template": "Which bus, A to E?",
                "type": "Multiple Choice",
                "translations": {"es-US": "¿Qué autobús, de la A a la E?"},
            },
            {
                "template": "What date suits you?",
                "type": "Date",
                "translations": {"es-US": "¿Qué fecha le conviene?"},
            },
            {
                "template": "At what time?",
                "type": "Time",
                "translations": {"es-US": "¿A qué hora?"},
            },
        ],
        "receivers": [
            {
                "id": "en1",
                "phone_number": "+14155550101",
                "fields": {"name": "Ann", "language": ""},
            },
            {
                "id": "es1",
                "phone_number": "+14155550102",
                "fields": {"name": "Ana", "language": "es-US"},
            },
            {
                "id": "es2",
                "phone_number": "+14155550103",
                "fields": {"name": "Luis", "language": "es_us"},
            },
            {
                "id": "en2",
                "phone_number": "+14155550104",
                "fields": {"name": "Bob", "language": "en-US"},
            },
        ],
        "settings": {"calling_window": "any", "retry_delay_seconds": 0, **settings},
    }


def bilingual_job(job_id: str = "bilingual", **settings: Any) -> CallJob:
    result = job_from_json(bilingual_payload(job_id, **settings))
    assert result.ok, result.problems
    assert result.job is not None
    return result.job


# What each person says, in their language (dates with their year: the answers do not depend
# on the day the test runs), and the canonical answers the report must hold.
SPOKEN: dict[str, list[str]] = {
    "en1": ["yes", "twelve", "B", "the thirtieth of November 2026", "three thirty pm"],
    "es1": [
        "sí",
        "doce",
        "la letra be",
        "el treinta de noviembre de 2026",
        "a las tres y media de la tarde",
    ],
    "es2": ["no", "tres coma cinco", "opción d", "cinco de diciembre de 2026", "mediodía"],
    "en2": ["no", "7", "E", "December 5 2026", "noon"],
}
ANSWERS: dict[str, tuple[str, ...]] = {
    "en1": ("Yes", "12", "B", "2026-11-30", "15:30"),
    "es1": ("Yes", "12", "B", "2026-11-30", "15:30"),
    "es2": ("No", "3.5", "D", "2026-12-05", "12:00"),
    "en2": ("No", "7", "E", "2026-12-05", "12:00"),
}
