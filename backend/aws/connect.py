"""Amazon Connect dialer: StartOutboundVoiceContact and what its errors mean for the call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.domain.phones import mask_phone

_PHONE = re.compile(r"\+\d{7,15}")


class DialFault(StrEnum):
    NOT_CALLABLE = "not_callable"  # the person's number: a NotCallable result at once
    RETRY_LATER = "retry_later"  # throttled or Connect busy: leave the message for later
    DEPLOYMENT = "deployment"  # our set-up is wrong: stop the job and say so


_FAULTS = {
    "DestinationNotAllowedException": DialFault.NOT_CALLABLE,
    "LimitExceededException": DialFault.RETRY_LATER,
    "InternalServiceException": DialFault.RETRY_LATER,
    "ThrottlingException": DialFault.RETRY_LATER,
    "TooManyRequestsException": DialFault.RETRY_LATER,
    "ServiceQuotaExceededException": DialFault.RETRY_LATER,
    "OutboundContactNotPermittedException": DialFault.DEPLOYMENT,
    # Receivers' numbers are valid E.164 by intake: a refused parameter is the stack's (source
    # number not claimed in the instance, wrong flow or instance id), never the person's.
    "InvalidParameterException": DialFault.DEPLOYMENT,
    "ResourceNotFoundException": DialFault.DEPLOYMENT,
    "AccessDeniedException": DialFault.DEPLOYMENT,
    "InvalidRequestException": DialFault.DEPLOYMENT,
}


class DialError(Exception):
    def __init__(self, fault: DialFault, code: str, message: str) -> None:
        self.fault = fault
        self.code = code
        # Error texts end up in reports, logs and Slack: never with a whole phone number.
        super().__init__(f"{code}: {_PHONE.sub(lambda m: mask_phone(m.group(0)), message)}")


@dataclass(frozen=True, slots=True)
class ConnectDialer:
    client: Any  # boto3 connect client with adaptive retries (clients.connect_client())
    instance_id: str
    contact_flow_id: str
    source_phone_number: str

    def dial(self, call_id: str, phone_number: str) -> str:
        """Start the call and return the contact id; the same call id never dials twice.

        `call_id` is the ClientToken: Connect returns the existing contact for a repeat within
        7 days, and it is the only contact attribute (contact records keep attributes 24 months).
        """
        params: dict[str, Any] = {
            "DestinationPhoneNumber": phone_number,
            "ContactFlowId": self.contact_flow_id,
            "InstanceId": self.instance_id,
            "ClientToken": call_id[:500],
            "Attributes": {"call_id": call_id},
        }
        if self.source_phone_number:
            params["SourcePhoneNumber"] = self.source_phone_number
        try:
            response = self.client.start_outbound_voice_contact(**params)
        except ClientError as error:
            code = error_code(error)
            message = str(error.response.get("Error", {}).get("Message", ""))
            raise DialError(_FAULTS.get(code, DialFault.RETRY_LATER), code, message) from error
        return str(response["ContactId"])

    def disconnect_details(self, contact_id: str) -> tuple[str | None, bool]:
        """(DisconnectReason, whether the callee answered) from DescribeContact."""
        contact = self.client.describe_contact(InstanceId=self.instance_id, ContactId=contact_id)[
            "Contact"
        ]
        reason = contact.get("DisconnectReason")
        return (str(reason) if reason else None, bool(contact.get("ConnectedToSystemTimestamp")))

    def has_ended(self, contact_id: str) -> bool:
        """Whether Connect has disconnected the contact (DescribeContact's DisconnectTimestamp)."""
        contact = self.client.describe_contact(InstanceId=self.instance_id, ContactId=contact_id)[
            "Contact"
        ]
        return bool(contact.get("DisconnectTimestamp"))

    def call_id_of(self, contact_id: str) -> str | None:
        """The call id in a contact's attributes (GetContactAttributes); None if not ours."""
        try:
            attributes = self.client.get_contact_attributes(
                InstanceId=self.instance_id, InitialContactId=contact_id
            ).get("Attributes", {})
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise
        call_id = attributes.get("call_id")
        return str(call_id) if call_id else None
