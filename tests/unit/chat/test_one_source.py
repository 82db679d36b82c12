"""Rules written once (issue 12): the job-id pattern, JobSettings bounds, SSML-to-words."""

from __future__ import annotations

from pathlib import Path

from backend.domain.models import JobSettings, setting_bounds
from bot.slack.modal import ATTEMPTS, TIMEOUT, ModalMeta, job_modal

ROOT = Path(__file__).resolve().parents[3]
SOURCES = sorted([*ROOT.glob("backend/**/*.py"), *ROOT.glob("bot/**/*.py")])


def _files_with(text: str) -> list[str]:
    return [
        str(path.relative_to(ROOT)) for path in SOURCES if text in path.read_text(encoding="utf-8")
    ]


def test_the_job_id_pattern_is_written_once() -> None:
    assert _files_with("A-Za-z0-9_.-") == ["backend/domain/models.py"]


def test_ssml_tags_are_stripped_in_one_place() -> None:
    assert _files_with('re.compile(r"<[^>]+>")') == ["backend/domain/ssml_text.py"]


def test_the_form_offers_the_job_settings_bounds() -> None:
    view = job_modal(ModalMeta("C")).to_dict()
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    attempts = blocks[ATTEMPTS]["element"]
    assert (int(attempts["min_value"]), int(attempts["max_value"])) == setting_bounds(
        "max_attempts"
    )
    assert int(attempts["initial_value"]) == JobSettings().max_attempts
    timeout = blocks[TIMEOUT]["element"]
    assert (int(timeout["min_value"]), int(timeout["max_value"])) == setting_bounds(
        "call_timeout_seconds"
    )
    assert setting_bounds("concurrency") == (1, 1_000)
