"""Uploaded file names as the person's computer sent them, so that an unsafe one is refused.

Django's multipart parser silently drops non-printable characters from an uploaded file's
name: a name with a right-to-left override (U+202E, which makes "报告\u202efdp.docx" read as
"报告xcod.pdf") or another control or bidirectional character would arrive changed and be
stored under a name its owner never gave. Here the parser keeps such characters (it still
keeps only the last part of a path), and the upload checks (``reviews.uploads.check_file_name``)
refuse the file with a message saying why.
"""

import html

from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import ImmutableList


class NameKeepingMultiPartParser(MultiPartParser):
    def sanitize_file_name(self, file_name):
        file_name = html.unescape(file_name)
        file_name = file_name.rsplit("/")[-1]
        file_name = file_name.rsplit("\\")[-1]
        if file_name.strip() in {"", ".", ".."}:
            return None
        return file_name


def parse_keeping_names(request, META, post_data):
    """``HttpRequest.parse_file_upload`` with ``NameKeepingMultiPartParser``."""
    request.upload_handlers = ImmutableList(
        request.upload_handlers,
        warning="You cannot alter upload handlers after the upload has been processed.",
    )
    parser = NameKeepingMultiPartParser(META, post_data, request.upload_handlers, request.encoding)
    return parser.parse()


class KeepUploadNamesMiddleware:
    """Before anything reads ``request.POST``: parse uploads with ``NameKeepingMultiPartParser``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.parse_file_upload = lambda META, post_data: parse_keeping_names(request, META, post_data)
        return self.get_response(request)
