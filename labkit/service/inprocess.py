"""``serve_app()``: an ASGI app built in a notebook, served over real HTTP from a thread of the kernel."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from labkit import _procs

if TYPE_CHECKING:
    pass
from .faults import HOST, ServiceStartError

# ------------------------------------------------------------------------------- serve an app of your own


@contextlib.contextmanager
def serve_app(app: Any, *, port: int = 0, timeout: float = 10.0) -> Iterator[str]:
    """Serve an ASGI app you built (e.g. a Starlette app from a notebook) over real HTTP; yields its base URL.

    Unlike :func:`run`, the app runs in a background **thread** of this process (uvicorn on 127.0.0.1, port
    chosen by the OS), so it can be a function you just wrote in a notebook cell. The ``with`` block stops the
    server and waits for the thread; requests still running get up to 2 s to finish.
    """
    import uvicorn

    sock = _procs.bind_local_socket(port, what="labkit.service.serve_app()")
    url = f"http://{HOST}:{sock.getsockname()[1]}"
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="labkit-serve-app", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise ServiceStartError(f"the app did not start on {url}: uvicorn stopped (see the output above).")
            if time.monotonic() > deadline:
                raise ServiceStartError(f"the app did not start on {url} within {timeout:g} s.")
            time.sleep(0.005)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout + 5)
        sock.close()
