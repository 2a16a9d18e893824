"""/health/: 200 with every service up, 503 with one really down, JSON without secrets or cookies."""

import json

import pytest
from django.urls import reverse

from tests.security_redis import free_port, redis_cache_settings, redis_server, shared_redis  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


def health(client):
    return client.get(reverse("health"))


def test_all_up_on_the_embedded_defaults(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = health(client)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "storage": "ok"},
    }


def test_no_sign_in_no_session_no_cookie_and_not_cached(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = health(client)

    assert response.status_code == 200  # not a redirect to the sign-in page
    assert not response.cookies
    assert "no-cache" in response["Cache-Control"]


def test_the_probe_object_is_gone_from_the_storage(client, settings, private_media):
    settings.CELERY_BROKER_URL = ""
    assert health(client).status_code == 200

    left = [path for path in private_media.rglob("*") if path.is_file()]
    assert left == []


def test_a_broker_that_does_not_answer_is_a_503_without_its_address(client, settings):
    port = free_port()  # nothing listens there
    settings.CELERY_BROKER_URL = f"redis://:s3cret-broker-password@127.0.0.1:{port}/0"
    response = health(client)

    assert response.status_code == 503
    body = json.loads(response.content)
    assert body == {
        "status": "error",
        "checks": {"database": "ok", "cache": "ok", "broker": "error", "storage": "ok"},
    }
    assert "s3cret" not in response.content.decode()
    assert str(port) not in response.content.decode()


def test_a_cache_that_does_not_answer_is_a_503(client, settings):
    settings.CELERY_BROKER_URL = ""
    settings.CACHES = redis_cache_settings(f"redis://127.0.0.1:{free_port()}/0")
    response = health(client)

    assert response.status_code == 503
    assert json.loads(response.content)["checks"] == {"database": "ok", "cache": "error", "storage": "ok"}


def test_a_disk_that_cannot_be_written_is_a_503(client, settings, tmp_path, local_storage):
    settings.CELERY_BROKER_URL = ""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = str(blocked)
    response = health(client)

    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["storage"] == "error"


def test_an_object_store_that_does_not_answer_is_a_503(client, settings):
    from botocore.config import Config

    settings.CELERY_BROKER_URL = ""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "endpoint_url": f"http://127.0.0.1:{free_port()}",  # nothing listens there
                "bucket_name": "nowhere",
                "access_key": "key",
                "secret_key": "secret",
                "region_name": "us-east-1",
                "client_config": Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1}),
            },
        },
    }
    response = health(client)

    assert response.status_code == 503
    assert json.loads(response.content)["checks"] == {"database": "ok", "cache": "ok", "storage": "error"}


def test_with_a_real_redis_up_then_killed(client, settings, redis_server):  # noqa: F811 - the fixture
    """Cache and broker on a redis-server of the test's own: 200 while it runs, 503 once killed."""
    settings.CACHES = redis_cache_settings(redis_server.url)
    settings.CELERY_BROKER_URL = redis_server.url

    up = health(client)
    assert up.status_code == 200, up.content
    assert json.loads(up.content) == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok", "storage": "ok"},
    }

    redis_server.stop()
    down = health(client)

    assert down.status_code == 503
    assert json.loads(down.content) == {
        "status": "error",
        "checks": {"database": "ok", "cache": "error", "broker": "error", "storage": "ok"},
    }


def test_the_shared_redis_cache_answers(client, settings, shared_redis):  # noqa: F811 - the fixture
    settings.CELERY_BROKER_URL = shared_redis
    response = health(client)

    assert response.status_code == 200
    assert json.loads(response.content)["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "storage": "ok",
    }


def test_a_post_is_refused(client):
    assert client.post(reverse("health")).status_code == 405


def test_one_redis_client_serves_every_call_of_a_process(settings, shared_redis):  # noqa: F811 - the fixture
    from django.core.cache import caches

    cache = caches.create_connection("default")
    cache.set("shared-client-probe", {"n": 1}, 30)
    assert cache.get("shared-client-probe") == {"n": 1}
    assert cache.get_many(["shared-client-probe", "absent"]) == {"shared-client-probe": {"n": 1}}
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client  # one server: one pool, one client
    assert client.ping()
