"""How long a call of a job may take: the default `call_timeout_seconds`, derived from the job.

The formula (docs/statuses.md, "Time-outs") is the longest call a person can have without doing
anything wrong: the phone rings out, the greeting is said, every question is asked three times
(the first try and `MAX_REASKS` re-asks, each waiting the bot's longest turn), then the ending:

    ring + speak(greeting) + Σ_questions tries × (speak(sorry + question) + turn) + speak(ending)

rounded up to a whole half minute, at least `MINIMUM_SECONDS`, at most the setting's limit.
`speak(text)` counts the template's words (a `{{ variable }}` as `WORDS_PER_VARIABLE` words) at
`SECONDS_PER_WORD`. An explicit `call_timeout_seconds` below this is refused at intake: it would
cut off people who are still answering.
"""

from __future__ import annotations

import math
import re

from backend.domain.models import CallJob, JobSettings
from backend.domain.session import MAX_REASKS, SORRY

RING_SECONDS = 60  # Connect gives up ringing after 60 s (TELECOM_TIMEOUT)
SECONDS_PER_WORD = 0.5  # Polly speaks ~150 words a minute; rounded up for pauses
WORDS_PER_VARIABLE = 5  # a receiver value such as a full name or a date
TURN_SECONDS = 20  # the longest bot turn: Lex V2 listens up to 15 s, plus the Lambda turns
TRIES_PER_QUESTION = MAX_REASKS + 1
MINIMUM_SECONDS = 120
ROUND_TO_SECONDS = 30

_VARIABLE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_STATEMENT = re.compile(r"\{%.*?%\}|\{#.*?#\}|<[^>]*>", re.DOTALL)


def _maximum() -> int:
    for bound in JobSettings.model_fields["call_timeout_seconds"].metadata:
        high = getattr(bound, "le", None)
        if high is not None:
            return int(high)
    raise AssertionError("call_timeout_seconds has no upper bound")


MAXIMUM_SECONDS = _maximum()


def speaking_seconds(template: str) -> float:
    """Seconds Polly needs to say a template (tags and `{% %}` dropped, variables counted)."""
    variables = len(_VARIABLE.findall(template))
    words = len(_STATEMENT.sub(" ", _VARIABLE.sub(" ", template)).split())
    return (words + variables * WORDS_PER_VARIABLE) * SECONDS_PER_WORD


def derived_call_timeout(job: CallJob) -> int:
    """The default `call_timeout_seconds` of `job` (see the module docstring)."""
    total = RING_SECONDS + speaking_seconds(job.greeting) + speaking_seconds(job.ending)
    sorry = speaking_seconds(SORRY)
    for question in job.questions:
        total += TRIES_PER_QUESTION * (sorry + speaking_seconds(question.template) + TURN_SECONDS)
    rounded = math.ceil(total / ROUND_TO_SECONDS) * ROUND_TO_SECONDS
    return min(MAXIMUM_SECONDS, max(MINIMUM_SECONDS, rounded))


def call_timeout(job: CallJob) -> int:
    """The time-out both runners use: the job's setting, or the derived default."""
    explicit = job.settings.call_timeout_seconds
    return explicit if explicit is not None else derived_call_timeout(job)


def timeout_problem(job: CallJob) -> str | None:
    """Why the job's explicit `call_timeout_seconds` is too short, or None."""
    explicit = job.settings.call_timeout_seconds
    needed = derived_call_timeout(job)
    if explicit is None or explicit >= needed:
        return None
    return (
        f"call_timeout_seconds {explicit} is shorter than the {needed} s a call of this job can "
        f"take (ringing, greeting, {len(job.questions)} question(s) asked up to "
        f"{TRIES_PER_QUESTION} times, ending): give at least {needed}, or leave it empty to use "
        f"{needed}"
    )
