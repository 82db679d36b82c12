"""Personalised speech: the job's Jinja2 templates rendered per receiver as SSML.

Templates run in a sandbox with undefined variables as errors. Every value a template prints is
escaped for SSML (`&`, `<`, `>`, quotes) while the template's own text is left alone, so a job
author may write `<break time="1s"/>` but a receiver named `<break time="100s"/>` is read out.
"""

from __future__ import annotations

import difflib
import functools
import html
import operator
import re
from collections import Counter
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree as DefusedET
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import concat
from markupsafe import Markup

from backend.domain.answers import answer_hint
from backend.domain.models import CallJob, Receiver
from backend.domain.phones import spoken_number
from backend.domain.phrases import phrases
from backend.domain.ssml_text import spoken_text
from backend.domain.voices import DEFAULT_LANGUAGE

_MAX_REPEAT = 1_000  # largest `'x' * n` / `[..] * n` count a template may use
_MAX_WIDTH = 1_000  # largest padding width (`center`, `indent`, `%10s`, `{:>10}`)
_MAX_TEXT = 10_000  # largest string or list any one operation in a template may build
_MAX_RENDER_WORK = 100_000  # characters one rendering may build in all (values said included)
_MAX_INT_BITS = 4_000  # ints beyond ~10**1200 are never spoken; powers of them are bombs
_MAX_BREAK_SECONDS = 10.0  # Amazon Polly's longest <break>
_PERCENT_SPEC = re.compile(r"%[^a-zA-Z%]*")
_BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)(\{)?")
_LONG_NUMBER = re.compile(r"\d{4,}")
_SPEAK = re.compile(r"<\s*/?\s*speak\b", re.IGNORECASE)
_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined")
_NO_ATTRIBUTE = re.compile(r"has no attribute '([^']+)'")
# Names Jinja resolves itself: a column with one of these names can never be said by name.
RESERVED_NAMES = frozenset(
    {"true", "false", "none", "self", "loop", "caller", "varargs", "kwargs"}
    | {"and", "or", "not", "in", "is", "if", "else", "elif", "recursive", "with", "without"}
)
# The filters a speech template may use; the rest (batch, slice, sum, map, tojson, urlize,
# xmlattr, ...) have no place in a phone prompt and some build unbounded results.
ALLOWED_FILTERS = [
    "abs",
    "capitalize",
    "center",
    "count",
    "d",
    "default",
    "e",
    "escape",
    "first",
    "float",
    "forceescape",
    "format",
    "indent",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "replace",
    "reverse",
    "round",
    "safe",
    "sort",
    "string",
    "striptags",
    "title",
    "trim",
    "truncate",
    "upper",
    "wordcount",
]
# Methods a template may call on a value (`name.upper()`); `ljust(10**9)` and friends are not.
_ALLOWED_METHODS = frozenset(
    [
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "format",
        "isalpha",
        "isdigit",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "lower",
        "lstrip",
        "removeprefix",
        "removesuffix",
        "replace",
        "rstrip",
        "split",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
    ]
)
_work: ContextVar[list[int] | None] = ContextVar("speech_render_work", default=None)


# Said once, after the greeting, in every call (docs/respect.md): the bots understand both.
OPT_OUT_ANNOUNCEMENT = phrases(DEFAULT_LANGUAGE).opt_out_announcement


def with_opt_out_announcement(greeting: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The greeting (`<speak>…</speak>`) followed by the opt-out announcement."""
    announcement = phrases(language).opt_out_announcement
    body = greeting.removeprefix("<speak>").removesuffix("</speak>").strip()
    return f"<speak>{body} {announcement}</speak>" if body else f"<speak>{announcement}</speak>"


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
    voicemail: str = ""  # said to a voicemail or silence before hanging up; empty: say nothing


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else 0


def _built(value: Any) -> Any:
    """Every value an operation builds passes here: bounded in size, counted for the rendering."""
    size = _size(value)
    if size > _MAX_TEXT:
        raise SecurityError(f"a value over {_MAX_TEXT:,} characters built in a template")
    _charge(size)
    return value


def _charge(size: int) -> None:
    work = _work.get()
    if work is None:  # constant folding while compiling: nothing is rendered yet
        return
    work[0] += size
    if work[0] > _MAX_RENDER_WORK:
        raise SecurityError(
            f"the template builds over {_MAX_RENDER_WORK:,} characters for one receiver"
        )


def _refuse_over(estimate: int) -> None:
    if estimate > _MAX_TEXT:
        raise SecurityError(f"a value over {_MAX_TEXT:,} characters built in a template")


def _format_estimate(text: str, args: Any) -> int:
    """Upper bound of `text % args` / `text.format(*args)`: every field the longest argument."""
    values = list(args.values()) if isinstance(args, dict) else list(args)
    longest = max((len(str(v)) for v in values), default=0)
    fields = text.count("%") + text.count("{")
    return len(text) + fields * (longest + _MAX_WIDTH)


class _SpeechEnvironment(SandboxedEnvironment):
    """Sandbox that also bounds the size of everything a template builds (memory bombs):
    repetition, concatenation, formatting, filters and method calls, each result at most
    _MAX_TEXT characters and one rendering at most _MAX_RENDER_WORK in all."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

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
                _refuse_over(
                    _format_estimate(left, right if isinstance(right, tuple | dict) else (right,))
                )
            return _built(operator.mod(left, right))
        if operator_ == "+":
            _refuse_over(_size(left) + _size(right))
            return _built(operator.add(left, right))
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int):
                if count > _MAX_REPEAT:
                    raise SecurityError("repetition too large in a template")
                _refuse_over(len(seq) * count)
        return _built(operator.mul(left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str | list | tuple | dict) and not isinstance(owner, type):
            if name not in _ALLOWED_METHODS:
                raise SecurityError(f"the method {name}() is not allowed in a speech template")
            if name == "replace" and isinstance(owner, str):
                return _replace(owner, *args, **kwargs)
        return _built(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = str(value.__self__)
        _check_brace_format(text)

        def bounded(*args: Any, **kwargs: Any) -> Any:
            _refuse_over(_format_estimate(text, [*args, *kwargs.values()]))
            return _built(wrapped(*args, **kwargs))

        return bounded


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
    _refuse_over(len(text) + len(pad) * (len(lines) + 1))
    out = [lines[0] if not first else pad + lines[0]]
    out.extend(pad + line if (line or blank) else line for line in lines[1:])
    return "\n".join(out)


def _replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old_text, new_text = str(value), str(old), str(new)
    hits = len(text) + 1 if not old_text else text.count(old_text)
    if count is not None:
        hits = min(hits, max(count, 0))
    _refuse_over(len(text) + hits * max(len(new_text) - len(old_text), 0))
    replaced = text.replace(old_text, new_text, -1 if count is None else count)
    _built(replaced)
    return replaced


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    text = str(value)
    _check_percent_format(text)
    if args and kwargs:
        raise SecurityError("format takes either positional or keyword arguments")
    _refuse_over(_format_estimate(text, kwargs or args))
    return text % (kwargs or args)


def _join(value: Any, separator: Any = "", attribute: Any = None) -> str:
    if attribute is not None:
        raise SecurityError("join by attribute is not allowed in a speech template")
    items = [str(item) for item in value] if not isinstance(value, str) else list(value)
    _refuse_over(sum(map(len, items)) + len(str(separator)) * len(items))
    return str(separator).join(items)


def _bounded(name: str, function: Any) -> Any:
    """A filter whose result is bounded in size and counted for the rendering."""

    @functools.wraps(function)
    def filtered(*args: Any, **kwargs: Any) -> Any:
        return _built(function(*args, **kwargs))

    return filtered


def _bounded_join(join: Any) -> Any:
    """`a ~ b ~ c`: the concatenation is bounded like any other operation."""

    def joined(seq: Any) -> Any:
        parts = list(seq)
        _refuse_over(sum(len(str(part)) for part in parts))
        return _built(join(parts))

    return joined


_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _ssml_escape(value: Any) -> str:
    if isinstance(value, Markup):  # from |e or |safe: escaped once here, like any value
        value = value.unescape()
    text = ssml_text(str(value))
    _charge(len(text))
    return text


def ssml_text(value: str) -> str:
    """A value as SSML text: escaped, without the control characters XML does not allow
    (possible in JSON jobs: SSML with them would be refused)."""
    return html.escape(_NOT_XML.sub("", value), quote=True)


_ENV = _SpeechEnvironment(
    undefined=StrictUndefined,
    autoescape=False,
    finalize=_ssml_escape,
    keep_trailing_newline=False,
)
_ENV.globals.clear()  # no range/dict/cycler/...: templates see the receiver's fields only
# Filters that can build huge strings from a short template get bounded versions; every filter
# kept has its result bounded and counted.
_ENV.filters.update(center=_center, indent=_indent, replace=_replace, format=_format, join=_join)
_ENV.filters = {name: _bounded(name, _ENV.filters[name]) for name in ALLOWED_FILTERS}


def _plain_value(value: Any) -> str:
    """A value printed by a written (SMS) template: as it is, control characters removed."""
    if isinstance(value, Markup):
        value = value.unescape()
    text = _NOT_XML.sub("", str(value))
    _charge(len(text))
    return text


# The same sandbox for written text (the SMS): same filters, limits and globals; values are
# printed as they are instead of escaped for SSML.
_TEXT_ENV = _ENV.overlay(finalize=_plain_value)
_STR_JOIN = _bounded_join(str_join)
_MARKUP_JOIN = _bounded_join(markup_join)
_MAX_NESTING = 20  # brackets / {% if %} inside one another


class SpeechTemplate:
    """One compiled template: greeting, ending or question N."""

    __slots__ = (
        "_plain",
        "_plain_names",
        "_template",
        "name",
        "plain_text_chars",
        "references",
        "source",
        "spoken",
        "variables",
    )
    _environment: SandboxedEnvironment = _ENV

    def __init__(self, source: str, name: str) -> None:
        self.name = name
        self.source = source
        if self._environment is _ENV and _SPEAK.search(source):
            raise SpeechError(
                f"the {name} already contains a <speak> tag: remove it, "
                "every prompt is wrapped in <speak> automatically",
                template_name=name,
            )
        _check_nesting(source, name)
        try:
            tree = self._environment.parse(source)
            _refuse_unsafe(tree, name)
            _check_filters(tree, name)
            self._template: Template = self._environment.from_string(tree)
        except TemplateSyntaxError as error:
            raise SpeechError(
                f"the {name} has a template error: {error.message} (line {error.lineno}); "
                "variables are written {{ name }}",
                template_name=name,
            ) from None
        except (RecursionError, MemoryError, SyntaxError):
            raise _too_deep(name) from None
        # `a ~ b` joins through these names in the compiled template's module.
        self._template.root_render_func.__globals__.update(
            str_join=_STR_JOIN, markup_join=_MARKUP_JOIN
        )
        self.variables: frozenset[str] = frozenset(meta.find_undeclared_variables(tree))
        self.spoken: frozenset[str] = _spoken_variables(tree)
        # How often each variable is written: what one rendering costs per character of value.
        self.references: dict[str, int] = dict(
            Counter(node.name for node in tree.find_all(nodes.Name) if node.ctx == "load")
        )
        # A template that only says values between its text (`Hello {{ name }}.`), as most do,
        # is rendered without Jinja: its text and variable names in order (names flagged True).
        self._plain = _plain_parts(tree) if self._environment is _ENV else None
        self.plain_text_chars = sum(len(p) for p, named in self._plain or () if not named)
        self._plain_names = (
            None if self._plain is None else tuple(p for p, named in self._plain if named)
        )

    @property
    def plain_names(self) -> tuple[str, ...] | None:
        """The variables a plain template says, in order (repeats kept); None if not plain."""
        return self._plain_names

    def plain_size(self, context: Mapping[str, Any], escaped: dict[str, str]) -> int | None:
        """The characters rendering this template for `context` builds (the values said, as
        SSML), found without rendering; None unless the template is plain, every value it says
        is text in `context` and the total is within one rendering's limit (render to know).

        `escaped` holds values already escaped (one dict per receiver, shared by its templates).
        """
        names = self._plain_names
        if names is None:
            return None
        size = 0
        for name in names:
            text = escaped.get(name)
            if text is None:
                value = context.get(name)
                if not isinstance(value, str):
                    return None
                text = escaped[name] = ssml_text(value)
            size += len(text)
        return size if size <= _MAX_RENDER_WORK else None

    def _render_plain(self, context: Mapping[str, Any]) -> tuple[str, int] | None:
        pieces: list[str] = []
        size = 0
        for part, named in self._plain or ():
            if named:
                value = context.get(part)
                if not isinstance(value, str):
                    return None  # undefined: Jinja gives the error
                part = ssml_text(value)
                size += len(part)
            pieces.append(part)
        return "".join(pieces), size

    def render(
        self,
        context: dict[str, str],
        receiver_id: str | None = None,
        spent: list[int] | None = None,
    ) -> str:
        """`<speak>…</speak>` for one receiver; raises SpeechError (never another exception).

        `spent[0]`, when given, grows by the characters this rendering built (intake's budget).
        """
        return f"<speak>{self._render_body(context, receiver_id, spent)}</speak>"

    def _render_body(
        self, context: dict[str, str], receiver_id: str | None, spent: list[int] | None
    ) -> str:
        plain = self._render_plain(context) if self._plain is not None else None
        if plain is not None and plain[1] <= _MAX_RENDER_WORK:  # over it: Jinja says why
            if spent is not None:
                spent[0] += plain[1] + len(self.source)
            return plain[0].strip()
        work = [0]
        token = _work.set(work)
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
                f"the {self.name} could not be spoken for receiver {receiver_id}: "
                f"{str(error)[:200]}",
                template_name=self.name,
                receiver_id=receiver_id,
            ) from None
        finally:
            _work.reset(token)
            if spent is not None:
                spent[0] += work[0] + len(self.source)
        return body.strip()

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
        if "characters" in detail:
            return SpeechError(
                f"the {self.name} was refused: {detail}; a prompt can speak at most 3,000 "
                "characters, so say shorter values and repeat less",
                template_name=self.name,
            )
        if "unsafe" in detail:
            detail = "internal attributes are not allowed"
        return SpeechError(
            f"the {self.name} was refused by the template sandbox ({detail}): "
            "use only the receiver's columns such as {{ name }}",
            template_name=self.name,
        )


class TextTemplate(SpeechTemplate):
    """A template of written text (the SMS): the speech sandbox and its limits, values printed
    as they are (no SSML escaping, no `<speak>`)."""

    __slots__ = ()
    _environment = _TEXT_ENV

    def render(
        self,
        context: dict[str, str],
        receiver_id: str | None = None,
        spent: list[int] | None = None,
    ) -> str:
        """The text for one receiver, stripped; raises SpeechError (never another exception)."""
        return self._render_body(context, receiver_id, spent)


def _too_deep(name: str) -> SpeechError:
    return SpeechError(
        f"the {name} is nested too deeply (brackets or {{% if %}} blocks more than "
        f"{_MAX_NESTING} inside one another): write it more simply",
        template_name=name,
    )


_OPENERS = re.compile(r"\{%-?\s*if\b|[(\[]|(?<!\{)\{(?![{%#])")
_CLOSERS = re.compile(r"\{%-?\s*endif\b|[)\]]|(?<![}%#])\}(?!\})")


def _check_nesting(source: str, name: str) -> None:
    """Refuse deep nesting before Jinja's recursive parser and Python's compiler meet it."""
    depth = 0
    for match in re.finditer(f"{_OPENERS.pattern}|{_CLOSERS.pattern}", source):
        if _OPENERS.fullmatch(match.group()):
            depth += 1
            if depth > _MAX_NESTING:
                raise _too_deep(name)
        else:
            depth = max(0, depth - 1)


def _check_filters(tree: nodes.Template, name: str) -> None:
    """An unknown filter or test is a problem on its template, with the nearest known name."""
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        kind, known = (
            ("filter", _ENV.filters) if isinstance(node, nodes.Filter) else ("test", _ENV.tests)
        )
        if node.name in known:
            continue
        close = difflib.get_close_matches(node.name, list(known), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        choices = ", ".join(sorted(known))
        raise SpeechError(
            f"the {name} uses the {kind} '{node.name}', which does not exist: {hint}"
            f"{kind}s are {choices}",
            template_name=name,
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


def _plain_parts(tree: nodes.Template) -> tuple[tuple[str, bool], ...] | None:
    """Text and variable names (flagged True) in order, when the template is nothing else;
    Jinja outputs text as written and each variable through `_ssml_escape`, and so does
    SpeechTemplate._render_plain."""
    parts: list[tuple[str, bool]] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append((child.data, False))
            elif (
                isinstance(child, nodes.Name)
                and child.ctx == "load"
                and child.name not in RESERVED_NAMES
            ):
                parts.append((child.name, True))
            else:
                return None
    return tuple(parts)


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


VOICEMAIL_NAME = "voicemail message"


def question_name(index: int) -> str:
    """Template name of question `index` (0-based) as people see it: `question 1`."""
    return f"question {index + 1}"


def translated_name(name: str, language: str | None) -> str:
    """`greeting` for the job's language, `greeting (es-US)` for a translation."""
    return f"{name} ({language})" if language else name


@dataclass(frozen=True)
class _Templates:
    """The templates of one language, compiled."""

    greeting: SpeechTemplate
    questions: tuple[SpeechTemplate, ...]
    ending: SpeechTemplate
    voicemail: SpeechTemplate | None
    hints: tuple[str, ...]
    language: str

    @classmethod
    def compile(cls, job: CallJob, language: str) -> _Templates:
        """The job's templates in `language` (its own, or the translations); SpeechError names
        a missing translation."""
        own = language == job.settings.language
        suffix = None if own else language
        texts = {} if own else job.translations.get(language, {})

        def source(key: str, default: str) -> str:
            if own:
                return default
            if key not in texts:
                raise SpeechError(
                    f"the {key} has no {language} translation: add {key}:{language}",
                    template_name=translated_name(key, language),
                )
            return texts[key]

        questions = []
        for index, question in enumerate(job.questions):
            if not own and language not in question.translations:
                raise SpeechError(
                    f"{question_name(index)} has no {language} translation: add a "
                    f"question_template:{language} column",
                    template_name=translated_name(question_name(index), language),
                )
            text = question.template if own else question.translations[language]
            questions.append(SpeechTemplate(text, translated_name(question_name(index), suffix)))
        voicemail = None
        if job.voicemail_message.strip():
            voicemail = SpeechTemplate(
                source("voicemail_message", job.voicemail_message),
                translated_name(VOICEMAIL_NAME, suffix),
            )
        return cls(
            greeting=SpeechTemplate(
                source("greeting", job.greeting), translated_name("greeting", suffix)
            ),
            questions=tuple(questions),
            ending=SpeechTemplate(source("ending", job.ending), translated_name("ending", suffix)),
            voicemail=voicemail,
            hints=tuple(answer_hint(q.type, language) for q in job.questions),
            language=language,
        )

    @property
    def all(self) -> tuple[SpeechTemplate, ...]:
        voicemail = (self.voicemail,) if self.voicemail is not None else ()
        return (self.greeting, *self.questions, self.ending, *voicemail)


class Speech:
    """The prompts of one job; templates are compiled once here, rendered per receiver.

    Each person hears the templates of their language (`CallJob.language_of`): the job's own
    templates in the job's language, the translations in any other. The caller is identified
    (docs/respect.md): the greeting starts with the job's organisation unless the greeting
    already names it, the ending gives the callback number unless it already has those digits,
    and every question says how to answer by voice and keypad unless its template already
    mentions pressing keys — each in the person's language (backend/domain/phrases.py).
    """

    def __init__(self, job: CallJob) -> None:
        self._job = job
        self._by_language = {
            language: _Templates.compile(job, language) for language in job.languages
        }
        self._organisation = job.settings.organisation.strip()
        self._callback = job.settings.callback_number.strip()

    @property
    def templates(self) -> tuple[SpeechTemplate, ...]:
        return tuple(t for templates in self._by_language.values() for t in templates.all)

    def _templates(self, receiver: Receiver) -> _Templates:
        language = self._job.language_of(receiver)
        templates = self._by_language.get(language)
        if templates is None:  # a receiver added after the job was compiled
            templates = self._by_language[language] = _Templates.compile(self._job, language)
        return templates

    def greeting(self, receiver: Receiver) -> str:
        """The identified greeting; `prompts` adds the opt-out announcement after it."""
        return self._say_greeting(self._templates(receiver), receiver_context(receiver), receiver)

    def question(self, index: int, receiver: Receiver) -> str:
        templates = self._templates(receiver)
        return self._say_question(templates, index, receiver_context(receiver), receiver)

    def ending(self, receiver: Receiver) -> str:
        return self._say_ending(self._templates(receiver), receiver_context(receiver), receiver)

    def prompts(self, receiver: Receiver) -> Prompts:
        templates = self._templates(receiver)
        context = receiver_context(receiver)
        greeting = self._say_greeting(templates, context, receiver)
        voicemail = templates.voicemail
        return Prompts(
            greeting=with_opt_out_announcement(greeting, templates.language),
            questions=tuple(
                self._say_question(templates, index, context, receiver)
                for index in range(len(templates.questions))
            ),
            ending=self._say_ending(templates, context, receiver),
            voicemail=voicemail.render(context, receiver.id) if voicemail is not None else "",
        )

    def _say_greeting(
        self, templates: _Templates, context: dict[str, str], receiver: Receiver
    ) -> str:
        body = _body(templates.greeting.render(context, receiver.id))
        organisation = self._organisation
        if organisation and _plain(organisation) not in _plain(body):
            said = phrases(templates.language).identification.format(
                organisation=_ssml_escape(organisation)
            )
            body = f"{said} {body}".strip()
        return f"<speak>{body}</speak>"

    def _say_question(
        self, templates: _Templates, index: int, context: dict[str, str], receiver: Receiver
    ) -> str:
        body = _body(templates.questions[index].render(context, receiver.id))
        if not _mentions_keys(body, templates.language):
            body = f"{body} {_sentence(templates.hints[index])}".strip()
        return f"<speak>{body}</speak>"

    def _say_ending(
        self, templates: _Templates, context: dict[str, str], receiver: Receiver
    ) -> str:
        body = _body(templates.ending.render(context, receiver.id))
        number = self._callback
        if number and _digits(number)[-7:] not in _digits(body):
            spoken = _ssml_escape(spoken_number(number, receiver.phone_number))
            say = f'<say-as interpret-as="telephone">{spoken}</say-as>'
            callback = phrases(templates.language).callback.format(number=say)
            body = f"{callback} {body}".strip()
        return f"<speak>{body}</speak>"


def _mentions_keys(body: str, language: str) -> bool:
    words = phrases(language).keys_mentioned
    pattern = r"\b(" + "|".join(re.escape(word) for word in words) + r")\b"
    return bool(re.search(pattern, body, re.IGNORECASE))


def _body(prompt: str) -> str:
    return prompt.removeprefix("<speak>").removesuffix("</speak>").strip()


def _plain(ssml: str) -> str:
    """Text of an SSML fragment for "does it already say X": tags gone, unescaped, squashed."""
    return spoken_text(ssml).lower()


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


_BREAK_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$", re.IGNORECASE)


def ssml_break_problem(prompt: str) -> str | None:
    """Why a `<break>` in well-formed SSML cannot be spoken (Polly's longest is 10 s), or None."""
    try:
        root = DefusedET.fromstring(prompt)
    except (DefusedET.ParseError, ValueError):
        return None
    for element in root.iter("break"):
        time_text = element.get("time")
        if time_text is None:
            continue
        match = _BREAK_TIME.match(time_text)
        if match is None:
            return f'<break time="{time_text[:20]}"/> is not a duration: write it like 1s or 500ms'
        seconds = float(match.group(1)) / (1000 if match.group(2).lower() == "ms" else 1)
        if seconds > _MAX_BREAK_SECONDS:
            return (
                f'<break time="{time_text}"/> is longer than {_MAX_BREAK_SECONDS:g} seconds, the '
                "longest pause a call can make: use several shorter breaks or fewer seconds"
            )
    return None
