"""labkit.checks: types compared as well as values; messages say what to fix."""

from dataclasses import dataclass

import pandas as pd
import pytest

from labkit import checks


def test_equal_accepts_same_value_and_type():
    checks.equal({"a": [1, 2.5, ("x", None)]}, {"a": [1, 2.5, ("x", None)]})


@pytest.mark.parametrize("actual,expected,fragment", [
    (3.0, 3, "type float"),
    (True, 1, "type bool"),
    ([1, 2], (1, 2), "type list"),
    ({"a": 1}, {"a": 1, "b": 2}, "missing keys ['b']"),
    ([1, 2, 3], [1, 2], "3 items, expected 2"),
    ({"a": [1, "2"]}, {"a": [1, 2]}, "result['a'][1]"),
    ("main", "trunk", "expected 'trunk'"),
])
def test_equal_reports_the_first_difference(actual, expected, fragment):
    with pytest.raises(checks.CheckFailed) as err:
        checks.equal(actual, expected, what="result", hint="read the prompt again")
    assert fragment in str(err.value)
    assert "Hint: read the prompt again" in str(err.value)
    assert isinstance(err.value, AssertionError)  # nbgrader scores AssertionErrors as failures


@dataclass(frozen=True)
class Review:
    verdict: str
    reasons: tuple[str, ...]


def test_equal_names_the_field_of_a_dataclass_that_differs():
    checks.equal(Review("bad", ("no-tests",)), Review("bad", ("no-tests",)), what="review")
    with pytest.raises(checks.CheckFailed) as err:
        checks.equal(Review("bad", ("large", "no-tests")), Review("bad", ("large", "many-concerns")), what="review")
    assert str(err.value).startswith("review.reasons[1] is 'no-tests', expected 'many-concerns'")
    with pytest.raises(checks.CheckFailed, match=r"review.verdict is 'ok', expected 'bad'"):
        checks.equal(Review("ok", ()), Review("bad", ()), what="review")
    # the record's own equality decides, as before: only the message is more precise
    checks.equal(Review("bad", (1,)), Review("bad", (1.0,)), what="review")


def test_close_needs_a_float_within_tolerance():
    checks.close(0.1 + 0.2, 0.3)
    with pytest.raises(checks.CheckFailed, match="a float"):
        checks.close(1, 1.0)
    with pytest.raises(checks.CheckFailed, match="0.5"):
        checks.close(0.6, 0.5, rel=0.01)


def test_is_type_refuses_bool_for_int():
    checks.is_type(3, int)
    with pytest.raises(checks.CheckFailed, match="bool"):
        checks.is_type(True, int)
    checks.is_type(True, (bool, int))


def test_frame_checks():
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    checks.has_columns(df, ["a"])
    with pytest.raises(checks.CheckFailed, match="missing \\['c'\\]"):
        checks.has_columns(df, ["a", "c"])
    checks.frame_equal(df.copy(), df)
    with pytest.raises(checks.CheckFailed, match="differs"):
        checks.frame_equal(df.astype({"a": "float64"}), df)
    with pytest.raises(checks.CheckFailed, match="DataFrame"):
        checks.frame_equal([1, 2], df)
    checks.frame_equal(df["a"], df["a"].copy())


def test_raises():
    err = checks.raises(ValueError, int, "x", match="invalid literal")
    assert isinstance(err, ValueError)
    with pytest.raises(checks.CheckFailed, match="no exception"):
        checks.raises(ValueError, int, "3")
    with pytest.raises(checks.CheckFailed, match="TypeError"):
        checks.raises(ValueError, len, 3)

    def blank():
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):  # a blank exercise still fails as "not done"
        checks.raises(ValueError, blank)


def test_true_and_passed(capsys):
    checks.true(1 < 2, "never shown")
    with pytest.raises(checks.CheckFailed, match="sort the list"):
        checks.true(False, "sort the list first")
    checks.passed()
    assert "All visible checks passed" in capsys.readouterr().out
