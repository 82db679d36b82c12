"""An SSML prompt as the words a listener hears: one rule for the chat preview, the CLI preview and
the simulated phones."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

_BREAK = re.compile(r"<break\b([^>]*)>", re.IGNORECASE)
_TIME = re.compile(r"time\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")

Pause = Callable[[str | None], str]  # a break's time ("1s", or None) -> what stands for it


def spoken_text(ssml: str, pause: str | Pause = " ") -> str:
    """Tags dropped (as spaces), entities decoded, whitespace collapsed; each `<break>` becomes
    `pause` (a text, or a function of the break's time: `[pause 1s]`)."""

    def on_break(match: re.Match[str]) -> str:
        if isinstance(pause, str):
            return pause
        time = _TIME.search(match.group(1))
        return pause(time.group(1) if time else None)

    text = _TAG.sub(" ", _BREAK.sub(on_break, ssml))  # a tag parts words: "a.<s/>b"
    return " ".join(html.unescape(text).split())
