"""Django's Redis cache, with one client per connection pool instead of one per call.

Django builds a new ``redis.Redis`` for every cache call, and each one fills its table of
about 200 reply handlers; a page asks the cache a dozen times (the session, kept pages and
their versions, figures). A ``redis.Redis`` is safe to share between threads: it takes a
connection from its pool for each command.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
