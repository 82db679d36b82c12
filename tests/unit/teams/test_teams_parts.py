"""Pieces of the Teams conversation on their own: the form dialog's state, the workbook download
(size and time caps), where an activity came from, and the store of channels the bot is in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import boto3
import pytest
from microsoft_teams.api.activities.message import MessageActivity
from moto import mock_aws

from bot.teams import files
from bot.teams.dialog import ADD, FormState, dialog, form_card
from bot.teams.places import DynamoPlaces, Place, SqlitePlaces, find
from bot.teams.where import Where
from tests.fakes.loopback import LoopbackServer, QuietHandler


def test_form_rows_are_added_and_removed_within_bounds_keeping_values() -> None:
    state = FormState.read({"rows": "[1]", "greeting": "Hi", "action": ADD, "msteams": "x"})
    assert state.values == {"greeting": "Hi"}
    grown = state.added().added()
    assert grown.rows == [1, 2, 3]
    assert grown.values == {"greeting": "Hi"}
    assert grown.removed().rows == [1, 2]
    assert FormState().removed().rows == [1]  # at least one question
    assert FormState.read({"rows": "not json"}).rows == [1]  # a tampered state is reset


def test_the_form_card_shows_errors_under_their_fields_and_masks_numbers() -> None:
    state = FormState(values={"receivers": "S1, 91234567890123"})
    state.errors = {"receivers": "line 1: phone number '91234567890123' is too long"}
    body = form_card(state).model_dump(by_alias=True, exclude_none=True)["body"]
    at = next(i for i, e in enumerate(body) if e.get("id") == "receivers")
    assert body[at]["value"] == "S1, 91234567890123"  # what was typed stays
    assert body[at + 1]["color"] == "Attention"
    assert "****0123" in body[at + 1]["text"]
    assert "91234567890123" not in body[at + 1]["text"]
    task = dialog(state).task
    assert task is not None
    assert task.model_dump(by_alias=True)["value"]["title"] == "New call job"


class Slow(QuietHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        if self.path == "/big":
            for _ in range(30):
                self.wfile.write(b"x" * 100_000)
        elif self.path == "/slow":
            time.sleep(1.0)
            self.wfile.write(b"late")
        else:
            self.wfile.write(b"PK workbook")


@pytest.fixture
def server() -> Iterator[str]:
    with LoopbackServer(Slow) as httpd:
        yield httpd.url


def test_download_is_capped_in_size_and_time(server: str) -> None:
    assert asyncio.run(files.download(f"{server}/ok")) == b"PK workbook"
    with pytest.raises(files.DownloadError, match="larger than 1 MB"):
        asyncio.run(files.download(f"{server}/big", max_bytes=1_000_000))
    with pytest.raises(files.DownloadError, match="too long"):
        asyncio.run(files.download(f"{server}/slow", timeout=0.2))
    with pytest.raises(files.DownloadError, match="no usable download link"):
        asyncio.run(files.download("ftp://example.com/x.xlsx"))


def _activity(**overrides: object) -> MessageActivity:
    data: dict[str, object] = {
        "type": "message",
        "id": "1",
        "serviceUrl": "https://smba.example/teams/",
        "from": {"id": "29:u", "name": "Pat", "aadObjectId": "aad-1"},
        "conversation": {
            "id": "19:c@thread.tacv2;messageid=42",
            "conversationType": "channel",
            "tenantId": "t-1",
        },
        "recipient": {"id": "28:bot"},
        "channelData": {
            "team": {"id": "19:team@thread.tacv2", "name": "Class 5"},
            "channel": {"id": "19:c@thread.tacv2"},
        },
        "text": "",
    }
    data.update(overrides)
    return MessageActivity.model_validate(data)


def test_where_reads_the_channel_without_its_thread_and_the_entra_user() -> None:
    where = Where.of(_activity())
    assert where.conversation_id == "19:c@thread.tacv2"
    assert where.user_id == "aad-1"
    assert where.tenant_id == "t-1"
    assert not where.personal
    assert where.conversation_name == "Class 5 › General"  # Teams leaves General's name out
    origin = where.origin()
    assert (origin.platform, origin.channel_id, origin.team_id) == (
        "teams",
        "19:c@thread.tacv2",
        "19:team@thread.tacv2",
    )
    assert Where.from_json(where.to_json()) == where


def _places_contract(places: SqlitePlaces | DynamoPlaces) -> None:
    a = Place("t-1", "team-a", "19:a@thread.tacv2", "Class 5 › General", "https://s/")
    b = Place("t-1", "team-b", "19:b@thread.tacv2", "Art › Calls", "https://s/")
    other = Place("t-2", "team-c", "19:c@thread.tacv2", "Elsewhere", "https://s/")
    for place in (a, b, other, a):
        places.add(place)
    assert places.of_tenant("t-1") == [b, a]  # by name, once each
    assert find(places, "t-1", "19:a@thread.tacv2") == a
    assert find(places, "t-1", "19:c@thread.tacv2") is None  # another tenant's channel


def test_sqlite_places() -> None:
    _places_contract(SqlitePlaces(":memory:"))


def test_dynamo_places() -> None:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="jobs",
            KeySchema=[
                {"AttributeName": "job_id", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "job_id", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        _places_contract(DynamoPlaces(ddb, "jobs"))
