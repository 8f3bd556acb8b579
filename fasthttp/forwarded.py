"""Behind proxies: who the client is, over which scheme and for which host, from ``Forwarded``
(RFC 7239) or ``X-Forwarded-For/-Proto/-Host``, believed only from trusted proxies.

Strategy
--------
A :class:`ProxyTrust` holds the addresses and networks of the proxies in front of the server.
For a request arriving from a trusted peer, :meth:`ProxyTrust.resolve` walks the chain of
addresses the proxies recorded from the right (the hop nearest to us first): each address that
is itself a trusted proxy is passed over, and the first one that is not is the client (if every
one is trusted, the leftmost is). The scheme and host are the ones recorded for that hop (the
proxy that received the request from the client wrote them). ``Forwarded`` wins over the
``X-Forwarded-*`` family when both are present (RFC 7239 §1 standardises the latter's meaning).
A request from an untrusted peer is taken as it is: its forwarding fields are ignored, so a
client cannot claim another address. Pure: no I/O; the engine applies the result per request
through :class:`ForwardedConnection`.

APPSEC: a forwarded host is accepted only as a DNS name or an IP literal with an optional port
(letters, digits, ``.-:[]``), a scheme only as ``http``/``https`` (``ws``/``wss`` map to them),
and a client only as an IP address (or RFC 7239 §6.3's ``unknown`` and obfuscated identifiers,
which end the walk); anything else is ignored.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from .headers import Headers

__all__ = ("ProxyTrust", "Forwarded", "ForwardedConnection", "parse_forwarded", "split_unquoted")

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 7239 §4: forwarded-pair = token "=" value; value = token / quoted-string.
_PAIR = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[!#$%&\'*+.^_`|~0-9A-Za-z:\[\]-]*)\s*')
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


def parse_forwarded(values: Iterable[str]) -> list[dict[str, str]]:
    """The elements of ``Forwarded`` field values (RFC 7239 §4), left to right: one dict of
    lower-cased parameter names to unquoted values per element. A malformed element is an empty
    dict (it keeps its place in the chain)."""
    elements: list[dict[str, str]] = []
    for value in values:
        for element in split_unquoted(value, ","):
            pairs: dict[str, str] = {}
            for pair in split_unquoted(element, ";"):
                if not pair.strip():
                    continue
                m = _PAIR.fullmatch(pair)
                if m is None:
                    pairs = {}
                    break
                v = m.group(2)
                if v.startswith('"'):
                    v = re.sub(r"\\(.)", r"\1", v[1:-1])
                pairs[m.group(1).lower()] = v
            elements.append(pairs)
    return elements


def split_unquoted(text: str, sep: str) -> list[str]:
    """*text* split at *sep* outside quoted strings (RFC 9110 §5.6.4: a backslash quotes the
    next character inside one): the list splitting of ``Forwarded`` and of auth-params."""
    parts = []
    start = 0
    quoted = False
    escaped = False
    for i, c in enumerate(text):
        if escaped:
            escaped = False
        elif c == "\\" and quoted:
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c == sep and not quoted:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _node(value: str) -> tuple[str, int] | None:
    """An RFC 7239 §6 node as ``(host, port)``: an IP address (IPv6 in brackets when it has a
    port), an ``unknown`` or obfuscated (``_x``) identifier with port 0; None if malformed."""
    value = value.strip()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1 :]
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        port = int(rest[1:]) if rest else 0
    elif value.count(":") == 1:
        host, _, p = value.partition(":")
        if not p.isdigit():
            return None
        port = int(p)
    else:
        host, port = value, 0
    if host == "unknown" or (host.startswith("_") and re.fullmatch(r"_[A-Za-z0-9._-]+", host)):
        return host, port
    try:
        return str(ipaddress.ip_address(host)), port
    except ValueError:
        return None


class Forwarded:
    """What the trusted proxies say about a request: ``client`` (``(host, port)``; port 0 when
    not told), ``scheme`` and ``host`` (None when not told)."""

    __slots__ = ("client", "scheme", "host")

    def __init__(self, client: tuple[str, int] | None, scheme: str | None, host: str | None) -> None:
        self.client = client
        self.scheme = scheme
        self.host = host

    def __repr__(self) -> str:
        return f"Forwarded(client={self.client!r}, scheme={self.scheme!r}, host={self.host!r})"


class ProxyTrust:
    """The proxies whose forwarding fields are believed: *allow* is a list (or a comma-separated
    string) of IP addresses and networks (``10.0.0.0/8``), ``*`` for any peer. *unix*: trust a
    peer on an AF_UNIX socket (only a local process can connect there: the proxy)."""

    def __init__(self, allow: str | Iterable[str] = ("127.0.0.1", "::1"), *, unix: bool = True) -> None:
        if isinstance(allow, str):
            allow = [a for a in (p.strip() for p in allow.split(",")) if a]
        self.any = False
        self.networks: list[_Network] = []
        for item in allow:
            if item == "*":
                self.any = True
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or network: {item!r}") from None
        self.unix = unix

    def trusts(self, host: Any) -> bool:
        """Is *host* (an IP address string) a trusted proxy?"""
        if self.any:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in net for net in self.networks)

    def trusts_peer(self, peer: Any) -> bool:
        """Is the connection's peer (a ``peername``) a trusted proxy?"""
        if type(peer) is tuple:
            return self.trusts(peer[0])
        return self.unix  # AF_UNIX: a path or abstract name, or "" for an unnamed peer

    def resolve(self, peer: Any, headers: Headers) -> Forwarded | None:
        """What the proxies say, for a request from *peer* with *headers*; None when *peer* is
        not trusted or no forwarding field is present."""
        if not self.trusts_peer(peer):
            return None
        forwarded = headers.getall("forwarded")
        if forwarded:
            elements = parse_forwarded(forwarded)
            nodes = [e.get("for") for e in elements]
            protos = [e.get("proto") for e in elements]
            hosts = [e.get("host") for e in elements]
        else:
            xff = headers.getall("x-forwarded-for")
            if not xff:
                return None
            nodes = [n.strip() for v in xff for n in v.split(",")]
            protos = _aligned(headers.getall("x-forwarded-proto"), len(nodes))
            hosts = _aligned(headers.getall("x-forwarded-host"), len(nodes))
        index = None
        client = None
        for i in range(len(nodes) - 1, -1, -1):
            raw = nodes[i]
            node = _node(raw) if raw is not None else None
            if node is None:
                break  # a malformed hop: nothing left of it can be believed
            index, client = i, node
            if not self.trusts(node[0]):
                break
        if index is None:
            return None
        proto = protos[index]
        scheme = _SCHEMES.get(proto.strip().lower()) if proto else None
        host = hosts[index]
        if host is not None:
            host = host.strip()
            if not _HOST.fullmatch(host):
                host = None
        return Forwarded(client, scheme, host)


def _aligned(values: list[str], count: int) -> list[str | None]:
    """X-Forwarded-Proto/-Host values per hop of X-Forwarded-For: one each when the counts agree,
    else the last value (the nearest proxy's) for every hop."""
    items = [v.strip() for value in values for v in value.split(",")]
    if len(items) == count:
        return list(items)
    last = items[-1] if items else None
    return [last] * count


class ForwardedConnection:
    """A request's view of its connection with what trusted proxies said applied: ``client``,
    ``is_secure`` (the forwarded scheme) and ``forwarded_host``; everything else is the real
    connection's (its session, peer certificate, transport, ...)."""

    __slots__ = ("connection", "client", "is_secure", "forwarded_host")

    def __init__(self, connection: Any, forwarded: Forwarded) -> None:
        self.connection = connection
        self.client = forwarded.client if forwarded.client is not None else connection.client
        self.is_secure = connection.is_secure if forwarded.scheme is None else forwarded.scheme == "https"
        self.forwarded_host = forwarded.host

    @property
    def session(self) -> dict[str, Any]:
        session: dict[str, Any] = self.connection.session
        return session

    @property
    def peercert(self) -> dict[str, Any] | None:
        cert: dict[str, Any] | None = self.connection.peercert
        return cert

    @property
    def peer_credentials(self) -> Any:
        """The connection's own (a proxy forwards no process credentials)."""
        return self.connection.peer_credentials

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)
