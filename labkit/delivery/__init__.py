"""Continuous delivery for week 9: build one artefact, promote the same bits dev → staging → prod.

The idea this module serves is Humble & Farley's "only build your binaries once": the archive that passed the
tests in ``dev`` is the very file that runs in ``staging`` and ``prod``; what changes between environments is
configuration and a person's decision, never the bits. So everything here is keyed on the artefact's sha256
digest, not on its version string (two builds of "1.4.0" can differ).

* :func:`sha256` — the hex digest of a file, read in chunks.
* :func:`write_sample_source` — a small application tree (``VERSION``, ``app/…``) to build.
* :func:`reference_build` — a reproducible ``.tar.gz`` made with Python's ``tarfile`` (sorted names, one mtime,
  owner 0/0 without names, normalised modes, gzip header without time or name). The exercises use the real
  GNU ``tar``; this builder makes artefacts for the worked examples and tests independently of them.
* :class:`Artifact` — path + digest + the version read from inside the archive; :attr:`Artifact.label` is the
  SemVer build-metadata form ``1.4.0+sha256.<64 hex>`` that each environment's service reports on ``/version``.
* :class:`Environments` — a ``with`` block owning one real :func:`labkit.service.run` service per environment
  on 127.0.0.1. :meth:`Environments.deploy` is the dumb ``deploy.sh``: it re-hashes and unpacks the archive into
  the environment's folder and (re)starts the service labelled with the digest it actually unpacked. It does
  **not** decide whether a promotion is allowed — that gate is the student's code. Every deploy, approval and
  build is written to a promotion record (:meth:`Environments.history`) with times from a simulated
  :class:`labkit.git.Clock`, so lead times are reproducible.
* :func:`sample_record` — a realistic promotion record of several releases for the lead-time exercise.
* :func:`load_gitlab_ci`, :func:`validate_gitlab_ci` — a ``.gitlab-ci.yml`` checked against the GitLab CI
  schema that check-jsonschema ships (``check-jsonschema --builtin-schema vendor.gitlab-ci``), in-process.
* :func:`pipeline_problems` — the promotion rules the schema cannot express (every job has a ``script``, the
  build publishes artifacts, deploy jobs do not rebuild, staging and prod are *blocking* manual jobs, prod only
  from the default branch). Each problem says what was expected, what was found and what to write.

Nothing runs at import time::

    from labkit import delivery
    with delivery.Environments() as envs:
        artifact = delivery.Artifact.load(path)
        envs.deploy("dev", artifact)
        envs.version("dev")          # {"version": "1.4.0+sha256.…", "name": "orders-dev", …} over HTTP

One layer per file: ``artefacts``, ``environments``, ``record``, ``gitlab``.
"""

from __future__ import annotations

from .artefacts import (
    DEFAULT_EPOCH,
    ENVIRONMENTS,
    GATED,
    PIPELINE_STAGES,
    Approval,
    Artifact,
    DeliveryError,
    PromotionRefused,
    read_version,
    reference_build,
    sha256,
    write_sample_source,
)
from .environments import Environments
from .gitlab import SYLLABUS_PIPELINE, load_gitlab_ci, manual_gate, pipeline_problems, validate_gitlab_ci
from .record import sample_record

__all__ = [
    "ENVIRONMENTS",
    "GATED",
    "DEFAULT_EPOCH",
    "PIPELINE_STAGES",
    "SYLLABUS_PIPELINE",
    "DeliveryError",
    "PromotionRefused",
    "Artifact",
    "Approval",
    "Environments",
    "sha256",
    "write_sample_source",
    "reference_build",
    "read_version",
    "sample_record",
    "load_gitlab_ci",
    "validate_gitlab_ci",
    "manual_gate",
    "pipeline_problems",
]
