"""The Microsoft Teams front end: SDK app, hosting, transport and the Teams chat sink."""
