"""Results kept in the shared cache until a table they were read from is written.

Every statement that writes (``INSERT``, ``UPDATE``, ``DELETE``, ``TRUNCATE``) through one of
Django's connections bumps the version of each table it names: when its transaction commits, or
at once outside a transaction. ``kept`` runs ``compute`` while noting every table its statements
read, and keeps the result with those tables' versions. A later call returns the kept result only
while every one of those versions is unchanged, the key (the user, the language, the day…) is the
same and ``KEPT_TTL`` has not passed. So a page part is drawn again after any change of what it
shows, however the change was written (a service, a bulk job, the admin, an import, a worker),
and a change elsewhere (a draft saved by another branch) leaves it kept.

What ``kept`` cannot see, its caller names with ``also``: the tables behind what was already
read before ``compute`` ran (the signed-in user, their roles kept on the request). Results kept by
``cached_figures`` inside ``compute`` carry their own versions over. A connection holding writes
not yet committed never uses nor fills what is kept (it would read its own uncommitted rows).
Without a cache every process shares (``settings.CACHE_FIGURES`` false), or with
``settings.KEEP_PAGES`` false, nothing is kept.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import TypeVar

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import connections
from django.db.backends.signals import connection_created
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.translation import get_language

log = logging.getLogger(__name__)

T = TypeVar("T")

# Kept at most this long (seconds), whatever happens: a time that passes (a public notice that
# ends at 14:00) changes no table, and a change made outside Django (psql) bumps no version.
KEPT_TTL = 120

# A result whose tables changed within this many seconds of being kept is not kept again on
# that request (the next one keeps it): while they change every moment, keeping is only cost.
CHURN_SECONDS = 2

_VERSION_PREFIX = "kept:table:"
_WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
# A table named bare, after a keyword (Django quotes every name; raw SQL may not). Upper and lower
# case spelt out: much faster than re.IGNORECASE on every statement.
_BARE = re.compile(r"(?:FROM|JOIN|INTO|UPDATE|TABLE|from|join|into|update|table)\s+([A-Za-z_]\w*)")


def _known_tables() -> frozenset[str]:
    global _TABLES
    if _TABLES is None:
        _TABLES = frozenset(model._meta.db_table for model in apps.get_models(include_auto_created=True))
    return _TABLES


_TABLES: frozenset[str] | None = None


def tables_named(sql: str) -> set[str]:
    """The product's tables a statement names (quoted as Django writes them, or bare)."""
    return (set(sql.split('"')[1::2]) | set(_BARE.findall(sql))) & _known_tables()


def version_key(table: str) -> str:
    return _VERSION_PREFIX + table


def _bump(tables: Iterable[str]) -> None:
    tables = list(tables)
    if tables:
        now = time.time_ns()
        cache.set_many({version_key(table): now for table in tables}, None)


class CommitBump:
    """The callback a transaction leaves for its commit: bump every table it wrote."""

    def __init__(self):
        self.tables: set[str] = set()

    def __call__(self):
        _bump(self.tables)


def _pending(connection) -> CommitBump | None:
    for _sids, func, _robust in connection.run_on_commit:
        if isinstance(func, CommitBump):
            return func
    return None


def has_uncommitted_writes(connection) -> bool:
    """Whether the connection's open transaction wrote a table (nothing kept may be used)."""
    return connection.in_atomic_block and _pending(connection) is not None


class _Frame:
    """What one ``kept`` computation read: tables (by its statements) and versions (reported)."""

    def __init__(self, tables: Iterable[str] = ()):
        self.tables: set[str] = set(tables)
        self.versions: dict[str, object] = {}


# The ``kept`` computations running now, innermost last.
_reading: ContextVar[tuple[_Frame, ...]] = ContextVar("kept_reading", default=())


def _watch(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    head = sql.lstrip()[:8].upper()
    if head.startswith(_WRITES):
        written = tables_named(sql)
        if written:
            connection = context["connection"]
            if connection.in_atomic_block:
                bump = _pending(connection)
                if bump is None:
                    bump = CommitBump()
                    # robust: the change is committed by then; a failing cache is logged.
                    connection.on_commit(bump, robust=True)
                bump.tables |= written
            else:
                try:
                    _bump(written)
                except Exception:  # the statement is committed; a failing cache is no user's error
                    log.exception("could not bump the versions of %s", sorted(written))
    else:
        frames = _reading.get()
        if frames:
            frames[-1].tables.update(tables_named(sql))
    return result


def watch_connection(connection, **kwargs) -> None:
    """Put the statement watch on a connection (every connection, when it is opened)."""
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _watch)


def install() -> None:
    connection_created.connect(watch_connection, dispatch_uid="kept-watch-statements")
    # Connections opened before the app was ready get the watch now.
    for connection in connections.all(initialized_only=True):
        watch_connection(connection)


@contextmanager
def counted_apart(versions: dict[str, object]):
    """Figures kept under their own version keys (``cached_figures``): the ``kept`` computation
    around them depends on those versions as they were read, not on the tables the figures are
    counted from (a draft saved elsewhere changes no status and leaves them kept)."""
    frames = _reading.get()
    if not frames:
        yield
        return
    frames[-1].versions.update(versions)
    token = _reading.set((*frames, _Frame()))
    try:
        yield
    finally:
        _reading.reset(token)


def kept(
    name: str,
    key: Iterable,
    compute: Callable[[], T],
    *,
    also: Iterable[str] = (),
    keep: Callable[[T], bool] = lambda value: True,
) -> T:
    """``compute()``, or what it returned before for the same ``name`` and ``key`` (literal
    values) while no table it read (nor one of ``also``) has been written since.

    The versions are read before ``compute`` runs, for the tables ``name`` was seen to read
    before: a change committed while it runs leaves a newer version, and the result is kept
    under the older one, which nobody asks for any more. A computation that reads a table this
    process has not seen it read before is returned but not kept; the next one is, the table
    now known. One look-up asks for the kept result and those versions together.
    """
    connection = connections["default"]
    if not settings.KEEP_PAGES or has_uncommitted_writes(connection):
        return _uncached(compute, also)
    digest = hashlib.sha256(repr((name, tuple(key))).encode()).hexdigest()[:32]
    entry_key = f"kept:{name}:{digest}"
    known = _LEARNT.get(name, frozenset()) | frozenset(also)
    try:
        found = cache.get_many([entry_key, *(version_key(t) for t in known)])
        entry = found.pop(entry_key, None)
        churning = False
        if entry is not None:
            versions, value, stored_at = entry
            missing = [k for k in versions if k not in found]
            current = {**found, **(cache.get_many(missing) if missing else {})}
            if all(current.get(k) == v for k, v in versions.items()):
                _report(versions)
                return value
            # Kept a moment ago and changed already (a deadline rush): not kept again at once.
            churning = time.time() - stored_at < CHURN_SECONDS
        before = _versions_of(known, found)
    except Exception:  # a cache that fails costs speed, never the page
        log.warning("the cache failed; %s drawn without it", name, exc_info=True)
        return _uncached(compute, also)
    frame = _Frame(also)
    token = _reading.set((*_reading.get(), frame))
    try:
        value = compute()
    finally:
        _reading.reset(token)
    versions = {version_key(t): before.get(version_key(t)) for t in frame.tables}
    versions.update(frame.versions)
    _report(versions)
    if not frame.tables <= known:
        _LEARNT[name] = known | frame.tables
    elif not churning and keep(value) and not has_uncommitted_writes(connection):
        try:
            cache.set(entry_key, (versions, value, time.time()), KEPT_TTL)
        except Exception:
            log.warning("the cache failed; %s not kept", name, exc_info=True)
    return value


# The tables each kept computation was seen to read, in this process (learnt on first use).
_LEARNT: dict[str, frozenset[str]] = {}


def _uncached(compute: Callable[[], T], also: Iterable[str]) -> T:
    """``compute()`` with nothing kept; an enclosing ``kept`` still notes its tables."""
    frames = _reading.get()
    if frames:
        frames[-1].tables.update(also)
    return compute()


def _versions_of(tables: Iterable[str], found: dict[str, object]) -> dict[str, object]:
    """The current version of each table (from ``found``), one given now to a table that has
    none yet (so an entry never rests on a version that is merely absent, which an evicted key
    also is)."""
    for key in (version_key(t) for t in tables):
        if key not in found:
            cache.add(key, time.time_ns(), None)
            found[key] = cache.get(key)
    return found


def _report(versions: dict[str, object]) -> None:
    """An enclosing computation holds only while what this one read holds."""
    frames = _reading.get()
    if frames:
        frames[-1].versions.update(versions)


# ---------------------------------------------------------------------------- whole pages

# The hidden field ``{% csrf_token %}`` writes: the token is the request's own, so a kept page
# keeps a mark in its place and each request gets its own token put back.
_TOKEN_FIELD = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
TOKEN_MARK = "csrf-token-of-this-request"  # noqa: S105 - a mark, not a secret
# Read before a view runs: the signed-in user and their roles (kept on the request).
READ_BEFORE_VIEWS = ("branches_user", "branches_roleassignment", "branches_organization")


def redraw_pages() -> None:
    """Let every kept page go (each is drawn again at its next request): the versions of the
    tables every page reads first are bumped, as a change of one of them does."""
    _bump(READ_BEFORE_VIEWS)


def kept_page(view):
    """Keep a read-only page's HTML per user, language, address and day until a table it was
    drawn from is written (``kept``). Only a plain answer is kept: 200, HTML, no message shown
    on it (a message is shown once), none set by the view."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = getattr(request, "user", None)
        if (
            request.method != "GET"
            or user is None
            or not user.is_authenticated
            or len(messages.get_messages(request))
        ):
            return view(request, *args, **kwargs)
        answered = []

        def draw():
            response = view(request, *args, **kwargs)
            answered.append(response)
            if (
                response.status_code != 200
                or getattr(response, "streaming", False)
                or not response.get("Content-Type", "").startswith("text/html")
                or len(messages.get_messages(request))
            ):
                return None
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return _TOKEN_FIELD.sub(rf"\g<1>{TOKEN_MARK}\g<2>", response.content.decode())

        # One name per view: each learns the tables of its own page.
        name = "page:" + (request.resolver_match.view_name if request.resolver_match else view.__qualname__)
        key = (user.pk, get_language(), request.get_full_path(), timezone.localdate().isoformat())
        html = kept(name, key, draw, also=READ_BEFORE_VIEWS, keep=lambda value: value is not None)
        if html is None:
            return answered[0]
        if answered:  # drawn by this request: its own answer, headers and all
            return answered[0]
        return HttpResponse(html.replace(TOKEN_MARK, get_token(request)))

    return wrapper
