"""zoo.data.lengths: lengths that fit the data; long pairs split at sentences or dropped."""

import numpy as np
import pytest

from zoo.data.lengths import covering_lengths, fit_pairs


def test_covering_lengths_is_the_shortest_that_fits_the_fraction():
    rng = np.random.default_rng(0)
    sources = rng.integers(1, 60, size=1000)
    targets = sources + rng.integers(-3, 8, size=1000).clip(-sources + 1)
    source_length, target_length, covered = covering_lengths(sources, targets, 0.99)
    fits = (sources <= source_length) & (targets + 1 <= target_length)
    assert covered == fits.mean() >= 0.99
    # One position less on either side fits fewer than 99% of the pairs.
    assert ((sources <= source_length - 1) & (targets + 1 <= target_length)).mean() < 0.99
    assert ((sources <= source_length) & (targets + 1 <= target_length - 1)).mean() < 0.99
    assert covering_lengths([3, 5, 9], [4, 6, 12], coverage=1.0) == (9, 13, 1.0)
    assert covering_lengths([0], [0]) == (1, 2, 1.0)


@pytest.mark.parametrize(
    "source, target, coverage, message",
    [
        ([], [], 0.99, "non-empty 1-D"),
        ([1.5], [2], 0.99, "token counts"),
        ([1, 2], [2], 0.99, "one count per pair"),
        ([1], [2], 0.0, r"coverage must be in \(0, 1\]"),
    ],
)
def test_covering_lengths_refuses_bad_counts(source, target, coverage, message):
    with pytest.raises(ValueError, match=message):
        covering_lengths(source, target, coverage)


def _fits(limit):
    return lambda sources, targets: [
        len(s.split()) <= limit and len(t.split()) <= limit for s, t in zip(sources, targets)
    ]


def test_fit_pairs_splits_at_sentences_or_drops_in_order():
    pairs = [
        ("Да.", "Yes."),
        ("Он пришёл домой. Она ушла.", "He came home. She left."),  # split: 2 and 2
        ("Раз два три четыре пять.", "One two three four five."),  # one sentence: dropped
        ("Он пришёл. Она ушла. Всё.", "He came. She left."),  # 3 and 2: dropped
        ("Ok.", "Ок."),
        ("Это очень длинное предложение. Да.", "This is a very long one. Yes."),  # split
    ]
    kept, report = fit_pairs(pairs, _fits(3))
    assert kept == [
        ("Да.", "Yes."),
        ("Он пришёл домой.", "He came home."),
        ("Она ушла.", "She left."),
        ("Ok.", "Ок."),
        ("Да.", "Yes."),  # the long first sentence of the last pair does not fit
    ]
    assert report == {"split": 2, "from_split": 3, "dropped": 3}
    assert fit_pairs(pairs[:1], _fits(3)) == (
        pairs[:1],
        {"split": 0, "from_split": 0, "dropped": 0},
    )
    assert fit_pairs([], _fits(3))[0] == []
