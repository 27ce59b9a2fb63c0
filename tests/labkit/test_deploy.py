"""labkit.deploy: a Fleet owns every service version it starts; DeployResult is typed and checked."""

from __future__ import annotations

import httpx
import pytest

from labkit import deploy, service

pytestmark = pytest.mark.service


def test_fleet_starts_versions_and_stops_all_of_them_at_the_end():
    with deploy.Fleet() as fleet:
        old = fleet.start("1.0.0")
        new = fleet.start("1.1.0", wait="none", boot="crash")
        assert httpx.get(old.url + "/health", timeout=5).json() == {"status": "ok", "version": "1.0.0"}
        assert fleet.started == [old, new]
        new._child.proc.wait(10)  # a boot crash exits by itself
        assert new.returncode == service.CRASH_EXIT_CODE
        assert fleet.versions() == ["1.0.0"]
        assert fleet.running() == [old]
        assert fleet.stop(new) == service.CRASH_EXIT_CODE  # safe on a process that already exited
    assert not old.alive and not new.alive
    assert fleet.versions() == []


def test_fleet_stop_one_keeps_the_others_and_cleans_up_on_error():
    with pytest.raises(RuntimeError, match="student bug"), deploy.Fleet() as fleet:
        a = fleet.start("1.0.0")
        b = fleet.start("2.0.0")
        fleet.stop(a)
        assert fleet.versions() == ["2.0.0"]
        assert fleet.stop(a) is not None  # twice is fine
        raise RuntimeError("student bug")
    assert not b.alive


def test_fleet_refuses_use_outside_the_block_and_foreign_objects():
    fleet = deploy.Fleet()
    with pytest.raises(RuntimeError, match="inside the block"):
        fleet.start("1.0.0")
    with deploy.Fleet() as fleet, pytest.raises(TypeError, match="fleet.start"):
        fleet.stop("http://127.0.0.1:1")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="inside the block"):
        fleet.start("1.0.0")  # the block has ended


def test_fleet_start_passes_options_to_service_run():
    with deploy.Fleet() as fleet:
        with pytest.raises(service.ServiceStartError, match="exited with code 3"):
            fleet.start("1.2.0", boot="crash", timeout=10)
        with pytest.raises(ValueError, match="boot must be one of"):
            fleet.start("1.2.0", boot="explode")
        unhealthy = fleet.start("1.3.0", boot="unhealthy", wait="up")
        assert httpx.get(unhealthy.url + "/health", timeout=5).status_code == 503
        assert fleet.versions() == ["1.3.0"]


def test_deploy_result_is_typed():
    with deploy.Fleet() as fleet:
        svc = fleet.start("1.0.0")
        ok = deploy.DeployResult("promoted", svc, "healthy", 1, 0.25)
        assert ok.promoted and ok.version == "1.0.0"
        back = deploy.DeployResult(deploy.ROLLED_BACK, svc, "/health answered HTTP 503", 4, 1.5)
        assert not back.promoted
        with pytest.raises(AttributeError):
            ok.outcome = "rolled_back"  # type: ignore[misc]  (frozen)
        bad = [
            (("promote", svc, "x", 1, 0.1), ValueError, "outcome must be"),
            (("promoted", svc.url, "x", 1, 0.1), TypeError, "serving must be"),
            (("promoted", svc, "  ", 1, 0.1), ValueError, "reason must be"),
            (("promoted", svc, "x", 1.0, 0.1), TypeError, "attempts must be an int"),
            (("promoted", svc, "x", True, 0.1), TypeError, "attempts must be an int"),
            (("promoted", svc, "x", -1, 0.1), TypeError, "attempts must be an int"),
            (("promoted", svc, "x", 1, 2), TypeError, "elapsed must be a float .* found 2 of type int"),
            (("promoted", svc, "x", 1, float("nan")), TypeError, "elapsed must be a float"),
        ]
        for args, exc, match in bad:
            with pytest.raises(exc, match=match):
                deploy.DeployResult(*args)
