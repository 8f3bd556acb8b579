"""fasthttp.identity: the Identity value and what verify callables may return."""

from __future__ import annotations

import pytest

from fasthttp import App
from fasthttp.identity import Identity, to_identity
from fasthttp.testing import TestClient


def test_identity_is_immutable_hashable_and_takes_one_group_as_a_string():
    a = Identity("alice", "admin", scheme="basic", attributes={"mail": "a@x"})
    assert a.groups == frozenset({"admin"}) and a.attributes["mail"] == "a@x"
    with pytest.raises(AttributeError):
        a.name = "mallory"  # type: ignore[misc]
    with pytest.raises(TypeError):
        a.attributes["mail"] = "b"  # type: ignore[index]
    assert a == Identity("alice", ["admin"], scheme="basic", attributes={"mail": "a@x"})
    assert len({a, Identity("alice", ["admin"], scheme="basic", attributes={"mail": "a@x"})}) == 1
    assert repr(a) == "Identity('alice', groups=['admin'], scheme='basic')"
    with pytest.raises(TypeError):
        Identity(42)  # type: ignore[arg-type]


def test_to_identity_accepts_identity_name_true_and_refuses_the_rest():
    assert to_identity(None, "u", "basic") is None and to_identity(False, "u", "basic") is None
    assert to_identity(True, "u", "basic") == Identity("u", scheme="basic")
    assert to_identity("v", "u", "basic") == Identity("v", scheme="basic")
    assert to_identity(Identity("w", ["g"]), "u", "digest").scheme == "digest"
    assert to_identity(Identity("w", scheme="saml"), "u", "digest").scheme == "saml"
    with pytest.raises(TypeError, match="not True"):
        to_identity(True, None, "bearer")
    for odd in (1, "".encode(), ["alice"], {"name": "alice"}):
        with pytest.raises(TypeError):
            to_identity(odd, "u", "basic")


def test_request_user_is_none_until_middleware_publishes_one():
    app = App()

    @app.middleware
    def login(request, call_next):
        if request.headers.get("x-user"):
            request.extras["user"] = Identity(request.headers["x-user"])
        return call_next(request)

    app.get("/")(lambda request: {"user": request.user.name if request.user else None})
    with TestClient(app) as client:
        assert client.get("/").json() == {"user": None}
        assert client.get("/", headers={"X-User": "bob"}).json() == {"user": "bob"}
