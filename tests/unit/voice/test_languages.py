"""One table per concern, complete for every supported language: voices, phrases, answer words,
bot locales, simulator slot parsers; the person's voice and language through the call."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.answers import ANSWER_WORDS, answer_categories, normalise_answer
from backend.domain.call_flow import handle_flow_event
from backend.domain.models import QuestionType
from backend.domain.phrases import PHRASES
from backend.domain.session import CallSession
from backend.domain.speech import Speech
from backend.domain.voices import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    SUPPORTED_LANGUAGES,
    canonical_language,
    lex_locale,
    voice_for,
)
from backend.flows import bot_definitions, load_flow
from backend.local.simulator import BotLibrary, PhoneSimulator, SimulatedPerson
from backend.local.simulator.lex import BUILT_IN_SLOTS
from tests.fakes.bilingual import bilingual_job

REFERENCE = date(2026, 11, 28)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_language_has_every_table(language: str) -> None:
    spoken = LANGUAGES[language]
    assert spoken.default_voice in spoken.voices
    assert spoken.verified
    assert set(PHRASES[language].hints) == set(QuestionType)
    assert language in ANSWER_WORDS
    assert lex_locale(language) in BUILT_IN_SLOTS
    for bot in bot_definitions().values():
        assert lex_locale(language) in bot.locales, bot.name


def test_voice_follows_the_person_language() -> None:
    assert voice_for("es-US", "Joanna") == "Lupe"  # Joanna speaks no Spanish
    assert voice_for("es-US", "Pedro") == "Pedro"
    assert voice_for("en-US", "Pedro") == "Joanna"
    assert voice_for("en-US", "Amy") == "Amy"
    assert canonical_language(" ES_us ") == "es-US"
    assert canonical_language("es") is None


WORDS = {
    language: [(word, answer) for word, answer in words.yes_no.items()]
    for language, words in ANSWER_WORDS.items()
}


@pytest.mark.parametrize(
    ("language", "word", "answer"),
    [(language, word, answer) for language, pairs in WORDS.items() for word, answer in pairs],
)
def test_yes_no_words_of_each_language(language: str, word: str, answer: str) -> None:
    # A bot may return YesIntent with the slot it heard; the word decides, in the person's table.
    assert normalise_answer(QuestionType.YES_NO, "YesIntent", {"answer": word}, language) == answer


@pytest.mark.parametrize(
    ("language", "said", "letter"),
    [
        ("en-US", "letter bee", "B"),
        ("es-US", "la letra be", "B"),
        ("es-US", "opción de", "D"),
        ("es-US", "la e", "E"),
        ("es-US", "3", "C"),
    ],
)
def test_choice_words_of_each_language(language: str, said: str, letter: str) -> None:
    assert (
        normalise_answer(QuestionType.MULTIPLE_CHOICE, "ChoiceIntent", {"answer": said}, language)
        == letter
    )


@given(
    language=st.sampled_from(SUPPORTED_LANGUAGES),
    question_type=st.sampled_from(list(QuestionType)),
    intent=st.sampled_from(["YesIntent", "NoIntent", "ChoiceIntent", "OkIntent", "NumberIntent"]),
    value=st.one_of(st.none(), st.text(max_size=30)),
)
def test_answers_are_canonical_in_every_language(
    language: str, question_type: QuestionType, intent: str, value: str | None
) -> None:
    """Whatever a bot returns, in any language, the answer is one of the type's canonical
    answers (or None): the report never holds "sí" or "be"."""
    answer = normalise_answer(question_type, intent, {"answer": value}, language)
    categories = answer_categories(question_type)
    if answer is not None and categories is not None:
        assert answer in categories


def test_the_session_carries_the_person_voice_and_language() -> None:
    job = bilingual_job()
    speech = Speech(job)
    english, spanish = job.receivers[0], job.receivers[1]
    session = CallSession.new(job, spanish, 1, speech.prompts(spanish))
    assert (session.voice, session.language) == ("Lupe", "es-US")
    start = session.start()
    assert (start.voice, start.language) == ("Lupe", "es-US")
    again = session.record_answer("FallbackIntent", None)
    assert again.prompt.startswith("<speak>Perdone, no le entendí.")
    stop = session.record_answer("OptOutIntent", None)
    assert "no lo volverá a llamar" in stop.prompt
    assert stop.language == "es-US"
    other = CallSession.new(job, english, 1, speech.prompts(english))
    assert (other.voice, other.language) == ("Joanna", "en-US")


class _Store:
    def __init__(self, session: CallSession) -> None:
        self.sessions = {session.call_id: session}

    def create(self, session: CallSession) -> None:
        self.sessions[session.call_id] = session

    def get(self, call_id: str) -> CallSession | None:
        return self.sessions.get(call_id)

    def save(self, session: CallSession) -> None:
        session.version += 1
        self.sessions[session.call_id] = session


class _Done:
    def complete(self, session: CallSession, result: Any) -> None:
        pass


def _call(bots: BotLibrary, utterances: list[str]) -> Any:
    job = bilingual_job()
    spanish = job.receivers[1]
    session = CallSession.new(job, spanish, 1, Speech(job).prompts(spanish))
    store = _Store(session)

    def function(event: dict[str, Any], context: object) -> dict[str, str]:
        return handle_flow_event(event, store, _Done())

    simulator = PhoneSimulator(load_flow(), bots, {"CallFlowFunctionArn": function})
    outcome = simulator.call(
        "c-1", {"call_id": session.call_id}, SimulatedPerson(utterances=utterances)
    )
    return outcome, store.sessions[session.call_id]


def test_the_flow_sets_the_voice_and_the_bots_locale_from_the_start_response() -> None:
    bots = BotLibrary.load(reference_date=REFERENCE)
    said = ["sí", "doce", "la b", "el treinta de noviembre de 2026", "las tres y media de la tarde"]
    outcome, session = _call(bots, said)
    assert (outcome.voice, outcome.language) == ("Lupe", "es-US")
    assert session.answers == ["Yes", "12", "B", "2026-11-30", "15:30"]


def test_a_bot_without_the_contact_locale_fails_like_connect() -> None:
    """A deployment whose bots lack es_US: Lex refuses, the flow's error branch is taken and
    nothing is recorded as an answer."""
    english_only = {
        question_type: dataclasses.replace(bot, locales={"en_US": bot.locales["en_US"]})
        for question_type, bot in bot_definitions().items()
    }
    outcome, session = _call(BotLibrary(english_only, REFERENCE), ["sí"] * 9)
    assert session.answers == []
    assert "ask-yes-no" in outcome.path
    assert "invoke-silence" in outcome.path
    assert all(line.speaker == "system" or line.text != "sí" for line in outcome.transcript)


def test_default_language_is_english() -> None:
    assert DEFAULT_LANGUAGE == "en-US"
    assert SUPPORTED_LANGUAGES[0] == "en-US"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_no_phrase_means_two_things_in_one_bot_locale(language: str) -> None:
    """Lex refuses a locale where two intents share a sample utterance or two slot values a
    synonym; the simulator would pick one silently."""
    locale_id = lex_locale(language)
    for bot in bot_definitions().values():
        owner: dict[str, str] = {}
        for intent in bot.intents_in(locale_id):
            for utterance in intent.utterances:
                assert owner.setdefault(utterance.lower(), intent.name) == intent.name, utterance
        for values in bot.slot_types_in(locale_id).values():
            phrases = [p.lower() for value, synonyms in values.items() for p in (value, *synonyms)]
            assert len(phrases) == len(set(phrases)), bot.name
