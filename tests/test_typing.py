"""Types that reach users: the compiled twins' stubs declare the pure twins' API, and the facades
show type checkers every name they export (STYLE.md, habits 2 and 12).

Type checkers read a facade's names from the pure twin (its ``TYPE_CHECKING`` branch); code that
runs the compiled twin is typed by ``fasthttp/_speedups/<kernel>.pyi``. The two descriptions must
be the same API, so these tests compare them as source, annotation by annotation: the module's
``__all__`` and public constants, every function's parameters (names, kinds, defaults,
annotations) and return annotation, and every class's public attributes, properties and methods.
The type aliases the annotations name (``_Fields``, ``Event``, ...) are compared too.
They read files, import nothing compiled, and so run the same on both kernel paths.

A last test keeps the public API annotated (parameters and returns).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from fasthttp._compat import KERNELS


def _source(module: str, suffix: str) -> ast.Module:
    spec = importlib.util.find_spec(module.rpartition(".")[0])
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / (module.rpartition(".")[2] + suffix)
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _annotation(node: ast.expr | None) -> str | None:
    """An annotation as text; a string annotation (a forward reference) is read as its content."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ast.unparse(ast.parse(node.value, mode="eval").body)
    return ast.unparse(node)


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[object, ...]:
    a = fn.args
    defaults: list[str | None] = [None] * (len(a.posonlyargs) + len(a.args) - len(a.defaults))
    defaults += [ast.unparse(d) for d in a.defaults]
    positional = [
        (p.arg, kind, _annotation(p.annotation), d)
        for (p, kind), d in zip(
            [(p, "posonly") for p in a.posonlyargs] + [(p, "pos") for p in a.args], defaults
        )
    ]
    keyword = [
        (p.arg, "kwonly", _annotation(p.annotation), None if d is None else ast.unparse(d))
        for p, d in zip(a.kwonlyargs, a.kw_defaults)
    ]
    star = [
        (p.arg, kind, _annotation(p.annotation), None)
        for p, kind in ((a.vararg, "*"), (a.kwarg, "**"))
        if p is not None
    ]
    decorators = sorted(ast.unparse(d) for d in fn.decorator_list)
    return (type(fn).__name__, decorators, positional, keyword, star, _annotation(fn.returns))


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """*body* with the statements of ``if TYPE_CHECKING:`` blocks spliced in (where the pure
    twins keep the aliases that exist only for type checkers)."""
    out: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            out += _statements(node.body)
        else:
            out.append(node)
    return out


def _api(tree: ast.Module) -> dict[str, object]:
    """The typed surface of a module: ``__all__``, constants, aliases, functions and classes."""
    api: dict[str, object] = {}
    for node in _statements(tree.body):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            api["__all__"] = tuple(ast.literal_eval(node.value))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, ann = node.target.id, _annotation(node.annotation)
            if ann == "TypeAlias":
                api[name] = ("alias", _annotation(node.value))
            else:
                api[name] = ("variable", ann)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            api[node.name] = _signature(node)
        elif isinstance(node, ast.ClassDef):
            api[node.name] = ("class", _class_api(node))
    return api


def _class_api(cls: ast.ClassDef) -> dict[str, object]:
    members: dict[str, object] = {}
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            members[node.target.id] = ("attribute", _annotation(node.annotation))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            members[node.name] = _signature(node)
    return members


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__init__"


def _referenced(api: dict[str, object], names: set[str]) -> set[str]:
    """The module-level aliases and names (private ones included) that the public declarations
    of *names* mention."""
    declarations = []
    for name in names:
        entry = api.get(name)
        if isinstance(entry, tuple) and entry[0] == "class":
            entry = {m: d for m, d in entry[1].items() if _public(m)}
        declarations.append(entry)
    text = repr(declarations)
    return {n for n in api if n != "__all__" and n in text}


@pytest.mark.parametrize("kernel", KERNELS)
def test_stub_declares_the_pure_twins_api(kernel: str) -> None:
    pure = _api(_source(f"fasthttp._pure.{kernel}", ".py"))
    stub = _api(_source(f"fasthttp._speedups.{kernel}", ".pyi"))
    assert stub["__all__"] == pure["__all__"]

    # Public module-level names (functions, classes, typed constants) in one are in the other.
    pure_public = {n for n in pure if n != "__all__" and _public(n)}
    stub_public = {n for n in stub if n != "__all__" and _public(n)}
    for name in pure["__all__"]:  # type: ignore[attr-defined]
        assert name in pure_public or name in _imported(kernel), name
    assert pure_public == stub_public

    # Each one, and every alias they name, is declared identically.
    names = pure_public | _referenced(pure, pure_public) | _referenced(stub, stub_public)
    for name in sorted(names):
        p, s = pure.get(name), stub.get(name)
        assert p is not None and s is not None, f"{kernel}.{name} is declared in one twin only"
        if isinstance(p, tuple) and p[0] == "class":
            assert isinstance(s, tuple) and s[0] == "class", f"{kernel}.{name}"
            _compare_classes(f"{kernel}.{name}", p[1], s[1])  # type: ignore[arg-type]
        else:
            assert p == s, f"{kernel}.{name} differs between _pure and the stub"


def _imported(kernel: str) -> set[str]:
    """Names a pure twin exports by importing them (``EndOfMessage`` in the parser)."""
    tree = _source(f"fasthttp._pure.{kernel}", ".py")
    return {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def _compare_classes(where: str, pure: dict[str, object], stub: dict[str, object]) -> None:
    # The stub declares what users may touch: every public member of the pure class, and the
    # special methods that change what a type checker allows (``__len__``, ``__iter__``, ...).
    pure_public = {n for n in pure if _public(n)}
    stub_public = {n for n in stub if _public(n)}
    assert pure_public == stub_public, where
    for name, declared in stub.items():
        assert name in pure, f"{where}.{name} is in the stub only"
        assert pure[name] == declared, f"{where}.{name} differs between _pure and the stub"


@pytest.mark.parametrize("kernel", KERNELS)
def test_facade_shows_type_checkers_every_name_it_exports(kernel: str) -> None:
    facade = _source(f"fasthttp.{kernel}", ".py")
    exported: tuple[str, ...] = ()
    typed: set[str] = set()
    assigned: set[str] = set()
    for node in facade.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            exported = tuple(ast.literal_eval(node.value))
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module == f"_pure.{kernel}"
                typed |= {alias.asname or alias.name for alias in stmt.names}
            for stmt in node.orelse:
                if isinstance(stmt, ast.Assign):
                    # `_impl = load(kernel)` (fasthttp._compat), then one name of __all__ each.
                    assigned |= {t.id for t in stmt.targets if isinstance(t, ast.Name) and t.id != "_impl"}
    pure = _api(_source(f"fasthttp._pure.{kernel}", ".py"))
    assert exported == pure["__all__"]
    assert typed == set(exported), "the TYPE_CHECKING branch imports exactly __all__"
    assert assigned == set(exported), "the runtime branch binds exactly __all__"


# The public API keeps its annotations: every parameter and return of what ``fasthttp`` exports
# (functions, and the public methods and properties of its classes), and of the kernels (read
# from the pure twins: the compiled objects carry no annotations, their stubs do).
# KNOWN_GAPS lists what is not annotated yet; the test fails both when a new gap appears and when
# a listed one is fixed (then strike it from the list).
KNOWN_GAPS: set[str] = set()


def _public_callables(module: str, names: Iterable[str]) -> Iterator[tuple[str, Callable[..., object]]]:
    mod = importlib.import_module(module)
    for name in names:
        obj = getattr(mod, name)
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(value, property):
                    value = value.fget
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if inspect.isfunction(value):
                    yield f"{module}.{name}.{attr}", value
        elif inspect.isfunction(obj):
            yield f"{module}.{name}", obj


def _unannotated(where: str, fn: Callable[..., object]) -> Iterator[str]:
    sig = inspect.signature(fn)
    for i, (name, param) in enumerate(sig.parameters.items()):
        if i == 0 and name in ("self", "cls"):
            continue
        if param.annotation is inspect.Parameter.empty:
            yield f"{where}({name})"
    if sig.return_annotation is inspect.Signature.empty and not where.endswith(".__init__"):
        yield f"{where} -> return"


def test_the_public_api_is_annotated() -> None:
    import fasthttp

    modules = [("fasthttp", fasthttp.__all__)] + [
        (f"fasthttp._pure.{k}", importlib.import_module(f"fasthttp._pure.{k}").__all__)
        for k in KERNELS
    ]
    gaps = {
        gap
        for module, names in modules
        for where, fn in _public_callables(module, names)
        for gap in _unannotated(where, fn)
    }
    assert gaps - KNOWN_GAPS == set(), "public API without annotations"
    assert KNOWN_GAPS - gaps == set(), "annotated now: strike these from KNOWN_GAPS"
