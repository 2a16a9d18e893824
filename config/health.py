"""``/health/`` for load balancers: whether the services a request needs answer.

Checks the database, the cache, the Celery broker (only when ``CELERY_BROKER_URL`` is set)
and the file storage (a tiny object written, read back and deleted through
``default_storage``, whatever backend that is). Answers JSON such as
``{"status": "ok", "checks": {"database": "ok", ...}}``: 200 when all are up, 503 when one
is down. It needs no sign-in, reads no session and sets no cookie; the body names only the
checks, never an address or an error text (those go to the log).
"""

import logging
import secrets
import time

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

BROKER_TIMEOUT = 2  # seconds


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("SELECT 1 did not answer 1")


def check_cache() -> None:
    key = f"health:{secrets.token_hex(8)}"
    value = str(time.time())
    cache.set(key, value, timeout=30)
    try:
        if cache.get(key) != value:
            raise RuntimeError("the cache did not return what was stored")
    finally:
        cache.delete(key)


def check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(
            url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT
        )
        try:
            client.ping()
        finally:
            client.close()
        return
    from kombu import Connection

    with Connection(url, connect_timeout=BROKER_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)


def check_storage() -> None:
    payload = secrets.token_bytes(16)
    name = default_storage.save(f"health/{secrets.token_hex(8)}.bin", ContentFile(payload))
    try:
        with default_storage.open(name, "rb") as stored:
            if stored.read() != payload:
                raise RuntimeError("the storage did not return what was written")
    finally:
        default_storage.delete(name)


def checks() -> dict:
    found = {"database": check_database, "cache": check_cache}
    if settings.CELERY_BROKER_URL:
        found["broker"] = check_broker
    found["storage"] = check_storage
    return found


@never_cache
@require_GET
def health(request):
    results = {}
    for name, check in checks().items():
        try:
            check()
        except Exception:
            logger.exception("Health check %s failed", name)
            results[name] = "error"
        else:
            results[name] = "ok"
    healthy = all(result == "ok" for result in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503
    )
