"""Listeners: bind specs, addresses as URLs, every kind of listening socket (port 0, several
listeners, IPv6 with scope ids, dual stack, AF_UNIX paths and abstract names), and TLS with its
secure defaults and client certificates. Loopback addresses only."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import socket
import ssl
import struct
import sys
import time
import uuid
import warnings

import pytest

from fasthttp import Server
from fasthttp.listeners import ACCEPT_LISTENERS, AcceptBackstop, ListenError, accept_queue_length, accept_listeners, check_port_free, compose_bind, defer_accept, format_address, make_listeners, make_socket, make_ssl_context, parse_bind, send_and_shut

from helpers_engine import hello_app
from helpers_server import Client, ipv6_available, run, serving


# -- bind specs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, family, address",
    [
        ("127.0.0.1:8000", socket.AF_INET, ("127.0.0.1", 8000)),
        ("8000", socket.AF_INET, ("127.0.0.1", 8000)),
        ((("127.0.0.1", 0)), socket.AF_INET, ("127.0.0.1", 0)),
        ("unix:/tmp/x.sock", socket.AF_UNIX, "/tmp/x.sock"),
        ("unix:@name", socket.AF_UNIX, b"\0name"),
        (b"\0name", socket.AF_UNIX, b"\0name"),
        (("::1", 0, 0, 0), socket.AF_INET6, ("::1", 0, 0, 0)),
    ],
)
def test_parse_bind_understands_each_form(spec, family, address):
    assert parse_bind(spec) == (family, address)


def test_parse_bind_resolves_an_ipv6_scope_id():
    index = socket.if_nametoindex("lo")
    family, address = parse_bind("[fe80::1%lo]:8080")
    assert family == socket.AF_INET6
    assert address[0].startswith("fe80::1") and address[1] == 8080 and address[3] == index


@pytest.mark.parametrize("spec", ["nonsense", "::1:80", "[::1]80", "unix:", "127.0.0.1:99999"])
def test_parse_bind_refuses_malformed_specs(spec):
    with pytest.raises(ValueError):
        parse_bind(spec)


def test_format_address_gives_urls_and_unix_names():
    assert format_address(("127.0.0.1", 80)) == "http://127.0.0.1:80"
    assert format_address(("::1", 443, 0, 0), tls=True) == "https://[::1]:443"
    assert format_address("/run/x.sock") == "unix:/run/x.sock"
    assert format_address(b"\0abc") == "unix:@abc"


# -- listeners ------------------------------------------------------------------------------------


def test_port_zero_reports_the_bound_port_and_serves_it(loop):
    async def scenario():
        async with serving(hello_app(), "127.0.0.1:0") as server:
            host, port = server.addresses[0]
            assert host == "127.0.0.1" and port > 0
            assert server.urls == [f"http://127.0.0.1:{port}"]
            client = await Client.connect(server)
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


def test_several_listeners_in_one_server(loop, tmp_path):
    path = str(tmp_path / "s.sock")

    async def scenario():
        async with serving(hello_app(), ["127.0.0.1:0", "127.0.0.1:0", f"unix:{path}"]) as server:
            assert len(server.addresses) == 3 and server.addresses[2] == path
            for address in server.addresses:
                client = await Client.connect(address=address)
                assert (await client.request()).body == b"hello"
                await client.close()
        assert not os.path.exists(path)  # removed on shutdown

    run(loop, scenario())


# -- several listening sockets per TCP address (accept_listeners: issue 17) ------------------------

linux_reuseport = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")), reason="SO_REUSEPORT groups are Linux's"
)


def test_accept_listeners_is_several_on_uvloop_on_linux_else_one():
    group = ACCEPT_LISTENERS if sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT") else 1
    assert accept_listeners(None, uvloop=True) == group
    assert accept_listeners(None, uvloop=False) == 1  # asyncio accepts the whole queue per readiness
    assert accept_listeners(3, uvloop=False) == 3 and accept_listeners(1, uvloop=True) == 1


@linux_reuseport
def test_make_listeners_binds_a_group_of_sockets_on_one_port():
    socks = make_listeners("127.0.0.1:0", 3, backlog=16)
    try:
        assert len(socks) == 3
        port = socks[0].getsockname()[1]
        assert port > 0 and all(s.getsockname() == ("127.0.0.1", port) for s in socks)
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in socks)
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) for s in socks)  # listening
    finally:
        for s in socks:
            s.close()


def test_make_listeners_keeps_one_socket_for_one_listener_and_for_unix(tmp_path):
    (one,) = make_listeners("127.0.0.1:0", 1)
    with one:
        assert not one.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)  # as make_socket binds it
    (unix,) = make_listeners(f"unix:{tmp_path}/s.sock", 4)
    unix.close()


@linux_reuseport
def test_a_group_on_a_served_port_fails_rather_than_joining_it():
    # The probe binds without SO_REUSEPORT, which Linux refuses next to a listening socket, even
    # one of a group: a second server reports the address in use instead of sharing the port.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenError, match="address in use"):
            make_listeners(f"127.0.0.1:{port}", 4)
    group = make_listeners("127.0.0.1:0", 2, backlog=8)
    try:
        port = group[0].getsockname()[1]
        with pytest.raises(ListenError, match="address in use"):
            make_listeners(f"127.0.0.1:{port}", 2, backlog=8)
        # Asked to share the port (reuse_port=True: several processes, fasthttp.workers), it does.
        shared = make_listeners(f"127.0.0.1:{port}", 2, reuse_port=True, backlog=8)
        for s in shared:
            s.close()
    finally:
        for s in group:
            s.close()


@linux_reuseport
def test_a_server_with_several_listeners_serves_every_connection(loop):
    async def scenario():
        async with serving(hello_app(), "127.0.0.1:0", accept_listeners=4) as server:
            assert len(server.sockets) == 4 and len(server.addresses) == 1  # one address
            assert len({s.getsockname() for s in server.sockets}) == 1
            # 64 connections at once, each hashed to one of the four sockets by its address: a
            # socket left unserved would leave its connections unanswered (P(one gets none) ~ 4e-8).
            clients = await asyncio.gather(*(Client.connect(server) for _ in range(64)))
            answers = await asyncio.gather(*(c.request() for c in clients))
            assert all(a.body == b"hello" for a in answers)
            for c in clients:
                await c.close()
            with pytest.raises(ListenError, match="address in use"):
                await Server(hello_app(), server.addresses[0]).start()

    run(loop, scenario())


def test_the_default_listeners_follow_the_loop(loop):
    uvloop = type(loop).__module__.startswith("uvloop")

    async def scenario():
        async with serving(hello_app(), "127.0.0.1:0") as server:
            assert len(server.sockets) == accept_listeners(None, uvloop)
        async with serving(hello_app(), "127.0.0.1:0", accept_listeners=1) as server:
            (sock,) = server.sockets
            assert not sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)

    run(loop, scenario())


@pytest.mark.skipif(not ipv6_available(), reason="no ::1 on this machine")
def test_ipv6_listener_reports_a_4_tuple(loop):
    async def scenario():
        async with serving(hello_app(), "[::1]:0") as server:
            address = server.addresses[0]
            assert len(address) == 4 and address[0] == "::1"
            client = await Client.connect(server)
            resp = await client.request("GET", "/whoami")
            assert "::1" in json.loads(resp.body)["client"]
            await client.close()

    run(loop, scenario())


@pytest.mark.skipif(not ipv6_available(), reason="no ::1 on this machine")
def test_ipv6_listener_with_a_scope_id(loop):
    async def scenario():
        async with serving(hello_app(), ("::1", 0, 0, socket.if_nametoindex("lo"))) as server:
            client = await Client.connect(address=("::1", server.addresses[0][1]))
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


@pytest.mark.skipif(not ipv6_available(), reason="no ::1 on this machine")
def test_dual_stack_listener_serves_ipv4_clients(loop):
    # "[::]" is dual-stack; to stay on loopback the test binds an IPv4-mapped address, which
    # takes the same path (IPV6_V6ONLY off).
    unspecified = make_socket("[::]:0")
    try:
        assert unspecified.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 0
    finally:
        unspecified.close()
    only6 = make_socket("[::1]:0")
    try:
        assert only6.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
    finally:
        only6.close()

    async def scenario():
        async with serving(hello_app(), "[::ffff:127.0.0.1]:0") as server:
            client = await Client.connect(address=("127.0.0.1", server.addresses[0][1]))
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


def test_unix_socket_path(loop, tmp_path):
    path = str(tmp_path / "http.sock")

    async def scenario():
        async with serving(hello_app(), f"unix:{path}") as server:
            assert server.urls == [f"unix:{path}"]
            client = await Client.connect(address=path)
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


def test_linux_abstract_unix_name(loop):
    name = f"fasthttp-test-{uuid.uuid4().hex}"

    async def scenario():
        async with serving(hello_app(), f"unix:@{name}") as server:
            assert server.addresses == [b"\0" + name.encode()]
            assert server.urls == [f"unix:@{name}"]
            client = await Client.connect(address="\0" + name)
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


# -- TLS -----------------------------------------------------------------------------------------


def test_tls_context_has_secure_defaults(tls):
    ctx = make_ssl_context(tls.cert_file, tls.key_file)
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.options & ssl.OP_NO_COMPRESSION
    assert ctx.verify_mode == ssl.CERT_NONE
    assert make_ssl_context(tls.cert_file, tls.key_file, ca_certs=tls.ca_file).verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(ValueError):
        make_ssl_context(tls.cert_file, tls.key_file, client_cert="required")  # no CA to verify with


def test_https_request(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file) as server:
            assert server.urls[0].startswith("https://")
            client = await Client.connect(server, ssl_context=tls.client_context(), server_hostname="localhost")
            resp = await client.request("GET", "/whoami")
            info = json.loads(resp.body)
            assert info["secure"] is True and info["scheme"] == "https" and info["subject"] is None
            await client.close()

    run(loop, scenario())


def test_tls_below_1_2_is_refused(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file) as server:
            # A client that offers only TLS 1.1 (its security level lowered so it really does).
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx = tls.client_context()
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
                ctx.minimum_version = ssl.TLSVersion.TLSv1
                ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            with pytest.raises((ssl.SSLError, ConnectionError)):
                await Client.connect(server, ssl_context=ctx, server_hostname="localhost")

    run(loop, scenario())


def test_required_client_certificate_is_visible_to_the_handler(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file, ca_certs=tls.ca_file) as server:
            client = await Client.connect(server, ssl_context=tls.client_context(with_cert=True), server_hostname="localhost")
            resp = await client.request("GET", "/whoami")
            assert json.loads(resp.body)["subject"]["commonName"] == "test client"
            await client.close()

    run(loop, scenario())


def test_required_client_certificate_missing_is_refused(loop, tls):
    async def scenario():
        async with serving(hello_app(), certfile=tls.cert_file, keyfile=tls.key_file, ca_certs=tls.ca_file) as server:
            # TLS 1.3 reports the refusal after the handshake, at the first read.
            with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
                client = await Client.connect(server, ssl_context=tls.client_context(), server_hostname="localhost")
                try:
                    await client.request()
                finally:
                    client.writer.transport.abort()

    run(loop, scenario())


def test_optional_client_certificate(loop, tls):
    async def scenario():
        async with serving(
            hello_app(), certfile=tls.cert_file, keyfile=tls.key_file, ca_certs=tls.ca_file, client_cert="optional"
        ) as server:
            client = await Client.connect(server, ssl_context=tls.client_context(), server_hostname="localhost")
            assert json.loads((await client.request("GET", "/whoami")).body)["subject"] is None
            await client.close()
            client = await Client.connect(server, ssl_context=tls.client_context(with_cert=True), server_hostname="localhost")
            assert json.loads((await client.request("GET", "/whoami")).body)["subject"]["commonName"] == "test client"
            await client.close()

    run(loop, scenario())


def test_user_ssl_context_is_used_as_given(loop, tls):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls.cert_file, tls.key_file)

    async def scenario():
        async with serving(hello_app(), ssl=ctx) as server:
            client = await Client.connect(server, ssl_context=tls.client_context(), server_hostname="localhost")
            assert (await client.request()).body == b"hello"
            await client.close()

    run(loop, scenario())


# -- newcomers' spellings and errors that say what to do (issue 11) ---------------------------------


@pytest.mark.parametrize(
    "host, port, spec",
    [
        (None, 9000, "127.0.0.1:9000"),
        ("0.0.0.0", None, "0.0.0.0:8000"),
        ("::1", 8001, "[::1]:8001"),
        ("[::]", "8002", "[::]:8002"),
    ],
)
def test_compose_bind(host, port, spec):
    assert compose_bind(host, port) == spec


@pytest.mark.parametrize("port", [70000, "http", -1])
def test_compose_bind_refuses_a_bad_port(port):
    with pytest.raises(ValueError, match="a port is a number"):
        compose_bind("127.0.0.1", port)


def test_a_bind_with_a_scheme_is_refused_with_the_spec_to_write():
    # Before: "write IPv6 addresses in brackets: [http://127.0.0.1]:8000".
    with pytest.raises(ValueError, match=r"a bind has no scheme: write '127.0.0.1:8000'"):
        parse_bind("http://127.0.0.1:8000/")


def test_a_taken_address_names_itself_and_says_what_to_do():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenError) as exc:
            make_socket(f"127.0.0.1:{port}")
    assert exc.value.errno == errno.EADDRINUSE and isinstance(exc.value, OSError)
    assert str(exc.value).startswith(f"address in use: 127.0.0.1:{port} is already served")


def test_check_port_free_sees_sockets_that_share_the_port():
    with make_socket("127.0.0.1:0", reuse_port=True, backlog=8) as held:
        port = held.getsockname()[1]
        make_socket(f"127.0.0.1:{port}", reuse_port=True).close()  # SO_REUSEPORT: it would share
        with pytest.raises(ListenError, match="address in use"):
            check_port_free(f"127.0.0.1:{port}")
    check_port_free("127.0.0.1:0")  # port 0 is always free


def test_a_unix_socket_in_a_missing_directory_names_the_path(tmp_path):
    with pytest.raises(ListenError, match=f"no such directory for the socket unix:{tmp_path}/nope/s.sock"):
        make_socket(f"unix:{tmp_path}/nope/s.sock")


# -- SO_PEERCRED (degu's peer credentials) -----------------------------------------------------------


def test_peer_credentials_of_an_af_unix_connection(loop, tmp_path):
    from fasthttp.listeners import peer_credentials

    path = str(tmp_path / "creds.sock")
    seen = {}

    def on_connect(transport, session):
        seen["hook"] = peer_credentials(transport)
        seen["session"] = session["credentials"]
        return True

    def handler(request):
        creds = request.peer_credentials
        return {"pid": creds.pid, "uid": creds.uid, "gid": creds.gid}

    async def scenario():
        async with serving(handler, f"unix:{path}", on_connect=on_connect) as server:
            client = await Client.connect(server)
            resp = await client.request("GET", "/")
            await client.close()
        return json.loads(resp.body)

    if not hasattr(socket, "SO_PEERCRED"):
        pytest.skip("no SO_PEERCRED on this system")
    body = run(loop, scenario())
    assert body == {"pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid()}
    assert tuple(seen["hook"]) == (os.getpid(), os.getuid(), os.getgid()) == tuple(seen["session"])


def test_peer_credentials_are_none_on_tcp(loop):
    def handler(request):
        return {"creds": request.peer_credentials, "session": "credentials" in request.session}

    async def scenario():
        async with serving(handler) as server:
            client = await Client.connect(server)
            resp = await client.request("GET", "/")
            await client.close()
        return json.loads(resp.body)

    assert run(loop, scenario()) == {"creds": None, "session": False}
    a, b = socket.socketpair()
    with a, b:
        from fasthttp.listeners import peer_credentials

        assert peer_credentials(a) == (os.getpid(), os.getuid(), os.getgid())
    with socket.socket() as tcp:
        assert peer_credentials(tcp) is None


# -- send_and_shut: a plain connection's last bytes and its FIN -----------------------------------


class _SocketTransport:
    """The three transport calls send_and_shut makes, over a real socket; *buffered* bytes
    stand for what an asyncio transport still holds unsent."""

    def __init__(self, sock: socket.socket | None, buffered: int = 0) -> None:
        self.sock = sock
        self.buffered = buffered
        self.written: list[bytes] = []

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def get_extra_info(self, name: str) -> object:
        assert name == "socket"
        return self.sock

    def write(self, data: bytes) -> None:
        self.written.append(data)


def _pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    for s in (a, b):
        s.settimeout(10)
    return a, b


def test_send_and_shut_sends_the_bytes_then_the_end_of_output():
    ours, peer = _pair()
    try:
        transport = _SocketTransport(ours)
        assert send_and_shut(transport, b"last response") is True
        assert transport.written == []
        assert peer.recv(100) == b"last response"
        assert peer.recv(100) == b""  # EOF: our side is shut for writing
        assert ours.fileno() >= 0  # the descriptor is still the transport's: the wrapper left it open
        peer.sendall(b"still readable")  # a half-close: the peer may still send
        assert ours.recv(100) == b"still readable"
    finally:
        ours.close()
        peer.close()


def test_send_and_shut_with_nothing_to_send_only_ends_the_output():
    ours, peer = _pair()
    try:
        assert send_and_shut(_SocketTransport(ours), b"") is True
        assert peer.recv(100) == b""
    finally:
        ours.close()
        peer.close()


def test_send_and_shut_leaves_a_transport_with_bytes_waiting_to_its_own_close():
    # Bytes still in the transport's buffer go first: ours are appended after them and no FIN
    # is sent here (the transport's close ends the output once its buffer is out).
    ours, peer = _pair()
    try:
        transport = _SocketTransport(ours, buffered=10)
        assert send_and_shut(transport, b"after") is False
        assert transport.written == [b"after"]
        peer.setblocking(False)
        with pytest.raises(BlockingIOError):
            peer.recv(100)  # neither bytes nor EOF
    finally:
        ours.close()
        peer.close()


def test_send_and_shut_hands_a_transport_without_a_socket_its_bytes():
    transport = _SocketTransport(None)
    assert send_and_shut(transport, b"data") is False
    assert transport.written == [b"data"]


def test_send_and_shut_hands_the_rest_of_a_short_send_to_the_transport():
    # A full socket takes part (or none) of the bytes: the rest is the transport's to write,
    # and the FIN waits for its close.
    ours, peer = _pair()
    try:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        ours.setblocking(False)
        data = bytes(range(256)) * 4096  # 1 MiB: more than the peer's and our buffers hold
        transport = _SocketTransport(ours)
        assert send_and_shut(transport, data) is False
        assert len(transport.written) == 1
        rest = transport.written[0]
        assert 0 < len(rest) < len(data) and data.endswith(rest)
        sent = len(data) - len(rest)
        got = bytearray()
        while len(got) < sent:
            got += peer.recv(65536)
        assert bytes(got) == data[:sent]
        peer.setblocking(False)
        with pytest.raises(BlockingIOError):
            peer.recv(100)  # no EOF yet
    finally:
        ours.close()
        peer.close()


def test_send_and_shut_to_a_peer_that_is_gone_reports_it_for_the_transport_to_meet():
    ours, peer = _pair()
    peer.close()
    try:
        transport = _SocketTransport(ours)
        assert send_and_shut(transport, b"nobody reads this") is False
        assert transport.written == []
    finally:
        ours.close()


# -- defer_accept: TCP_DEFER_ACCEPT on TCP listeners ----------------------------------------------

_HAS_DEFER = hasattr(socket, "TCP_DEFER_ACCEPT")


@pytest.mark.skipif(not _HAS_DEFER, reason="TCP_DEFER_ACCEPT is Linux's")
def test_defer_accept_sets_the_option_on_a_tcp_listener():
    sock = make_socket("127.0.0.1:0", backlog=8)
    try:
        assert defer_accept(sock, 1) is True
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) > 0
    finally:
        sock.close()


@pytest.mark.skipif(not _HAS_DEFER, reason="TCP_DEFER_ACCEPT is Linux's")
def test_defer_accept_zero_and_unix_sockets_are_left_alone(tmp_path):
    sock = make_socket("127.0.0.1:0", backlog=8)
    unix = make_socket(f"unix:{tmp_path / 's.sock'}", backlog=8)
    try:
        assert defer_accept(sock, 0) is False
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) == 0
        assert defer_accept(unix, 1) is False
    finally:
        sock.close()
        unix.close()


@pytest.mark.skipif(not _HAS_DEFER, reason="TCP_DEFER_ACCEPT is Linux's")
def test_a_deferred_listener_hands_over_the_connection_with_its_first_bytes():
    # A real client: the handshake completes on its side at once, the connection reaches accept
    # with the request already readable (no wait for it after accepting).
    sock = make_socket("127.0.0.1:0", backlog=8)
    client = None
    try:
        defer_accept(sock, 1)
        client = socket.create_connection(sock.getsockname()[:2], timeout=10)
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.setblocking(True)
        sock.settimeout(10)
        conn, _ = sock.accept()
        with conn:
            conn.setblocking(False)
            assert conn.recv(100).startswith(b"GET / HTTP/1.1")  # there already: no EAGAIN
    finally:
        if client is not None:
            client.close()
        sock.close()


# -- accept_queue_length and AcceptBackstop: what a burst leaves in uvloop's accept queues ---------

_LINUX_TCP_INFO = sys.platform.startswith("linux") and hasattr(socket, "TCP_INFO")


def _queued(sock: socket.socket, count: int) -> bool:
    """Wait (10 s at most) until *sock*'s accept queue holds *count* connections; on loopback
    the handshake usually completes within connect(), but a loaded machine may finish it later."""
    for _ in range(1000):
        if accept_queue_length(sock) == count:
            return True
        time.sleep(0.01)
    return False


def _connect_with_request(sock: socket.socket, count: int) -> list[socket.socket]:
    clients = []
    for _ in range(count):
        client = socket.create_connection(sock.getsockname()[:2], timeout=10)
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        clients.append(client)
    return clients


@pytest.mark.skipif(not _LINUX_TCP_INFO, reason="TCP_INFO's accept queue length is Linux's")
def test_accept_queue_length_counts_the_connections_waiting_for_accept(tmp_path):
    sock = make_socket("127.0.0.1:0", backlog=8)
    unix = make_socket(f"unix:{tmp_path / 'q.sock'}", backlog=8)
    clients = []
    try:
        assert accept_queue_length(sock) == 0
        clients = _connect_with_request(sock, 3)
        assert _queued(sock, 3)
        sock.setblocking(True)
        sock.accept()[0].close()
        assert accept_queue_length(sock) == 2
        assert accept_queue_length(unix) is None  # no TCP_INFO on AF_UNIX
    finally:
        for client in clients:
            client.close()
        sock.close()
        unix.close()
    assert accept_queue_length(sock) is None  # closed


class _Recorder(asyncio.Protocol):
    """A protocol that keeps what it was given, for the backstop tests."""

    made: list[_Recorder] = []

    def __init__(self) -> None:
        self.data = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        _Recorder.made.append(self)

    def data_received(self, data: bytes) -> None:
        self.data += data


def _run_then_close(loop, scenario, backstop, clients: list[socket.socket], *socks: socket.socket) -> None:
    """Run a backstop test's *scenario* on *loop*; then stop the backstop and close the clients
    (those the scenario added too) and the listening sockets, whatever happened."""
    try:
        run(loop, scenario())
    finally:
        backstop.close()
        for sock in [*clients, *socks]:
            sock.close()


@pytest.mark.skipif(not _LINUX_TCP_INFO, reason="TCP_INFO's accept queue length is Linux's")
def test_the_backstop_accepts_a_queue_the_loop_left_and_hands_each_connection_to_the_loop(loop):
    # A listening socket no server of the loop watches: its queue is what a burst leaves behind
    # uvloop's one accept per iteration. One look accepts all of it; each connection becomes a
    # transport of the loop whose protocol reads the request the client sent.
    sock = make_socket("127.0.0.1:0", backlog=16)
    defer_accept(sock, 1)  # queued with their requests, as the server's listeners are
    clients = _connect_with_request(sock, 5)
    _Recorder.made = []
    backstop = AcceptBackstop(loop, [sock], _Recorder, wait=0.0, queue=2)  # any queue longer than one

    async def scenario():
        assert _queued(sock, 5)
        assert not backstop.armed  # no connection has arrived through a listener: no timer
        backstop.check()
        assert accept_queue_length(sock) == 0 and backstop.drained == 5
        assert not backstop.armed  # nothing arrived since: no look again
        while len(_Recorder.made) < 5 or any(b"\r\n\r\n" not in p.data for p in _Recorder.made):
            await asyncio.sleep(0.01)
        for proto in _Recorder.made:
            assert proto.data == b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
            proto.transport.close()

    _run_then_close(loop, scenario, backstop, clients, sock)


@pytest.mark.skipif(not _LINUX_TCP_INFO, reason="TCP_INFO's accept queue length is Linux's")
def test_the_backstop_leaves_to_the_loop_a_queue_it_drains_in_time_and_is_armed_by_arrivals(loop, tmp_path):
    sock = make_socket("127.0.0.1:0", backlog=16)
    unix = make_socket(f"unix:{tmp_path / 'b.sock'}", backlog=8)
    clients = _connect_with_request(sock, 3)
    _Recorder.made = []
    backstop = AcceptBackstop(loop, [sock, unix], _Recorder, interval=3600.0, wait=3600.0)

    async def scenario():
        assert _queued(sock, 3)
        backstop.check()  # three waiting, but not for an hour: the loop's accepts
        assert backstop.drained == 0 and accept_queue_length(sock) == 3
        assert backstop.factory_for(unix) is _Recorder  # AF_UNIX: no queue to read, not counted
        proto = backstop.factory_for(sock)()  # the listener's factory: a protocol, and a look due
        assert isinstance(proto, _Recorder) and backstop.armed
        backstop.close()
        assert not backstop.armed
        backstop.check()  # closed: looks no more
        assert backstop.drained == 0

    _run_then_close(loop, scenario, backstop, clients, sock, unix)


@pytest.mark.skipif(not _LINUX_TCP_INFO, reason="TCP_INFO's accept queue length is Linux's")
def test_the_backstop_makes_each_transport_during_its_look_and_the_loop_opens_it_at_its_next_turn(loop):
    # No Task per connection: the look itself makes each protocol and transport, so their
    # connection_made runs at the loop's next turn (the ready queue of the same iteration under
    # uvloop), one turn before a Task's first step would have made them.
    sock = make_socket("127.0.0.1:0", backlog=16)
    defer_accept(sock, 1)
    clients = _connect_with_request(sock, 3)
    _Recorder.made = []
    created: list[_Recorder] = []

    def factory() -> _Recorder:
        created.append(_Recorder())
        return created[-1]

    backstop = AcceptBackstop(loop, [sock], factory, wait=0.0)

    async def scenario():
        assert _queued(sock, 3)
        backstop.check()
        assert backstop.drained == 3 and len(created) == 3  # made during the look
        assert _Recorder.made == []  # opened by the loop, not inside the look
        await asyncio.sleep(0)  # one turn
        assert _Recorder.made == created
        while any(b"\r\n\r\n" not in p.data for p in created):
            await asyncio.sleep(0.01)
        for proto in created:
            assert proto.data == b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
            proto.transport.close()

    _run_then_close(loop, scenario, backstop, clients, sock)


@pytest.mark.skipif(not _LINUX_TCP_INFO, reason="TCP_INFO's accept queue length is Linux's")
def test_a_connection_reset_in_the_queue_is_accepted_and_closed_without_an_error_logged(loop, caplog):
    # A client that gave up (RST) while queued: the hand-over meets the reset (or a transport that
    # closes at its first read) and nothing is left half made or logged as never retrieved.
    sock = make_socket("127.0.0.1:0", backlog=16)
    defer_accept(sock, 1)
    clients = _connect_with_request(sock, 2)
    clients[0].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    clients[0].close()  # RST
    _Recorder.made = []
    backstop = AcceptBackstop(loop, [sock], _Recorder, wait=0.0)

    async def scenario():
        for _ in range(1000):
            if accept_queue_length(sock) in (1, 2):
                break
            await asyncio.sleep(0.01)
        backstop.check()
        while not any(b"\r\n\r\n" in p.data for p in _Recorder.made):
            await asyncio.sleep(0.01)
        for proto in _Recorder.made:
            proto.transport.close()
        await asyncio.sleep(0)

    _run_then_close(loop, scenario, backstop, clients[1:], sock)
    assert "never retrieved" not in caplog.text


class _Clocked:
    """The test's loop with a clock the test sets: a look's time since the last one (the loop's
    iteration lengths, as the backstop estimates them) without waiting for it."""

    def __init__(self, loop) -> None:
        self.loop = loop
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def __getattr__(self, name: str):
        return getattr(self.loop, name)


def _accepts(backstop: AcceptBackstop, sock: socket.socket, count: int) -> None:
    """*count* connections accepted by the loop's listener on *sock* since the last look (the
    factory it calls per connection counts them)."""
    for _ in range(count):
        backstop.factory_for(sock)()


@pytest.mark.skipif(not _LINUX_TCP_INFO, reason="TCP_INFO's accept queue length is Linux's")
def test_while_the_loop_turns_fast_a_look_reads_one_socket_in_turn_and_drains_every_long_queue(loop):
    # A burst fills the sockets of an address together (SO_REUSEPORT): while the loop turns
    # fast (100 accepts on a socket in 10 s: iterations of 0.1 s at most, so a queue of three
    # waits 0.3 s, under the 1 s bar), a look reads one socket, in turn, and when that one is
    # long, drains every socket whose queue is.
    first = make_socket("127.0.0.1:0", backlog=16)
    second = make_socket("127.0.0.1:0", backlog=16)
    clients = _connect_with_request(first, 3) + _connect_with_request(second, 2)
    _Recorder.made = []
    clock = _Clocked(loop)
    backstop = AcceptBackstop(clock, [first, second], _Recorder, interval=3600.0, wait=1.0, queue=3)

    async def scenario():
        assert _queued(first, 3) and _queued(second, 2)
        _accepts(backstop, first, 1)
        _accepts(backstop, second, 100)
        clock.now += 10.0
        backstop.check()  # reads `first`: 3 waiting x 10 s per accept, so both are read; `second` is under the bar
        assert backstop.drained == 3 and accept_queue_length(second) == 2
        clients.extend(_connect_with_request(first, 3))
        assert _queued(first, 3)
        _accepts(backstop, first, 1)
        _accepts(backstop, second, 100)
        clock.now += 10.0
        backstop.check()  # reads `second` this time: short, so `first` waits for the next look
        assert backstop.drained == 3
        _accepts(backstop, second, 100)
        clock.now += 10.0
        backstop.check()
        assert backstop.drained == 6 and accept_queue_length(first) == 0
        while len(_Recorder.made) < 6:
            await asyncio.sleep(0.01)
        for proto in _Recorder.made:
            proto.transport.close()

    _run_then_close(loop, scenario, backstop, clients, first, second)


@pytest.mark.skipif(not _LINUX_TCP_INFO, reason="TCP_INFO's accept queue length is Linux's")
def test_while_the_loop_turns_slowly_a_look_reads_every_socket_and_drains_a_short_queue(loop):
    # The tail of a burst (issue 17, 1,000 connections): a few connections left on one socket
    # of the group, while each loop iteration serves hundreds of requests (here one accept in
    # 10 s: a queue of two waits 20 s). The socket read in turn is empty, yet every socket is
    # read and the short queue drained, not left to one accept per iteration.
    first = make_socket("127.0.0.1:0", backlog=16)
    second = make_socket("127.0.0.1:0", backlog=16)
    clients = _connect_with_request(second, 2)
    _Recorder.made = []
    clock = _Clocked(loop)
    backstop = AcceptBackstop(clock, [first, second], _Recorder, interval=3600.0, wait=1.0)

    async def scenario():
        assert _queued(second, 2)
        _accepts(backstop, second, 1)
        clock.now += 10.0
        backstop.check()  # reads `first` in turn (empty), and `second` too: the loop is slow
        assert backstop.drained == 2 and accept_queue_length(second) == 0
        assert backstop.armed  # connections arrived since the last look: look again
        clients.extend(_connect_with_request(first, 1))
        assert _queued(first, 1)
        clock.now += 10.0
        backstop.check()  # one waiting is the loop's next accept: left to it; none arrived since the last look
        assert backstop.drained == 2 and accept_queue_length(first) == 1
        assert not backstop.armed
        while len(_Recorder.made) < 2 or any(b"\r\n\r\n" not in p.data for p in _Recorder.made):
            await asyncio.sleep(0.01)
        for proto in _Recorder.made:
            assert proto.data == b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
            proto.transport.close()

    _run_then_close(loop, scenario, backstop, clients, first, second)
