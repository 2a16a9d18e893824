"""Evidence files (佐证材料): what may be uploaded, and who may read an assessment and its files.

Uploads are judged by their content, never by the name or the browser's content type: the
first bytes are sniffed with libmagic, Office Open XML files (which are ZIP archives) are
opened to look for the part that makes them a Word or Excel document, and legacy Office
files (OLE compound files) for the stream that makes them one. The extension must then
agree with what the content is, so a web page renamed ``x.pdf`` is refused, and the stored
file keeps a matching suffix under a random name (``Evidence.file``'s ``upload_to``).
"""

import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import magic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from branches.archives import check_archive

# What libmagic needs to tell the types apart; OOXML needs the central directory anyway.
SNIFF_BYTES = 8192
MAX_NAME_LENGTH = 200
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class FileKind:
    key: str
    label: str
    content_type: str
    extensions: tuple[str, ...]


PDF = FileKind("pdf", "PDF", "application/pdf", (".pdf",))
JPEG = FileKind("jpeg", "JPEG", "image/jpeg", (".jpg", ".jpeg"))
PNG = FileKind("png", "PNG", "image/png", (".png",))
DOCX = FileKind(
    "docx",
    "Word (.docx)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
DOC = FileKind("doc", "Word (.doc)", "application/msword", (".doc",))
XLSX = FileKind(
    "xlsx",
    "Excel (.xlsx)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    (".xlsx",),
)
XLS = FileKind("xls", "Excel (.xls)", "application/vnd.ms-excel", (".xls",))

KINDS: tuple[FileKind, ...] = (PDF, JPEG, PNG, DOCX, DOC, XLSX, XLS)
KIND_BY_EXTENSION: dict[str, FileKind] = {ext: kind for kind in KINDS for ext in kind.extensions}
ACCEPT_ATTRIBUTE = ",".join(KIND_BY_EXTENSION)

_SIMPLE_MIME_KINDS = {"application/pdf": PDF, "image/jpeg": JPEG, "image/png": PNG}
# libmagic names a ZIP by its first entry: OOXML when [Content_Types].xml comes first, plain
# ZIP (or nothing useful) otherwise; the members decide either way.
_ZIP_MIMES = {
    "application/zip",
    "application/x-zip-compressed",
    "application/octet-stream",
    DOCX.content_type,
    XLSX.content_type,
}
_OLE_MIMES = {
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-office",
    "application/x-ole-storage",
    "application/cdfv2",
    "application/octet-stream",
}
# Names of OLE directory entries are UTF-16LE: the main stream of a Word or Excel file.
_OLE_WORD_STREAM = "WordDocument".encode("utf-16-le")
_OLE_EXCEL_STREAMS = ("Workbook".encode("utf-16-le"), "Book\x00".encode("utf-16-le"))


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check: its display name, real type and size."""

    name: str
    content_type: str
    size: int


def allowed_types_text() -> str:
    return _("PDF, JPEG or PNG images, Word (.doc, .docx) and Excel (.xls, .xlsx) files")


def check_file_name(name: str | None) -> str:
    """The name as given, or ValidationError if it has a path, control characters or no use."""
    if not name or not name.strip():
        raise ValidationError(_("The file has no name."), code="no_name")
    if "/" in name or "\\" in name:
        raise ValidationError(
            _("The file name “%(name)s” contains a folder path; upload the file by its name only.")
            % {"name": _printable(name)},
            code="path_in_name",
        )
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in name):
        raise ValidationError(
            _("The file name “%(name)s” contains control characters; rename the file and try again.")
            % {"name": _printable(name)},
            code="control_characters",
        )
    if name.strip(" .") == "":
        raise ValidationError(_("“%(name)s” is not a usable file name.") % {"name": name}, code="bad_name")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            _("The file name is longer than %(max)d characters; shorten it and try again.")
            % {"max": MAX_NAME_LENGTH},
            code="name_too_long",
        )
    return name


def check_file_count(existing: int) -> None:
    """ValidationError when an item already has ``EVIDENCE_MAX_FILES_PER_ITEM`` files."""
    limit = settings.EVIDENCE_MAX_FILES_PER_ITEM
    if existing >= limit:
        raise ValidationError(
            _("An item may have at most %(max)d files; delete one before adding another.") % {"max": limit},
            code="too_many_files",
        )


def _printable(name: str) -> str:
    # Error messages quote the name; control characters would garble the page or the log.
    return "".join(char if char.isprintable() else "?" for char in name)


def _read_all(uploaded_file: UploadedFile) -> bytes:
    uploaded_file.seek(0)
    data = uploaded_file.read()
    uploaded_file.seek(0)
    return data


def _ooxml_kind(uploaded_file: UploadedFile) -> FileKind | None:
    uploaded_file.seek(0)
    try:
        with zipfile.ZipFile(uploaded_file) as archive:
            # Only the directory is read: nothing is decompressed, so a ZIP bomb costs nothing.
            members = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        uploaded_file.seek(0)
    if "[Content_Types].xml" not in members:
        return None
    # Macro-enabled documents (.docm, .xlsm) carry a vbaProject part; they are not accepted.
    if any(member.endswith("vbaProject.bin") for member in members):
        return None
    if "word/document.xml" in members:
        return DOCX
    if "xl/workbook.xml" in members:
        return XLSX
    return None


def _ole_kind(uploaded_file: UploadedFile) -> FileKind | None:
    # The directory of a compound file can sit anywhere in it, so the whole file is scanned;
    # the size limit was checked before this runs.
    data = _read_all(uploaded_file)
    if not data.startswith(OLE_SIGNATURE):
        return None
    if _OLE_WORD_STREAM in data:
        return DOC
    if any(stream in data for stream in _OLE_EXCEL_STREAMS):
        return XLS
    return None


def sniff(uploaded_file: UploadedFile) -> tuple[FileKind | None, str]:
    """What the content is (one of KINDS, or None) and libmagic's MIME type for the message."""
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    mime = magic.from_buffer(head, mime=True).lower()
    if mime in _SIMPLE_MIME_KINDS:
        return _SIMPLE_MIME_KINDS[mime], mime
    if head.startswith(b"PK\x03\x04") and mime in _ZIP_MIMES:
        return _ooxml_kind(uploaded_file), mime
    if head.startswith(OLE_SIGNATURE) and mime in _OLE_MIMES:
        return _ole_kind(uploaded_file), mime
    return None, mime


def check_upload(uploaded_file: UploadedFile) -> CheckedFile:
    """Every check an evidence file must pass, or ValidationError saying which one failed."""
    name = check_file_name(uploaded_file.name)
    extension = PurePosixPath(name).suffix.lower()
    expected = KIND_BY_EXTENSION.get(extension)
    if expected is None:
        raise ValidationError(
            _("“%(name)s” cannot be attached: only %(types)s are accepted.")
            % {"name": name, "types": allowed_types_text()},
            code="extension",
        )
    size = uploaded_file.size or 0
    if size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name}, code="empty")
    limit = settings.EVIDENCE_MAX_BYTES
    if size > limit:
        raise ValidationError(
            _("“%(name)s” is %(size)s; a file may be at most %(limit)s.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    actual, mime = sniff(uploaded_file)
    if actual is None:
        raise ValidationError(
            _("The content of “%(name)s” is not one of %(types)s (it looks like %(mime)s).")
            % {"name": name, "types": allowed_types_text(), "mime": mime},
            code="content_type",
        )
    if actual in (DOCX, XLSX):
        check_archive(uploaded_file, name)
    if actual != expected:
        raise ValidationError(
            _(
                "“%(name)s” is named like a %(expected)s file but its content is %(actual)s; rename it or choose another file."
            )
            % {"name": name, "expected": expected.label, "actual": actual.label},
            code="extension_mismatch",
        )
    return CheckedFile(name=name, content_type=actual.content_type, size=size)
