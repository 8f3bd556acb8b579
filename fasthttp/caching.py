"""Caching header fields (RFC 9111): ``Cache-Control`` and ``Expires`` values for responses.

Strategy: plain functions that return ``(name, value)`` fields, to pass in a response's
``headers`` (``Response(body, headers=[cache_control(max_age=60), *expires(60)])``) or to append
to ``response.fields``; each directive is checked as it is written (a negative age, or a
contradictory pair such as ``public`` with ``private``, is a ``ValueError``), so a typo fails
when the code runs, not silently in a cache. ``Expires`` is an IMF-fixdate (``fasthttp.dates``);
``Cache-Control: max-age`` wins over it wherever both are understood (RFC 9111 §5.3), and
:func:`cache_for` sends both for HTTP/1.0 caches.
"""

from __future__ import annotations

import datetime as _dt
import time

from .dates import format_http_date

__all__ = ("cache_control", "expires", "cache_for", "no_store")


def _seconds(name: str, value: int | _dt.timedelta | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        value = int(value.total_seconds())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} is a non-negative number of seconds, not {value!r}")
    return value


def cache_control(
    *,
    max_age: int | _dt.timedelta | None = None,
    s_maxage: int | _dt.timedelta | None = None,
    public: bool = False,
    private: bool = False,
    no_cache: bool = False,
    no_store: bool = False,
    no_transform: bool = False,
    must_revalidate: bool = False,
    proxy_revalidate: bool = False,
    must_understand: bool = False,
    immutable: bool = False,
    stale_while_revalidate: int | _dt.timedelta | None = None,
    stale_if_error: int | _dt.timedelta | None = None,
) -> tuple[str, str]:
    """A ``Cache-Control`` field of the response directives of RFC 9111 §5.2.2 (plus
    ``immutable``, RFC 8246, and ``stale-while-revalidate``/``stale-if-error``, RFC 5861)."""
    if public and private:
        raise ValueError("a response is public or private, not both")
    if no_store and (max_age is not None or s_maxage is not None or immutable):
        raise ValueError("no_store forbids storing: max_age, s_maxage and immutable make no sense with it")
    parts = []
    for flag, name in (
        (public, "public"),
        (private, "private"),
        (no_cache, "no-cache"),
        (no_store, "no-store"),
        (no_transform, "no-transform"),
        (must_revalidate, "must-revalidate"),
        (proxy_revalidate, "proxy-revalidate"),
        (must_understand, "must-understand"),
        (immutable, "immutable"),
    ):
        if flag:
            parts.append(name)
    for value, name in (
        (max_age, "max-age"),
        (s_maxage, "s-maxage"),
        (stale_while_revalidate, "stale-while-revalidate"),
        (stale_if_error, "stale-if-error"),
    ):
        seconds = _seconds(name, value)
        if seconds is not None:
            parts.append(f"{name}={seconds}")
    if not parts:
        raise ValueError("cache_control needs at least one directive")
    return ("Cache-Control", ", ".join(parts))


def expires(when: int | float | _dt.datetime | _dt.timedelta, *, now: float | None = None) -> tuple[str, str]:
    """An ``Expires`` field (RFC 9111 §5.3): *when* is a ``datetime``, or seconds (an int or a
    ``timedelta``) from *now* (default: the current time)."""
    if isinstance(when, _dt.datetime):
        return ("Expires", format_http_date(when))
    seconds = _seconds("expires", when if isinstance(when, _dt.timedelta) else int(when))
    assert seconds is not None
    return ("Expires", format_http_date((time.time() if now is None else now) + seconds))


def cache_for(max_age: int | _dt.timedelta, *, public: bool = True, immutable: bool = False) -> list[tuple[str, str]]:
    """``Cache-Control: public, max-age=N`` and the matching ``Expires`` (for HTTP/1.0 caches)."""
    return [cache_control(max_age=max_age, public=public, immutable=immutable), expires(max_age if isinstance(max_age, _dt.timedelta) else int(max_age))]


def no_store() -> list[tuple[str, str]]:
    """Fields that keep a response out of every cache: ``Cache-Control: no-store`` and, for
    HTTP/1.0 caches, an ``Expires`` in the past (RFC 9111 §5.3: an invalid date means expired)."""
    return [("Cache-Control", "no-store"), ("Expires", "0")]
