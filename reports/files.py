"""Generated files (bulletins) in the default storage: staged under a temporary key, then published.

Renderers write to a private scratch folder on the machine that renders; the finished file is
then uploaded under a temporary key next to its final name (``.<name>.<random>.part``) and
published in one step: a rename on a local disk, a server-side copy and a delete on S3, which
has no rename. Either way a reader of the final key sees the old file or the whole new one, never
a half file. A process killed before publishing leaves only a temporary key, which the next run
of the same job removes (``remove_temporaries``) while it holds the row lock that says no other
run is busy with the same file.

Everything goes through ``django.core.files.storage.default_storage``, so the worker and every
app server see the same files whether they live in ``MEDIA_ROOT`` or in an S3 bucket.
"""

import os
import posixpath
import secrets
from pathlib import Path

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage

TEMPORARY_SUFFIX = ".part"


def _storage(storage: Storage | None) -> Storage:
    return default_storage if storage is None else storage


def temporary_name(name: str) -> str:
    """A fresh temporary key next to ``name``: ``folder/.<base>.<random>.part``."""
    folder, base = posixpath.split(name)
    return posixpath.join(folder, f".{base}.{secrets.token_hex(8)}{TEMPORARY_SUFFIX}")


def stage_file(local_path: Path, name: str, *, storage: Storage | None = None) -> str:
    """Upload a finished local file under a temporary key for ``name``; returns that key."""
    storage = _storage(storage)
    wanted = temporary_name(name)
    with Path(local_path).open("rb") as handle:
        return storage.save(wanted, File(handle, name=posixpath.basename(wanted)))


def publish_file(temporary: str, name: str, *, storage: Storage | None = None) -> str:
    """Make the staged object the one at ``name`` in one step and drop the temporary key."""
    storage = _storage(storage)
    if isinstance(storage, FileSystemStorage):
        os.replace(storage.path(temporary), storage.path(name))
        return name
    from storages.backends.s3 import S3Storage  # only needed with object storage
    from storages.utils import clean_name

    if isinstance(storage, S3Storage):
        source = storage._normalize_name(clean_name(temporary))
        target = storage.bucket.Object(storage._normalize_name(clean_name(name)))
        # A copy creates the target whole: readers never see a partly written object.
        target.copy_from(CopySource={"Bucket": storage.bucket_name, "Key": source})
        storage.delete(temporary)
        return name
    raise NotImplementedError(f"cannot publish files atomically on {type(storage).__name__}")


def save_generated(local_path: Path, name: str, *, storage: Storage | None = None) -> str:
    """Stage ``local_path`` and publish it at ``name`` (replacing what was there); returns ``name``."""
    storage = _storage(storage)
    temporary = stage_file(local_path, name, storage=storage)
    try:
        return publish_file(temporary, name, storage=storage)
    except BaseException:
        storage.delete(temporary)
        raise


def temporaries(name: str, *, storage: Storage | None = None) -> list[str]:
    """The temporary keys of ``name`` that exist now (left by killed runs, or a live one)."""
    storage = _storage(storage)
    folder, base = posixpath.split(name)
    try:
        _folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    prefix = f".{base}."
    return sorted(
        posixpath.join(folder, file)
        for file in files
        if file.startswith(prefix) and file.endswith(TEMPORARY_SUFFIX)
    )


def remove_temporaries(name: str, *, storage: Storage | None = None) -> list[str]:
    """Delete the temporary keys of ``name``; the caller makes sure no live run owns them."""
    storage = _storage(storage)
    removed = temporaries(name, storage=storage)
    for temporary in removed:
        storage.delete(temporary)
    return removed


def delete_file(name: str, *, storage: Storage | None = None) -> None:
    """Remove a published file if it is there."""
    if name:
        _storage(storage).delete(name)


__all__ = [
    "TEMPORARY_SUFFIX",
    "delete_file",
    "publish_file",
    "remove_temporaries",
    "save_generated",
    "stage_file",
    "temporaries",
    "temporary_name",
]
