"""manage.py backup DIR: the database, every stored file and a manifest with checksums (home/backup.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from home.backup import BackupError, backup


class Command(BaseCommand):
    help = "Write a backup of the database and of every stored file into a new or empty folder."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="a new or empty folder")

    def handle(self, *args, folder, **options):
        try:
            summary = backup(Path(folder))
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _(
                "Backup written to %(folder)s: %(tables)d tables, %(rows)d rows, %(files)d files (%(bytes)d bytes)."
            )
            % {"folder": folder, **vars(summary)}
        )
