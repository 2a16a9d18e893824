"""Counting requests per client address in the cache: the sign-in and verification limits.

The client address is ``REMOTE_ADDR``. Behind a reverse proxy listed in ``TRUSTED_PROXIES``
it is the nearest ``X-Forwarded-For`` entry that is not itself a trusted proxy; the header is
ignored otherwise, so nobody escapes a limit by sending one. django-axes reads the address
through the same function (``AXES_CLIENT_IP_CALLABLE``).

A cache that does not answer never stops anyone from signing in: the count is then skipped
(and logged), and django-axes' lockout per name, which lives in the database, still holds.
"""

import ipaddress
import logging
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)

SIGN_IN = "sign-in"
VERIFY = "verify"


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.strip())
    except ValueError:
        return None


def is_trusted_proxy(address: str) -> bool:
    parsed = _parse(address)
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    return parsed is not None and any(parsed in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The address a request came from, trusting X-Forwarded-For only from a trusted proxy."""
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    if not settings.TRUSTED_PROXIES or not is_trusted_proxy(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed(forwarded):
        if not hop:
            continue
        if _parse(hop) is None:
            # Something the proxy did not write: nothing further left can be trusted.
            return remote
        if not is_trusted_proxy(hop):
            return hop
    return remote


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` counted events per address within ``window`` seconds."""

    scope: str
    limit: int
    window: int

    def key(self, address: str) -> str:
        return f"throttle:{self.scope}:{address}"

    def count(self, address: str) -> int:
        try:
            return int(cache.get(self.key(address)) or 0)
        except Exception:
            logger.exception("The cache did not answer; the %s limit is not applied", self.scope)
            return 0

    def exceeded(self, address: str) -> bool:
        return self.count(address) >= self.limit

    def hit(self, address: str) -> int:
        """Count one event; the window starts with the first one and is not extended by later ones."""
        key = self.key(address)
        try:
            if cache.add(key, 1, timeout=self.window):
                return 1
            try:
                return cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.set(key, 1, timeout=self.window)
                return 1
        except Exception:
            logger.exception("The cache did not answer; the %s event is not counted", self.scope)
            return 0

    def reset(self, address: str) -> None:
        try:
            cache.delete(self.key(address))
        except Exception:
            logger.exception("The cache did not answer; the %s count is not reset", self.scope)


def sign_in_limit() -> Limit:
    return Limit(SIGN_IN, settings.SIGN_IN_ADDRESS_LIMIT, settings.SIGN_IN_ADDRESS_WINDOW)


def verify_limit() -> Limit:
    return Limit(VERIFY, settings.VERIFY_RATE_LIMIT, settings.VERIFY_RATE_WINDOW)
