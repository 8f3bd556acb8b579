"""Config: validation at construction, the async handler modes, and the split of server
keywords from Config fields."""

from __future__ import annotations

import sys

import pytest

from fasthttp import Server
from fasthttp.config import AUTO_SENDFILE_LOWAT, EAGER, INLINE, TASK, Config, async_mode, sendfile_lowat, split_options

from helpers_engine import hello_app


def test_config_refuses_nonsense():
    with pytest.raises(ValueError):
        Config(header_timeout=0)
    with pytest.raises(TypeError):
        Server(hello_app(), no_such_option=1)


def test_accept_listeners_is_at_least_one_or_the_default():
    assert Config().accept_listeners is None and Config(accept_listeners=2).accept_listeners == 2
    with pytest.raises(ValueError, match="accept_listeners must be at least 1"):
        Config(accept_listeners=0)


def test_defer_accept_is_whole_seconds_or_zero():
    assert Config().defer_accept == 1 and Config(defer_accept=0).defer_accept == 0  # on by default
    for bad in (-1, 0.5, "1", None):
        with pytest.raises(ValueError, match="defer_accept"):
            Config(defer_accept=bad)


def test_async_handler_modes():
    assert async_mode("inline") == INLINE and async_mode("task") == TASK
    assert async_mode("auto") == (EAGER if sys.version_info >= (3, 12) else INLINE)
    with pytest.raises(ValueError):
        async_mode("threaded")
    with pytest.raises(ValueError):
        Config(async_handlers="threaded")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="eager tasks exist on 3.12+")
def test_eager_async_handlers_need_python_3_12():
    with pytest.raises(ValueError):
        async_mode("eager")


def test_split_options_separates_config_fields_from_server_keywords():
    config, rest = split_options({"max_body_size": 10, "header_timeout": 2.0, "certfile": "c.pem", "reuse_port": True})
    assert config == {"max_body_size": 10, "header_timeout": 2.0}
    assert rest == {"certfile": "c.pem", "reuse_port": True}
    assert Config(**config).max_body_size == 10


def test_sendfile_lowat_is_a_positive_byte_count_auto_or_none():
    assert Config().sendfile_lowat == "auto"
    assert sendfile_lowat("auto", uvloop=True) == AUTO_SENDFILE_LOWAT == 64 * 1024
    assert sendfile_lowat("auto", uvloop=False) is None
    assert sendfile_lowat(1000, uvloop=False) == 1000 and sendfile_lowat(None, uvloop=True) is None
    assert Config(sendfile_lowat=None).sendfile_lowat is None
    assert Config(sendfile_lowat=1).sendfile_lowat == 1
    for bad in (0, -1, 1 << 31):
        with pytest.raises(ValueError, match="sendfile_lowat"):
            Config(sendfile_lowat=bad)
    for bad in ("64k", "AUTO", 65536.0, True):
        with pytest.raises(TypeError, match="sendfile_lowat"):
            Config(sendfile_lowat=bad)
    with pytest.raises(ValueError, match="sendfile_lowat"):
        Server(hello_app(), sendfile_lowat=0)
