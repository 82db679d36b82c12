"""The job form as a Teams dialog (task module): the same form as Slack's modal.

Greeting, ending, phone prefix, questions added and removed, receivers pasted as lines, the
most attempts per person, the language the calls speak, the call timeout and the SMS to the
unreached; the fields, their reading and the mapping of intake's problems back to fields are the
core's (`bot.core.forms`). Adding or removing a question, and a submission with problems,
re-render the dialog with what was typed kept and each problem shown under its field.

The dialog's state travels in its buttons' data: `rows`, the question rows' ids in order. The
preview goes to the conversation the dialog was opened from (its task/submit activity's).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from microsoft_teams.api.models.attachment import AdaptiveCardAttachment, card_attachment
from microsoft_teams.api.models.task_module import (
    CardTaskModuleTaskInfo,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleResponse,
)
from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    ChoiceSetInput,
    NumberInput,
    SubmitAction,
    SubmitData,
    TextBlock,
    TextInput,
)
from microsoft_teams.cards.core import CardElement, Choice

from backend.domain.models import JobSettings, QuestionType, setting_bounds
from bot.core.forms import (
    ATTEMPTS,
    CONFIG_KEYS,
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
    language_choices,
    template_field,
    type_field,
)
from bot.core.text import mask_numbers

SUBMIT = "callouts.form.submit"
ADD = "callouts.form.add"
REMOVE = "callouts.form.remove"
TITLE = "New call job"


@dataclass
class FormState:
    """What the dialog carries between renders."""

    rows: list[int] = field(default_factory=lambda: [1])
    values: dict[str, str] = field(default_factory=dict)  # field id -> what was typed
    errors: dict[str, str] = field(default_factory=dict)  # field id -> problem

    def data(self) -> dict[str, Any]:
        return {"rows": json.dumps(self.rows)}

    def added(self) -> FormState:
        if len(self.rows) >= MAX_QUESTIONS:
            return self
        return FormState([*self.rows, max(self.rows) + 1], self.values)

    def removed(self) -> FormState:
        if len(self.rows) <= 1:
            return self
        return FormState(self.rows[:-1], self.values)

    @classmethod
    def read(cls, data: Mapping[str, Any] | None) -> FormState:
        """The state and values of a submitted dialog (the inputs come merged into `data`)."""
        data = data or {}
        try:
            rows = [int(r) for r in json.loads(str(data.get("rows") or "[1]"))]
        except (ValueError, TypeError):
            rows = [1]
        rows = [r for r in rows if r > 0][: MAX_QUESTIONS + 1] or [1]
        values = {
            key: str(value)
            for key, value in data.items()
            if key not in ("rows", "action", "msteams") and isinstance(value, str | int | float)
        }
        return cls(rows, values)


def _input(
    state: FormState,
    field_id: str,
    label: str,
    *,
    multiline: bool = False,
    placeholder: str | None = None,
) -> list[CardElement]:
    elements: list[CardElement] = [
        TextInput(
            id=field_id,
            label=label,
            value=state.values.get(field_id) or None,
            is_multiline=multiline,
            placeholder=placeholder,
        )
    ]
    return elements + _error(state, field_id)


def _error(state: FormState, field_id: str) -> list[CardElement]:
    error = state.errors.get(field_id)
    if not error:
        return []
    return [
        TextBlock(
            text=mask_numbers(error), wrap=True, color="Attention", size="Small", spacing="None"
        )
    ]


def _number(
    state: FormState, field_id: str, label: str, *, default: int | None = None
) -> list[CardElement]:
    """A whole-number setting with the bounds `JobSettings` accepts (the client checks them too;
    intake's message, if the value still gets through, shows under it)."""
    low, high = setting_bounds(CONFIG_KEYS[field_id])
    return [
        NumberInput(
            id=field_id,
            label=label,
            min=low,
            max=high,
            value=_typed_number(state.values.get(field_id), default),
            error_message=f"A whole number from {low} to {high}.",
        ),
        *_error(state, field_id),
    ]


def _typed_number(typed: str | None, default: int | None) -> float | None:
    """What was typed, as the number input's value (nothing typed: the default; not a number:
    empty, the error under the field names what was typed)."""
    if typed is None or not typed.strip():
        return default
    try:
        number = float(typed)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _hint(text: str) -> TextBlock:
    return TextBlock(text=text, wrap=True, is_subtle=True, size="Small")


def _question(state: FormState, position: int, row: int) -> list[CardElement]:
    kind = state.values.get(type_field(row)) or QuestionType.YES_NO.key
    return [
        *_input(
            state,
            template_field(row),
            f"Question {position}",
            placeholder="Will {{ name }} come to the meeting?",
        ),
        ChoiceSetInput(
            id=type_field(row),
            label=f"Answer type of question {position}",
            value=kind,
            choices=[Choice(title=member.value, value=member.key) for member in QuestionType],
        ),
        *_error(state, type_field(row)),
    ]


def _language(state: FormState) -> list[CardElement]:
    """The optional language of the calls (the core's choices, as in Slack's modal)."""
    return [
        ChoiceSetInput(
            id=LANGUAGE,
            label="Language (optional)",
            placeholder="English (US)",
            value=state.values.get(LANGUAGE) or None,
            choices=[Choice(title=label, value=code) for code, label in language_choices()],
        ),
        *_error(state, LANGUAGE),
        _hint(LANGUAGE_HINT),
    ]


def form_card(state: FormState) -> AdaptiveCard:
    """The form, with what was typed and each problem under its field."""
    body: list[CardElement] = []
    if state.errors:
        body.append(
            TextBlock(
                text="Fix what is marked below, then press Preview again.",
                wrap=True,
                color="Attention",
                weight="Bolder",
            )
        )
    body += _input(state, NAME, "Job name", placeholder="Parents' meeting reminder")
    body += _input(
        state,
        GREETING,
        "Greeting (what each person hears first)",
        multiline=True,
        placeholder="Hello {{ name }}, this is Sunshine School calling.",
    )
    for position, row in enumerate(state.rows, start=1):
        body += _question(state, position, row)
    actions: list[SubmitAction] = []
    if len(state.rows) < MAX_QUESTIONS:
        actions.append(SubmitAction(title="Add question").with_data(_data(state, ADD)))
    if len(state.rows) > 1:
        actions.append(SubmitAction(title="Remove last question").with_data(_data(state, REMOVE)))
    if actions:
        body.append(ActionSet(actions=list(actions)))
    body += _input(state, ENDING, "Ending (said after the last question)", multiline=True)
    body += _input(state, PREFIX, "Phone prefix (country code, e.g. +852)", placeholder="+852")
    body += _input(
        state,
        RECEIVERS,
        "People to call",
        multiline=True,
        placeholder="S001, 91234567, Chan Tai Man",
    )
    body.append(_hint(RECEIVERS_HINT))
    body += _number(state, ATTEMPTS, "Max attempts per person", default=JobSettings().max_attempts)
    body += _language(state)
    body += _number(state, TIMEOUT, "Call timeout in seconds (optional)")
    body.append(_hint(TIMEOUT_HINT))
    body += _input(state, SMS, "SMS to the unreached (optional)", multiline=True)
    body.append(_hint(SMS_HINT))
    return AdaptiveCard(
        version="1.5",
        body=body,
        actions=[SubmitAction(title="Preview", style="positive").with_data(_data(state, SUBMIT))],
    )


def _data(state: FormState, action: str) -> SubmitData:
    # Data, not associated inputs: every input is sent with every button (typed text is kept).
    return SubmitData(action, state.data())


def dialog(state: FormState) -> TaskModuleResponse:
    """Open (or re-render) the dialog with the form."""
    return opened(TITLE, form_card(state), size="large")


def opened(
    title: str, card: AdaptiveCard, *, size: str, height: str | None = None
) -> TaskModuleResponse:
    """A dialog showing `card` (`size`: small, medium or large; `height` defaults to it)."""
    return TaskModuleResponse(
        task=TaskModuleContinueResponse(
            value=CardTaskModuleTaskInfo(
                title=title,
                width=size,
                height=height or size,
                card=card_attachment(AdaptiveCardAttachment(content=card)),
            )
        )
    )


def submit_card(body: list[CardElement], title: str, action: str, job_id: str) -> AdaptiveCard:
    """A dialog's card: `body`, then one button sending `action` with the job's id."""
    return AdaptiveCard(
        version="1.5",
        body=body,
        actions=[
            SubmitAction(title=title, style="positive").with_data(
                SubmitData(action, {"job_id": job_id})
            )
        ],
    )


def closed(message: str) -> TaskModuleResponse:
    """Close the dialog with a short message."""
    return TaskModuleResponse(task=TaskModuleMessageResponse(value=message))


def content_key(state: FormState) -> bytes:
    """The form's values as bytes: the same form gives the same job id."""
    return json.dumps({"rows": state.rows, "values": state.values}, sort_keys=True).encode()
