"""Import organizations and people from an Excel file, as the site's import does.

    manage.py import_org FILE.xlsx [--dry-run] [--actor USERNAME] [--passwords OUT.xlsx]
    manage.py import_org --template FILE.xlsx

Every row with an error is printed (sheet, row, message) and the command exits non-zero;
then nothing is imported. Without ``--actor`` it runs as the system operator, who reaches
every organization; with it, in that person's scope and with their rights. New people's
one-time passwords are written to the ``--passwords`` workbook (required when there are any).
"""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from branches.models import User
from branches.spreadsheets import write_workbook
from directory.imports import (
    ImportPlan,
    ImportRefused,
    apply_import_plan,
    one_time_passwords_sheet,
    plan_import_file,
    write_import_template,
)
from directory.imports.workbook import ORG_SHEET, PEOPLE_SHEET


class Command(BaseCommand):
    help = "Import organizations and people from an .xlsx file (sheets 组织 and 人员), all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="The .xlsx file to import.")
        parser.add_argument("--dry-run", action="store_true", help="Check and count; write nothing.")
        parser.add_argument("--actor", help="Import as this user (their scope and rights).")
        parser.add_argument("--passwords", help="Write new people's one-time passwords to this .xlsx file.")
        parser.add_argument("--template", metavar="FILE", help="Write the empty template to FILE and stop.")

    def handle(self, *args, file=None, dry_run=False, actor=None, passwords=None, template=None, **options):
        if template:
            write_import_template(template)
            self.stdout.write(_("Template written to %(path)s.") % {"path": template})
            return
        if not file:
            raise CommandError(_("Give the .xlsx file to import, or --template FILE."))
        if not Path(file).is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": file})
        user = self._actor(actor)
        plan = plan_import_file(file, actor=user)
        self._report_plan(plan, verbose=options["verbosity"] >= 2)
        if plan.has_errors:
            bad = len(plan.file_errors) + sum(1 for row in plan.rows if row.errors)
            raise CommandError(_("%(count)d rows with errors; nothing was imported.") % {"count": bad})
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
            return
        if plan.new_accounts and not passwords:
            raise CommandError(
                _(
                    "The file creates %(count)d accounts with one-time passwords: give --passwords "
                    "FILE.xlsx to write them to. Nothing was imported."
                )
                % {"count": plan.new_accounts}
            )
        handle = self._open_passwords(passwords) if plan.new_accounts else None
        try:
            result = apply_import_plan(plan, actor=user, file_name=Path(file).name)
        except ImportRefused as refusal:
            self._discard(handle, passwords)
            where = (
                _("Sheet “%(sheet)s”, row %(row)s: ")
                % {"sheet": refusal.row.sheet, "row": refusal.row.number}
                if refusal.row
                else ""
            )
            raise CommandError(f"{where}{refusal.message} " + _("Nothing was imported.")) from None
        except BaseException:
            self._discard(handle, passwords)
            raise
        if handle is not None:
            with handle:
                write_workbook([one_time_passwords_sheet(result.passwords)], handle)
            self.stdout.write(
                _("%(count)d one-time passwords written to %(path)s; hand them over and delete the file.")
                % {"count": len(result.passwords), "path": passwords}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Imported: %(orgs)d organizations created, %(updated)d updated; %(accounts)d accounts created, %(roles)d roles granted."
                )
                % {
                    "orgs": result.organizations_created,
                    "updated": result.organizations_updated,
                    "accounts": result.accounts_created,
                    "roles": result.roles_granted,
                }
            )
            if result.changed_anything
            else _("Nothing to change: the database already holds what the file says.")
        )

    @staticmethod
    def _actor(username: str | None) -> User | None:
        if username is None:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("No active user “%(username)s”.") % {"username": username})
        return user

    @staticmethod
    def _open_passwords(path: str):
        """Create the passwords file now (readable by its owner only), so a bad path fails before the import."""
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandError(
                _("%(path)s already exists; give a new file for the passwords.") % {"path": path}
            ) from None
        except OSError as error:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s") % {"path": path, "error": error.strerror}
            ) from None
        return os.fdopen(descriptor, "wb")

    @staticmethod
    def _discard(handle, path) -> None:
        if handle is not None:
            handle.close()
            Path(path).unlink(missing_ok=True)

    def _report_plan(self, plan: ImportPlan, *, verbose: bool) -> None:
        for message in plan.file_errors:
            self.stderr.write(message)
        for row in plan.rows:
            if row.errors:
                for message in row.errors:
                    self.stderr.write(
                        _("Sheet “%(sheet)s”, row %(row)s: %(message)s")
                        % {"sheet": row.sheet, "row": row.number, "message": message}
                    )
            elif verbose:
                self.stdout.write(
                    f"{row.sheet} {row.number} {row.key}: {row.action_label} {'; '.join(row.notes)}".rstrip()
                )
        if plan.file_errors:
            return
        for sheet, counts in ((ORG_SHEET, plan.organization_counts), (PEOPLE_SHEET, plan.people_counts)):
            self.stdout.write(
                _(
                    "%(sheet)s: %(created)d new, %(updated)d updated, %(unchanged)d unchanged, %(errors)d errors."
                )
                % {
                    "sheet": sheet,
                    "created": counts.created,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                    "errors": counts.errors,
                }
            )
        if plan.new_accounts or plan.new_roles:
            self.stdout.write(
                _("%(accounts)d new accounts, %(roles)d roles to grant.")
                % {"accounts": plan.new_accounts, "roles": plan.new_roles}
            )
