"""Channels the bot is in, so a teacher can choose where a job reports.

A job previewed in the personal chat may report there or in a team channel the bot was installed
in. Teams tells the bot about a team when it is installed (installationUpdate) or added
(conversationUpdate), and each channel message that @mentions it names its channel: each is
recorded here per tenant. A channel chosen on a preview card is looked up here (never trusted
from the card), and the allow-lists apply to it as to any channel.

Locally a SQLite file; on AWS items of the jobs table (`DynamoPlaces`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

MAX_PLACES = 20  # choices on one card


@dataclass(frozen=True)
class Place:
    tenant_id: str
    team_id: str
    conversation_id: str
    name: str
    service_url: str


class Places(Protocol):
    def add(self, place: Place) -> None: ...

    def of_tenant(self, tenant_id: str) -> list[Place]:
        """Channels of the tenant, by name (at most MAX_PLACES)."""
        ...


def find(places: Places, tenant_id: str, conversation_id: str) -> Place | None:
    """A recorded channel of this tenant, or None."""
    return next(
        (p for p in places.of_tenant(tenant_id) if p.conversation_id == conversation_id), None
    )


class SqlitePlaces:
    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS teams_places (tenant_id TEXT, conversation_id TEXT, "
                "value TEXT NOT NULL, PRIMARY KEY (tenant_id, conversation_id))"
            )

    def add(self, place: Place) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO teams_places VALUES (?, ?, ?)",
                (place.tenant_id, place.conversation_id, json.dumps(asdict(place))),
            )

    def of_tenant(self, tenant_id: str) -> list[Place]:
        with self._lock:
            rows = self._db.execute(
                "SELECT value FROM teams_places WHERE tenant_id = ?", (tenant_id,)
            ).fetchall()
        places = [Place(**json.loads(row[0])) for row in rows]
        return sorted(places, key=lambda p: p.name.lower())[:MAX_PLACES]


class DynamoPlaces:
    """Items `pk="teams-places#<tenant>", sk=<conversation id>` of the jobs table (job ids never
    contain `#`, so they cannot collide with a job's items)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    def add(self, place: Place) -> None:
        self.db.put_item(
            TableName=self.table,
            Item={
                "job_id": {"S": f"teams-places#{place.tenant_id}"},
                "sk": {"S": place.conversation_id},
                "value": {"S": json.dumps(asdict(place))},
            },
        )

    def of_tenant(self, tenant_id: str) -> list[Place]:
        items = self.db.query(
            TableName=self.table,
            KeyConditionExpression="job_id = :pk",
            ExpressionAttributeValues={":pk": {"S": f"teams-places#{tenant_id}"}},
        ).get("Items", [])
        places = [Place(**json.loads(item["value"]["S"])) for item in items]
        return sorted(places, key=lambda p: p.name.lower())[:MAX_PLACES]
