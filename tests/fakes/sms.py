"""A recording stand-in for the `pinpoint-sms-voice-v2` client (moto has no SendTextMessage).

Each request is checked against botocore's own model of the operation (names, types, the
1,600-character MessageBody limit), so a wrong parameter fails here as it would on AWS.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

_OPERATION = (
    botocore.session.get_session()
    .get_service_model("pinpoint-sms-voice-v2")
    .operation_model("SendTextMessage")
)


class FakeSmsClient:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []  # every accepted request, in order
        self.refuse: dict[str, str] = {}  # destination number -> error code

    def send_text_message(self, **params: Any) -> dict[str, Any]:
        validate_parameters(params, _OPERATION.input_shape)
        code = self.refuse.get(params["DestinationPhoneNumber"])
        if code:
            raise ClientError(
                {"Error": {"Code": code, "Message": "the destination cannot take this message"}},
                "SendTextMessage",
            )
        self.messages.append(params)
        return {"MessageId": f"msg-{len(self.messages):04d}"}

    def to(self) -> list[str]:
        return [m["DestinationPhoneNumber"] for m in self.messages]
