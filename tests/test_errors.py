"""fasthttp.errors: one root, HttpError, for every error the server answers with."""

from __future__ import annotations

import pytest

import fasthttp
from fasthttp import errors
from fasthttp.errors import BadRequest, ContentTooLarge, HttpError, HttpProtocolError, RangeNotSatisfiable


def test_the_root_carries_status_detail_and_headers():
    exc = HttpError(409, "taken", {"Retry-After": "1"})
    assert (exc.status, exc.detail, exc.headers) == (409, "taken", {"Retry-After": "1"})
    assert str(exc) == "taken" and exc.reason == "Conflict"


def test_the_detail_defaults_to_the_reason_phrase():
    assert HttpError(404).detail == "Not Found"
    assert HttpError(599).detail == ""


def test_protocol_errors_are_http_errors_with_a_fixed_status():
    exc = BadRequest("bare CR in a field value")
    assert isinstance(exc, HttpProtocolError) and isinstance(exc, HttpError)
    assert (exc.status, exc.detail) == (400, "bare CR in a field value")
    assert ContentTooLarge().detail == "Content Too Large"
    assert RangeNotSatisfiable("none", length=10).length == 10


def test_every_protocol_error_names_a_registered_status():
    for name in errors.__all__:
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, HttpProtocolError):
            assert cls().reason, name


def test_the_old_spelling_warns_and_is_the_same_class():
    with pytest.warns(DeprecationWarning, match="HttpError"):
        assert fasthttp.HTTPError is HttpError
    with pytest.warns(DeprecationWarning):
        assert errors.HTTPError is HttpError
    with pytest.raises(AttributeError):
        fasthttp.NoSuchName  # noqa: B018


def test_unauthorized_carries_one_challenge_per_field_and_forbidden_is_403():
    exc = errors.Unauthorized(None, ['Basic realm="a"', 'Bearer realm="a"'], {"X-Why": "no"})
    assert (exc.status, exc.detail) == (401, "Unauthorized") and not isinstance(exc, HttpProtocolError)
    assert exc.headers == [("WWW-Authenticate", 'Basic realm="a"'), ("WWW-Authenticate", 'Bearer realm="a"'), ("X-Why", "no")]
    assert errors.Unauthorized().headers is None
    forbidden = errors.Forbidden("not you")
    assert (forbidden.status, forbidden.detail, forbidden.headers) == (403, "not you", None)
