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

One layer per file: ``app``, ``process``, ``headers``, ``threads``, ``netpol``.
"""

from __future__ import annotations

from .app import HOST, SECURITY_HEADER_NAMES, ServerError, demo_app
from .headers import HSTS_MIN_SECONDS, header_problems, parse_csp, parse_hsts
from .netpol import (
    DOCS_DEFAULT_DENY_INGRESS,
    DOCS_NETWORK_POLICY,
    SYLLABUS_NETWORK_POLICY,
    Pod,
    flow_matrix,
    parse_policies,
    plot_flow_matrix,
    selector_matches,
)
from .process import Server, serve
from .threads import Answer, CountingLimiter, ManualClock, concurrent_calls, concurrent_get, plot_rate_limit

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
