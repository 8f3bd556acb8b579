"""The PROXY protocol on a listener: read and check the preface, then hand the connection to HTTP.

Strategy: with ``Config.proxy_protocol`` the server's listeners start each connection with a
:class:`ProxyPrefaceProtocol`. It buffers what arrives until :func:`~fasthttp.proxyprotocol.
parse_preface` has a whole preface, within ``header_timeout`` of the connection (one timer per
connection, only on these listeners); a missing, malformed or late preface closes the connection
without a byte of answer (a load balancer speaks the protocol first, or nobody should be talking
to this port). A good one hands the transport to a new :class:`~fasthttp.protocol.HttpProtocol`
whose client is the address the preface carries (``LOCAL``/``UNKNOWN``: the connection's own), and
feeds it the bytes that followed the preface.

APPSEC: the preface's address is believed only from a peer in ``Config.forwarded_allow_ips`` (the
trusted proxies, loopback and AF_UNIX by default, as for ``Forwarded``): anyone who can reach the
port could otherwise claim any client address. From another peer the preface is still required
and consumed, and the connection keeps its own address (as nginx's ``set_real_ip_from`` and
Traefik's ``trustedIPs`` do).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .connections import ConnectionManager
from .forwarded import ProxyTrust
from .protocol import HttpProtocol
from .proxyprotocol import ProxyProtocolError, parse_preface

__all__ = ("ProxyPrefaceProtocol",)

log = logging.getLogger("fasthttp.error")

_MAX_PREFACE = 16 + 65535  # a v2 header with the largest length field


_TRUSTS: dict[str, ProxyTrust] = {}


def _trust(manager: ConnectionManager) -> ProxyTrust:
    """The trusted proxies of *manager*'s config: its own ProxyTrust with ``proxy_headers``,
    else one parsed once per ``forwarded_allow_ips`` value."""
    trust = manager.proxy_trust
    if trust is None:
        allow = manager.config.forwarded_allow_ips
        trust = _TRUSTS.get(allow)
        if trust is None:
            trust = _TRUSTS[allow] = ProxyTrust(allow)
    return trust


class ProxyPrefaceProtocol(asyncio.Protocol):
    """The first protocol of a connection on a PROXY-protocol listener (see the module docstring)."""

    def __init__(self, manager: ConnectionManager) -> None:
        self._manager = manager
        self._transport: Any = None
        self._buffer = b""
        self._timer: asyncio.TimerHandle | None = None
        self._done = False

    def connection_made(self, transport: Any) -> None:
        self._transport = transport
        if self._manager.closed:
            transport.close()
            return
        self._timer = self._manager.loop.call_later(self._manager.config.header_timeout, self._expired)

    def data_received(self, data: bytes) -> None:
        if self._done:
            return
        self._buffer += data
        try:
            result = parse_preface(self._buffer)
        except ProxyProtocolError as exc:
            self._refuse(str(exc))
            return
        if result is None:
            if len(self._buffer) >= _MAX_PREFACE:  # pragma: no cover - bounded by the length field
                self._refuse("PROXY preface too long")
            return
        preface, used = result
        self._finish()
        http = HttpProtocol(self._manager)
        if preface.client is not None and _trust(self._manager).trusts_peer(self._transport.get_extra_info("peername")):
            http.use_client(preface.client)
        transport = self._transport
        transport.set_protocol(http)
        http.connection_made(transport)
        rest = self._buffer[used:]
        self._buffer = b""
        if rest and not http.closed:
            http.data_received(rest)

    def eof_received(self) -> bool | None:
        self._finish()
        return None  # close

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()

    def _finish(self) -> None:
        self._done = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, why: str) -> None:
        self._finish()
        peer = self._transport.get_extra_info("peername")
        log.info("closing a connection from %r: %s", peer, why)
        self._transport.abort()

    def _expired(self) -> None:
        self._timer = None
        if not self._done:
            self._refuse("no PROXY preface in time")
