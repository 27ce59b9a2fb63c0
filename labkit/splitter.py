"""A small weighted reverse proxy in front of service versions — for the blue-green and canary weeks.

::

    from labkit import service, splitter
    with service.run(version="1.0.0") as blue, service.run(version="2.0.0") as green, \\
         splitter.run({"blue": blue.url, "green": green.url}, weights={"blue": 100, "green": 0}) as sp:
        switch = (1.0, lambda: sp.switch("green"))
        result = service.hammer(sp.url + "/api/orders", duration=2, actions=[switch])
        result.failed, result.by_version          # 0 failed; both versions answered

Routing: each request goes to one backend chosen by weight. ``mode="random"`` draws from a seeded RNG (same
seed and same request order → same choices); ``mode="smooth"`` is nginx's smooth weighted round-robin (exact
shares, e.g. 9 of every 10 requests to blue for 90/10). Weights change at once while the proxy runs
(:meth:`Splitter.set_weights`, :meth:`Splitter.switch`, or ``POST /splitter/state``).

The proxy is Starlette + an ``httpx.AsyncClient`` on uvicorn in a subprocess on 127.0.0.1 (same lifecycle as
:func:`labkit.service.run`). Its own endpoints live under ``/splitter/``: ``GET /splitter/health`` and
``GET|POST /splitter/state`` (backends, weights, mode, per-backend request and error counts). Every proxied
answer carries ``X-Splitter-Backend``; an unreachable backend gives 502, a slow one 504.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import random
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit._procs import PortInUseError
from labkit.service.faults import ENV_CONFIG
from labkit.service.process import serve_child, spawn_child, wait_until

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["MODES", "PortInUseError", "Splitter", "build_app", "check_weights", "run", "start"]

MODES = ("random", "smooth")
BACKEND_HEADER = "X-Splitter-Backend"
_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "host", "content-length",
}  # fmt: skip


def check_backends(backends: Mapping[str, str]) -> dict[str, str]:
    """Validate ``name → base URL``; returns a clean copy. Raises ValueError saying what is wrong."""
    if not isinstance(backends, Mapping) or not backends:
        raise ValueError(
            "backends must be a non-empty dict of name → base URL, "
            f"e.g. {{'blue': blue.url, 'green': green.url}}; got {backends!r}."
        )
    out: dict[str, str] = {}
    for name, url in backends.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"backend names must be identifiers like 'blue'; got {name!r}.")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"backend {name!r} must be a base URL like 'http://127.0.0.1:8000'; got {url!r}.")
        out[name] = url.rstrip("/")
    return out


def check_weights(weights: Mapping[str, Any], backends: Mapping[str, str]) -> dict[str, float]:
    """Validate weights for ``backends`` (missing names get 0); returns them as floats."""
    if not isinstance(weights, Mapping):
        raise ValueError(
            f"weights must be a dict of backend name → number, e.g. {{'blue': 90, 'green': 10}}; got {weights!r}."
        )
    unknown = sorted(set(weights) - set(backends))
    if unknown:
        raise ValueError(f"weights name unknown backend(s) {unknown}; the backends are {sorted(backends)}.")
    out: dict[str, float] = {}
    for name in backends:
        value = weights.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value != value:
            raise ValueError(f"weight of {name!r} must be a number >= 0; got {value!r}.")
        out[name] = float(value)
    if sum(out.values()) <= 0:
        raise ValueError(f"at least one weight must be > 0 (otherwise no backend gets traffic); got {out}.")
    return out


def build_app(  # noqa: C901 - the splitter's routes are closures over one shared state
    backends: Mapping[str, str],
    weights: Mapping[str, Any] | None = None,
    *,
    mode: str = "random",
    seed: int = 0,
    upstream_timeout: float = 5.0,
) -> Starlette:
    """The proxy application that :func:`run` serves."""
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
    state: dict[str, Any] = {"backends": check_backends(backends)}
    state["weights"] = check_weights(
        weights if weights is not None else {n: 1 for n in state["backends"]}, state["backends"]
    )
    counts: dict[str, dict[str, int]] = {n: {"requests": 0, "errors": 0} for n in state["backends"]}
    rng = random.Random(seed)
    current: dict[str, float] = dict.fromkeys(state["backends"], 0.0)  # smooth round-robin accumulators
    holder: dict[str, httpx.AsyncClient] = {}

    def choose() -> str:
        names = [n for n, w in state["weights"].items() if w > 0]
        weights_now = [state["weights"][n] for n in names]
        if mode == "random":
            return rng.choices(names, weights=weights_now)[0]
        total = sum(weights_now)
        for name, w in zip(names, weights_now, strict=True):
            current[name] = current.get(name, 0.0) + w
        best = max(names, key=lambda n: current[n])
        current[best] -= total
        return best

    def state_json() -> dict[str, Any]:
        return {
            "backends": state["backends"],
            "weights": state["weights"],
            "mode": mode,
            "seed": seed,
            "counts": counts,
        }

    async def splitter_state(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await request.json()
                if not isinstance(body, dict) or not set(body) <= {"weights", "backends"} or not body:
                    raise ValueError('send {"weights": {...}} and/or {"backends": {...}}')
                new_backends = check_backends(body["backends"]) if "backends" in body else state["backends"]
                new_weights = check_weights(body.get("weights", state["weights"]), new_backends)
            except ValueError as exc:
                return JSONResponse({"error": str(exc), "state": state_json()}, status_code=422)
            state["backends"], state["weights"] = new_backends, new_weights
            for name in new_backends:
                counts.setdefault(name, {"requests": 0, "errors": 0})
                current.setdefault(name, 0.0)
        return JSONResponse(state_json())

    async def splitter_health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def proxy(request: Request) -> Response:
        name = choose()
        counts[name]["requests"] += 1
        client = holder.get("client")
        if client is None:
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
            client = holder["client"] = httpx.AsyncClient(timeout=upstream_timeout, limits=limits)
        target = state["backends"][name] + request.url.path
        if request.url.query:
            target += "?" + request.url.query
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP]
        try:
            upstream = await client.request(request.method, target, headers=headers, content=await request.body())
        except httpx.TimeoutException as exc:
            counts[name]["errors"] += 1
            return JSONResponse(
                {"error": f"backend {name!r} gave no answer in {upstream_timeout:g} s: {type(exc).__name__}"},
                status_code=504, headers={BACKEND_HEADER: name},
            )  # fmt: skip
        except httpx.HTTPError as exc:
            counts[name]["errors"] += 1
            return JSONResponse(
                {"error": f"backend {name!r} is unreachable: {type(exc).__name__}: {exc}"},
                status_code=502, headers={BACKEND_HEADER: name},
            )  # fmt: skip
        if upstream.status_code >= 500:
            counts[name]["errors"] += 1
        out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP | {"content-encoding"}}
        out[BACKEND_HEADER] = name
        return Response(upstream.content, status_code=upstream.status_code, headers=out)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/splitter/state", splitter_state, methods=["GET", "POST"]),
            Route("/splitter/health", splitter_health),
            Route("/{path:path}", proxy, methods=methods),
        ]
    )


@dataclass
class Splitter:
    """A running splitter (from :func:`run`)."""

    _child: Any = field(repr=False)
    _keep: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Base URL of the proxy; any path but ``/splitter/*`` is forwarded."""
        return str(self._child.url)

    @property
    def pid(self) -> int:
        return int(self._child.proc.pid)

    @property
    def alive(self) -> bool:
        return self._child.proc.poll() is None

    def state(self) -> dict[str, Any]:
        """Backends, weights, mode and per-backend counts of requests and errors."""
        import httpx

        return dict(httpx.get(self.url + "/splitter/state", timeout=5).json())

    def _post(self, body: Mapping[str, Any]) -> dict[str, Any]:
        import httpx

        resp = httpx.post(self.url + "/splitter/state", json=dict(body), timeout=5)
        if resp.status_code == 422:
            raise ValueError(resp.json()["error"])
        resp.raise_for_status()
        return dict(resp.json())

    def set_weights(self, weights: Mapping[str, Any] | None = None, **by_name: Any) -> dict[str, Any]:
        """Change the traffic shares at once, e.g. ``set_weights(blue=90, green=10)``; returns the state."""
        return self._post({"weights": {**dict(weights or {}), **by_name}})

    def switch(self, name: str) -> dict[str, Any]:
        """Send all traffic to ``name`` from the next request on (the blue→green switch)."""
        names = self.state()["backends"]
        if name not in names:
            raise ValueError(f"unknown backend {name!r}; the backends are {sorted(names)}.")
        return self._post({"weights": {n: (100 if n == name else 0) for n in names}})

    def set_backends(self, backends: Mapping[str, str], weights: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Replace the backends (e.g. point 'green' at a new version); weights must name the new backends."""
        body: dict[str, Any] = {"backends": dict(backends)}
        if weights is not None:
            body["weights"] = dict(weights)
        return self._post(body)

    def stop(self) -> int | None:
        """Stop the proxy; the ``with`` block does this for you. Safe to repeat."""
        atexit.unregister(self.stop)
        return int(self._child.stop() or 0)

    def __enter__(self) -> Splitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def run(
    backends: Mapping[str, str],
    *,
    weights: Mapping[str, Any] | None = None,
    mode: str = "random",
    seed: int = 0,
    port: int = 0,
    upstream_timeout: float = 5.0,
    timeout: float = 10.0,
) -> Iterator[Splitter]:
    """Run the splitter in a subprocess on 127.0.0.1 in front of ``backends``; stop it when the block ends.

    Args:
        backends: name → base URL, e.g. ``{"blue": blue.url, "green": green.url}``.
        weights: name → share (any non-negative numbers; default: equal). ``{"blue": 90, "green": 10}``.
        mode: ``"random"`` (seeded draws) or ``"smooth"`` (exact weighted round-robin).
        seed: seed of the random mode.
        port: 0 lets the OS choose; a busy fixed port raises :class:`PortInUseError`.
        upstream_timeout: seconds before a slow backend's request becomes a 504.
        timeout: seconds to wait for the splitter to answer.
    """
    clean = check_backends(backends)
    clean_weights = check_weights(weights if weights is not None else dict.fromkeys(clean, 1), clean)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
    config = {
        "backends": clean,
        "weights": clean_weights,
        "mode": mode,
        "seed": int(seed),
        "upstream_timeout": float(upstream_timeout),
    }
    child = spawn_child("labkit.splitter", config, port=port, what="labkit.splitter.run()")
    try:
        wait_until(child, "/splitter/health", "healthy", timeout)
        yield Splitter(child)
    finally:
        child.stop()


def start(backends: Mapping[str, str], **kwargs: Any) -> Splitter:
    """Like :func:`run` without a ``with`` block (lives across notebook cells); call ``stop()`` when done."""
    manager = run(backends, **kwargs)
    sp = manager.__enter__()
    sp._keep = manager
    atexit.register(sp.stop)
    return sp


def _child_main() -> None:
    # httpcore imports the optional 'sniffio' on every request; when it is not installed each failed import
    # searches sys.path again (~0.5 ms, 4x per request). A None entry makes the failure instant.
    if importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]
    cfg = json.loads(os.environ[ENV_CONFIG])
    app = build_app(
        cfg["backends"],
        cfg["weights"],
        mode=cfg["mode"],
        seed=cfg["seed"],
        upstream_timeout=cfg["upstream_timeout"],
    )
    serve_child(app)


if __name__ == "__main__":
    _child_main()
