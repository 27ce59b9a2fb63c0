"""Repository-wide pytest settings that must also reach nbval's notebook items under source/ and notebooks/."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")  # kernels that nbval starts draw off-screen, as the tests do
