"""Route documentation: decorators that describe a route's parameters, headers, body and responses,
and the OpenAPI 3.1 document built from them and the routes themselves (the HTTP/TCP protocol
module's ``@header`` / ``@param``, made into a standard document).

Strategy: the decorators only attach a :class:`RouteDoc` to the handler function (in any order,
above or below the route decorator, on plain functions and Resource methods); nothing runs per
request. :func:`openapi_document` walks ``app.routes()`` when asked: each pattern becomes an
OpenAPI path (``/users/:id<int>`` -> ``/users/{id}`` with an ``integer`` path parameter; a
multi-segment parameter is a ``string``), the route's methods its operations, and what the
framework already enforces is stated from the route's options: ``consumes`` (the request body's
media types, 415 otherwise), ``produces`` (the response media types, 406 otherwise) and
``max_body_size`` (413). A body schema given to :func:`body` is the same object
``request.validated(schema)`` checks (a dataclass or a pydantic model): its JSON Schema is
derived from it (pydantic's ``model_json_schema``; a dataclass from its type hints) and the 422
it may raise is listed. :func:`serve_openapi` adds the document to an app at an opt-in path.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from .app import App
from .requests import Request

__all__ = ("RouteDoc", "doc", "param", "header", "body", "response", "openapi_document", "serve_openapi", "json_schema")

F = TypeVar("F", bound=Callable[..., Any])
_ATTR = "__fasthttp_doc__"


@dataclasses.dataclass
class RouteDoc:
    """What the decorators recorded about one handler."""

    summary: str | None = None
    description: str | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    parameters: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    body: dict[str, Any] | None = None
    responses: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    deprecated: bool = False


def _doc_of(func: Any) -> RouteDoc:
    target = getattr(func, "__func__", func)
    found = target.__dict__.get(_ATTR)
    if found is None:
        found = RouteDoc()
        setattr(target, _ATTR, found)
    return found


def doc(summary: str | None = None, description: str | None = None, *, tags: list[str] | None = None, deprecated: bool = False) -> Callable[[F], F]:
    """The operation's summary, description (default: the docstring) and tags."""

    def mark(func: F) -> F:
        d = _doc_of(func)
        d.summary = summary if summary is not None else d.summary
        d.description = description if description is not None else d.description
        d.tags += tags or []
        d.deprecated = d.deprecated or deprecated
        return func

    return mark


def _parameter(where: str, name: str, description: str, required: bool, schema: Any, example: Any) -> Callable[[F], F]:
    def mark(func: F) -> F:
        entry: dict[str, Any] = {"name": name, "in": where, "required": required, "schema": json_schema(schema)}
        if description:
            entry["description"] = description
        if example is not None:
            entry["example"] = example
        _doc_of(func).parameters.insert(0, entry)  # decorators apply bottom-up: keep source order
        return func

    return mark


def param(name: str, description: str = "", *, required: bool = False, schema: Any = str, example: Any = None) -> Callable[[F], F]:
    """A query parameter (``request.query_params[name]``)."""
    return _parameter("query", name, description, required, schema, example)


def header(name: str, description: str = "", *, required: bool = False, schema: Any = str, example: Any = None) -> Callable[[F], F]:
    """A request header the handler reads."""
    return _parameter("header", name, description, required, schema, example)


def body(schema: Any = None, description: str = "", *, media_types: list[str] | None = None, required: bool = True) -> Callable[[F], F]:
    """The request body: *schema* is what the handler gives ``request.validated()`` (a dataclass
    or a pydantic model), or a JSON Schema dict; *media_types* default to the route's
    ``consumes``, else ``application/json``."""

    def mark(func: F) -> F:
        _doc_of(func).body = {"schema": schema, "description": description, "media_types": media_types, "required": required}
        return func

    return mark


def response(status: int | str, description: str = "", *, schema: Any = None, media_type: str | None = None) -> Callable[[F], F]:
    """One documented response."""

    def mark(func: F) -> F:
        entry: dict[str, Any] = {"description": description or _REASONS.get(int(status), "")}
        if schema is not None or media_type is not None:
            entry["content"] = {media_type or "application/json": ({"schema": json_schema(schema)} if schema is not None else {})}
        _doc_of(func).responses[str(status)] = entry
        return func

    return mark


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found", 406: "Not Acceptable", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content"}
_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    bytes: {"type": "string", "contentEncoding": "base64"},
    type(None): {"type": "null"},
    Any: {},
}


def json_schema(schema: Any) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12, OpenAPI 3.1's) of a type hint, a dataclass, a pydantic
    model (``model_json_schema``) or a schema dict (returned as is)."""
    if isinstance(schema, dict):
        return schema
    if schema in _SCALARS:
        return dict(_SCALARS[schema])
    model_schema = getattr(schema, "model_json_schema", None)
    if callable(model_schema):
        return model_schema()
    if dataclasses.is_dataclass(schema) and isinstance(schema, type):
        hints = typing.get_type_hints(schema)
        props: dict[str, Any] = {}
        required = []
        for f in dataclasses.fields(schema):
            props[f.name] = json_schema(hints.get(f.name, Any))
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                required.append(f.name)
        out: dict[str, Any] = {"type": "object", "title": schema.__name__, "properties": props}
        if required:
            out["required"] = required
        return out
    origin = typing.get_origin(schema)
    args = typing.get_args(schema)
    if origin in (list, tuple, set, frozenset) and args:
        return {"type": "array", "items": json_schema(args[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": json_schema(args[1]) if len(args) == 2 else {}}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [json_schema(a) for a in args]}
    if origin is typing.Literal:
        return {"enum": list(args)}
    return {}


_CONVERTER_SCHEMAS = {"int": {"type": "integer"}, "float": {"type": "number"}, "uuid": {"type": "string", "format": "uuid"}}


def _path_and_params(route: Any) -> tuple[str, list[dict[str, Any]]]:
    parts: list[str] = []
    params: list[dict[str, Any]] = []
    for element in route.elements:
        if hasattr(element, "conv"):  # a parameter segment (the router's Param), else a literal
            parts.append("{" + element.name + "}")
            least, most = element.span
            schema: dict[str, Any] = dict(_CONVERTER_SCHEMAS.get(element.conv.name or "", {"type": "string"}))
            if element.regex_text is not None:
                schema["pattern"] = element.regex_text
            entry = {"name": element.name, "in": "path", "required": True, "schema": schema}
            if least == 0 or most != 1:
                # OpenAPI path parameters are single and required; an optional or multi-segment one is described.
                entry["description"] = "zero or more segments" if least == 0 else "one or more segments"
            params.append(entry)
        else:
            parts.append(element.text)
    return "/" + "/".join(parts), params


def openapi_document(app: App, *, title: str = "API", version: str = "1.0.0", description: str | None = None, include_undocumented: bool = True) -> dict[str, Any]:
    """The OpenAPI 3.1 document of *app*'s routes (see the module docstring)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in app.routes():
        endpoint = route.endpoint
        target = getattr(endpoint, "__func__", endpoint)
        recorded = getattr(target, "__dict__", {}).get(_ATTR)
        if recorded is None and not include_undocumented:
            continue
        d = recorded or RouteDoc()
        path, path_params = _path_and_params(route)
        options = route.options()
        for method in route.methods:
            if method in ("HEAD", "OPTIONS", "CONNECT", "TRACE"):
                continue
            op: dict[str, Any] = {"operationId": f"{route.name}_{method.lower()}".replace(".", "_").replace("<", "").replace(">", "")}
            summary = d.summary
            text = d.description or (getattr(target, "__doc__", None) or "").strip() or None
            if summary is None and text:
                summary = text.splitlines()[0]
            if summary:
                op["summary"] = summary
            if text:
                op["description"] = text
            if d.tags:
                op["tags"] = list(d.tags)
            if d.deprecated:
                op["deprecated"] = True
            parameters = path_params + d.parameters
            if parameters:
                op["parameters"] = parameters
            responses: dict[str, Any] = dict(d.responses)
            produces = options.get("produces")
            if "200" not in responses and not any(k.startswith("2") for k in responses):
                ok: dict[str, Any] = {"description": "OK"}
                if produces:
                    ok["content"] = {t: {} for t in produces}
                responses["200"] = ok
            consumes = options.get("consumes")
            if d.body is not None or consumes:
                spec = d.body or {"schema": None, "description": "", "media_types": None, "required": True}
                types_ = spec["media_types"] or consumes or ["application/json"]
                content = {t: ({"schema": json_schema(spec["schema"])} if spec["schema"] is not None else {}) for t in types_}
                op["requestBody"] = {"required": spec["required"], "content": content}
                if spec["description"]:
                    op["requestBody"]["description"] = spec["description"]
                if consumes:
                    responses.setdefault("415", {"description": "Unsupported Media Type"})
                if d.body is not None and d.body["schema"] is not None:
                    responses.setdefault("422", {"description": "Unprocessable Content: the body does not match the schema"})
            if produces:
                responses.setdefault("406", {"description": "Not Acceptable"})
            limit = options.get("max_body_size")
            if limit is not None and (d.body is not None or consumes):
                op["x-max-body-size"] = limit
                responses.setdefault("413", {"description": f"Content Too Large: more than {limit} bytes"})
            op["responses"] = responses
            paths.setdefault(path, {})[method.lower()] = op
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    return {"openapi": "3.1.0", "info": info, "paths": paths}


def serve_openapi(app: App, path: str = "/openapi.json", **options: Any) -> None:
    """Serve :func:`openapi_document` of *app* at *path* (opt-in; built on first request, after
    every route is added)."""
    cache: dict[str, Any] = {}

    def openapi(request: Request) -> dict[str, Any]:
        if "doc" not in cache:
            cache["doc"] = openapi_document(app, **options)
        document: dict[str, Any] = cache["doc"]
        return document

    app.get(path, name="openapi")(openapi)
