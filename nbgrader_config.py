"""nbgrader configuration for this repository (the course root).

Plain ``nbgrader ...`` commands and formgrader load this file; it delegates to
``autograder.config.build_config`` so they see exactly what ``python -m autograder`` uses.
"""

import sys
from pathlib import Path

_root = Path(__file__).resolve().parent
if str(_root) not in sys.path:  # only when the course package is not installed (pip install -e .)
    sys.path.insert(0, str(_root))

from autograder.config import build_config  # noqa: E402

c = get_config()  # noqa: F821 - injected by traitlets when it loads this file
c.merge(build_config(_root))
