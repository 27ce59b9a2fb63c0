import math
import random

import pytest

from labkit import flags


def _binom_cdf(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def test_interval_matches_the_exact_binomial_tails_on_a_small_case():
    n, p, conf = 40, 0.3, 0.95
    low, high = flags.binomial_interval(n, p, conf)
    alpha = 1 - conf
    assert _binom_cdf(low - 1, n, p) <= alpha / 2 < _binom_cdf(low, n, p)
    assert 1 - _binom_cdf(high, n, p) <= alpha / 2 < 1 - _binom_cdf(high - 1, n, p)


def test_interval_for_ten_thousand_users_at_twenty_percent_is_centred_and_plausible():
    low, high = flags.binomial_interval(10_000, 0.2)
    sd = math.sqrt(10_000 * 0.2 * 0.8)
    assert low < 2000 < high
    # 99.9 % two-sided is about 3.29 standard deviations either side
    assert abs((2000 - low) / sd - 3.29) < 0.1 and abs((high - 2000) / sd - 3.29) < 0.1


def test_interval_edges_and_type():
    assert flags.binomial_interval(100, 0.0) == (0, 0)
    assert flags.binomial_interval(100, 1.0) == (100, 100)
    low, high = flags.binomial_interval(1000, 0.5, 0.99)
    assert isinstance(low, int) and isinstance(high, int)


def test_a_fair_coin_lands_inside_about_as_often_as_promised():
    rng = random.Random(7)
    low, high = flags.binomial_interval(200, 0.25, 0.9)
    inside = sum(low <= sum(rng.random() < 0.25 for _ in range(200)) <= high for _ in range(400))
    assert 0.85 * 400 <= inside <= 0.97 * 400


@pytest.mark.parametrize("args, word", [((0, 0.2), "n must be"), ((10, 1.5), "p must be"),
                                         ((10, 0.2, 1.0), "confidence"), ((True, 0.2), "n must be")])
def test_bad_arguments_explain_themselves(args, word):
    with pytest.raises(ValueError, match=word):
        flags.binomial_interval(*args)


def test_check_share_passes_and_fails_with_a_hint():
    ok = flags.check_share(2010, 10_000, 0.2)
    assert ok.ok and ok.share == pytest.approx(0.201) and ok.low < 2010 < ok.high
    with pytest.raises(flags.ShareOutOfRange, match="expected between .* found 2500") as err:
        flags.check_share(2500, 10_000, 0.2)
    assert isinstance(err.value, AssertionError) and "Hint" in str(err.value)
    with pytest.raises(ValueError, match="count must be"):
        flags.check_share(-1, 10, 0.2)
