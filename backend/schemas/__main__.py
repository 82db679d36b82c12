"""`python -m backend.schemas` rewrites the committed JSON Schema files from the models."""

from backend.schemas import write_call_job_schema

write_call_job_schema()
