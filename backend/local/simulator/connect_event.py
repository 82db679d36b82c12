"""What a Lambda function invoked by a contact flow receives: Connect's event and a context."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SimulatedLambdaContext:
    """The few Lambda context attributes handlers read (Powertools logs some of them)."""

    function_name: str = "CallFlowFunction"
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:CallFlowFunction"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/CallFlowFunction"
    log_stream_name: str = "simulator"

    def get_remaining_time_in_millis(self) -> int:
        return 8_000


def contact_flow_event(
    contact_id: str,
    attributes: Mapping[str, str],
    phone_number: str | None,
    parameters: dict[str, str],
) -> dict[str, Any]:
    """The `ContactFlowEvent` Connect sends an InvokeLambdaFunction target on an outbound call."""
    customer = {"Address": phone_number, "Type": "TELEPHONE_NUMBER"} if phone_number else None
    return {
        "Details": {
            "ContactData": {
                "Attributes": dict(attributes),
                "Channel": "VOICE",
                "ContactId": contact_id,
                "InitialContactId": contact_id,
                "PreviousContactId": contact_id,
                "InitiationMethod": "OUTBOUND",
                "InstanceARN": "arn:aws:connect:local:000000000000:instance/simulator",
                "CustomerEndpoint": customer,
                "SystemEndpoint": None,
                "Queue": None,
                "MediaStreams": {"Customer": {"Audio": None}},
            },
            "Parameters": parameters,
        },
        "Name": "ContactFlowEvent",
    }
