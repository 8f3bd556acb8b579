"""Helpers for the authentication and authorization tests: Basic and Digest credentials made the
way a client makes them (RFC 7617, RFC 7616), and challenge parsing.

Plain functions, imported by name (test_middleware_auth, test_middleware_authz).
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fasthttp.middleware.auth import parse_authorization


def basic(user: str, password: str) -> dict[str, str]:
    """The ``Authorization`` header of Basic credentials (UTF-8, RFC 7617 §2.1)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def digest_challenges(response: Any) -> list[dict[str, str]]:
    """The Digest challenges of a 401 response, each as its auth-params."""
    found = []
    for value in response.headers.getall("www-authenticate"):
        scheme, params = parse_authorization(value)
        if scheme == "digest":
            assert isinstance(params, dict)
            found.append(params)
    return found


def digest(
    challenge: dict[str, str],
    user: str,
    password: str,
    method: str,
    uri: str,
    *,
    nc: int | str | None = 1,
    cnonce: str = "0a4f113b",
    **override: str,
) -> dict[str, str]:
    """The ``Authorization`` header answering *challenge* (RFC 7616 §3.4, qop=auth)."""
    algorithm = challenge.get("algorithm", "MD5")
    h = {"SHA-256": hashlib.sha256, "MD5": hashlib.md5}[algorithm.upper()]

    def hx(text: str) -> str:
        return h(text.encode()).hexdigest()

    realm = override.pop("realm", challenge["realm"])
    nc_text = f"{nc:08x}" if isinstance(nc, int) else (nc or "")
    ha1 = hx(f"{user}:{realm}:{password}")
    ha2 = hx(f"{method}:{uri}")
    params = {
        "username": user,
        "realm": realm,
        "nonce": challenge["nonce"],
        "uri": uri,
        "algorithm": algorithm,
        "qop": "auth",
        "nc": nc_text,
        "cnonce": cnonce,
        "opaque": challenge.get("opaque", ""),
        "response": hx(f"{ha1}:{challenge['nonce']}:{nc_text}:{cnonce}:auth:{ha2}"),
    }
    if "digest_uri" in override:
        override["uri"] = override.pop("digest_uri")
    params.update(override)
    if nc is None:
        params["nc"] = None
    unquoted = {"algorithm", "qop", "nc"}
    text = ", ".join(f"{k}={v}" if k in unquoted else f'{k}="{v}"' for k, v in params.items() if v is not None)
    return {"Authorization": f"Digest {text}"}


def challenge_params(value: str) -> tuple[str, dict[str, str]]:
    """One ``WWW-Authenticate`` value as (scheme, params)."""
    scheme, params = parse_authorization(value)
    return scheme, params if isinstance(params, dict) else {}


def has_param(value: str, name: str, expected: str) -> bool:
    return re.search(rf'(^|[ ,]){name}="?{re.escape(expected)}"?($|,)', value) is not None
