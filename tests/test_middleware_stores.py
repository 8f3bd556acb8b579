"""The stores of the stateful middleware (fasthttp/middleware/stores.py): the GCRA rule and its
Lua twin, the bounded memory store, and the Redis store against a real redis-server, including a
server that freezes or dies (a StoreUnavailable within the store's timeout, never a hang)."""

from __future__ import annotations

import asyncio

import pytest

from fasthttp.middleware import MemoryStore, RedisStore, StoreUnavailable
from fasthttp.middleware.stores import Decision, gcra

BOUND = 20.0  # seconds: the outer bound of every Redis test (the store's own timeout is far shorter)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, BOUND))


class Clock:
    """A hand-moved monotonic clock: no test waits for real time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the rule --------------------------------------------------------------------------------------


def test_gcra_allows_a_burst_then_one_per_interval():
    tat = None
    seen = []
    for _ in range(5):
        tat, decision = gcra(tat, 0.0, 5, 10.0)
        seen.append((decision.allowed, decision.remaining))
    assert seen == [(True, 4), (True, 3), (True, 2), (True, 1), (True, 0)]
    stored, refused = gcra(tat, 0.0, 5, 10.0)
    assert stored is None and not refused.allowed
    assert refused.retry_after == pytest.approx(2.0)  # one token comes back every 10/5 s
    assert refused.reset == pytest.approx(10.0)  # the whole bucket
    # Two seconds later one request fits again, and only one.
    tat2, decision = gcra(tat, 2.0, 5, 10.0)
    assert decision.allowed and decision.remaining == 0
    assert not gcra(tat2, 2.0, 5, 10.0)[1].allowed


def test_gcra_refills_completely_after_the_period():
    tat = None
    for _ in range(3):
        tat, _ = gcra(tat, 0.0, 3, 1.0)
    _, decision = gcra(tat, 5.0, 3, 1.0)
    assert decision == Decision(True, 2, pytest.approx(1 / 3), 0.0)


# -- memory ----------------------------------------------------------------------------------------


def test_memory_store_counts_per_key():
    clock = Clock()
    store = MemoryStore(clock=clock)
    assert [store.hit("a", 2, 60).allowed for _ in range(3)] == [True, True, False]
    assert store.hit("b", 2, 60).allowed
    clock.now += 30
    assert store.hit("a", 2, 60).allowed


def test_memory_store_entries_expire_when_the_bucket_is_full_again():
    clock = Clock()
    store = MemoryStore(clock=clock)
    store.hit("a", 10, 1.0)
    assert len(store) == 1
    clock.now += 2
    assert store.hit("a", 10, 1.0).remaining == 9  # the expired entry was dropped, not reused


def test_memory_store_is_bounded_under_spraying():
    store = MemoryStore(max_entries=1000)
    for i in range(20_000):
        store.hit(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 5, 60)
        assert len(store) <= 1000
    assert len(store) == 1000


def test_memory_store_keeps_the_recently_seen():
    store = MemoryStore(max_entries=100)
    for _ in range(5):
        store.hit("hammer", 5, 60)
    for i in range(1000):
        store.hit(f"spray{i}", 5, 60)
        if i % 50 == 0:
            assert not store.hit("hammer", 5, 60).allowed  # still throttled: seen recently


def test_memory_store_sessions():
    clock = Clock()
    store = MemoryStore(clock=clock)

    async def go():
        await store.save("id1", b'{"a":1}', 60)
        assert await store.load("id1") == b'{"a":1}'
        clock.now += 61
        assert await store.load("id1") is None
        await store.save("id2", b"{}", 60)
        await store.delete("id2")
        assert await store.load("id2") is None
        await store.delete("never")

    run(go())


def test_memory_store_refuses_a_bad_size():
    with pytest.raises(ValueError):
        MemoryStore(max_entries=0)


# -- redis -----------------------------------------------------------------------------------------


def test_redis_store_rate_limit(redis_server):
    store = RedisStore(redis_server.url, timeout=2.0)

    async def go():
        seen = [await store.hit("k", 3, 60) for _ in range(4)]
        assert [(d.allowed, d.remaining) for d in seen] == [(True, 2), (True, 1), (True, 0), (False, 0)]
        assert seen[3].retry_after == pytest.approx(20.0, abs=0.5)
        assert seen[3].reset == pytest.approx(60.0, abs=0.5)
        assert (await store.hit("other", 3, 60)).allowed
        await store.aclose()

    run(go())


def test_redis_store_is_atomic_across_instances(redis_server):
    # Two stores (two app instances) racing on one key: exactly the limit is allowed.
    a = RedisStore(redis_server.url, timeout=5.0)
    b = RedisStore(redis_server.url, timeout=5.0)

    async def go():
        results = await asyncio.gather(*(s.hit("shared", 10, 60) for _ in range(40) for s in (a, b)))
        assert sum(d.allowed for d in results) == 10
        await a.aclose()
        await b.aclose()

    run(go())


def test_redis_and_memory_twins_agree(redis_server):
    redis_store = RedisStore(redis_server.url, timeout=2.0)
    memory = MemoryStore(clock=Clock())

    async def go():
        for _ in range(7):
            r = await redis_store.hit("twin", 5, 3600)
            m = memory.hit("twin", 5, 3600)
            assert (r.allowed, r.remaining) == (m.allowed, m.remaining)
        await redis_store.aclose()

    run(go())


def test_redis_store_sessions(redis_server):
    store = RedisStore(redis_server.url, prefix="t:", timeout=2.0)

    async def go():
        await store.save("sid", b'{"u":"ann"}', 60)
        assert await store.load("sid") == b'{"u":"ann"}'
        await store.delete("sid")
        assert await store.load("sid") is None
        await store.aclose()

    run(go())


def test_redis_store_used_from_two_loops(redis_server):
    store = RedisStore(redis_server.url, timeout=2.0)

    async def go():
        try:
            return await store.hit("loops", 10, 60)
        finally:
            await store.aclose()

    for _ in range(2):  # each asyncio.run is a new loop: the store makes a client per loop
        assert run(go()).allowed


def test_redis_store_frozen_server_is_a_bounded_failure(redis_server):
    store = RedisStore(redis_server.url, timeout=0.3)

    async def go():
        assert (await store.hit("k", 5, 60)).allowed
        redis_server.pause()
        try:
            with pytest.raises(StoreUnavailable, match="did not answer"):
                await store.hit("k", 5, 60)
            with pytest.raises(StoreUnavailable):
                await store.load("sid")
        finally:
            redis_server.resume()
            await store.aclose()

    run(go())


def test_redis_store_dead_server_is_a_failure(redis_server):
    # A generous timeout: the live save must not time out on a loaded machine, and the dead
    # server refuses at once, so the failures below never wait for it.
    store = RedisStore(redis_server.url, timeout=5.0)

    async def go():
        await store.save("sid", b"{}", 60)
        redis_server.stop()  # the pooled connection is reset; a new one is refused
        with pytest.raises(StoreUnavailable):
            await store.load("sid")
        with pytest.raises(StoreUnavailable):
            await store.hit("k", 5, 60)
        await store.aclose()

    run(go())


def test_redis_store_refuses_no_timeout():
    pytest.importorskip("redis")
    with pytest.raises(ValueError):
        RedisStore(timeout=0)
