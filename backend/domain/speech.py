"""Personalised speech: the job's Jinja2 templates rendered per receiver as SSML.

Templates run in a sandbox with undefined variables as errors. Every value a template prints is
escaped for SSML (`&`, `<`, `>`, quotes) while the template's own text is left alone, so a job
author may write `<break time="1s"/>` but a receiver named `<break time="100s"/>` is read out.
"""

from __future__ import annotations

import html
import operator
import re
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree as DefusedET
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import concat
from markupsafe import Markup

from backend.domain.answers import answer_hint
from backend.domain.models import CallJob, Receiver
from backend.domain.phones import spoken_number

_MAX_REPEAT = 1_000  # largest `'x' * n` / `[..] * n` a template may build
_MAX_WIDTH = 1_000  # largest padding width (`center`, `indent`, `%10s`, `{:>10}`)
_MAX_TEXT = 100_000  # largest string a `replace` may build
_MAX_INT_BITS = 4_000  # ints beyond ~10**1200 are never spoken; powers of them are bombs
_PERCENT_SPEC = re.compile(r"%[^a-zA-Z%]*")
_BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)(\{)?")
_LONG_NUMBER = re.compile(r"\d{4,}")
_SPEAK = re.compile(r"<\s*/?\s*speak\b", re.IGNORECASE)
_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined")
_NO_ATTRIBUTE = re.compile(r"has no attribute '([^']+)'")


class SpeechError(Exception):
    """A template that cannot be compiled or rendered for a receiver."""

    def __init__(
        self,
        message: str,
        *,
        template_name: str,
        variable: str | None = None,
        receiver_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.template_name = template_name
        self.variable = variable
        self.receiver_id = receiver_id


@dataclass(frozen=True, slots=True)
class Prompts:
    greeting: str
    questions: tuple[str, ...]
    ending: str


class _SpeechEnvironment(SandboxedEnvironment):
    """Sandbox that also refuses huge string/list repetition and powers (memory bombs)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            if isinstance(right, int | float) and abs(right) > 100:
                raise SecurityError("exponent too large in a template")
            if isinstance(left, int) and left.bit_length() > _MAX_INT_BITS:
                raise SecurityError("number too large in a template")
            return operator.pow(left, right)
        if operator_ == "%":
            if isinstance(left, str):
                _check_percent_format(left)
            return operator.mod(left, right)
        for seq, count in ((left, right), (right, left)):
            if (
                isinstance(seq, str | list | tuple)
                and isinstance(count, int)
                and count > _MAX_REPEAT
            ):
                raise SecurityError("repetition too large in a template")
        return operator.mul(left, right)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_brace_format(str(value.__self__))
        return wrapped


def _check_percent_format(text: str) -> None:
    for spec in _PERCENT_SPEC.findall(text):
        if "*" in spec or _LONG_NUMBER.search(spec):
            raise SecurityError("formatting width too large in a template")


def _check_brace_format(text: str) -> None:
    for spec, nested in _BRACE_SPEC.findall(text):
        if nested or _LONG_NUMBER.search(spec):
            raise SecurityError("formatting width too large in a template")


def _width(value: Any) -> Any:
    if isinstance(value, int) and abs(value) > _MAX_WIDTH:
        raise SecurityError("width too large in a template")
    return value


def _center(value: Any, width: Any = 80) -> str:
    return str(value).center(_width(width))


def _indent(value: Any, width: Any = 4, first: bool = False, blank: bool = False) -> str:
    text = str(value)
    if isinstance(width, str):
        if len(width) > _MAX_WIDTH:
            raise SecurityError("width too large in a template")
        pad = width
    else:
        pad = " " * _width(width)
    lines = text.splitlines()
    if not lines:
        return text
    out = [lines[0] if not first else pad + lines[0]]
    out.extend(pad + line if (line or blank) else line for line in lines[1:])
    return "\n".join(out)


def _replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old_text, new_text = str(value), str(old), str(new)
    hits = len(text) + 1 if not old_text else text.count(old_text)
    if count is not None:
        hits = min(hits, max(count, 0))
    if len(text) + hits * max(len(new_text) - len(old_text), 0) > _MAX_TEXT:
        raise SecurityError("replacement too large in a template")
    return text.replace(old_text, new_text, -1 if count is None else count)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    text = str(value)
    _check_percent_format(text)
    if args and kwargs:
        raise SecurityError("format takes either positional or keyword arguments")
    return text % (kwargs or args)


_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _ssml_escape(value: Any) -> str:
    # Control characters (possible in JSON jobs) are not allowed in XML: SSML would be refused.
    if isinstance(value, Markup):  # from |e or |safe: escaped once here, like any value
        value = value.unescape()
    return html.escape(_NOT_XML.sub("", str(value)), quote=True)


_ENV = _SpeechEnvironment(
    undefined=StrictUndefined,
    autoescape=False,
    finalize=_ssml_escape,
    keep_trailing_newline=False,
)
_ENV.globals.clear()  # no range/dict/cycler/...: templates see the receiver's fields only
# Filters that can build huge strings from a short template get bounded versions.
_ENV.filters.update(center=_center, indent=_indent, replace=_replace, format=_format)


class SpeechTemplate:
    """One compiled template: greeting, ending or question N."""

    __slots__ = ("_template", "name", "source", "spoken", "variables")

    def __init__(self, source: str, name: str) -> None:
        self.name = name
        self.source = source
        if _SPEAK.search(source):
            raise SpeechError(
                f"the {name} already contains a <speak> tag: remove it, "
                "every prompt is wrapped in <speak> automatically",
                template_name=name,
            )
        try:
            tree = _ENV.parse(source)
        except TemplateSyntaxError as error:
            raise SpeechError(
                f"the {name} has a template error: {error.message} (line {error.lineno}); "
                "variables are written {{ name }}",
                template_name=name,
            ) from None
        _refuse_unsafe(tree, name)
        self.variables: frozenset[str] = frozenset(meta.find_undeclared_variables(tree))
        self.spoken: frozenset[str] = _spoken_variables(tree)
        self._template: Template = _ENV.from_string(tree)

    def render(self, context: dict[str, str], receiver_id: str | None = None) -> str:
        """`<speak>…</speak>` for one receiver; raises SpeechError (never another exception)."""
        return f"<speak>{self.render_body(context, receiver_id)}</speak>"

    def render_body(self, context: dict[str, str], receiver_id: str | None = None) -> str:
        """The rendered text without its `<speak>` wrapper; raises SpeechError only."""
        try:
            # shared=True skips copying the environment globals (emptied below) into every
            # context: half the cost of rendering 80,000 prompts at intake
            template = self._template
            body = concat(template.root_render_func(template.new_context(context, shared=True)))
        except SecurityError as error:
            raise self._unsafe(str(error)) from None
        except UndefinedError as error:
            raise self._undefined(str(error), receiver_id) from None
        except Exception as error:  # a template is user code: any failure is a problem, not a crash
            raise SpeechError(
                f"the {self.name} could not be spoken for receiver {receiver_id}: {error}",
                template_name=self.name,
                receiver_id=receiver_id,
            ) from None
        return str(body).strip()

    def _undefined(self, message: str, receiver_id: str | None) -> SpeechError:
        match = _UNDEFINED_NAME.search(message)
        if match:
            variable = match.group(1)
            text = (
                f"the {self.name} uses {{{{ {variable} }}}}, which is not defined for receiver "
                f"{receiver_id}: add a '{variable}' column or fix the spelling"
            )
        else:
            match = _NO_ATTRIBUTE.search(message)
            variable = match.group(1) if match else None
            text = f"the {self.name} uses something undefined for receiver {receiver_id}: {message}"
        return SpeechError(
            text, template_name=self.name, variable=variable, receiver_id=receiver_id
        )

    def _unsafe(self, detail: str) -> SpeechError:
        if "unsafe" in detail:
            detail = "internal attributes are not allowed"
        return SpeechError(
            f"the {self.name} was refused by the template sandbox ({detail}): "
            "use only the receiver's columns such as {{ name }}",
            template_name=self.name,
        )


def _refuse_unsafe(tree: nodes.Template, name: str) -> None:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        key: object = None
        if isinstance(node, nodes.Getattr):
            key = node.attr
        elif isinstance(node, nodes.Name):
            key = node.name
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            key = node.arg.value
        if isinstance(key, str) and key.startswith("_"):
            raise SpeechError(
                f"the {name} uses '{key}': names starting with _ are not allowed in templates",
                template_name=name,
            )
    blocks: tuple[type[nodes.Node], ...] = (nodes.For, nodes.Macro, nodes.CallBlock)
    blocks += (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends, nodes.Block)
    if any(True for _ in tree.find_all(blocks)):
        raise SpeechError(
            f"the {name} uses a loop, macro, block or include: speech templates may use "
            "variables, filters and {% if %} only",
            template_name=name,
        )


_DEFAULT_FILTERS = frozenset({"default", "d"})


def _spoken_variables(tree: nodes.Template) -> frozenset[str]:
    """Variables always said as they are: `{{ name }}`, `{{ name|upper }}`, `{{ a ~ b }}`.

    Not those under `{% if %}`, after `or`, or through `default`: the template handles an
    empty value there, so an empty cell is not a problem.
    """
    found: set[str] = set()

    def visit(node: nodes.Node) -> None:
        while isinstance(node, nodes.Filter) and node.node is not None:
            if node.name in _DEFAULT_FILTERS:
                return
            node = node.node
        if isinstance(node, nodes.Name):
            found.add(node.name)
        elif isinstance(node, nodes.Concat):
            for part in node.nodes:
                visit(part)

    for statement in tree.body:
        if isinstance(statement, nodes.Output):
            for expression in statement.nodes:
                visit(expression)
    return frozenset(found)


def receiver_context(receiver: Receiver) -> dict[str, str]:
    """Template variables of a receiver: every extra field plus `id` and `receiver_id`.

    The phone number is deliberately not a variable: it should never be read out or logged.
    """
    context = dict(receiver.fields)
    context["id"] = receiver.id
    context["receiver_id"] = receiver.id
    return context


def question_name(index: int) -> str:
    """Template name of question `index` (0-based) as people see it: `question 1`."""
    return f"question {index + 1}"


class Speech:
    """The prompts of one job; templates are compiled once here, rendered per receiver.

    The caller is identified (docs/respect.md): the greeting starts with the job's organisation
    unless the greeting already names it, the ending gives the callback number unless it already
    has those digits, and every question says how to answer by voice and keypad unless its
    template already mentions pressing keys.
    """

    def __init__(self, job: CallJob) -> None:
        self._greeting = SpeechTemplate(job.greeting, "greeting")
        self._questions = tuple(
            SpeechTemplate(question.template, question_name(index))
            for index, question in enumerate(job.questions)
        )
        self._ending = SpeechTemplate(job.ending, "ending")
        self._setup(job)

    def _setup(self, job: CallJob) -> None:
        self._organisation = job.settings.organisation.strip()
        self._callback = job.settings.callback_number.strip()
        self._hints = tuple(answer_hint(question.type) for question in job.questions)

    @classmethod
    def from_templates(
        cls,
        job: CallJob,
        greeting: SpeechTemplate,
        questions: tuple[SpeechTemplate, ...],
        ending: SpeechTemplate,
    ) -> Speech:
        """Reuse templates already compiled (by intake) instead of compiling them again."""
        speech = cls.__new__(cls)
        speech._greeting, speech._questions, speech._ending = greeting, questions, ending
        speech._setup(job)
        return speech

    @property
    def templates(self) -> tuple[SpeechTemplate, ...]:
        return (self._greeting, *self._questions, self._ending)

    def greeting(self, receiver: Receiver) -> str:
        return self._say_greeting(receiver_context(receiver), receiver)

    def question(self, index: int, receiver: Receiver) -> str:
        return self._say_question(index, receiver_context(receiver), receiver)

    def ending(self, receiver: Receiver) -> str:
        return self._say_ending(receiver_context(receiver), receiver)

    def prompts(self, receiver: Receiver) -> Prompts:
        context = receiver_context(receiver)
        return Prompts(
            greeting=self._say_greeting(context, receiver),
            questions=tuple(
                self._say_question(index, context, receiver)
                for index in range(len(self._questions))
            ),
            ending=self._say_ending(context, receiver),
        )

    def _say_greeting(self, context: dict[str, str], receiver: Receiver) -> str:
        body = self._greeting.render_body(context, receiver.id)
        organisation = self._organisation
        if organisation and _plain(organisation) not in _plain(body):
            body = f"This is a call from {_ssml_escape(organisation)}. {body}".strip()
        return f"<speak>{body}</speak>"

    def _say_question(self, index: int, context: dict[str, str], receiver: Receiver) -> str:
        body = self._questions[index].render_body(context, receiver.id)
        if not _MENTIONS_KEYS.search(body):
            body = f"{body} {_sentence(self._hints[index])}".strip()
        return f"<speak>{body}</speak>"

    def _say_ending(self, context: dict[str, str], receiver: Receiver) -> str:
        body = self._ending.render_body(context, receiver.id)
        number = self._callback
        if number and _digits(number)[-7:] not in _digits(body):
            spoken = _ssml_escape(spoken_number(number, receiver.phone_number))
            say = f'<say-as interpret-as="telephone">{spoken}</say-as>'
            body = f"If you have any questions, please call us back on {say}. {body}".strip()
        return f"<speak>{body}</speak>"


_MENTIONS_KEYS = re.compile(r"\b(press|keypad|key in)\b", re.IGNORECASE)


def _plain(ssml: str) -> str:
    """Text of an SSML fragment for "does it already say X": tags gone, unescaped, squashed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", ssml)).lower().split())


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."


def ssml_error(prompt: str) -> str | None:
    """Why `prompt` is not well-formed SSML (e.g. a bare `&` typed in a template), or None."""
    try:
        DefusedET.fromstring(prompt)
    except (DefusedET.ParseError, ValueError) as error:
        return str(error)
    return None
