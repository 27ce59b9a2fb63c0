"""Instructor tooling around nbgrader for the DevOps & TBD course.

Run ``python -m autograder --help``. Nothing runs at import time.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
