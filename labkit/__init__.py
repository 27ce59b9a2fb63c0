"""labkit — the helpers students import in the course notebooks.

Nothing here runs at import time. Import the submodule you need::

    from labkit import checks, git, gitmetrics

Modules with side effects (scratch git repositories, PostgreSQL, local web services) expose context managers
that always clean up.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
