"""Backup and restore round-trip the demo: database rows, every stored file, the manifest.

The demo is loaded into the test database with its files in a storage of the test's own; the
backup is taken in this process, then restored by ``manage.py restore`` in another process into
a fresh database (a new SQLite file, or a new PostgreSQL database beside the test one) and a
fresh, empty storage folder. The row count and rows' checksum of every table and the checksum
of every file are then read back from the restored copy and compared. Runs on the database
the suite runs on: SQLite by default, PostgreSQL under CI (DATABASE_URL).
"""

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from home.backup import BackupError, backup, restore, stored_files, table_fingerprints

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)

# What a restored copy holds, read back by a separate process.
READ_BACK = """
import hashlib, json, django
django.setup()
from django.core.files.storage import default_storage
from home.backup import stored_files, table_fingerprints
files = {}
for name in stored_files():
    with default_storage.open(name, "rb") as source:
        files[name] = hashlib.sha256(source.read()).hexdigest()
print(json.dumps({"tables": table_fingerprints(), "files": files}))
"""


@pytest.fixture
def source_storage(settings, tmp_path):
    """The demo's files in a folder of this test's own, through the ordinary storage API."""
    location = tmp_path / "source-media"
    settings.MEDIA_ROOT = location
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location},
        },
    }
    return location


@pytest.fixture
def fresh_database(tmp_path):
    """The URL of a new, empty database of the same kind as the test database."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg2

    db = settings.DATABASES["default"]
    name = f"{db['NAME']}_restore"
    server = {"dbname": "postgres", "user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"]}
    admin = psycopg2.connect(**server, port=db["PORT"] or 5432)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    yield f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def run(database_url: str, media: Path | dict, *arguments: str) -> subprocess.CompletedProcess:
    """A command in another process on that database and an empty storage: a local folder, or
    the S3_* environment of an empty key prefix."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("S3_") and name not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_ENV"}
    }
    env |= {"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env |= media if isinstance(media, dict) else {"MEDIA_ROOT": str(media)}
    return subprocess.run(  # noqa: S603 - our own interpreter and commands
        [sys.executable, *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def files_here() -> dict[str, str]:
    from django.core.files.storage import default_storage

    digests = {}
    for name in stored_files():
        with default_storage.open(name, "rb") as source:
            digests[name] = hashlib.sha256(source.read()).hexdigest()
    return digests


def test_the_demo_round_trips_through_backup_and_restore(source_storage, fresh_database, tmp_path):
    call_command("load_demo", verbosity=0)
    tables, files = table_fingerprints(), files_here()
    assert tables["branches_organization"]["rows"] >= 40 and tables["branches_auditentry"]["rows"] > 0
    assert any(name.endswith(".pdf") for name in files), "the demo's bulletin PDF is a stored file"

    folder = tmp_path / "backup"
    call_command("backup", str(folder), verbosity=0)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["app_version"] and manifest["database"]["vendor"] == connection.vendor
    assert manifest["tables"] == tables
    assert {entry["name"]: entry["sha256"] for entry in manifest["files"]} == files

    media = tmp_path / "restored-media"
    restored = run(fresh_database, media, "manage.py", "restore", str(folder))
    assert restored.returncode == 0, restored.stderr
    read_back = run(fresh_database, media, "-c", READ_BACK)
    assert read_back.returncode == 0, read_back.stderr
    copy = json.loads(read_back.stdout.strip().splitlines()[-1])
    assert copy["tables"] == tables
    assert copy["files"] == files
    assert sorted(str(path.relative_to(media)) for path in media.rglob("*") if path.is_file()) == sorted(
        files
    )

    # Restoring again: the database is no longer empty, and nothing is loaded twice.
    again = run(fresh_database, tmp_path / "other-media", "manage.py", "restore", str(folder))
    assert again.returncode != 0 and "恢复需要一个空数据库" in again.stderr and "migrate" in again.stderr


def test_the_demo_round_trips_through_object_storage(s3_server, settings, fresh_database, tmp_path):
    """The same round trip with the files in an S3 bucket (SeaweedFS), restored under a new prefix."""
    run_id = uuid.uuid4().hex[:12]
    source, target = f"backup-source-{run_id}", f"backup-restored-{run_id}"
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_backend(source)}
    call_command("load_demo", verbosity=0)
    tables, files = table_fingerprints(), files_here()
    assert any(name.endswith(".pdf") for name in files), "the demo's bulletin PDF is a stored file"
    assert s3_server.keys(f"{source}/") == sorted(f"{source}/{name}" for name in files)

    folder = tmp_path / "backup"
    call_command("backup", str(folder), verbosity=0)
    unused = tmp_path / "unused-media"
    bucket = {**s3_server.env(target), "MEDIA_ROOT": str(unused)}
    restored = run(fresh_database, bucket, "manage.py", "restore", str(folder))
    assert restored.returncode == 0, restored.stderr
    read_back = run(fresh_database, bucket, "-c", READ_BACK)
    assert read_back.returncode == 0, read_back.stderr
    assert json.loads(read_back.stdout.strip().splitlines()[-1]) == {"tables": tables, "files": files}
    assert s3_server.keys(f"{target}/") == sorted(f"{target}/{name}" for name in files)
    assert not unused.exists()  # nothing went to the local disk


def test_a_damaged_backup_is_refused_before_anything_is_loaded(source_storage, fresh_database, tmp_path):
    call_command("load_demo", verbosity=0)
    folder = tmp_path / "backup"
    backup(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    damaged = folder / "files" / manifest["files"][0]["name"]
    damaged.write_bytes(damaged.read_bytes() + b"!")
    media = tmp_path / "restored-media"
    refused = run(fresh_database, media, "manage.py", "restore", str(folder))
    assert refused.returncode != 0 and "校验值" in refused.stderr
    assert manifest["files"][0]["name"] in refused.stderr
    empty = run(fresh_database, media, "-c", READ_BACK)
    assert json.loads(empty.stdout.strip().splitlines()[-1]) == {"tables": {}, "files": {}}


def test_restore_refuses_a_database_or_a_storage_that_is_not_empty(source_storage, fresh_database, tmp_path):
    folder = tmp_path / "backup"
    backup(folder)
    with pytest.raises(BackupError, match="恢复需要一个空数据库"):
        restore(folder)  # the test database has its tables
    media = tmp_path / "restored-media"
    (media / "evidence").mkdir(parents=True)
    (media / "evidence" / "left-over.pdf").write_bytes(b"%PDF-")
    refused = run(fresh_database, media, "manage.py", "restore", str(folder))
    assert refused.returncode != 0 and "恢复需要一个空的文件存储" in refused.stderr


def test_backup_wants_a_new_or_empty_folder_and_restore_a_backup(source_storage, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("x")
    with pytest.raises(BackupError, match="不是空目录"):
        backup(tmp_path / "used")
    with pytest.raises(BackupError, match=r"没有 manifest\.json"):
        restore(tmp_path / "used")
