"""Deployment helpers: template.yaml is generated from template.base.yaml + lex_bots/ + contact_flows/."""
