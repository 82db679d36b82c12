"""Deployment: template.yaml is generated from template.base.yaml, lex_bots/ and contact_flows/."""
