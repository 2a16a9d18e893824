"""Refusing ZIP-based uploads (.docx, .xlsx, import workbooks) that would unpack into too much.

Only the archive's directory is read: nothing is decompressed here. The sizes it declares
bind the reader too (Python's ``zipfile`` stops a member at its declared size), so a file
that passes cannot unpack into more than it says. Limits: ``ARCHIVE_MAX_MEMBERS`` members,
``ARCHIVE_MAX_UNPACKED_BYTES`` in all, and ``ARCHIVE_MAX_RATIO`` times the file's own size
(ordinary documents stay far below; a "ZIP bomb" is thousands of times).
"""

import zipfile
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Below this a high ratio is harmless (a tiny file of repeated text), so it is not judged.
RATIO_FLOOR_BYTES = 1024 * 1024


def check_archive(source: IO[bytes], name: str) -> None:
    """ValidationError naming ``name`` when the ZIP ``source`` is past a limit; other files pass."""
    position = source.tell()
    try:
        source.seek(0, 2)
        size = source.tell()
        source.seek(0)
        try:
            with zipfile.ZipFile(source) as archive:
                members = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return  # not an archive: the other checks judge what it is
    finally:
        source.seek(position)
    if len(members) > settings.ARCHIVE_MAX_MEMBERS:
        raise ValidationError(
            _("“%(name)s” holds %(count)s parts; a file may hold at most %(max)s.")
            % {"name": name, "count": f"{len(members):,}", "max": f"{settings.ARCHIVE_MAX_MEMBERS:,}"},
            code="archive_members",
        )
    unpacked = sum(member.file_size for member in members)
    if unpacked > settings.ARCHIVE_MAX_UNPACKED_BYTES:
        raise ValidationError(
            _("“%(name)s” would unpack into %(size)s; a file may unpack into at most %(limit)s.")
            % {
                "name": name,
                "size": filesizeformat(unpacked),
                "limit": filesizeformat(settings.ARCHIVE_MAX_UNPACKED_BYTES),
            },
            code="archive_too_large",
        )
    if unpacked > RATIO_FLOOR_BYTES and unpacked > settings.ARCHIVE_MAX_RATIO * max(size, 1):
        raise ValidationError(
            _(
                "“%(name)s” is compressed more than %(ratio)d times over, which no ordinary document is; "
                "it is refused."
            )
            % {"name": name, "ratio": settings.ARCHIVE_MAX_RATIO},
            code="archive_ratio",
        )
