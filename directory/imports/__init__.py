"""The Excel import of organizations and people: read the file, plan every row, apply all or none.

``workbook`` reads the file (and writes the template), ``plan`` says what every row would do
(the preview), ``apply`` carries out a plan without errors through the branches services.
"""

from .apply import ImportRefused, ImportResult, OneTimePassword, apply_import_plan, one_time_passwords_sheet
from .plan import ImportAction, ImportPlan, build_import_plan, plan_import_file
from .workbook import (
    IMPORT_MAX_BYTES,
    IMPORT_MAX_ROWS,
    ImportFileError,
    import_template_sheets,
    read_import_workbook,
    write_import_template,
)

__all__ = [
    "IMPORT_MAX_BYTES",
    "IMPORT_MAX_ROWS",
    "ImportAction",
    "ImportFileError",
    "ImportPlan",
    "ImportRefused",
    "ImportResult",
    "OneTimePassword",
    "apply_import_plan",
    "build_import_plan",
    "import_template_sheets",
    "one_time_passwords_sheet",
    "plan_import_file",
    "read_import_workbook",
    "write_import_template",
]
