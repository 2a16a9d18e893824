"""A real Redis for the tests of the cache, the health check and the rate limits.

The cache tests use a Redis database of their own (``SECURITY_TEST_REDIS_DB``, 3 unless set),
flushed before use, on the server of ``CI_REDIS_URL``; without a Redis they are skipped, unless
``CI=true``, where they fail. ``redis_server`` starts a server of the test's own on a free port,
which a test may stop to see what happens when Redis goes away.
"""

import os
import shutil
import socket
import subprocess
import time
from urllib.parse import urlsplit

import pytest
import redis

REDIS_DB = int(os.environ.get("SECURITY_TEST_REDIS_DB", "3"))


def skip_or_fail(reason: str):
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: required, not skipped)")
    pytest.skip(reason)


def shared_redis_url() -> str:
    base = urlsplit(os.environ.get("CI_REDIS_URL") or "redis://127.0.0.1:6379/0")
    return f"{base.scheme}://{base.netloc}/{REDIS_DB}"


def redis_cache_settings(url: str) -> dict:
    """CACHES as config/settings.py makes them from CACHE_URL."""
    return {
        "default": {
            "BACKEND": "config.redis_cache.SharedClientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "dangjian-test",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def shared_redis(settings):
    """The cache on the shared Redis (its own database, flushed before and after)."""
    url = shared_redis_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        skip_or_fail(f"no Redis at {url}")
    client.flushdb()
    settings.CACHES = redis_cache_settings(url)
    yield url
    client.flushdb()
    client.close()


class RedisServer:
    def __init__(self, process: subprocess.Popen, port: int):
        self.process = process
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of the test's own on a free port, killed at the end if still running."""
    binary = shutil.which("redis-server")
    if binary is None:
        skip_or_fail("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - the installed redis-server, fixed arguments
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisServer(process, port)
    client = redis.Redis(port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline or process.poll() is not None:
                server.stop()
                pytest.fail("the test's redis-server did not start")
            time.sleep(0.1)
    client.close()
    yield server
    server.stop()
