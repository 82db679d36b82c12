"""Personalised speech: sandboxed Jinja2, SSML escaping of values, <speak> wrapping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.models import CallJob, JobSettings, Question, QuestionType, Receiver
from backend.domain.speech import (
    OPT_OUT_ANNOUNCEMENT,
    Speech,
    SpeechError,
    SpeechTemplate,
    ssml_error,
)

YES_NO_KEYS = "Say yes or no, or press 1 for yes and 2 for no."


def make_job(greeting: str = "Hi {{ name }}.", question: str = "Coming, {{ name }}?") -> CallJob:
    return CallJob(
        job_id="speech-test",
        greeting=greeting,
        ending="Bye {{ name }}.",
        questions=(Question(template=question, type=QuestionType.YES_NO),),
        receivers=(
            Receiver(id="7", phone_number="+85251234567", fields={"name": "Ann", "class": "3A"}),
        ),
        extra_columns=("name", "class"),
    )


def test_prompts_are_personalised_and_wrapped_in_speak() -> None:
    job = make_job()
    prompts = Speech(job).prompts(job.receivers[0])
    assert prompts.greeting == f"<speak>Hi Ann. {OPT_OUT_ANNOUNCEMENT}</speak>"
    assert prompts.questions == (f"<speak>Coming, Ann? {YES_NO_KEYS}</speak>",)
    assert prompts.ending == "<speak>Bye Ann.</speak>"


def test_single_prompt_methods_match_prompts() -> None:
    job = make_job()
    speech, receiver = Speech(job), job.receivers[0]
    assert speech.greeting(receiver) == "<speak>Hi Ann.</speak>"  # no organisation set
    assert speech.prompts(receiver).greeting == f"<speak>Hi Ann. {OPT_OUT_ANNOUNCEMENT}</speak>"
    assert speech.question(0, receiver) == f"<speak>Coming, Ann? {YES_NO_KEYS}</speak>"
    assert speech.ending(receiver) == "<speak>Bye Ann.</speak>"


def test_id_and_receiver_id_are_variables_but_the_phone_number_is_not() -> None:
    template = SpeechTemplate("{{ id }}/{{ receiver_id }}", "greeting")
    job = make_job()
    from backend.domain.speech import receiver_context

    context = receiver_context(job.receivers[0])
    assert template.render(context, "7") == "<speak>7/7</speak>"
    with pytest.raises(SpeechError) as caught:
        SpeechTemplate("{{ phone_number }}", "greeting").render(context, "7")
    assert caught.value.variable == "phone_number"


@pytest.mark.parametrize(
    ("name", "spoken"),
    [
        ('<break time="100s"/>', "&lt;break time=&quot;100s&quot;/&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("O'Brien", "O&#x27;Brien"),
    ],
)
def test_receiver_values_are_escaped_for_ssml(name: str, spoken: str) -> None:
    template = SpeechTemplate('Hi {{ name }} <break time="1s"/>', "greeting")
    prompt = template.render({"name": name}, "1")
    assert prompt == f'<speak>Hi {spoken} <break time="1s"/></speak>'
    assert ssml_error(prompt) is None


def test_filters_work_on_the_raw_value_before_escaping() -> None:
    template = SpeechTemplate("{{ name|upper }}", "greeting")
    assert template.render({"name": "Tom & Jerry"}, "1") == "<speak>TOM &amp; JERRY</speak>"


def test_template_with_speak_tag_is_refused() -> None:
    with pytest.raises(SpeechError, match="already contains a <speak> tag"):
        SpeechTemplate("<speak>Hello</speak>", "greeting")


def test_syntax_error_names_the_template() -> None:
    with pytest.raises(SpeechError, match=r"the question 2 has a template error") as caught:
        SpeechTemplate("Hello {{ name ", "question 2")
    assert caught.value.template_name == "question 2"


def test_undefined_variable_names_variable_and_receiver() -> None:
    template = SpeechTemplate("Hello {{ usernmae }}", "greeting")
    with pytest.raises(SpeechError) as caught:
        template.render({"name": "Ann"}, "42")
    assert caught.value.variable == "usernmae"
    assert caught.value.receiver_id == "42"
    assert "{{ usernmae }}" in caught.value.message
    assert "receiver 42" in caught.value.message


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ name.__class__ }}",
        "{{ name['__class__'] }}",
        "{{ name|attr('__class__') }}",
        "{{ 'x' * 100000000 }}",
        "{{ 9 ** 99999999 }}",
        "{% for i in range(99999) %}{% for j in range(99999) %}.{% endfor %}{% endfor %}",
    ],
)
def test_sandbox_escapes_and_resource_bombs_are_speech_errors(source: str) -> None:
    with pytest.raises(SpeechError):
        SpeechTemplate(source, "greeting").render({"name": "Ann"}, "1")


def test_runtime_error_in_template_is_a_speech_error() -> None:
    with pytest.raises(SpeechError, match="could not be spoken"):
        SpeechTemplate("{{ 1 / 0 }}", "ending").render({}, "1")


def test_conditionals_are_allowed() -> None:
    template = SpeechTemplate("{% if class == '3A' %}Room 1{% else %}Room 2{% endif %}", "ending")
    assert template.render({"class": "3A"}, "1") == "<speak>Room 1</speak>"
    assert template.variables == {"class"}


def test_bare_ampersand_in_template_text_is_not_valid_ssml() -> None:
    prompt = SpeechTemplate("Q&A time", "greeting").render({}, "1")
    assert ssml_error(prompt) is not None


@pytest.mark.parametrize(
    "source",
    [
        '{{ "%0999999999d" % 1 }}',
        '{{ "%.999999999f" % 1.5 }}',
        '{{ ("x" * 999)|replace("x", "y" * 999)|replace("y", "z" * 999) }}',
        "{{ ((9 ** 100) ** 100) ** 100 }}",
        "{{ name|center(999999999) }}",
    ],
)
def test_memory_bombs_through_formatting_and_filters_are_refused(source: str) -> None:
    template = SpeechTemplate(source, "greeting")
    with pytest.raises(SpeechError) as caught:
        template.render({"name": "Ann"}, "1")
    assert caught.value.template_name == "greeting"


def test_control_characters_in_values_never_break_the_ssml() -> None:
    template = SpeechTemplate("Hello {{ name }}.", "greeting")
    prompt = template.render({"name": "A\x00n\x0bn\x1b[31m"}, "1")
    assert ssml_error(prompt) is None
    assert "Ann" in prompt


@pytest.mark.parametrize(
    "source", ["{{ name|e }}", "{{ name|escape }}", "{{ name|forceescape }}", "{{ name|safe }}"]
)
def test_escape_and_safe_filters_neither_double_escape_nor_let_values_inject_ssml(
    source: str,
) -> None:
    template = SpeechTemplate(f"Hello {source}.", "greeting")
    prompt = template.render({"name": 'Lam & Ho <break time="100s"/>'}, "1")
    assert prompt == "<speak>Hello Lam &amp; Ho &lt;break time=&quot;100s&quot;/&gt;.</speak>"


def identified_job(
    greeting: str = "Hi {{ name }}.",
    ending: str = "Bye {{ name }}.",
    phone: str = "+85251234567",
    **settings: str,
) -> CallJob:
    job = make_job(greeting=greeting)
    receiver = job.receivers[0].model_copy(update={"phone_number": phone})
    return job.model_copy(
        update={
            "ending": ending,
            "receivers": (receiver,),
            "settings": JobSettings(**settings),  # type: ignore[arg-type]
        }
    )


def test_greeting_starts_with_the_organisation() -> None:
    job = identified_job(organisation="Sunshine & Co School")
    prompts = Speech(job).prompts(job.receivers[0])
    assert prompts.greeting == (
        f"<speak>This is a call from Sunshine &amp; Co School. Hi Ann. {OPT_OUT_ANNOUNCEMENT}"
        "</speak>"
    )
    assert ssml_error(prompts.greeting) is None


def test_greeting_that_names_the_organisation_is_left_alone() -> None:
    job = identified_job(
        greeting="Hello {{ name }}, SUNSHINE school here.", organisation="Sunshine School"
    )
    greeting = Speech(job).greeting(job.receivers[0])
    assert greeting == "<speak>Hello Ann, SUNSHINE school here.</speak>"


def test_ending_gives_the_callback_number_in_the_persons_own_format() -> None:
    job = identified_job(callback_number="+85221234567")
    local = Speech(job).prompts(job.receivers[0]).ending
    assert local == (
        "<speak>If you have any questions, please call us back on "
        '<say-as interpret-as="telephone">2123 4567</say-as>. Bye Ann.</speak>'
    )
    abroad = identified_job(callback_number="+85221234567", phone="+447400123456")
    ending = Speech(abroad).prompts(abroad.receivers[0]).ending
    assert '<say-as interpret-as="telephone">+852 2123 4567</say-as>' in ending
    assert ssml_error(ending) is None


def test_ending_that_already_gives_the_number_is_left_alone() -> None:
    job = identified_job(ending="Call 2123 4567 with questions.", callback_number="+85221234567")
    assert Speech(job).prompts(job.receivers[0]).ending == (
        "<speak>Call 2123 4567 with questions.</speak>"
    )


def test_no_identification_settings_change_nothing_but_the_keypad_hint() -> None:
    job = identified_job()
    speech = Speech(job)
    assert (speech.greeting(job.receivers[0]), speech.ending(job.receivers[0])) == (
        "<speak>Hi Ann.</speak>",
        "<speak>Bye Ann.</speak>",
    )


@pytest.mark.parametrize("kind", list(QuestionType))
def test_every_question_type_announces_its_keys(kind: QuestionType) -> None:
    job = make_job().model_copy(update={"questions": (Question(template="Well?", type=kind),)})
    question = Speech(job).prompts(job.receivers[0]).questions[0]
    assert "press" in question
    assert question.startswith("<speak>Well? Say ")


def test_a_question_that_already_mentions_keys_gets_no_second_hint() -> None:
    job = make_job(question="Press 1 if {{ name }} comes, 2 if not.")
    assert Speech(job).prompts(job.receivers[0]).questions == (
        "<speak>Press 1 if Ann comes, 2 if not.</speak>",
    )


def _through_jinja(source: str) -> SpeechTemplate:
    template = SpeechTemplate(source, "greeting")
    template._plain = None  # the Jinja path, as for any template with filters or logic
    return template


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        (
            "Hello {{ name }}, class {{ class_name }}.",
            "  {{ name }}{{ name }} <break time='1s'/> {{- class_name }}  \n",
            "{{ name }}",
            "No values at all & text",
            "{# note #}Hi {{ name }}{% raw %}{{ x }}{% endraw %}",
        )
    ),
    st.text(min_size=0, max_size=40),
    st.text(min_size=0, max_size=40),
)
def test_a_plain_template_renders_as_jinja_does(source: str, name: str, class_name: str) -> None:
    context = {"name": name, "class_name": class_name}
    fast_spent, slow_spent = [0], [0]
    fast = SpeechTemplate(source, "greeting").render(context, "r1", fast_spent)
    assert fast == _through_jinja(source).render(context, "r1", slow_spent)
    assert fast_spent == slow_spent
    size = SpeechTemplate(source, "greeting").plain_size(context, {})
    if size is not None:
        assert size + len(source) == fast_spent[0]


def test_a_plain_template_gives_jinja_s_errors() -> None:
    template = SpeechTemplate("Hello {{ name }}", "greeting")
    with pytest.raises(SpeechError) as undefined:
        template.render({}, "r1")
    assert undefined.value.variable == "name"
    with pytest.raises(SpeechError, match="over 100,000 characters"):
        SpeechTemplate("{{ a }}" * 40, "greeting").render({"a": "&" * 3000}, "r1")
    assert SpeechTemplate("Hi {{ name|upper }}", "greeting").plain_size({"name": "x"}, {}) is None
