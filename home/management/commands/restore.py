"""manage.py restore DIR: a backup into an empty database and an empty storage (home/backup.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from home.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup into an empty database and an empty file storage, checksums verified first."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="a folder written by manage.py backup")

    def handle(self, *args, folder, **options):
        try:
            summary = restore(Path(folder))
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _(
                "Restored from %(folder)s: %(tables)d tables, %(rows)d rows, %(files)d files (%(bytes)d bytes), all checked."
            )
            % {"folder": folder, **vars(summary)}
        )
