"""Independent records of the SMS a runner sends, for tests to count from (never the outbox
table the code under test writes).

AWS: `FakeSmsClient`, a recording stand-in for the `pinpoint-sms-voice-v2` client (moto has no
SendTextMessage). Each request is checked against botocore's own model of the operation (names,
types, the 1,600-character MessageBody limit), so a wrong parameter fails here as it would on AWS.

Local: `RecordingSmsGateway`, the engine's `SmsSender` seen from the phone network's side: every
message it is asked to send, and which of them the simulated carrier took.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

from backend.domain.sms import SmsSender, SmsSendError
from backend.local.sms import SimulatedSmsGateway

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


@dataclass(frozen=True)
class LocalSms:
    job_id: str
    receiver_id: str
    phone_number: str
    body: str


class RecordingSmsGateway:
    """A local `SmsSender` that records each request, then passes it to `carrier` (the simulated
    gateway by default: it refuses landlines)."""

    def __init__(self, carrier: SmsSender | None = None) -> None:
        self.carrier = carrier or SimulatedSmsGateway()
        self.requests: list[LocalSms] = []  # every message the engine asked to send, in order
        self.sent: list[LocalSms] = []  # the ones the carrier took
        self.refused: list[LocalSms] = []  # the ones it refused (SmsSendError)

    def send(self, job_id: str, receiver_id: str, phone_number: str, body: str) -> str:
        message = LocalSms(job_id, receiver_id, phone_number, body)
        self.requests.append(message)
        try:
            message_id = self.carrier.send(job_id, receiver_id, phone_number, body)
        except SmsSendError:
            self.refused.append(message)
            raise
        self.sent.append(message)
        return message_id

    def texts(self) -> list[tuple[str, str]]:
        """(receiver id, body) of each message taken, in sending order."""
        return [(m.receiver_id, m.body) for m in self.sent]
