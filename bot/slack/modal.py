"""The `/callout new` modal: the job form of bot/core/forms.py in Block Kit. Question rows are
added/removed in place; each kept row keeps its block_id/action_id so what was typed survives
`views.update`. Block ids are the form's field ids, so the core's errors map onto the inputs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from backend.domain.models import JobSettings, QuestionType, setting_bounds
from bot.core.forms import (
    ATTEMPTS,
    ENDING,
    GREETING,
    LANGUAGE,
    LANGUAGE_HINT,
    MAX_QUESTIONS,
    NAME,
    PREFIX,
    RECEIVERS,
    RECEIVERS_HINT,
    SMS,
    SMS_HINT,
    TIMEOUT,
    TIMEOUT_HINT,
    FormInput,
    language_choices,
    read_form,
    template_field,
    type_field,
)

CALLBACK_ID = "callout_job_modal"
ADD_QUESTION = "callout_add_question"
REMOVE_QUESTION = "callout_remove_question"
VALUE = "value"  # action_id of every input
template_block = template_field
type_block = type_field


@dataclass
class ModalMeta:
    """What the modal carries in private_metadata (well under 3,000 characters)."""

    channel_id: str
    rows: list[int] = field(default_factory=lambda: [0])
    thread_ts: str | None = None

    def dump(self) -> str:
        return json.dumps({"c": self.channel_id, "r": self.rows, "t": self.thread_ts})

    @classmethod
    def load(cls, raw: str | None) -> ModalMeta:
        """What `dump` wrote; anything unreadable gives a meta without a channel."""
        try:
            data = json.loads(raw or "{}")
            rows = [int(row) for row in data.get("r") or [0]]
            thread = data.get("t")
            return cls(
                channel_id=str(data.get("c") or ""),
                rows=rows,
                thread_ts=str(thread) if thread else None,
            )
        except (ValueError, TypeError, AttributeError):
            return cls(channel_id="")

    def added(self) -> ModalMeta:
        if len(self.rows) >= MAX_QUESTIONS:
            return self
        return ModalMeta(
            self.channel_id, [*self.rows, max(self.rows, default=-1) + 1], self.thread_ts
        )

    def removed(self) -> ModalMeta:
        if len(self.rows) <= 1:
            return self
        return ModalMeta(self.channel_id, self.rows[:-1], self.thread_ts)


def _type_options() -> list[Option]:
    return [Option(text=member.value, value=member.key) for member in QuestionType]


def _head_blocks() -> list[Block]:
    return [
        InputBlock(
            block_id=NAME,
            label="Job name",
            element=PlainTextInputElement(action_id=VALUE, placeholder="Parents' evening reminder"),
        ),
        InputBlock(
            block_id=GREETING,
            label="Greeting",
            hint="Said first. Use {{ name }} or any receiver column.",
            element=PlainTextInputElement(
                action_id=VALUE,
                multiline=True,
                placeholder="Hello {{ name }}, this is Riverside School.",
            ),
        ),
    ]


def _question_blocks(rows: list[int]) -> list[Block]:
    blocks: list[Block] = []
    for number, row in enumerate(rows, start=1):
        blocks.append(
            InputBlock(
                block_id=template_block(row),
                label=f"Question {number}",
                element=PlainTextInputElement(action_id=VALUE, multiline=True),
            )
        )
        blocks.append(
            InputBlock(
                block_id=type_block(row),
                label=f"Answer type of question {number}",
                element=StaticSelectElement(
                    action_id=VALUE, placeholder="How is it answered?", options=_type_options()
                ),
            )
        )
    buttons = []
    if len(rows) < MAX_QUESTIONS:
        buttons.append(ButtonElement(text="Add question", action_id=ADD_QUESTION, value="add"))
    if len(rows) > 1:
        buttons.append(
            ButtonElement(text="Remove last question", action_id=REMOVE_QUESTION, value="remove")
        )
    if buttons:
        blocks.append(ActionsBlock(block_id="question_buttons", elements=buttons))
    return blocks


def _tail_blocks() -> list[Block]:
    return [
        InputBlock(
            block_id=ENDING,
            label="Ending",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE, multiline=True, placeholder="Thank you, goodbye."
            ),
        ),
        InputBlock(
            block_id=RECEIVERS,
            label="Receivers",
            hint=RECEIVERS_HINT,
            element=PlainTextInputElement(
                action_id=VALUE, multiline=True, placeholder="S001, 91234567, Chan Tai Man"
            ),
        ),
        InputBlock(
            block_id=PREFIX,
            label="Phone prefix",
            optional=True,
            hint="Country code added to numbers without one, e.g. +852",
            element=PlainTextInputElement(action_id=VALUE, max_length=5),
        ),
        *_settings_blocks(),
        InputBlock(
            block_id=SMS,
            label="SMS to the unreached",
            optional=True,
            hint=SMS_HINT,
            element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=3000),
        ),
        ContextBlock(
            elements=[MarkdownTextObject(text="Submit shows a preview; nobody is called yet.")]
        ),
    ]


def _settings_blocks() -> list[Block]:
    attempts, timeout = setting_bounds("max_attempts"), setting_bounds("call_timeout_seconds")
    return [
        InputBlock(
            block_id=ATTEMPTS,
            label="Max attempts per person",
            element=NumberInputElement(
                action_id=VALUE,
                is_decimal_allowed=False,
                min_value=attempts[0],
                max_value=attempts[1],
                initial_value=JobSettings().max_attempts,
            ),
        ),
        InputBlock(
            block_id=LANGUAGE,
            label="Language",
            optional=True,
            hint=LANGUAGE_HINT,
            element=StaticSelectElement(
                action_id=VALUE,
                placeholder="English (US)",
                options=[Option(value=code, text=label) for code, label in language_choices()],
            ),
        ),
        InputBlock(
            block_id=TIMEOUT,
            label="Call timeout (seconds)",
            optional=True,
            hint=TIMEOUT_HINT,
            element=NumberInputElement(
                action_id=VALUE,
                is_decimal_allowed=False,
                min_value=timeout[0],
                max_value=timeout[1],
            ),
        ),
    ]


def job_modal(meta: ModalMeta) -> View:
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title="New call job",
        submit="Preview",
        close="Close",
        blocks=[*_head_blocks(), *_question_blocks(meta.rows), *_tail_blocks()],
        private_metadata=meta.dump(),
    )


def _value(state: Mapping[str, Any], block_id: str) -> str:
    element = state.get(block_id, {}).get(VALUE, {})
    if element.get("selected_option"):
        return str(element["selected_option"].get("value") or "")
    return str(element.get("value") or "").strip()


ModalInput = FormInput


def read_modal(view: Mapping[str, Any]) -> FormInput:
    state = view.get("state", {}).get("values", {})
    meta = ModalMeta.load(view.get("private_metadata"))
    fields = [NAME, GREETING, ENDING, PREFIX, RECEIVERS, ATTEMPTS, TIMEOUT, LANGUAGE, SMS]
    for row in meta.rows:
        fields += [template_block(row), type_block(row)]
    inp = read_form({f: _value(state, f) for f in fields}, meta.rows)
    if not meta.channel_id:
        inp.problems[GREETING] = "This form is out of date: close it and type /callout again."
    return inp
