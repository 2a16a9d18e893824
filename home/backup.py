"""Backup and restore of the whole product: the database, every stored file, a manifest.

A backup folder holds
  database.pgdump or database.sqlite3   pg_dump's custom format (one consistent snapshot) on
                                        PostgreSQL; SQLite's online backup API on SQLite
  files/…                               every file of the default storage, read through
                                        Django's storage API (local disk or S3 alike)
  manifest.json                         what is there, with SHA-256 checksums, the row count and
                                        a checksum of the rows of every table, the app version

``restore`` refuses unless the database has no table and the storage no file, verifies every
checksum before it loads anything, and checks the row counts and table checksums once loaded.
"""

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection
from django.utils.translation import gettext as _

MANIFEST = "manifest.json"
FILES = "files"
FORMAT = 1
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


@dataclass(frozen=True)
class Summary:
    tables: int
    rows: int
    files: int
    bytes: int


def app_version() -> str:
    with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as source:
        return tomllib.load(source)["project"]["version"]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- The database ------------------------------------------------------------------------------


def _vendor() -> str:
    if connection.vendor not in {"postgresql", "sqlite"}:
        raise BackupError(
            _("Backups support PostgreSQL and SQLite, not %(vendor)s.") % {"vendor": connection.vendor}
        )
    return connection.vendor


def table_names() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def table_fingerprints() -> dict[str, dict]:
    """Per table: the row count and an MD5 of its rows in primary-key order."""
    quote = connection.ops.quote_name
    result = {}
    with connection.cursor() as cursor:
        for table in table_names():
            columns = [
                column.name for column in connection.introspection.get_table_description(cursor, table)
            ]
            keys = connection.introspection.get_primary_key_columns(cursor, table) or columns
            order = ", ".join(quote(name) for name in keys)
            cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {order}")  # noqa: S608 - introspected names
            digest, count = hashlib.md5(usedforsecurity=False), 0
            while rows := cursor.fetchmany(2000):
                for row in rows:
                    values = tuple(bytes(value) if isinstance(value, memoryview) else value for value in row)
                    digest.update(repr(values).encode("utf-8"))
                    count += 1
            result[table] = {"rows": count, "md5": digest.hexdigest()}
    return result


def _pg_environment() -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore connection options, the password in the environment only."""
    db = settings.DATABASES["default"]
    options = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        options += ["--host", db["HOST"]]
    if db.get("PORT"):
        options += ["--port", str(db["PORT"])]
    if db.get("USER"):
        options += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return options, env


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            _("%(program)s is missing: install the PostgreSQL client tools (postgresql-client).")
            % {"program": command[0]}
        )
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(
            _("%(program)s failed: %(error)s") % {"program": command[0], "error": done.stderr.strip()[-2000:]}
        )


def _dump_database(folder: Path) -> str:
    if _vendor() == "postgresql":
        target = folder / "database.pgdump"
        options, env = _pg_environment()
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(target), *options],
            env,
        )
    else:
        target = folder / "database.sqlite3"
        connection.ensure_connection()
        copy = sqlite3.connect(target)
        try:
            connection.connection.backup(copy)  # a consistent copy, even while others write
        finally:
            copy.close()
    return target.name


def _load_database(path: Path) -> None:
    if _vendor() == "postgresql":
        options, env = _pg_environment()
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *options, str(path)], env)
    else:
        connection.ensure_connection()
        source = sqlite3.connect(path)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    connection.close()  # the next query sees the loaded tables


# --- The stored files --------------------------------------------------------------------------


def stored_files(storage=None, folder: str = "") -> list[str]:
    """Every file name of the storage, walked through its own listdir."""
    storage = storage or default_storage
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    names = [str(PurePosixPath(folder) / name) if folder else name for name in files]
    for directory in directories:
        names += stored_files(storage, str(PurePosixPath(folder) / directory) if folder else directory)
    return sorted(names)


def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(_("Unsafe file name in the manifest: %(name)s") % {"name": name})
    return path


# --- Backup and restore ------------------------------------------------------------------------


def backup(folder: Path) -> Summary:
    """Write the database, every stored file and the manifest into ``folder`` (new or empty)."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(_("%(folder)s is not empty: give a new or empty folder.") % {"folder": folder})
    folder.mkdir(parents=True, exist_ok=True)
    database = _dump_database(folder)
    tables = table_fingerprints()
    files = []
    for name in stored_files():
        target = folder / FILES / _safe_relative(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as source, open(target, "wb") as copy:
            shutil.copyfileobj(source, copy, CHUNK)
        files.append({"name": name, "size": target.stat().st_size, "sha256": sha256_of(target)})
    manifest = {
        "format": FORMAT,
        "app_version": app_version(),
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": {"vendor": connection.vendor, "file": database, "sha256": sha256_of(folder / database)},
        "tables": tables,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return Summary(
        tables=len(tables),
        rows=sum(table["rows"] for table in tables.values()),
        files=len(files),
        bytes=sum(entry["size"] for entry in files),
    )


def read_manifest(folder: Path) -> dict:
    """The manifest, once every checksum it lists is verified."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            _("%(folder)s holds no manifest.json: it is not a backup.") % {"folder": folder}
        ) from None
    except ValueError:
        raise BackupError(_("manifest.json in %(folder)s is damaged.") % {"folder": folder}) from None
    if manifest.get("format") != FORMAT:
        raise BackupError(_("This backup's format is not one this version can read."))
    database = manifest["database"]
    _verify(folder / _safe_relative(database["file"]), database["sha256"])
    for entry in manifest["files"]:
        _verify(folder / FILES / _safe_relative(entry["name"]), entry["sha256"])
    return manifest


def _verify(path: Path, expected: str) -> None:
    if not path.is_file():
        raise BackupError(_("%(file)s is missing from the backup.") % {"file": path})
    if sha256_of(path) != expected:
        raise BackupError(_("%(file)s does not match its checksum: the backup is damaged.") % {"file": path})


def restore(folder: Path) -> Summary:
    """Load a backup into an empty database and an empty storage, then check what was loaded."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest["database"]["vendor"] != _vendor():
        raise BackupError(
            _("The backup is of a %(backup)s database; this one is %(here)s.")
            % {"backup": manifest["database"]["vendor"], "here": connection.vendor}
        )
    if tables := table_names():
        raise BackupError(
            _(
                "The database already has %(count)d tables: restore needs an empty database "
                "(create a new one, and do not run migrate before restoring)."
            )
            % {"count": len(tables)}
        )
    if existing := stored_files():
        raise BackupError(
            _("The file storage already holds %(count)d files: restore needs an empty storage.")
            % {"count": len(existing)}
        )
    _load_database(folder / manifest["database"]["file"])
    for entry in manifest["files"]:
        with open(folder / FILES / _safe_relative(entry["name"]), "rb") as source:
            saved = default_storage.save(entry["name"], File(source))
        if saved != entry["name"]:
            raise BackupError(_("The storage saved %(name)s under another name.") % {"name": entry["name"]})
    loaded = table_fingerprints()
    if loaded != manifest["tables"]:
        differing = sorted(
            name for name in manifest["tables"] | loaded if manifest["tables"].get(name) != loaded.get(name)
        )
        raise BackupError(
            _("The restored tables differ from the backup: %(tables)s") % {"tables": ", ".join(differing)}
        )
    return Summary(
        tables=len(loaded),
        rows=sum(table["rows"] for table in loaded.values()),
        files=len(manifest["files"]),
        bytes=sum(entry["size"] for entry in manifest["files"]),
    )
