"""The platform-neutral chat-ops core: what Slack and Teams both do, without their SDKs."""
