"""The Slack preview says the calling hours (who is outside them now, when calling starts) and
shows warnings (no organisation) while still offering Start."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook

from bot.slack.views import START_ACTION
from tests.e2e.slack.conftest import Harness, example_workbook


def _without(content: bytes, *keys: str) -> bytes:
    book = load_workbook(io.BytesIO(content))
    sheet = book["Configures"]
    for row in range(sheet.max_row, 0, -1):
        if sheet.cell(row=row, column=1).value in keys:
            sheet.delete_rows(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _preview_text(harness: Harness) -> tuple[str, list[dict]]:
    (call,) = harness.fake.calls_to("chat.postMessage")
    blocks = call.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return json.dumps(blocks), blocks


def test_preview_says_the_calling_hours(harness: Harness) -> None:
    harness.share_file("class_3a.xlsx", example_workbook(), ts="1700.0001")
    text, _ = _preview_text(harness)
    assert "Calling hours: 09:00-20:00 Mon-Sat, in each person's local time." in text
    assert "of 8 people are outside their hours now; calling starts" in text
    assert "Worth fixing" not in text  # the example names its organisation and callback number


def test_missing_organisation_is_a_warning_and_start_is_still_offered(harness: Harness) -> None:
    content = _without(example_workbook(), "organisation", "callback_number")
    harness.share_file("class_3a.xlsx", content, ts="1700.0002")
    text, blocks = _preview_text(harness)
    assert "Worth fixing (the job can still start)" in text
    assert "organisation is not set" in text
    assert "callback_number is not set" in text
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert START_ACTION in actions
