"""Lambda entry points: parse the event, call the service from backend.aws.wiring, return."""
