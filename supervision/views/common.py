"""What the supervision views share: streaming a stored file after the scope check."""

from django.http import FileResponse, Http404


def stream_file(row, *, inline: bool = False) -> FileResponse:
    """A stored upload (photo or evidence), streamed with the headers every download has."""
    try:
        handle = row.file.storage.open(row.file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=not inline, filename=row.original_name, content_type=row.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
