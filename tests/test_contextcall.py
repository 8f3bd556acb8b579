"""The context-call kernel (``fasthttp.contextcall``), on both twins: a copy of the current
context, and ``fn(arg)`` run in a context, as ``contextvars.copy_context()`` and
``ctx.run(fn, arg)`` behave (the pure twin is those; the compiled twin calls CPython's context
C API)."""

from __future__ import annotations

import contextvars

import pytest

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


def test_a_copy_holds_the_current_values_and_is_a_new_context(impl):
    token = VAR.set("outer")
    try:
        ctx = impl.contextcall.copy_context()
        assert type(ctx) is contextvars.Context
        assert ctx[VAR] == "outer"
        assert ctx is not impl.contextcall.copy_context()
    finally:
        VAR.reset(token)


def test_the_call_sees_and_sets_the_contexts_variables_and_nothing_leaks_out(impl):
    ctx = impl.contextcall.copy_context()

    def handler(value):
        seen = VAR.get()
        VAR.set(value)
        return seen

    assert impl.contextcall.run_in(ctx, handler, "first") == "unset"
    assert VAR.get() == "unset"  # the caller's context is untouched
    assert ctx[VAR] == "first"
    assert impl.contextcall.run_in(ctx, handler, "second") == "first"  # the same context again


def test_what_the_call_raises_propagates_with_the_context_exited(impl):
    ctx = impl.contextcall.copy_context()

    def failing(value):
        VAR.set(value)
        raise KeyError(value)

    with pytest.raises(KeyError):
        impl.contextcall.run_in(ctx, failing, "x")
    assert VAR.get() == "unset" and ctx[VAR] == "x"
    assert impl.contextcall.run_in(ctx, lambda _: VAR.get(), None) == "x"


def test_a_context_already_entered_cannot_be_entered_again(impl):
    ctx = impl.contextcall.copy_context()

    def nested(_):
        return impl.contextcall.run_in(ctx, lambda _: None, None)

    with pytest.raises(RuntimeError):
        impl.contextcall.run_in(ctx, nested, None)
    assert impl.contextcall.run_in(ctx, lambda arg: arg, 7) == 7  # exited after the failure


def test_a_context_must_be_a_context(impl):
    with pytest.raises(TypeError):
        impl.contextcall.run_in(object(), lambda arg: arg, 1)
