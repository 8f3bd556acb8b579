"""Client authentication: Basic (RFC 7617) sent up front, Digest (RFC 7616) on a 401 challenge.

Strategy: an auth object answers two questions for the request flow (``_flow.py``): which
``Authorization`` value to send before any challenge (:meth:`Auth.initial`), and, given a 401's
``WWW-Authenticate`` values, which value to retry with once (:meth:`Auth.retry`, None to give
up). No I/O; the async and sync clients share it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re

__all__ = ("Auth", "BasicAuth", "DigestAuth")

# RFC 9110 §11.6.1: auth-param = token BWS "=" BWS ( token / quoted-string )
_PARAM = re.compile(r'([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


class Auth:
    """The interface: override one or both methods."""

    def initial(self, method: str, target: str) -> str | None:
        return None

    def retry(self, method: str, target: str, challenges: list[str]) -> str | None:
        return None


class BasicAuth(Auth):
    """``Authorization: Basic`` (RFC 7617), UTF-8 credentials, sent with every request; a 401
    answering them is final (retrying the same credentials cannot help)."""

    def __init__(self, username: str, password: str) -> None:
        if ":" in username:
            raise ValueError("a Basic user-id cannot contain ':' (RFC 7617 §2)")
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self.value = f"Basic {token}"

    def initial(self, method: str, target: str) -> str | None:
        return self.value


def parse_challenge(value: str, scheme: str) -> dict[str, str] | None:
    """The parameters of the *scheme* challenge in one WWW-Authenticate value, or None."""
    head, _, rest = value.strip().partition(" ")
    if head.lower() != scheme.lower():
        return None
    params = {}
    for name, raw in _PARAM.findall(rest):
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[name.lower()] = raw
    return params


class DigestAuth(Auth):
    """``Authorization: Digest`` (RFC 7616): MD5, SHA-256 (and their ``-sess`` forms) with
    ``qop=auth`` (or none, RFC 2069), computed from the server's challenge and retried once."""

    _HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256, "SHA-512-256": None}

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self._nc = 0

    def retry(self, method: str, target: str, challenges: list[str]) -> str | None:
        for value in challenges:
            params = parse_challenge(value, "Digest")
            if params is None or "nonce" not in params or "realm" not in params:
                continue
            algorithm = params.get("algorithm", "MD5")
            base = algorithm.upper().removesuffix("-SESS")
            if base not in ("MD5", "SHA-256"):
                continue
            return self._answer(method, target, params, algorithm)
        return None

    def _answer(self, method: str, target: str, params: dict[str, str], algorithm: str) -> str:
        digest = hashlib.md5 if algorithm.upper().startswith("MD5") else hashlib.sha256

        def h(text: str) -> str:
            return digest(text.encode()).hexdigest()

        realm, nonce = params["realm"], params["nonce"]
        qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
        self._nc += 1
        nc = f"{self._nc:08x}"
        cnonce = os.urandom(8).hex()
        ha1 = h(f"{self.username}:{realm}:{self.password}")
        if algorithm.upper().endswith("-SESS"):
            ha1 = h(f"{ha1}:{nonce}:{cnonce}")
        ha2 = h(f"{method}:{target}")
        fields = [
            f'username="{self.username}"',
            f'realm="{realm}"',
            f'nonce="{nonce}"',
            f'uri="{target}"',
            f"algorithm={algorithm}",
        ]
        if "auth" in qops:
            response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:  # RFC 2069 compatibility
            response = h(f"{ha1}:{nonce}:{ha2}")
        fields.append(f'response="{response}"')
        if "opaque" in params:
            fields.append(f'opaque="{params["opaque"]}"')
        return "Digest " + ", ".join(fields)
