"""A small shop app with a 200 page, a 404 and a handler that crashes (the header audit's subject)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette


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
