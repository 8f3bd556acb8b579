"""Schema validation of decoded request content: ``validate(schema, data)`` and the 422 it raises.

Strategy: a schema is whatever the application already has: a callable, a dataclass, or a model
class with ``model_validate`` (pydantic v2 or anything shaped like it). Dataclasses are checked
field by field against their type hints here, with no dependency; with ``coerce=True`` (form and
query values, which are strings) ``"42"`` becomes ``42``. Every problem is collected, not only
the first, and the whole list goes to the client as a 422 (RFC 9110 §15.5.21) in the
``{"loc", "msg", "type"}`` shape FastAPI users know (:class:`UnprocessableContent`).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import HttpError

__all__ = ("ValidationError", "UnprocessableContent", "validate")


class ValidationError(ValueError):
    """Raise from a validation callable to reject a payload; it becomes a 422 listing *errors*.

    *errors* is a message (``"too short"``), a mapping from field to message
    (``{"age": "must be positive"}``), or a list of messages or of dicts with ``loc`` (a list of
    keys and indexes), ``msg`` and ``type``. :meth:`errors` returns them as dicts, the shape
    pydantic's ``ValidationError.errors()`` has, so both are reported alike.
    """

    def __init__(self, errors: str | Mapping[str, Any] | Iterable[Any]) -> None:
        if isinstance(errors, str):
            items = [_error([], errors)]
        elif isinstance(errors, Mapping):
            items = [_error([k], v) for k, v in errors.items()]
        else:
            items = [_error(e.get("loc", ()), e.get("msg", ""), e.get("type")) if isinstance(e, Mapping) else _error([], e) for e in errors]
        self._errors = items
        super().__init__("; ".join(_describe(e) for e in items) or "invalid")

    def errors(self) -> list[dict[str, Any]]:
        return [dict(e, loc=list(e["loc"])) for e in self._errors]


def _error(loc: Iterable[Any], msg: Any, kind: str | None = None) -> dict[str, Any]:
    return {
        "loc": [x if type(x) is int or type(x) is str else str(x) for x in loc],
        "msg": str(msg),
        "type": str(kind) if kind is not None else "value_error",
    }


def _describe(error: dict[str, Any]) -> str:
    loc = ".".join(map(str, error["loc"]))
    return f"{loc}: {error['msg']}" if loc else error["msg"]


class UnprocessableContent(HttpError):
    """``422 Unprocessable Content`` (RFC 9110 §15.5.21): the content was decoded but is not
    what the handler takes. ``errors`` (also the ``detail``) lists why, one dict per error with
    ``loc`` (the path to the value: keys and indexes), ``msg`` and ``type``; the error body
    carries that list as JSON (see :func:`fasthttp.responses.render_error`)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(422, errors)
        self.errors = errors


def _details(exc: BaseException) -> list[dict[str, Any]]:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            # pydantic v2: leave out the input (APPSEC: do not echo payloads back), the context
            # (may hold exception objects) and the documentation URL.
            raw = errors(include_url=False, include_context=False, include_input=False)
        except TypeError:
            raw = errors()
        return [_error(e.get("loc", ()), e.get("msg", ""), e.get("type")) for e in raw]
    return [_error([], str(exc) or type(exc).__name__)]


def validate(schema: Any, data: Any, *, coerce: bool = False) -> Any:
    """Run *data* through *schema*; an invalid payload is an :class:`UnprocessableContent`.

    *schema* is one of:

    - a class with a ``model_validate`` classmethod (pydantic v2, or anything shaped like it):
      ``schema.model_validate(data)``;
    - a dataclass: built from a mapping, each field checked against its annotation (``int``,
      ``float``, ``str``, ``bool``, ``None``, unions, ``Literal``, ``list[...]``,
      ``dict[str, ...]``, nested dataclasses; other annotations are not checked), unknown and
      missing fields reported; with *coerce* (form and query data, which are all strings)
      ``"42"`` becomes ``42`` for an ``int`` field, ``"on"``/``"off"`` a ``bool``, and a lone
      value a one-item list;
    - any callable: ``schema(data)`` returns the cleaned value.

    A ``ValueError`` from the schema (pydantic's ``ValidationError`` and
    :class:`ValidationError` are ValueErrors) becomes the 422; anything else propagates.
    """
    try:
        if isinstance(schema, type):
            model_validate = getattr(schema, "model_validate", None)
            if model_validate is not None:
                return model_validate(data)
            if dataclasses.is_dataclass(schema):
                return _build_dataclass(schema, data, coerce)
        if not callable(schema):
            raise TypeError(f"a schema is a callable, a dataclass or a model class, not {schema!r}")
        return schema(data)
    except ValueError as exc:
        raise UnprocessableContent(_details(exc)) from exc


class _Invalid(Exception):
    def __init__(self, msg: str, kind: str = "type_error") -> None:
        self.msg = msg
        self.kind = kind


@functools.lru_cache(maxsize=256)
def _fields_of(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            f.name,
            hints.get(f.name, Any),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
        if f.init
    )


def _build_dataclass(cls: type, data: Any, coerce: bool, loc: list[Any] | None = None, errors: list[Any] | None = None) -> Any:
    top = errors is None
    if errors is None:
        errors = []
    if loc is None:
        loc = []
    if not isinstance(data, Mapping):
        errors.append(_error(loc, f"expected an object for {cls.__name__}", "model_type"))
        if top:
            raise ValidationError(errors)
        return None
    kwargs = {}
    names = set()
    for name, hint, required in _fields_of(cls):
        names.add(name)
        if name in data:
            before = len(errors)
            value = _convert(data[name], hint, coerce, loc + [name], errors)
            if len(errors) == before:
                kwargs[name] = value
        elif required:
            errors.append(_error(loc + [name], "field required", "missing"))
    for key in data:
        if key not in names:
            errors.append(_error(loc + [key], "unexpected field", "extra_forbidden"))
    if top:
        if errors:
            raise ValidationError(errors)
        return cls(**kwargs)  # __post_init__ may raise ValueError: a 422 too
    return cls(**kwargs) if not errors else None


_TRUE = frozenset({"true", "1", "on", "yes"})
_FALSE = frozenset({"false", "0", "off", "no"})


def _convert(value: Any, hint: Any, coerce: bool, loc: list[Any], errors: list[Any]) -> Any:
    try:
        return _check(value, hint, coerce, loc, errors)
    except _Invalid as bad:
        errors.append(_error(loc, bad.msg, bad.kind))
        return None


def _check(value: Any, hint: Any, coerce: bool, loc: list[Any], errors: list[Any]) -> Any:
    if hint is Any or hint is object:
        return value
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        if len(others) == 1:  # Optional[X]: report X's errors, located, not "expected X | None"
            return _check(value, others[0], coerce, loc, errors)
        for arg in args:
            trial: list[Any] = []
            result = _convert(value, arg, coerce, loc, trial)
            if not trial:
                return result
        raise _Invalid(f"expected {_type_name(hint)}")
    if origin is typing.Literal:
        if value in typing.get_args(hint):
            return value
        raise _Invalid(f"expected one of {list(typing.get_args(hint))!r}", "literal_error")
    if hint is None or hint is type(None):
        if value is None:
            return None
        raise _Invalid("expected null")
    if origin is list:
        if not isinstance(value, list):
            if coerce and isinstance(value, str):
                value = [value]
            else:
                raise _Invalid("expected a list", "list_type")
        args = typing.get_args(hint)
        if not args:
            return list(value)
        return [_convert(item, args[0], coerce, loc + [i], errors) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _Invalid("expected an object", "dict_type")
        args = typing.get_args(hint)
        if len(args) != 2:
            return dict(value)
        return {k: _convert(v, args[1], coerce, loc + [k], errors) for k, v in value.items()}
    if origin is not None:
        if isinstance(value, origin):
            return value
        raise _Invalid(f"expected {_type_name(hint)}")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build_dataclass(hint, value, coerce, loc, errors)
    if hint is bool:
        if type(value) is bool:
            return value
        if coerce and isinstance(value, str):
            low = value.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
        raise _Invalid("expected a boolean", "bool_type")
    if hint is int:
        if type(value) is int:
            return value
        if coerce and isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise _Invalid("expected an integer", "int_type")
    if hint is float:
        if type(value) is float or type(value) is int:
            return float(value)
        if coerce and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise _Invalid("expected a number", "float_type")
    if isinstance(hint, type):
        if isinstance(value, hint):
            return value
        raise _Invalid(f"expected {_type_name(hint)}")
    return value  # an annotation this checker does not know: not checked


def _type_name(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")
