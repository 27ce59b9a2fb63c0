"""In the child process: import the student's ASGI app from their repository and serve it on the inherited socket."""

from __future__ import annotations

import importlib
import json
import os
import sys

from labkit.service.faults import ENV_CONFIG
from labkit.service.process import serve_child


def child_main() -> None:
    """``python -m labkit.capstone``: ``{"root", "app", "version"}`` from the environment → serve ``module:attr``."""
    cfg = json.loads(os.environ[ENV_CONFIG])
    root = str(cfg["root"])
    os.chdir(root)
    sys.path.insert(0, root)
    os.environ["APP_VERSION"] = str(cfg["version"])
    module_name, _, attr = str(cfg["app"]).partition(":")
    module = importlib.import_module(module_name)
    serve_child(getattr(module, attr))
