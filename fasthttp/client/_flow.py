"""What a request is, on the wire and across hops: sans-IO, shared by ``Client`` and ``SyncClient``.

Strategy: one home for everything both clients do that is not I/O (STYLE.md, habit 4). A
:class:`Flow` turns a call (``client.get(url, ...)``) into the first :class:`Prepared` request
(URL resolved against the base URL, params, base headers, cookies, auth, body framing), and,
given each response head, decides the next hop or the end: a redirect (RFC 9110 §15.4, with the
method rewriting of §15.4.2-§15.4.4 and credentials dropped on a cross-origin hop), one retry
with credentials after a 401 challenge (RFC 9110 §11.6.1), or the response to return.
:func:`encode_head` serialises a request head; the configuration types (:class:`Timeouts`,
:class:`Limits`) and :func:`ssl_context` live here too.
"""

from __future__ import annotations

import base64
import codecs
import json as _json
import re
import ssl
from collections.abc import AsyncIterable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union
from urllib.parse import unquote, urlencode, urljoin, urlsplit

from ..errors import TooManyRedirects
from ._auth import Auth, BasicAuth
from ._cookies import CookieJar

__all__ = (
    "Timeouts",
    "Limits",
    "Prepared",
    "Flow",
    "ClientSettings",
    "encode_head",
    "ssl_context",
    "HeadersArg",
    "ParamsArg",
    "IDEMPOTENT",
    "field_pairs",
    "proxy_authorization",
    "charset_of",
    "json_content",
    "split_url",
    "connect_head",
)

HeadersArg = Union[Mapping[str, str], Iterable[tuple[str, str]], None]
ParamsArg = Union[Mapping[str, Any], Iterable[tuple[str, Any]], str, None]
#: RFC 9110 §9.2.2: the methods a client may retry automatically.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_USER_AGENT = "fasthttp-client"
# RFC 9110 §5.5 / §5.6.2: what may not appear in a header we send (response splitting's twin)
# (CR, LF and NUL split or end the field; the other CTLs and DEL are not field-vchar either, and
# our server, like others, refuses a request that carries them)
_BAD_VALUE = frozenset(chr(c) for c in range(32) if c != 9) | {"\x7f"}
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass
class Timeouts:
    """Seconds (None: no limit) for each phase: ``connect`` (TCP, TLS, proxy), ``pool`` (waiting
    for a free connection), ``write`` (each send), ``read`` (each wait for bytes), ``total``
    (the whole call, redirects included)."""

    connect: float | None = 10.0
    read: float | None = 30.0
    write: float | None = 30.0
    pool: float | None = 10.0
    total: float | None = None

    @classmethod
    def of(cls, value: Timeouts | float | None) -> Timeouts:
        if isinstance(value, Timeouts):
            return value
        return cls(value, value, value, value, None)


@dataclass
class Limits:
    """Pool and size limits: ``max_connections`` (total), ``max_per_host`` (per origin),
    ``idle_expiry`` (seconds an idle connection is kept), ``max_response_size`` (content bytes,
    None: no limit), ``max_header_size`` (response head bytes), ``max_idle_per_host`` (idle
    connections kept per origin, None: as many as ``max_per_host``; more are closed on release)."""

    max_connections: int = 100
    max_per_host: int = 20
    idle_expiry: float = 60.0
    max_response_size: int | None = None
    max_header_size: int = 65536
    max_idle_per_host: int | None = None


#: An origin: (scheme, host, port) (RFC 6454 §4).
Origin = tuple[str, str, int]


@dataclass
class Prepared:
    """One request on the wire: where it goes, its head fields and its content."""

    method: str
    url: str
    scheme: str
    host: str
    port: int
    target: str
    headers: list[tuple[str, str]]
    body: bytes | Iterable[bytes] | AsyncIterable[bytes] | None = None
    expect_continue: bool = False
    sent_auth: bool = False
    #: The Host field to send instead of the URL's authority (RFC 9110 §7.2): a reverse proxy
    #: forwards its client's (``fasthttp.proxy``).
    host_header: str | None = None
    #: The length of a streamed (iterator) body, sent with Content-Length instead of chunked
    #: coding (RFC 9112 §6.2); the pieces must add up to it exactly.
    content_length: int | None = None

    @property
    def origin(self) -> Origin:
        return (self.scheme, self.host, self.port)

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


def ssl_context(verify: bool | str | ssl.SSLContext = True, cert: str | tuple[str, str] | None = None) -> ssl.SSLContext:
    """A client TLS context: certificates and host names verified unless *verify* is False; a str
    is a CA file (or directory) to trust instead of the system's; *cert* a client certificate
    (a PEM file with the key, or ``(certfile, keyfile)``)."""
    if isinstance(verify, ssl.SSLContext):
        ctx = verify
    elif verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        import os

        ctx = ssl.create_default_context(capath=verify) if os.path.isdir(verify) else ssl.create_default_context(cafile=verify)
    else:
        ctx = ssl.create_default_context()
    if cert is not None:
        if isinstance(cert, tuple):
            ctx.load_cert_chain(cert[0], cert[1])
        else:
            ctx.load_cert_chain(cert)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def field_pairs(headers: HeadersArg) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = []
    for name, value in items:
        name, value = str(name), str(value)
        if not name or not _TCHAR.issuperset(name):
            raise ValueError(f"invalid header name {name!r}")
        if not _BAD_VALUE.isdisjoint(value):
            raise ValueError(f"invalid header value for {name!r} (a control character)")
        if not value.isascii():
            try:
                value.encode("latin-1")  # RFC 9110 §5.5: field values are octets; we send latin-1
            except UnicodeEncodeError:
                raise ValueError(f"header value for {name!r} is not latin-1: encode it first") from None
        out.append((name, value))
    return out


def _has(headers: list[tuple[str, str]], name: str) -> bool:
    return any(k.lower() == name for k, _ in headers)


def _without(headers: list[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in names]


def encode_head(req: Prepared, length: int | None, chunked: bool) -> bytes:
    """The request head (RFC 9112 §3): request-line, Host first (RFC 9110 §7.2), the fields,
    then the framing of the content (Content-Length or chunked, §6)."""
    host = req.host_header
    if host is None:
        host = req.host if ":" not in req.host else f"[{req.host}]"
        if req.port != _DEFAULT_PORTS.get(req.scheme):
            host = f"{host}:{req.port}"
    parts = [f"{req.method} {req.target} HTTP/1.1\r\nHost: {host}\r\n"]
    for name, value in req.headers:
        parts.append(f"{name}: {value}\r\n")
    if chunked:
        parts.append("Transfer-Encoding: chunked\r\n")
    elif length is not None and (length or req.method in ("POST", "PUT", "PATCH")):
        parts.append(f"Content-Length: {length}\r\n")
    if req.expect_continue:
        parts.append("Expect: 100-continue\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("latin-1")


_SPLIT_CACHE: dict[str, tuple[str, str, int, str]] = {}


def connect_head(host: str, port: int, proxy_auth: str | None) -> bytes:
    """The CONNECT request that opens a tunnel to ``host:port`` through a proxy (RFC 9110
    §9.3.6: authority-form target, RFC 9112 §3.2.3), with the proxy's credentials if any."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    head = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
    if proxy_auth:
        head += f"Proxy-Authorization: {proxy_auth}\r\n"
    return (head + "\r\n").encode("latin-1")


def split_url(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, target)`` of an absolute http(s) URL; ValueError otherwise."""
    # PERF: clients call the same URLs again and again (benchmarks/clientbench.py); a bounded
    # cache of the results skips urlsplit for them.
    hit = _SPLIT_CACHE.get(url)
    if hit is not None:
        return hit
    result = _split_url(url)
    if len(_SPLIT_CACHE) >= 1024:
        _SPLIT_CACHE.clear()
    _SPLIT_CACHE[url] = result
    return result


def _split_url(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = parts.hostname
    if not host:
        raise ValueError(f"URL without a host: {url!r}")
    host = _checked_host(host, url)
    port = parts.port or _DEFAULT_PORTS[scheme]
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    # RFC 3986 §3.5: the fragment is never sent
    for c in target:
        if c <= " " or c == "\x7f":
            raise ValueError(f"invalid character in the URL's path or query: {url!r}")
    return scheme, host, port, target


# RFC 3986 §3.2.2: host = IP-literal / IPv4address / reg-name; reg-name = *( unreserved /
# sub-delims ) here (percent-encoded names are not resolvable names), an IP-literal's inside
# (urlsplit removed the brackets) hex digits, ":" and "." with an optional "%25" zone (RFC 6874).
_REG_NAME = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=-]+")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]+(?:%25[A-Za-z0-9._~-]+)?")


def _checked_host(host: str, url: str) -> str:
    """*host* as the URL's parser gave it, checked: an internationalized name becomes its ASCII
    (IDNA) form; anything else outside RFC 3986's host grammar is a ValueError.

    APPSEC: the name is both what we connect to and the Host field we write; a NUL, CTL or
    space in it would reach the wire (``"a\x00:80"`` went out as ``Host: a\x00:80``) or make
    the resolver and the server see two different hosts (``"evil\x00.example"``)."""
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"invalid host in the URL: {url!r}") from None
    if not (_IPV6.fullmatch(host) if ":" in host else _REG_NAME.fullmatch(host)):
        raise ValueError(f"invalid host in the URL: {url!r}")
    return host


class ClientSettings:
    """What :class:`~fasthttp.client.Client` and :class:`~fasthttp.client.SyncClient` share: the
    per-client defaults of every call (base URL and headers, timeouts, limits, auth, cookies,
    redirects) and the :class:`Flow` of one call built from them. Each client adds its own pool
    and its own I/O (asyncio or blocking sockets)."""

    def __init__(
        self,
        base_url: str | None,
        headers: HeadersArg,
        timeout: Timeouts | float | None,
        limits: Limits | None,
        auth: Auth | tuple[str, str] | None,
        cookies: CookieJar | str | None,
        follow_redirects: bool,
        max_redirects: int,
    ) -> None:
        self.base_url = base_url
        self.headers = field_pairs(headers)
        self.timeouts = Timeouts() if timeout is None else Timeouts.of(timeout)
        self.limits = limits or Limits()
        self.auth = auth
        self.cookies = cookies if isinstance(cookies, CookieJar) or cookies is None else CookieJar(cookies)
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects

    def flow(
        self,
        method: str,
        url: str,
        *,
        headers: HeadersArg,
        params: ParamsArg,
        content: bytes | str | Iterable[bytes] | AsyncIterable[bytes] | None,
        data: Mapping[str, Any] | None,
        json: Any,
        auth: Auth | tuple[str, str] | None,
        follow_redirects: bool | None,
        expect_continue: bool,
        byte_range: tuple[int, int | None] | None,
    ) -> Flow:
        """The :class:`Flow` of one call: its arguments over this client's defaults."""
        return Flow(
            method, url, base_url=self.base_url, base_headers=self.headers, headers=headers, params=params,
            content=content, data=data, json=json, cookies=self.cookies, auth=auth or self.auth,
            follow_redirects=self.follow_redirects if follow_redirects is None else follow_redirects,
            max_redirects=self.max_redirects, expect_continue=expect_continue, byte_range=byte_range,
        )


class Flow:
    """One call's requests, from the first to the response returned (see the module docstring)."""

    def __init__(
        self,
        method: str,
        url: str,
        *,
        base_url: str | None,
        base_headers: list[tuple[str, str]],
        headers: HeadersArg,
        params: ParamsArg,
        content: bytes | str | Iterable[bytes] | AsyncIterable[bytes] | None,
        data: Mapping[str, Any] | None,
        json: Any,
        cookies: CookieJar | None,
        auth: Auth | tuple[str, str] | None,
        follow_redirects: bool,
        max_redirects: int,
        expect_continue: bool,
        byte_range: tuple[int, int | None] | None = None,
    ) -> None:
        # RFC 9110 §9.1: method = token. APPSEC: "GET / HTTP/1.1\r\nX: 1\r\n\r\nGET" went out
        # as written, a second request smuggled into the connection.
        if not method or not _TCHAR.issuperset(method):
            raise ValueError(f"invalid method {method!r} (a token, RFC 9110 §9.1)")
        self.method = method.upper()
        self.cookies = cookies
        self.auth = BasicAuth(*auth) if isinstance(auth, tuple) else auth
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.history: list[Any] = []
        self._auth_retried = False
        if base_url is not None:
            url = urljoin(base_url.rstrip("/") + "/", url.lstrip("/")) if not urlsplit(url).scheme else url
        if params:
            query = params if isinstance(params, str) else urlencode(list(params.items()) if isinstance(params, Mapping) else list(params), doseq=True)
            url += ("&" if "?" in url else "?") + query
        url = url.split("#", 1)[0]
        hdrs = list(base_headers)
        call = field_pairs(headers)
        if call:
            names = {k.lower() for k, _ in call}
            hdrs = [(k, v) for k, v in hdrs if k.lower() not in names] + call
        for name in ("host", "content-length", "transfer-encoding"):
            if _has(hdrs, name):
                raise ValueError(f"{name} is set by the client from the URL and the content")
        body: Any = None
        if json is not None:
            body = _json.dumps(json, separators=(",", ":"), ensure_ascii=False).encode()
            if not _has(hdrs, "content-type"):
                hdrs.append(("Content-Type", "application/json"))
        elif data is not None:
            body = urlencode(list(data.items()), doseq=True).encode()
            if not _has(hdrs, "content-type"):
                hdrs.append(("Content-Type", "application/x-www-form-urlencoded"))
        elif isinstance(content, str):
            body = content.encode()
        elif content is not None:
            body = content
        if byte_range is not None:
            # RFC 9110 §14.2: bytes=first-[last]; a negative first is a suffix range
            first, last = byte_range
            spec = f"{first}" if first < 0 else f"{first}-{'' if last is None else last}"
            hdrs.append(("Range", f"bytes={spec}"))
        self.headers = hdrs
        self.body = body
        self.expect_continue = expect_continue
        self.url = url

    def first(self) -> Prepared:
        return self._prepare(self.method, self.url, self.headers, self.body)

    def _prepare(self, method: str, url: str, headers: list[tuple[str, str]], body: Any) -> Prepared:
        scheme, host, port, target = split_url(url)
        hdrs = list(headers)
        if not _has(hdrs, "user-agent"):
            hdrs.append(("User-Agent", _USER_AGENT))
        if self.cookies is not None and not _has(hdrs, "cookie"):
            value = self.cookies.header(scheme, host, target.split("?", 1)[0])
            if value:
                hdrs.append(("Cookie", value))
        sent_auth = False
        if self.auth is not None and not _has(hdrs, "authorization"):
            value = self.auth.initial(method, target)
            if value:
                hdrs.append(("Authorization", value))
                sent_auth = True
        expect = self.expect_continue and body is not None
        return Prepared(method, url, scheme, host, port, target, hdrs, body, expect, sent_auth)

    def next(self, req: Prepared, status: int, headers: Any, response: Any) -> Prepared | None:
        """The next request after a response with *status* and *headers*, or None: return it.
        *headers* is a Headers view. Stores cookies on the way."""
        if self.cookies is not None:
            set_cookies = headers.getall("set-cookie")
            if set_cookies:
                self.cookies.extract(req.url, req.scheme, req.host, req.path, set_cookies)
        if status == 401 and self.auth is not None and not self._auth_retried:
            self._auth_retried = True
            value = self.auth.retry(req.method, req.target, headers.getall("www-authenticate"))
            if value and _replayable(req.body):
                hdrs = _without(req.headers, "authorization") + [("Authorization", value)]
                return Prepared(req.method, req.url, req.scheme, req.host, req.port, req.target, hdrs, req.body, req.expect_continue, True)
            return None
        if status in (301, 302, 303, 307, 308) and self.follow_redirects:
            location = headers.get("location")
            if not location:
                return None
            url = urljoin(req.url, location).split("#", 1)[0]
            try:
                split_url(url)
            except ValueError:
                # A Location we cannot or must not follow (file:, javascript:, a space or a bad
                # host): the 3xx is the answer, as when the content cannot be sent again. Before,
                # the ValueError escaped callers that catch ClientError, whatever the server said.
                return None
            if len(self.history) >= self.max_redirects:
                raise TooManyRedirects(f"more than {self.max_redirects} redirects", self.history + [response])
            self.history.append(response)
            method, body = req.method, req.body
            # the caller's fields again; cookies, auth and User-Agent are recomputed per hop
            hdrs = list(self.headers)
            # RFC 9110 §15.4.4: 303 means GET (HEAD stays HEAD); §15.4.2-§15.4.3: user agents
            # turn a POST into a GET on 301/302 (the historical behaviour the RFC records);
            # 307 and 308 keep the method and the content (§15.4.8, §15.4.9).
            if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                method, body = "GET", None
                hdrs = _without(hdrs, "content-type", "content-encoding", "content-language", "content-location")
            if body is not None and not _replayable(body):
                return None  # a stream already sent cannot be sent again: the 3xx is the answer
            new = urlsplit(url)
            old = urlsplit(req.url)
            if (new.scheme, new.hostname, new.port) != (old.scheme, old.hostname, old.port):
                # credentials are for the origin they were given to (RFC 9110 §15.4, security)
                hdrs = _without(hdrs, "authorization", "proxy-authorization", "cookie")
                self.auth = None
            self.headers = hdrs
            self._auth_retried = False
            return self._prepare(method, url, hdrs, body)
        return None


def _replayable(body: Any) -> bool:
    return body is None or isinstance(body, (bytes, bytearray, memoryview))


@dataclass
class BatchItem:
    """One request of a batch: ``client.batch([BatchItem("GET", url), ...])``."""

    method: str
    url: str
    kwargs: dict[str, Any] = field(default_factory=dict)

def proxy_authorization(proxy: str) -> str | None:
    """``Proxy-Authorization`` (Basic, RFC 9110 §11.7.2) for the userinfo of a proxy URL, or None."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return None
    creds = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return "Basic " + base64.b64encode(creds).decode()

def json_content(content: bytes) -> Any:
    """``json.loads(content)`` for ``response.json()``: malformed JSON is a ``JSONDecodeError``
    (a ValueError), and so is JSON nested deeper than the interpreter's recursion limit
    (a server's ``[[[[...`` raised RecursionError in the caller)."""
    try:
        return _json.loads(content)
    except RecursionError:
        raise _json.JSONDecodeError("JSON nested too deeply", "", 0) from None


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type value (RFC 9110 §8.3.2), or None."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            # APPSEC: the server names a codec; one Python does not know, or one that is not a
            # text encoding ("hex", "zlib"), raised LookupError in text(), past callers that
            # catch ClientError. Such a charset is as good as none (text() uses UTF-8).
            charset = value.strip('"')
            try:
                if codecs.lookup(charset)._is_text_encoding:
                    return charset
            except LookupError:
                pass
            return None
    return None
