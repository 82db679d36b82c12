"""Job intake: workbook, JSON and modal input validated into a CallJob plus every problem found."""

from backend.domain.intake.assemble import IntakeLimits, IntakeResult, assemble_job
from backend.domain.intake.json_form import job_from_json, job_to_json
from backend.domain.intake.locations import SheetNames
from backend.domain.intake.rows import QuestionRow, ReceiverRow
from backend.domain.intake.workbook import default_job_id, read_workbook

__all__ = [
    "IntakeLimits",
    "IntakeResult",
    "QuestionRow",
    "ReceiverRow",
    "SheetNames",
    "assemble_job",
    "default_job_id",
    "job_from_json",
    "job_to_json",
    "read_workbook",
]
