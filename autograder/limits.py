"""Every grading limit and setting — and every ``AUTOGRADER_*`` variable the grader reads — in one place.

The CLI builds one :class:`EngineOptions` from its flags (``EngineOptions.from_env`` fills what a flag left
open from the environment) and passes it down; nothing below the CLI reads the environment or writes it.

==============================  ============================================================  ============
variable                        what                                                          default
==============================  ============================================================  ============
``AUTOGRADER_CELL_TIMEOUT``     seconds one cell may run while grading (``--timeout``)        60
``AUTOGRADER_TOTAL_TIMEOUT``    seconds one submission may run in all                         10 × cell, ≥ 300
``AUTOGRADER_MEMORY_MB``        ``RLIMIT_AS`` of every process of a submission                2048
``AUTOGRADER_NPROC``            processes and threads of one submission (dedicated uid)       256
``AUTOGRADER_OUTPUT_KB``        output kept per cell                                          1024
``AUTOGRADER_MAX_NOTEBOOK_MB``  largest submitted notebook accepted                           20
``AUTOGRADER_ENGINE``           ``sandbox`` or ``nbgrader`` (``--engine``)                    sandbox
``AUTOGRADER_SANDBOX``          ``auto``/``container``/``bwrap``/``user``/``none`` (``--sandbox``)  auto
``AUTOGRADER_SANDBOX_IMAGE``    container image with the course environment                   none
``AUTOGRADER_SANDBOX_UID``      first of the dedicated uids (as root)                         64100
``AUTOGRADER_JOBS``             parallel workers (``--jobs``)                                 one per core
``AUTOGRADER_REGRADE``          ``1``: ignore the journal (``--regrade``)                     off
``AUTOGRADER_TMP``              where the per-submission sandbox folders are made             system temp
``AUTOGRADER_CLUSTER``          a Dask scheduler (``tcp://HOST:PORT``) or ``local:N`` (``--cluster``)  this machine
==============================  ============================================================  ============

(The in-kernel guard reads ``AUTOGRADER_GUARD_*`` inside the sandbox; the worker sets them, see
:mod:`autograder.guard`.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import AutograderError

ENGINES = ("sandbox", "nbgrader")
DEFAULT_CELL_TIMEOUT = 60
DEFAULT_MAX_NOTEBOOK_MB = 20
DEFAULT_BASE_UID = 64100

TIMEOUT_ENV = "AUTOGRADER_CELL_TIMEOUT"
TOTAL_TIMEOUT_ENV = "AUTOGRADER_TOTAL_TIMEOUT"
MEMORY_ENV = "AUTOGRADER_MEMORY_MB"
NPROC_ENV = "AUTOGRADER_NPROC"
OUTPUT_ENV = "AUTOGRADER_OUTPUT_KB"
MAX_NOTEBOOK_MB_ENV = "AUTOGRADER_MAX_NOTEBOOK_MB"
ENGINE_ENV = "AUTOGRADER_ENGINE"
SANDBOX_ENV = "AUTOGRADER_SANDBOX"
IMAGE_ENV = "AUTOGRADER_SANDBOX_IMAGE"
UID_ENV = "AUTOGRADER_SANDBOX_UID"
JOBS_ENV = "AUTOGRADER_JOBS"
REGRADE_ENV = "AUTOGRADER_REGRADE"
TMP_ENV = "AUTOGRADER_TMP"
CLUSTER_ENV = "AUTOGRADER_CLUSTER"


#: ``--cluster``: a Dask scheduler address, or ``local:N`` for N worker processes on this machine
CLUSTER_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://\S+|local:(?P<n>[1-9][0-9]*))$")


def check_address(address: str) -> str:
    """``tcp://HOST:PORT`` (also tls, ws, wss, ucx) or ``local:N``; a clear error for anything else."""
    if not CLUSTER_ADDRESS.match(address.strip()):
        raise AutograderError(
            f"--cluster {address!r} is not a Dask scheduler address: use tcp://HOST:8786 (the address "
            "`dask scheduler` prints) or local:N for N worker processes on this machine"
        )
    return address.strip()


def env_int(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    """A positive whole number from the environment, or ``default``; a clear ``ValueError`` otherwise."""
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, found {raw!r}; try {default}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, found {value}; try {default}")
    return value


def cell_timeout(timeout: int | None = None) -> int:
    """The per-cell timeout: the explicit value, else ``$AUTOGRADER_CELL_TIMEOUT``, else 60 s."""
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
            raise ValueError(f"the per-cell timeout must be a positive number of seconds, found {timeout!r}")
        return timeout
    raw = os.environ.get(TIMEOUT_ENV, "")
    try:
        return env_int(TIMEOUT_ENV, DEFAULT_CELL_TIMEOUT)
    except ValueError:
        raise ValueError(
            f"{TIMEOUT_ENV} must be a whole number of seconds, found {raw!r}; try {DEFAULT_CELL_TIMEOUT}"
        ) from None


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission (all notebooks of one student)."""

    cell_timeout: int = 60  #: seconds one cell may run; then it is interrupted (nbgrader's timeout)
    total_timeout: int = 600  #: seconds for the whole submission; then the kernel is killed
    interrupt_grace: int = 5  #: seconds an interrupted cell gets to stop before the kernel is killed
    memory_mb: int = 2048  #: RLIMIT_AS of every process of the submission
    nproc: int = 256  #: RLIMIT_NPROC of the dedicated uid (processes and threads)
    output_kb: int = 1024  #: output kept per cell (errors are always kept, their traceback shortened)
    file_size_mb: int = 512  #: RLIMIT_FSIZE: the largest file the submission may write
    nofile: int = 1024  #: RLIMIT_NOFILE

    @classmethod
    def from_env(cls, cell_timeout: int, **overrides: int | None) -> Limits:
        """Defaults, then ``$AUTOGRADER_*`` variables, then explicit ``overrides`` (None = not given)."""
        total_default = max(300, 10 * cell_timeout)
        limits = cls(
            cell_timeout=cell_timeout,
            total_timeout=env_int(TOTAL_TIMEOUT_ENV, total_default),
            memory_mb=env_int(MEMORY_ENV, cls.memory_mb),
            nproc=env_int(NPROC_ENV, cls.nproc),
            output_kb=env_int(OUTPUT_ENV, cls.output_kb),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        for key, value in given.items():
            if value <= 0:
                raise ValueError(f"limit {key} must be positive, found {value}")
        return replace(limits, **given)

    def rlimits(self) -> dict[str, int]:
        return {
            "RLIMIT_AS": self.memory_mb * 1024 * 1024,
            "RLIMIT_FSIZE": self.file_size_mb * 1024 * 1024,
            "RLIMIT_NOFILE": self.nofile,
            "RLIMIT_CORE": 0,
            "RLIMIT_CPU": self.total_timeout + 60,
        }

    def describe(self) -> str:
        return (
            f"cell {self.cell_timeout} s, total {self.total_timeout} s, memory {self.memory_mb} MiB/process, "
            f"{self.nproc} processes, output {self.output_kb} KiB/cell"
        )


@dataclass
class EngineOptions:
    """How ``grade`` runs: built once (by the CLI, a test or the demo) and passed down as an argument."""

    engine: str = "sandbox"
    jobs: int | None = None  #: worker processes (default: all cores)
    sandbox: str | None = None  #: auto | container | bwrap | user | none
    regrade: bool = False  #: ignore the journal
    progress: bool | None = None  #: tqdm bar on stderr (default: when stderr is a terminal)
    total_timeout: int | None = None
    memory_mb: int | None = None
    nproc: int | None = None
    output_kb: int | None = None
    max_notebook_mb: int = DEFAULT_MAX_NOTEBOOK_MB  #: larger submitted notebooks are refused
    image: str | None = None  #: container image for the ``container`` sandbox
    base_uid: int = DEFAULT_BASE_UID  #: first dedicated uid when grading as root
    tmp_dir: str | None = None  #: where per-submission sandbox folders are made
    cluster: str | None = None  #: Dask scheduler address or ``local:N``; None = this machine's pool
    cluster_timeout: int = 30  #: seconds to reach the scheduler, wait for a worker, or reconnect
    environ: dict[str, str] = field(default_factory=dict, repr=False)  #: the environment it was read from

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **given: Any) -> EngineOptions:
        """The options given (None = not given), the rest from ``environ`` (default: ``os.environ``)."""
        env = dict(os.environ if environ is None else environ)
        opts = cls(**{k: v for k, v in given.items() if v is not None})
        if given.get("engine") is None:
            opts.engine = env.get(ENGINE_ENV, "sandbox") or "sandbox"
        if not opts.regrade and env.get(REGRADE_ENV, "").lower() in ("1", "true", "yes"):
            opts.regrade = True
        if opts.sandbox is None:
            opts.sandbox = env.get(SANDBOX_ENV) or None
        if opts.jobs is None and env.get(JOBS_ENV):
            opts.jobs = env_int(JOBS_ENV, 1, env)
        if given.get("max_notebook_mb") is None:
            opts.max_notebook_mb = env_int(MAX_NOTEBOOK_MB_ENV, DEFAULT_MAX_NOTEBOOK_MB, env)
        if opts.image is None:
            opts.image = env.get(IMAGE_ENV) or None
        if given.get("base_uid") is None:
            opts.base_uid = env_int(UID_ENV, DEFAULT_BASE_UID, env)
        if opts.tmp_dir is None:
            opts.tmp_dir = env.get(TMP_ENV) or None
        cluster = opts.cluster or env.get(CLUSTER_ENV)
        opts.cluster = check_address(cluster) if cluster else None  # a bad address stops before any grading
        opts.environ = env
        if opts.engine not in ENGINES:
            raise AutograderError(f"unknown engine {opts.engine!r}; choose one of {', '.join(ENGINES)}")
        if opts.jobs is not None and opts.jobs < 1:
            raise AutograderError(f"--jobs must be at least 1, found {opts.jobs}")
        return opts

    def limits(self, cell_timeout: int) -> Limits:
        try:
            return Limits.from_env(
                cell_timeout,
                total_timeout=self.total_timeout,
                memory_mb=self.memory_mb,
                nproc=self.nproc,
                output_kb=self.output_kb,
            )
        except ValueError as exc:
            raise AutograderError(str(exc)) from None

    def forwarded_environment(self) -> tuple[tuple[str, str], ...]:
        """Variables a kernel inherits from the grader: ``LABKIT_*`` settings and ``TZ``."""
        return tuple((k, v) for k, v in self.environ.items() if k.startswith("LABKIT_") or k == "TZ")
