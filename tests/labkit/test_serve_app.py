"""labkit.service.serve_app (added for week 11): a notebook's own ASGI app over real HTTP, stopped by the block."""

from __future__ import annotations

import threading

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from labkit import service

pytestmark = pytest.mark.service


def _app() -> Starlette:
    async def hello(request):  # type: ignore[no-untyped-def]
        return JSONResponse({"hello": "world"}, status_code=201)

    return Starlette(routes=[Route("/hello", hello)])


def test_serve_app_answers_over_http_and_stops():
    before = threading.active_count()
    with service.serve_app(_app()) as url:
        assert url.startswith("http://127.0.0.1:")
        answer = httpx.get(url + "/hello", timeout=5)
        assert (answer.status_code, answer.json()) == (201, {"hello": "world"})
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/hello", timeout=2)
    assert threading.active_count() <= before


def test_serve_app_stops_when_the_block_raises():
    with pytest.raises(RuntimeError, match="student bug"), service.serve_app(_app()) as url:
        raise RuntimeError("student bug")
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/hello", timeout=2)


def test_serve_app_on_a_busy_port_says_so():
    with service.serve_app(_app()) as url:
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(service.PortInUseError), service.serve_app(_app(), port=port):
            pass
