"""Every fixed phrase a caller hears, per supported language: one table.

The job's own templates (greeting, questions, ending, voicemail message) come from the workbook
with a column per language; these are the phrases Callouts adds itself: the caller's
identification, the opt-out announcement and confirmation, how to answer each question type,
"sorry" before a question is asked again, and the error goodbye. Light on purpose (no Jinja2):
the contact flow's Lambda imports it. A test checks every language of `voices.LANGUAGES` has
every phrase.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.domain.question_types import QuestionType


@dataclass(frozen=True)
class Phrases:
    """The built-in phrases of one language (plain text; `{…}` fields are filled in)."""

    identification: str  # before the greeting: "{organisation}"
    callback: str  # before the ending: "{number}" is SSML already
    opt_out_announcement: str  # after the greeting, in every call
    opt_out_confirmation: str  # the goodbye after "stop"
    sorry: str  # before a question asked again
    error: str  # the goodbye when the call cannot go on
    hints: dict[QuestionType, str]  # how to answer, said after each question
    keys_mentioned: tuple[str, ...]  # words meaning "press a key": a question saying one has
    # its own keypad instructions, so the hint is left out


PHRASES: dict[str, Phrases] = {
    "en-US": Phrases(
        identification="This is a call from {organisation}.",
        callback="If you have any questions, please call us back on {number}.",
        opt_out_announcement="To stop these calls, say stop or press star.",
        opt_out_confirmation="Thank you. You will not be called again by this service. Goodbye.",
        sorry="Sorry, I didn't catch that.",
        error="Sorry, something went wrong. Goodbye.",
        hints={
            QuestionType.OK: "say OK, or press 1",
            QuestionType.YES_NO: "say yes or no, or press 1 for yes and 2 for no",
            QuestionType.MULTIPLE_CHOICE: "say a letter from A to E, or press 1 to 5 for A to E",
            QuestionType.NUMBER: "say a number, or key it in and press hash",
            QuestionType.DATE: (
                "say a date, for example the thirtieth of November, or key in the year, month "
                "and day as eight digits and press hash"
            ),
            QuestionType.TIME: (
                "say a time, for example three thirty p m, or key in four digits on the "
                "24-hour clock and press hash"
            ),
        },
        keys_mentioned=("press", "keypad", "key in"),
    ),
    "es-US": Phrases(
        identification="Esta es una llamada de {organisation}.",
        callback="Si tiene alguna pregunta, llámenos al {number}.",
        opt_out_announcement="Para no recibir más llamadas, diga alto o pulse asterisco.",
        opt_out_confirmation=("Gracias. Este servicio no lo volverá a llamar. Adiós."),
        sorry="Perdone, no le entendí.",
        error="Lo sentimos, algo salió mal. Adiós.",
        hints={
            QuestionType.OK: "diga de acuerdo, o pulse 1",
            QuestionType.YES_NO: "diga sí o no, o pulse 1 para sí y 2 para no",
            QuestionType.MULTIPLE_CHOICE: (
                "diga una letra de la A a la E, o pulse del 1 al 5 para la A a la E"
            ),
            QuestionType.NUMBER: "diga un número, o márquelo y pulse numeral",
            QuestionType.DATE: (
                "diga una fecha, por ejemplo el treinta de noviembre, o marque el año, el mes y "
                "el día con ocho dígitos y pulse numeral"
            ),
            QuestionType.TIME: (
                "diga una hora, por ejemplo las tres y media de la tarde, o marque cuatro "
                "dígitos en formato de 24 horas y pulse numeral"
            ),
        },
        keys_mentioned=("pulse", "marque", "teclado"),
    ),
}


def phrases(language: str) -> Phrases:
    """The built-in phrases of a supported language (KeyError for any other)."""
    return PHRASES[language]


def speak(text: str) -> str:
    """A plain phrase as its own `<speak>` document."""
    return f"<speak>{text}</speak>"
