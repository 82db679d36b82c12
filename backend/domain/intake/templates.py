"""The spoken templates of a job: compiled, checked against the receivers' columns, rendered
for every receiver, and checked as SSML."""

from __future__ import annotations

import html
import re
from collections import Counter

from backend.domain.intake.locations import Location, Where
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.models import Receiver
from backend.domain.problems import Problem
from backend.domain.sms import MAX_SMS_CHARS, length_problem
from backend.domain.speech import (
    RESERVED_NAMES,
    SpeechError,
    SpeechTemplate,
    TextTemplate,
    receiver_context,
    ssml_break_problem,
    ssml_error,
    ssml_text,
)

TEMPLATE_VARIABLES = ("id", "receiver_id")
MAX_SPOKEN_CHARS = 3_000  # Amazon Polly's limit on the text of one prompt (SSML tags excluded)

_TAG = re.compile(r"<[^>]*>")
_PROMPT_TAGS = len("<speak></speak>")

# A template with where it was written: a Configures key (greeting, ending), a question row, or
# a question row's translation column.
Located = tuple[SpeechTemplate, Location]


def compile_template(
    source: str,
    name: str,
    where: Where,
    problems: ProblemLog,
    location: Location,
    limit: int,
    kind: type[SpeechTemplate] = SpeechTemplate,
) -> SpeechTemplate | None:
    if len(source) > limit:
        problems.add(
            where.template(
                location,
                f"the {name} is {len(source):,} characters long: keep it under {limit:,}",
            )
        )
        return None
    try:
        return kind(source, name)
    except SpeechError as error:
        problems.add(where.template(location, error.message))
        return None


def missing_variables(
    template: SpeechTemplate,
    location: Location,
    names: set[str],
    where: Where,
    problems: ProblemLog,
) -> bool:
    """Report each variable of `template` that is not one of `names`; True if any is missing."""
    missing = sorted(template.variables - names)
    for variable in missing:
        if variable in ("phone_number", "phone"):
            message = (
                f"the {template.name} uses {{{{ {variable} }}}}: the phone number is never "
                "read out, remove it"
            )
        else:
            columns = ", ".join(sorted(names))
            message = (
                f"the {template.name} uses {{{{ {variable} }}}} but the receivers have no "
                f"'{variable}' column (variables: {columns}): add the column or fix the spelling"
            )
        problems.add(where.template(location, message))
    return bool(missing)


def render_estimate(valid: list[tuple[Receiver, int]], renderable: list[Located]) -> int:
    """Characters rendering every prompt of every receiver costs at least: each template's
    text, plus each value as often as the template names it. Cheap: one pass over the values."""
    lengths: dict[str, int] = {}
    for template, _ in renderable:
        for variable in template.references:
            lengths.setdefault(variable, 0)
    for receiver, _ in valid:
        fields = receiver.fields
        for variable in lengths:
            value = receiver.id if variable in TEMPLATE_VARIABLES else fields.get(variable)
            if value:
                lengths[variable] += len(value)
    total = 0
    for template, _ in renderable:
        total += len(valid) * len(template.source)
        total += sum(count * lengths[name] for name, count in template.references.items())
    return total


def _over_budget(total: int, budget: int, where: Where, problems: ProblemLog) -> None:
    problems.add(
        where.receivers(
            f"the prompts of this job add up to over {total:,} characters to prepare, above the "
            f"limit of {budget:,} per job: say long values less often, shorten them, or split "
            "the receivers into several jobs"
        )
    )


class _AllPlain:
    """The job's templates when every one is plain (`Hello {{ name }}.`), as in most jobs.

    render_all measures each template for each receiver (up to 100,000 x 50 measures); for a
    receiver whose values are all said short (none empty), every prompt is within the limits
    and one sum over the values gives what measuring each would add to the budget.
    """

    def __init__(self, templates: list[SpeechTemplate]) -> None:
        names = [template.plain_names or () for template in templates]
        self.counts = Counter(name for said in names for name in said)
        self.said = sorted(set().union(*(template.spoken for template in templates)))
        self.most_names = max((len(said) for said in names), default=0)
        self.longest_text = max((t.plain_text_chars for t in templates), default=0)
        self.sources = sum(len(template.source) for template in templates)

    @classmethod
    def of(cls, templates: list[SpeechTemplate]) -> _AllPlain | None:
        if all(t.plain_names is not None for t in templates):
            return cls(templates)
        return None

    def cost(self, receiver: Receiver) -> int | None:
        """The characters rendering every template for `receiver` costs, or None when a value
        is empty or long (measure each template: that gives the problems)."""
        fields = receiver.fields
        for name in self.said:  # an empty value said: render_all reports it
            if _is_empty(fields.get(name)):
                return None
        total = self.sources
        longest = 0
        for name, count in self.counts.items():
            value = receiver.id if name in TEMPLATE_VARIABLES else fields.get(name)
            if not isinstance(value, str):
                return None
            size = len(ssml_text(value))
            total += count * size
            if size > longest:
                longest = size
        # No template says more than `most_names` values: each prompt is at most this long
        # (and so within one rendering's work limit too, which is far above it).
        worst = _PROMPT_TAGS + self.longest_text + self.most_names * longest
        return total if worst <= MAX_SPOKEN_CHARS else None


def render_all(
    valid: list[tuple[Receiver, int]],
    renderable: list[Located],
    where: Where,
    problems: ProblemLog,
    budget: int,
) -> list[tuple[Receiver, int]]:
    """Render every prompt of every receiver: the only way to find every undefined variable.

    A template the sandbox refuses is refused for everyone: reported once, at the template.
    The work is bounded: a job whose estimate is over `budget` characters is refused before
    rendering, and rendering stops (job refused) once it has built `budget` characters.
    """
    estimate = render_estimate(valid, renderable)
    if estimate > budget:
        _over_budget(estimate, budget, where, problems)
        return []
    kept: list[tuple[Receiver, int]] = []
    templates = [(t, loc, sorted(t.spoken)) for t, loc in renderable]  # said as they are
    plain = _AllPlain.of([t for t, _ in renderable])
    spent = [0]
    for receiver, row in valid:
        if spent[0] > budget:
            _over_budget(spent[0], budget, where, problems)
            return []
        cost = None if plain is None else plain.cost(receiver)
        if cost is not None:
            spent[0] += cost
            kept.append((receiver, row))
            continue
        context = receiver_context(receiver)
        escaped: dict[str, str] = {}
        good = True
        empty_said: set[str] = set()
        blank = any(not value.strip() for value in receiver.fields.values())
        for template, location, said in list(templates):
            for variable in said if blank else ():
                if variable not in empty_said and _is_empty(receiver.fields.get(variable)):
                    empty_said.add(variable)
                    problems.add(_empty_problem(template, variable, row, where), job_level=False)
                    good = False
            # A plain template's prompt size is known without rendering it; within the limit,
            # rendering would find nothing more (no value is missing, nothing is refused).
            size = template.plain_size(context, escaped)
            if size is not None and _PROMPT_TAGS + template.plain_text_chars + size <= (
                MAX_SPOKEN_CHARS
            ):
                spent[0] += size + len(template.source)
                continue
            try:
                prompt = template.render(context, receiver.id, spent)
            except SpeechError as error:
                if error.variable is None and error.receiver_id is None:
                    problems.add(where.template(location, error.message))
                    templates.remove((template, location, said))
                    plain = _AllPlain.of([t for t, _, _ in templates])
                else:
                    column = error.variable or template.name
                    problems.add(where.receiver(row, column, error.message), job_level=False)
                good = False
                continue
            if good or isinstance(template, TextTemplate):  # an SMS is measured regardless
                too_long = _length_problem(template, prompt, row, where)
                if too_long is not None:
                    problems.add(too_long, job_level=False)
                    good = False
        if good:
            kept.append((receiver, row))
    return kept


def _is_empty(value: str | None) -> bool:
    return value is not None and not value.strip()


def _empty_problem(template: SpeechTemplate, variable: str, row: int, where: Where) -> Problem:
    return where.receiver(
        row,
        variable,
        f"'{variable}' is empty but the {template.name} says {{{{ {variable} }}}}: fill it in "
        f"(merged cells read as empty: unmerge them), or write {{{{ {variable} or 'friend' }}}} "
        "in the template",
    )


def _length_problem(
    template: SpeechTemplate, prompt: str, row: int, where: Where
) -> Problem | None:
    """A prompt longer than can be sent: an SMS over its length, speech over Polly's limit."""
    if isinstance(template, TextTemplate):
        if len(prompt) > MAX_SMS_CHARS:
            return where.receiver(row, template.name, length_problem(len(prompt)))
        return None
    if len(prompt) <= MAX_SPOKEN_CHARS:
        return None
    spoken = len(html.unescape(_TAG.sub("", prompt)))
    if spoken <= MAX_SPOKEN_CHARS:
        return None
    return where.receiver(
        row,
        template.name,
        f"the {template.name} for this receiver is {spoken:,} characters long: a call can "
        f"speak at most {MAX_SPOKEN_CHARS:,} at a time; shorten the template or this "
        "receiver's values",
    )


def check_ssml(
    receiver: Receiver,
    located: list[Located],
    where: Where,
    problems: ProblemLog,
) -> None:
    """The template text itself must make well-formed SSML (values are escaped already)."""
    context = receiver_context(receiver)
    for template, location in located:
        try:
            prompt = template.render(context, receiver.id)
        except SpeechError:
            continue
        if "{{" in prompt or "{%" in prompt:
            problems.add(
                where.template(
                    location,
                    f"the {template.name} would read out template markup ('{{{{' or '{{%') "
                    "word for word: remove {% raw %} or the stray braces",
                )
            )
            continue
        error = ssml_error(prompt)
        if error:
            problems.add(
                where.template(
                    location,
                    f"the {template.name} is not valid SSML ({error}): write '&' as 'and' "
                    'and use only SSML tags such as <break time="1s"/>',
                )
            )
            continue
        pause = ssml_break_problem(prompt)
        if pause:
            problems.add(where.template(location, f"the {template.name} has a {pause}"))


def reserved_columns(
    located: list[Located], columns: set[str], where: Where, problems: ProblemLog
) -> None:
    """A column named like a word Jinja resolves itself (`self`, `true`, `none`, `loop`) can
    never be said by name: `{{ self }}` is the template, `{{ none }}` is nothing."""
    clashes = RESERVED_NAMES.intersection(columns)
    for template, location in located:
        for name in sorted(clashes):
            if re.search(rf"(?:{{{{|{{%)[^}}]*\b{name}\b", template.source, re.IGNORECASE):
                problems.add(
                    where.template(
                        location,
                        f"the {template.name} says {{{{ {name} }}}}, but '{name}' is a word "
                        "templates keep for themselves, so the receivers' column of that name "
                        f"can never be said: rename the column (e.g. '{name}_value') and write "
                        f"{{{{ {name}_value }}}}",
                    )
                )
