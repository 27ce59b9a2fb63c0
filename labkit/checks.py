"""Friendly checks for notebook test cells.

Every check compares **types as well as values** and, on failure, raises :class:`CheckFailed` (an
``AssertionError``, so nbgrader scores the cell 0) with a message that says what was expected, what was found
and what to try::

    from labkit import checks
    checks.equal(add(2, 2), 4, what="add(2, 2)")
    checks.close(mean([1, 2]), 1.5, what="mean([1, 2])")
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "CheckFailed",
    "equal",
    "close",
    "is_type",
    "has_columns",
    "frame_equal",
    "raises",
    "true",
    "passed",
]


class CheckFailed(AssertionError):
    """A check did not hold; the message is written for the student.

    In Jupyter it shows as the message alone after a red ✘ (IPython's ``_render_traceback_`` hook), with the
    full traceback collapsed below it (:mod:`labkit.friendly`); it is still an ``AssertionError`` to nbgrader.
    """

    def _render_traceback_(self) -> list[str]:
        from . import friendly

        return friendly.render(self, friendly.check_failed_lines(str(self)))


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type_name(value: Any) -> str:
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _fail(what: str, expected: str, found: str, hint: str | None) -> CheckFailed:
    lines = [f"{what}: expected {expected}, but found {found}."]
    if hint:
        lines.append(f"Hint: {hint}")
    return CheckFailed("\n".join(lines))


def _same_shape(actual: Any, expected: Any, path: str) -> str | None:  # noqa: C901 - one branch per container type the strict comparison walks
    """Return a description of the first type or value difference, or None when equal (strict types)."""
    if type(actual) is not type(expected):
        # ints and floats are different answers in this course: 3 is not 3.0
        return (
            f"{path} has type {_type_name(actual)} ({_short(actual)}), "
            f"expected type {_type_name(expected)} ({_short(expected)})"
        )
    if isinstance(expected, Mapping):
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing keys {missing!r}")
            if extra:
                parts.append(f"unexpected keys {extra!r}")
            return f"{path} has " + " and ".join(parts)
        for key in expected:
            diff = _same_shape(actual[key], expected[key], f"{path}[{key!r}]")
            if diff:
                return diff
        return None
    if dataclasses.is_dataclass(expected) and not isinstance(expected, type):
        # a record (such as quality.Review) keeps its own equality; when it differs, name the first field that
        # differs instead of printing two long reprs to compare by eye
        if actual == expected:
            return None
        for f in dataclasses.fields(expected):
            diff = _same_shape(getattr(actual, f.name), getattr(expected, f.name), f"{path}.{f.name}")
            if diff:
                return diff
        return f"{path} is {_short(actual)}, expected {_short(expected)}"
    if isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            return f"{path} has {len(actual)} items, expected {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            diff = _same_shape(a, e, f"{path}[{i}]")
            if diff:
                return diff
        return None
    if isinstance(expected, float) and math.isnan(expected):
        return None if math.isnan(actual) else f"{path} is {_short(actual)}, expected nan"
    if actual != expected:
        return f"{path} is {_short(actual)}, expected {_short(expected)}"
    return None


def equal(actual: Any, expected: Any, what: str = "the result", hint: str | None = None) -> None:
    """Check ``actual == expected`` with the same type (recursively through dicts, lists, tuples and dataclasses).

    The message names the first difference by its path — ``review.reasons[1]``, ``report['lead'][0]`` — so a
    student sees which field is wrong instead of two long reprs to compare by eye.
    """
    diff = _same_shape(actual, expected, what)
    if diff is not None:
        raise CheckFailed(diff + "." + (f"\nHint: {hint}" if hint else ""))


def close(
    actual: Any,
    expected: float,
    what: str = "the result",
    rel: float = 1e-6,
    abs_tol: float = 1e-9,
    hint: str | None = None,
) -> None:
    """Check that a float is within a relative or absolute tolerance of ``expected``."""
    if not isinstance(actual, float) or isinstance(actual, bool):
        raise _fail(what, f"a float close to {expected!r}", f"{_short(actual)} of type {_type_name(actual)}", hint)
    if math.isnan(expected) and math.isnan(actual):
        return
    if not math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_tol):
        raise _fail(what, f"{expected!r} (± {rel:.0e} relative)", repr(actual), hint)


def is_type(
    value: Any, expected_type: type | tuple[type, ...], what: str = "the result", hint: str | None = None
) -> None:
    """Check ``isinstance(value, expected_type)`` (``bool`` is not accepted where ``int`` is asked)."""
    types = expected_type if isinstance(expected_type, tuple) else (expected_type,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok:
        names = " or ".join(t.__name__ for t in types)
        raise _fail(what, f"a value of type {names}", f"{_short(value)} of type {_type_name(value)}", hint)


def true(condition: Any, message: str) -> None:
    """Check a condition; ``message`` says what should hold and how to fix it."""
    if not bool(condition):
        raise CheckFailed(message)


def has_columns(frame: Any, columns: Iterable[str], what: str = "the DataFrame", hint: str | None = None) -> None:
    """Check that ``frame`` is a pandas DataFrame with (at least) these columns."""
    import pandas as pd

    is_type(frame, pd.DataFrame, what, hint)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise _fail(what, f"columns {list(columns)!r}", f"columns {list(frame.columns)!r} (missing {missing!r})", hint)


def frame_equal(
    actual: Any,
    expected: Any,
    what: str = "the DataFrame",
    check_like: bool = False,
    check_exact: bool = False,
    hint: str | None = None,
) -> None:
    """Check two pandas DataFrames or Series are equal, dtypes included; the pandas diff is kept in the message."""
    import pandas as pd
    import pandas.testing as pdt

    is_type(actual, type(expected), what, hint)
    try:
        if isinstance(expected, pd.DataFrame):
            pdt.assert_frame_equal(actual, expected, check_like=check_like, check_exact=check_exact)
        else:
            pdt.assert_series_equal(actual, expected, check_exact=check_exact)
    except AssertionError as err:
        detail = re.sub(r"\s+", " ", str(err)).strip()
        raise CheckFailed(
            f"{what} differs from the expected one: {detail}" + (f"\nHint: {hint}" if hint else "")
        ) from None


def raises(
    exc_type: type[BaseException],
    func: Callable[..., Any],
    *args: Any,
    what: str | None = None,
    match: str | None = None,
    hint: str | None = None,
    **kwargs: Any,
) -> BaseException:
    """Check that ``func(*args, **kwargs)`` raises ``exc_type`` (and its message matches ``match``)."""
    label = what or f"{getattr(func, '__name__', 'the function')}(...)"
    try:
        func(*args, **kwargs)
    except exc_type as err:
        if match is not None and not re.search(match, str(err)):
            raise _fail(label, f"{exc_type.__name__} with a message matching {match!r}", repr(str(err)), hint) from None
        return err
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - we report what was raised instead
        raise _fail(label, f"to raise {exc_type.__name__}", f"{type(err).__name__}: {err}", hint) from None
    raise _fail(label, f"to raise {exc_type.__name__}", "no exception", hint)


def passed(message: str = "All visible checks passed.") -> None:
    """Print a green tick: call it last in a visible test cell."""
    print(f"\u2714 {message}")
