"""Background jobs of the directory: the site's Excel import, confirmed by its uploader.

The job reads the uploaded file kept under the uploader's folder, plans it afresh against the
database as it is then and, without errors, applies every row (or none), writing its
progress on its ``JobRun`` every few hundred rows. Its outcome (counts, the rows in error, a
refusal) goes on the run too; the new people's one-time passwords never do (nor into a log
or the job's arguments): they go into a workbook in the uploader's folder of the default
storage, which the result page shows once and lets download once, then deletes (and which
expires after half an hour).
"""

import io

from celery import shared_task
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from branches.models import User
from branches.spreadsheets import write_workbook
from reports.jobs import RecordedTask, record_job_progress

from .imports import ImportRefused, apply_import_plan, one_time_passwords_sheet, plan_import_file

IMPORT_UPLOADS_FOLDER = "imports"
IMPORT_OUTCOME_ERROR_ROWS = 50  # the rows in error an outcome lists (the preview lists them all)


def import_upload_name(user_id: int, token: str) -> str:
    return f"{IMPORT_UPLOADS_FOLDER}/{user_id}/{token}.xlsx"


def import_passwords_name(user_id: int, token: str) -> str:
    return f"{IMPORT_UPLOADS_FOLDER}/{user_id}/{token}-passwords.xlsx"


def _row_reference(row) -> dict:
    return {"sheet": row.sheet, "number": row.number, "key": row.key}


@shared_task(base=RecordedTask, bind=True, name="directory.tasks.import_organizations_and_people")
def import_organizations_and_people(
    self, user_id: int, token: str, file_name: str = "", committee_id: int | None = None
) -> dict:
    """Import the uploaded file ``token`` of user ``user_id``; returns the outcome (no passwords).

    ``committee_id`` (the uploader's committee) only files the run under it on the job list.
    """
    user = User.objects.get(pk=user_id, is_active=True)
    name = import_upload_name(user_id, token)
    if not default_storage.exists(name):
        outcome = {"state": "gone", "file": file_name}
        record_job_progress(self, 0, 0, **outcome)
        return outcome
    with default_storage.open(name, "rb") as handle:
        plan = plan_import_file(handle, actor=user)
    total = len(plan.organizations) + len(plan.people)
    record_job_progress(self, 0, total)
    if plan.has_errors:
        rows = [row for row in plan.rows_errors_first() if row.errors]
        outcome = {
            "state": "errors",
            "file": file_name,
            "error_rows": len(rows),
            "errors": [
                {**_row_reference(row), "errors": row.errors} for row in rows[:IMPORT_OUTCOME_ERROR_ROWS]
            ],
        }
        record_job_progress(self, 0, total, **outcome)
        return outcome
    try:
        result = apply_import_plan(
            plan,
            actor=user,
            file_name=file_name,
            progress=lambda done, of: record_job_progress(self, done, of, from_transaction=True),
        )
    except ImportRefused as refusal:
        outcome = {
            "state": "refused",
            "file": file_name,
            "refusal": refusal.message,
            "row": _row_reference(refusal.row) if refusal.row is not None else None,
        }
        record_job_progress(self, 0, total, **outcome)
        return outcome
    if result.passwords:
        buffer = io.BytesIO()
        write_workbook([one_time_passwords_sheet(result.passwords)], buffer)
        passwords_name = import_passwords_name(user_id, token)
        if default_storage.exists(passwords_name):
            default_storage.delete(passwords_name)
        default_storage.save(passwords_name, ContentFile(buffer.getvalue()))
    default_storage.delete(name)
    outcome = {
        "state": "done",
        "file": file_name,
        "counts": result.as_dict(),
        "passwords": len(result.passwords),
    }
    record_job_progress(self, total, total, **outcome)
    return outcome
