"""The client's cookie jar: stores ``Set-Cookie`` (RFC 6265 §5.2-§5.3), sends ``Cookie`` (§5.4).

Strategy: a list of cookies keyed by (domain, path, name); each response's Set-Cookie values are
parsed leniently as RFC 6265 §5.2 asks of a user agent, then checked against the request's host
(a Domain attribute must domain-match it, §5.3 step 6, and must not be a single label, which
stands for a public suffix, §5.3 step 5) and the jar's *policy* before they are stored. The policy is the seed systems' "cookie policies":

- ``"all"`` (default): every cookie the RFC allows;
- ``"same-host"``: only host-only cookies (a Domain attribute that widens the scope is refused);
- ``"none"``: store nothing;
- any callable ``(cookie, url) -> bool`` deciding per cookie.

Expiry (Max-Age over Expires, §5.3 step 3), Secure (https only) and path matching (§5.1.4)
apply when cookies are sent; longer paths first (§5.4 step 2).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Union

__all__ = ("Cookie", "CookieJar", "CookiePolicy")


@dataclass
class Cookie:
    name: str
    value: str
    domain: str
    path: str = "/"
    host_only: bool = True
    secure: bool = False
    http_only: bool = False
    expires: float | None = None  # a time.time() value; None: a session cookie

    def expired(self, now: float) -> bool:
        return self.expires is not None and self.expires <= now


CookiePolicy = Union[str, Callable[[Cookie, str], bool]]


def _domain_match(host: str, domain: str) -> bool:
    # RFC 6265 §5.1.3
    return host == domain or (host.endswith("." + domain) and not host.replace(".", "").isdigit())


def _path_match(request_path: str, cookie_path: str) -> bool:
    # RFC 6265 §5.1.4
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


def _default_path(path: str) -> str:
    # RFC 6265 §5.1.4: the directory of the request path
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rindex("/")]


class CookieJar:
    """Cookies for a client; see the module docstring for *policy*."""

    def __init__(self, policy: CookiePolicy = "all") -> None:
        if isinstance(policy, str) and policy not in ("all", "same-host", "none"):
            raise ValueError("policy is 'all', 'same-host', 'none' or a callable")
        self.policy = policy
        self._cookies: dict[tuple[str, str, str], Cookie] = {}

    def __len__(self) -> int:
        return len(self._cookies)

    def __iter__(self):
        return iter(list(self._cookies.values()))

    def get(self, name: str, domain: str | None = None) -> str | None:
        """The value of the first stored cookie called *name* (on *domain*), or None."""
        for c in self._cookies.values():
            if c.name == name and (domain is None or c.domain == domain):
                return c.value
        return None

    def set(self, name: str, value: str, domain: str, path: str = "/") -> None:
        """Store a cookie by hand (host-only on *domain*)."""
        self._cookies[(domain, path, name)] = Cookie(name, value, domain.lower(), path)

    def clear(self) -> None:
        self._cookies.clear()

    def extract(self, url: str, scheme: str, host: str, path: str, set_cookies: list[str]) -> None:
        """Store the cookies of a response to *url* (its Set-Cookie values), as policy allows."""
        if self.policy == "none":
            return
        now = time.time()
        host = host.lower()
        for line in set_cookies:
            cookie = self._parse(line, host, path, now)
            if cookie is None:
                continue
            if self.policy == "same-host" and not cookie.host_only:
                continue
            if callable(self.policy) and not self.policy(cookie, url):
                continue
            if cookie.secure and scheme != "https":
                continue  # RFC 6265bis §5.7 step 8: only a secure origin sets a Secure cookie
            if scheme != "https" and self._shadows_secure(cookie):
                continue
            key = (cookie.domain, cookie.path, cookie.name)
            if cookie.expired(now):
                self._cookies.pop(key, None)  # an expiry in the past deletes (§5.3 step 11)
            else:
                self._cookies[key] = cookie

    def _shadows_secure(self, cookie: Cookie) -> bool:
        """RFC 6265bis §5.7 step 16: a cookie from a plain-HTTP response is ignored when a
        Secure cookie of the same name covers it (domains matching either way, its path under
        the stored one). APPSEC: else anyone on the path of a plain request could replace an
        https session cookie with one of their choosing (session fixation)."""
        for c in self._cookies.values():
            if c.secure and c.name == cookie.name and _path_match(cookie.path, c.path):
                if _domain_match(cookie.domain, c.domain) or _domain_match(c.domain, cookie.domain):
                    return True
        return False

    def header(self, scheme: str, host: str, path: str) -> str | None:
        """The ``Cookie`` value for a request, or None (RFC 6265 §5.4)."""
        if not self._cookies:
            return None
        now = time.time()
        host = host.lower()
        chosen = []
        for key, c in list(self._cookies.items()):
            if c.expired(now):
                del self._cookies[key]
                continue
            if (host == c.domain) if c.host_only else _domain_match(host, c.domain):
                if _path_match(path, c.path) and (scheme == "https" or not c.secure):
                    chosen.append(c)
        if not chosen:
            return None
        chosen.sort(key=lambda c: -len(c.path))
        return "; ".join(f"{c.name}={c.value}" for c in chosen)

    @staticmethod
    def _parse(line: str, host: str, request_path: str, now: float) -> Cookie | None:
        # RFC 6265 §5.2: name=value, then attributes; unknown attributes are ignored.
        pair, *attrs = line.split(";")
        name, eq, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name:
            return None
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookie = Cookie(name, value, host, _default_path(request_path))
        max_age = None
        for attr in attrs:
            key, _, val = attr.partition("=")
            key, val = key.strip().lower(), val.strip()
            if key == "domain" and val:
                domain = val.lstrip(".").lower()
                if "." not in domain.strip("."):
                    # §5.3 step 5: a public suffix ("com", "local") is the host's own name
                    # (host-only) or refused. APPSEC: else evil.com's "Domain=com" cookie went
                    # to every .com site the client visits. (No public suffix list: two-label
                    # suffixes such as co.uk are not recognised.)
                    if domain != host:
                        return None
                    continue
                if not _domain_match(host, domain):
                    return None  # §5.3 step 6: a Domain that does not cover the host
                cookie.domain, cookie.host_only = domain, False
            elif key == "path" and val.startswith("/"):
                cookie.path = val
            elif key == "secure":
                cookie.secure = True
            elif key == "httponly":
                cookie.http_only = True
            elif key == "max-age":
                try:
                    max_age = int(val)
                except ValueError:
                    pass
            elif key == "expires" and max_age is None:
                try:
                    cookie.expires = parsedate_to_datetime(val).timestamp()
                except (TypeError, ValueError):
                    pass
        if max_age is not None:  # §5.3 step 3: Max-Age wins over Expires
            cookie.expires = now + max_age if max_age > 0 else 0.0
        return cookie
