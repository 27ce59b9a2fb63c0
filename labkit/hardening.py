"""Production hardening labs: your own middleware on a real HTTP server, header audits, load from threads, and
Kubernetes NetworkPolicy building blocks.

::

    from labkit import hardening
    app = hardening.demo_app(Middleware(MySecurityHeaders))    # a small Starlette app + your middleware
    with hardening.serve(app) as srv:                          # a real uvicorn process on 127.0.0.1
        resp = srv.get("/missing")                             # httpx, over a real socket
        hardening.header_problems(resp.headers, https=False)   # [] when the security headers are right

Why a *forked* process: the middleware is a class you wrote a minute ago in the notebook, so it cannot be
imported by a fresh ``python -m ...`` process the way :mod:`labkit.service` starts its own app. ``fork`` copies
the notebook's objects into the child, which then serves them with uvicorn on a socket the parent bound first
(port 0, so the port is known before the child starts and nobody can take it in between). The child exits when
the ``with`` block ends (SIGTERM, then SIGKILL) and by itself if the notebook's kernel dies. Because the
listening socket exists before the fork, the first request simply waits in the kernel's backlog until uvicorn
accepts it: no readiness request is needed, so no request of yours is ever spent on a health probe (it would
eat a token of your rate limiter).

uvicorn runs with ``proxy_headers=True`` and trusts ``127.0.0.1`` (its default): a request that carries
``X-Forwarded-Proto: https`` and ``X-Forwarded-For: 203.0.113.7`` looks, to the app, like an HTTPS request from
203.0.113.7 — exactly what an app sees behind a TLS-terminating ingress or load balancer. That is how the labs
test HSTS (only sent over HTTPS) and per-client rate limits without certificates or many machines.

The NetworkPolicy helpers are the *vocabulary* (label selectors, pods, namespaces, the syllabus' manifests and
the Kubernetes documentation's examples); deciding which flows a set of policies allows is the student's
exercise.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import yaml

from labkit import _procs

if TYPE_CHECKING:
    import httpx
    from matplotlib.axes import Axes
    from starlette.applications import Starlette

__all__ = [
    "HOST",
    "HSTS_MIN_SECONDS",
    "SECURITY_HEADER_NAMES",
    "Answer",
    "CountingLimiter",
    "ManualClock",
    "Pod",
    "Server",
    "ServerError",
    "DOCS_DEFAULT_DENY_INGRESS",
    "DOCS_NETWORK_POLICY",
    "SYLLABUS_NETWORK_POLICY",
    "concurrent_calls",
    "concurrent_get",
    "demo_app",
    "flow_matrix",
    "header_problems",
    "parse_csp",
    "parse_policies",
    "parse_hsts",
    "plot_flow_matrix",
    "plot_rate_limit",
    "selector_matches",
    "serve",
]

HOST = "127.0.0.1"

#: The five response headers this week adds to every answer (OWASP Secure Headers Project, MDN).
SECURITY_HEADER_NAMES = (
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
)


class ServerError(RuntimeError):
    """The served app could not start or died; the message shows the last lines of its output."""


# ------------------------------------------------------------------------------------------- a demo app


def demo_app(*middleware: Any) -> Starlette:
    """A small Starlette app with the answers a real service gives, wrapped in ``middleware`` (outermost first).

    Routes: ``GET /`` (an HTML page, 200), ``GET /api/orders`` (JSON, 200), ``GET /boom`` (the handler raises
    ``RuntimeError`` → 500 from Starlette's error handler), anything else → 404. Each item of ``middleware`` is
    a ``starlette.middleware.Middleware(...)`` or a middleware class (wrapped for you). The 404 and the 500 are
    there on purpose: a security header that is missing on error pages is still missing.
    """
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    async def index(request: Request) -> Response:
        return HTMLResponse("<!doctype html><title>shop</title><h1>Welcome to the shop</h1>")

    async def orders(request: Request) -> Response:
        return JSONResponse({"orders": [{"id": 1, "item": "book", "qty": 2}]})

    async def boom(request: Request) -> Response:
        raise RuntimeError("a bug in the handler (on purpose: /boom always fails)")

    stack = [m if isinstance(m, Middleware) else Middleware(m) for m in middleware]
    routes = [Route("/", index), Route("/api/orders", orders), Route("/boom", boom)]
    return Starlette(routes=routes, middleware=stack)


# ------------------------------------------------------------------------------------ serving in a process


@dataclass
class Server:
    """A running app (from :func:`serve`): ``url``, ``get(path, **kwargs)``, ``client()``, ``output()``."""

    port: int
    _proc: Any = field(repr=False)
    _log: IO[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return int(self._proc.pid)

    @property
    def alive(self) -> bool:
        return bool(self._proc.is_alive())

    def output(self, max_bytes: int = 3000) -> str:
        """The last lines the server printed (tracebacks of your middleware land here)."""
        return _procs.tail_text(self._log, max_bytes).strip()

    def client(self, timeout: float = 5.0) -> httpx.Client:
        """An ``httpx.Client`` with ``base_url`` set to this server; use it in a ``with`` block."""
        import httpx

        return httpx.Client(base_url=self.url, timeout=timeout)

    def get(self, path: str = "/", *, headers: Mapping[str, str] | None = None, timeout: float = 5.0) -> httpx.Response:
        """One ``GET`` over a real connection. If the server died, the error says why (its last output)."""
        import httpx

        try:
            return httpx.get(self.url + path, headers=dict(headers or {}), timeout=timeout)
        except httpx.HTTPError as exc:
            raise ServerError(
                f"GET {path} failed: {type(exc).__name__}: {exc}.\n"
                f"Server alive: {self.alive}. Its last output:\n{self.output() or '(nothing)'}"
            ) from exc


def _child(app: Any, sock: socket.socket, log_fd: int, parent: int) -> None:
    """In the forked child: output to the log file, exit with the parent, serve ``app`` on ``sock``."""
    import uvicorn

    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process ends with it
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    # Our own session: "interrupt kernel" (SIGINT, possibly to the kernel's whole process group) reaches only the
    # notebook, whose ``with`` block then stops us properly.
    os.setsid()
    _procs.exit_when_parent_dies(parent)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=2,
    )
    uvicorn.Server(config).run(sockets=[sock])


@contextlib.contextmanager
def serve(app: Any, *, port: int = 0) -> Iterator[Server]:
    """Serve the ASGI ``app`` in a forked uvicorn process on 127.0.0.1 until the ``with`` block ends.

    Linux/macOS only (``fork``). The port is 0 by default (the OS chooses); a busy fixed port raises
    :class:`labkit._procs.PortInUseError` at once.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        raise ServerError("hardening.serve needs the 'fork' start method (Linux or macOS).")
    sock = _procs.bind_local_socket(port, what="The app")
    chosen = int(sock.getsockname()[1])
    log: IO[bytes] = tempfile.TemporaryFile(prefix="labkit-hardening-")  # noqa: SIM115 - closed below
    proc = multiprocessing.get_context("fork").Process(
        target=_child, args=(app, sock, log.fileno(), os.getpid()), name="labkit-hardening", daemon=True
    )
    try:
        proc.start()
    except BaseException:
        sock.close()
        log.close()
        raise
    sock.close()  # the child has its copy; the port stays bound while it lives
    server = Server(chosen, proc, log)
    try:
        yield server
    finally:
        try:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
            proc.close()
        finally:
            log.close()


# ----------------------------------------------------------------------------------- header parsing + audit


def parse_csp(value: str) -> dict[str, list[str]]:
    """``"default-src 'self'; img-src *"`` → ``{"default-src": ["'self'"], "img-src": ["*"]}``.

    Directive names are case-insensitive (lower-cased here); a repeated directive is ignored after its first
    occurrence, as the CSP Level 3 parser does. Source expressions keep their case and quotes.
    """
    policy: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.split()
        if not tokens:
            continue
        name = tokens[0].lower()
        if name not in policy:
            policy[name] = tokens[1:]
    return policy


def parse_hsts(value: str) -> dict[str, Any]:
    """``"max-age=31536000; includeSubDomains"`` → ``{"max-age": 31536000, "includesubdomains": True}``.

    RFC 6797 §6.1: directive names are case-insensitive, ``max-age`` is required and is in **seconds**.
    A ``max-age`` that is not a non-negative integer is returned as the raw string so an audit can say so.
    """
    out: dict[str, Any] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        name, _, raw = part.strip().partition("=")
        name = name.strip().lower()
        raw = raw.strip().strip('"')
        if name == "max-age":
            out[name] = int(raw) if raw.isdigit() else raw
        else:
            out[name] = raw or True
    return out


_KEYWORDS = ("self", "none", "unsafe-inline", "unsafe-eval", "strict-dynamic", "unsafe-hashes")
_SAFE_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
#: The course's floor for HSTS max-age: one year, the value the syllabus' helmet config and MDN's examples use.
HSTS_MIN_SECONDS = 31536000


def header_problems(headers: Mapping[str, str], *, https: bool) -> list[str]:  # noqa: C901 - one rule per header
    """What is missing or weak in a response's security headers; ``[]`` when all is well.

    ``https`` says how the response travelled: RFC 6797 §7.2 forbids ``Strict-Transport-Security`` on plain
    HTTP (a browser ignores it there anyway, §8.1), and it must be present over HTTPS. The other rules follow
    the OWASP Secure Headers Project and MDN; the one-year HSTS floor and forbidding ``'unsafe-inline'`` for
    scripts are this course's choices (both are OWASP's recommendations too).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    problems: list[str] = []
    csp_value = lower.get("content-security-policy")
    if csp_value is None:
        problems.append("Content-Security-Policy is missing (try \"default-src 'self'; frame-ancestors 'none'\").")
    else:
        csp = parse_csp(csp_value)
        if "default-src" not in csp:
            problems.append(f"Content-Security-Policy {csp_value!r} has no default-src: every other type is open.")
        for name, sources in csp.items():
            for src in sources:
                if src.lower() in _KEYWORDS:
                    problems.append(
                        f"Content-Security-Policy {name} has {src} without quotes: a browser reads it as a host "
                        f"name. Keywords are quoted: '{src.lower()}'."
                    )
        script = csp.get("script-src", csp.get("default-src", []))
        if "'unsafe-inline'" in [s.lower() for s in script]:
            problems.append(
                "Content-Security-Policy allows 'unsafe-inline' scripts: that switches off CSP's protection "
                "against injected <script> (XSS). Move inline scripts to files, or use nonces/hashes."
            )
        if "frame-ancestors" not in csp and "x-frame-options" not in lower:
            problems.append("No clickjacking defence: add frame-ancestors 'none' to the CSP (or X-Frame-Options).")
    if lower.get("x-content-type-options", "").strip().lower() != "nosniff":
        problems.append(
            f"X-Content-Type-Options must be exactly 'nosniff'; found {lower.get('x-content-type-options')!r}."
        )
    xfo = lower.get("x-frame-options")
    if xfo is None:
        problems.append("X-Frame-Options is missing (DENY, or SAMEORIGIN; older browsers ignore frame-ancestors).")
    elif xfo.strip().upper() not in ("DENY", "SAMEORIGIN"):
        problems.append(f"X-Frame-Options {xfo!r}: only DENY and SAMEORIGIN work (ALLOW-FROM is obsolete).")
    ref = lower.get("referrer-policy")
    if ref is None:
        problems.append("Referrer-Policy is missing (strict-origin-when-cross-origin or no-referrer).")
    elif ref.split(",")[-1].strip().lower() not in _SAFE_REFERRER:
        problems.append(f"Referrer-Policy {ref!r} sends full URLs to other sites; use strict-origin-when-cross-origin.")
    sts = lower.get("strict-transport-security")
    if not https:
        if sts is not None:
            problems.append(
                "Strict-Transport-Security was sent over plain HTTP: RFC 6797 §7.2 says a server MUST NOT (a browser "
                "ignores it, §8.1). Send it only when the request came over HTTPS (request.url.scheme == 'https')."
            )
    elif sts is None:
        problems.append("Strict-Transport-Security is missing on an HTTPS response.")
    else:
        age = parse_hsts(sts).get("max-age")
        if not isinstance(age, int):
            problems.append(f"Strict-Transport-Security {sts!r} has no integer max-age (in seconds).")
        elif age < HSTS_MIN_SECONDS:
            problems.append(f"Strict-Transport-Security max-age={age} is under one year ({HSTS_MIN_SECONDS} s).")
    return problems


# ---------------------------------------------------------------------------------------- load from threads


class ManualClock:
    """A clock you move by hand: ``clock()`` returns the time, ``clock.advance(2.5)`` moves it (thread-safe).

    Inject it into a rate limiter and a test becomes deterministic: no sleeps, no flaky timing.
    ``yield_every_call=True`` makes every reading give up the CPU for a moment, which makes a missing lock in
    the code that reads it show up reliably (other threads run in between the read and the write).
    """

    def __init__(self, start: float = 1000.0, *, yield_every_call: bool = False) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.yield_every_call = yield_every_call

    def __call__(self) -> float:
        with self._lock:
            now = self._now
        if self.yield_every_call:
            time.sleep(0.0002)
        return now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"a clock does not go back; advance({seconds}) asked it to")
        with self._lock:
            self._now += seconds
            return self._now


def _preempting_tracer(filename: str) -> Callable[..., Any]:
    """A ``sys.settrace`` function that gives up the CPU before every line of code from ``filename``."""

    def local(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            time.sleep(0)  # releases the GIL: another thread runs between any two lines of the traced code
        return local

    def global_(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename == filename else None

    return global_


def concurrent_calls(
    fn: Callable[[], Any], n: int, *, threads: int = 8, timeout: float = 20.0, preempt: Callable[..., Any] | None = None
) -> list[Any]:
    """Call ``fn()`` ``n`` times from ``threads`` threads that start together; the results (or exceptions).

    Bounded: at most ``n`` calls, and the threads are given ``timeout`` seconds in total.

    ``preempt`` (a function or method): force a thread switch before every line of the file it was written in
    (a notebook cell is one such "file"). CPython only switches threads every few milliseconds, so a
    read-modify-write without a lock almost never breaks in a quick test — and then breaks in production
    under load. Forcing a switch at every line makes the race show up every time, while code that holds a
    lock stays correct (the other threads wait for the lock).
    """
    if n < 0 or threads < 1:
        raise ValueError(f"n must be >= 0 and threads >= 1; got n={n}, threads={threads}")
    results: list[Any] = []
    lock = threading.Lock()
    left = [n]
    start = threading.Barrier(threads)

    tracer = None
    if preempt is not None:
        code = getattr(getattr(preempt, "__func__", preempt), "__code__", None)
        if code is None:
            raise TypeError(f"preempt must be a Python function or method; got {preempt!r}")
        tracer = _preempting_tracer(code.co_filename)

    def worker() -> None:
        if tracer is not None:
            sys.settrace(tracer)
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=5)
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            try:
                value: Any = fn()
            except Exception as exc:  # noqa: BLE001 - reported to the caller as a result
                value = exc
            with lock:
                results.append(value)

    pool = [threading.Thread(target=worker, name=f"hardening-{i}", daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    deadline = time.monotonic() + timeout
    for t in pool:
        t.join(max(0.0, deadline - time.monotonic()))
    return list(results)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer from :func:`concurrent_get`: the status, the headers (lower-case names) and when."""

    status: int
    headers: dict[str, str]
    at: float


def concurrent_get(
    url: str, n: int, *, threads: int = 4, headers: Mapping[str, str] | None = None, timeout: float = 20.0
) -> list[Answer]:
    """``n`` GETs of ``url`` from ``threads`` threads at once (one connection each), as :class:`Answer` objects."""
    import httpx

    local = threading.local()
    t0 = time.monotonic()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def one() -> Answer:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(timeout=5.0, headers=dict(headers or {}))
            with lock:
                clients.append(client)
        resp = client.get(url)
        return Answer(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, time.monotonic() - t0)

    try:
        out = concurrent_calls(one, n, threads=threads, timeout=timeout)
    finally:
        for client in clients:
            client.close()
    errors = [r for r in out if isinstance(r, Exception)]
    if errors:
        raise ServerError(f"{len(errors)} of {n} requests to {url} failed; the first: {errors[0]!r}")
    return sorted(out, key=lambda a: a.at)


class CountingLimiter:
    """A stand-in rate limiter: ``limit`` requests per key, then "wait ``retry_after`` seconds" forever.

    It has the interface of this week's limiter — ``allow(key) -> (allowed, retry_after_seconds)`` — so the
    middleware exercise can be checked without depending on your token bucket.
    """

    def __init__(self, limit: int, retry_after: float = 30.0) -> None:
        self.limit = limit
        self.retry_after = retry_after
        self.seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        with self._lock:
            self.seen[key] = self.seen.get(key, 0) + 1
            if self.seen[key] <= self.limit:
                return True, 0.0
            return False, float(self.retry_after)


def plot_rate_limit(times: Sequence[float], allowed: Sequence[bool], *, bin_s: float = 1.0, title: str = "") -> Axes:
    """Stacked bars per ``bin_s`` seconds: requests allowed (green) and rejected with 429 (red)."""
    import matplotlib.pyplot as plt

    if len(times) != len(allowed):
        raise ValueError(f"{len(times)} times but {len(allowed)} decisions: one decision per request")
    bins = int(max(times, default=0) // bin_s) + 1
    ok = [0] * bins
    no = [0] * bins
    for t, a in zip(times, allowed, strict=True):
        (ok if a else no)[int(t // bin_s)] += 1
    xs = [i * bin_s for i in range(bins)]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.bar(xs, ok, width=bin_s * 0.9, align="edge", color="tab:green", label="allowed (200)")
    ax.bar(xs, no, width=bin_s * 0.9, align="edge", bottom=ok, color="tab:red", label="rejected (429)")
    ax.set_xlabel("seconds")
    ax.set_ylabel("requests")
    ax.set_title(title or "Rate limiter: requests per second")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return ax


# ------------------------------------------------------------------------------------------ NetworkPolicy


@dataclass(frozen=True)
class Pod:
    """A pod as a NetworkPolicy sees it: its name, its namespace and its labels."""

    name: str
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics: every ``matchLabels`` pair AND every ``matchExpressions`` entry.

    An empty selector ``{}`` matches everything (that is how ``podSelector: {}`` selects all pods of a
    namespace). ``None`` (the field is absent) matches nothing here: callers decide what an absent selector
    means, because in a NetworkPolicy peer that depends on the *other* selector.
    Operators: ``In``, ``NotIn``, ``Exists``, ``DoesNotExist`` (Labels and Selectors, Kubernetes docs).
    """
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], [str(v) for v in expr.get("values") or []]
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError(f"unknown matchExpressions operator {op!r}; use In, NotIn, Exists or DoesNotExist")
    return True


def parse_policies(text: str) -> list[dict[str, Any]]:
    """The NetworkPolicy documents of a YAML text (``---`` separated), as dicts; other kinds are refused."""
    docs = [d for d in yaml.safe_load_all(text) if d]
    for doc in docs:
        if doc.get("kind") != "NetworkPolicy":
            raise ValueError(f"expected kind: NetworkPolicy, found kind: {doc.get('kind')!r} in {doc.get('metadata')}")
        doc.setdefault("metadata", {}).setdefault("namespace", "default")
    return docs


#: The syllabus' policy, exactly as written there (note the flow sequence ``[protocol: TCP, port: 3000]``).
SYLLABUS_NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: backend-netpol
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: backend}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector:
        matchLabels: {app: frontend}
    ports: [protocol: TCP, port: 3000]
  egress:
  - to:
    - podSelector:
        matchLabels: {app: database}
"""

#: "test-network-policy" from the Kubernetes documentation's NetworkPolicy page (ipBlock peers kept as written).
DOCS_NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - ipBlock:
            cidr: 172.17.0.0/16
            except:
              - 172.17.1.0/24
        - namespaceSelector:
            matchLabels:
              project: myproject
        - podSelector:
            matchLabels:
              role: frontend
      ports:
        - protocol: TCP
          port: 6379
  egress:
    - to:
        - ipBlock:
            cidr: 10.0.0.0/24
      ports:
        - protocol: TCP
          port: 5978
"""

#: "default-deny-ingress" from the Kubernetes documentation: selects every pod, allows no ingress.
DOCS_DEFAULT_DENY_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
spec:
  podSelector: {}
  policyTypes:
  - Ingress
"""


def flow_matrix(pods: Sequence[Pod], decide: Callable[[Pod, Pod], bool]) -> list[list[bool]]:
    """``matrix[i][j]`` = ``decide(pods[i], pods[j])``: may ``pods[i]`` open a connection to ``pods[j]``?"""
    return [[bool(decide(src, dst)) for dst in pods] for src in pods]


def plot_flow_matrix(pods: Sequence[Pod], matrix: Sequence[Sequence[bool]], *, title: str = "") -> Axes:
    """A heatmap of a :func:`flow_matrix`: rows are sources, columns destinations; green allowed, red denied."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    n = len(pods)
    if len(matrix) != n or any(len(row) != n for row in matrix):
        raise ValueError(f"matrix must be {n} x {n}, one row and one column per pod")
    fig, ax = plt.subplots(figsize=(1.1 * n + 2.5, 0.8 * n + 1.8))
    ax.imshow(
        [[1 if v else 0 for v in row] for row in matrix], cmap=ListedColormap(["#d9534f", "#5cb85c"]), vmin=0, vmax=1
    )
    names = [str(p) for p in pods]
    ax.set_xticks(range(n), names, rotation=35, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("destination pod")
    ax.set_ylabel("source pod")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, "allow" if matrix[i][j] else "deny", ha="center", va="center", color="white", fontsize=8)
    ax.set_title(title or "Which pod may connect to which")
    ax.grid(False)
    fig.tight_layout()
    return ax
