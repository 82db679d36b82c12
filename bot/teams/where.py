"""Where a Teams activity came from and who sent it, read once from the activity.

Teams ids: the tenant (Entra), the team ("" in a chat), the conversation (a personal chat, a group
chat, or a channel; a channel thread's id carries `;messageid=<root>`, dropped here), the user's
Entra object id (what allow-lists name) and the Bot Connector URL to answer through.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from backend.domain.models import ChatOrigin

PLATFORM = "teams"
INVOKE = "@Callouts"  # how a channel calls the bot: the commands' help and hints


@dataclass(frozen=True)
class Where:
    tenant_id: str | None
    team_id: str
    conversation_id: str  # without `;messageid=`: the chat or the channel
    user_id: str  # Entra object id (the Bot Framework id when Teams gives none)
    user_name: str
    service_url: str
    personal: bool  # a 1:1 chat with the bot
    conversation_name: str = ""

    @classmethod
    def of(cls, activity: Any) -> Where:
        data = activity.channel_data
        conversation = activity.conversation
        sender = activity.from_
        team = getattr(data, "team", None) if data is not None else None
        channel = getattr(data, "channel", None) if data is not None else None
        tenant = getattr(data, "tenant", None) if data is not None else None
        kind = conversation.conversation_type or ("channel" if team else "personal")
        name = (getattr(channel, "name", None) or "") if channel else ""
        if team is not None and not name:
            name = "General"  # Teams leaves the General channel's name out
        if team is not None and getattr(team, "name", None):
            name = f"{team.name} › {name}"
        return cls(
            tenant_id=conversation.tenant_id or (getattr(tenant, "id", None) if tenant else None),
            team_id=str(getattr(team, "id", "") or "") if team else "",
            conversation_id=conversation.id.partition(";messageid=")[0],
            user_id=str(sender.aad_object_id or sender.id),
            user_name=str(sender.name or ""),
            service_url=str(activity.service_url or ""),
            personal=kind == "personal",
            conversation_name=name or (conversation.name or ""),
        )

    def origin(self, thread_ref: str | None = None) -> ChatOrigin:
        """This conversation as the place a job reports to, started by this user."""
        return ChatOrigin(
            platform=PLATFORM,
            team_id=self.team_id,
            tenant_id=self.tenant_id,
            channel_id=self.conversation_id,
            user_id=self.user_id,
            thread_ref=thread_ref,
            service_url=self.service_url,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Where:
        return cls(**data)
