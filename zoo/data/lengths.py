"""Sequence lengths that fit the data, and pairs cut to fit them at sentence boundaries.

A translation model reads `source_length` source tokens and writes `target_length - 1`
target tokens (plus `[BOS]` / `[EOS]`). A length picked by hand either wastes positions
or silently cuts the tail of long pairs, which then teaches the model to drop content.

- `covering_lengths(source_counts, target_counts, coverage=0.99)`: the shortest
  `(source_length, target_length)` under which at least `coverage` of the pairs fit
  whole, and the fraction they cover.
- `fit_pairs(pairs, fits)`: the pairs that do not fit, split into sentence pairs when
  both sides have the same number of sentences (`zoo.text.sentences`), else dropped;
  with counts of what happened.

Example:

>>> covering_lengths([3, 5, 9], [4, 6, 12], coverage=0.6)
(5, 7, 0.6666666666666666)
"""

import numpy as np
import tensorflow as tf

from zoo.text.sentences import split_sentences

__all__ = ["covering_lengths", "fit_pairs"]


def _check_counts(values, name):
    values = np.asarray(values)
    if values.ndim != 1 or values.size == 0 or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty 1-D sequence of token counts.")
    return values


def covering_lengths(source_counts, target_counts, coverage=0.99):
    """The shortest lengths under which at least `coverage` of the pairs fit whole.

    A pair fits when `source_count <= source_length` and `target_count + 1 <=
    target_length` (the decoder reads `[BOS]` before the target and writes `[EOS]` after
    it). Both lengths start at the `coverage` quantile of their side (the smallest length
    that fits that many pairs on that side alone); while the pairs
    fitting on both sides are fewer than `coverage`, the side whose next length lets
    more pairs fit grows by one.

    Args:
        source_counts, target_counts: tokens per pair on each side (same length).
        coverage: the fraction of pairs to fit, in (0, 1].

    Returns:
        `(source_length, target_length, covered)`: ints >= 1 and >= 2, and the fraction
        of pairs that fit.
    """
    sources = _check_counts(source_counts, "source_counts")
    targets = _check_counts(target_counts, "target_counts") + 1
    if sources.shape != targets.shape:
        raise ValueError(
            f"source_counts has {sources.size} pairs and target_counts {targets.size}; "
            "pass one count per pair on each side."
        )
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1], received {coverage}.")
    needed = int(np.ceil(coverage * sources.size - 1e-9))
    needed = max(needed, 1)
    source_length = max(int(np.sort(sources)[needed - 1]), 1)
    target_length = max(int(np.sort(targets)[needed - 1]), 2)
    while True:
        fits = (sources <= source_length) & (targets <= target_length)
        if int(fits.sum()) >= needed:
            return source_length, target_length, float(fits.mean())
        more_source = int(((sources <= source_length + 1) & (targets <= target_length)).sum())
        more_target = int(((sources <= source_length) & (targets <= target_length + 1)).sum())
        if more_source >= more_target:
            source_length += 1
        else:
            target_length += 1


def fit_pairs(pairs, fits):
    """Pairs that fit, with the others split at sentence boundaries or dropped.

    A pair for which `fits(source, target)` is false is split into its sentences (see
    `zoo.text.sentences.split_sentences`) when both sides have the same number of
    them, more than one: sentence `i` of the source goes with sentence `i` of the
    target, and each such pair is kept if it fits. Otherwise the pair is dropped.

    Args:
        pairs: a list of `(source, target)` strings.
        fits: `fits(sources, targets) -> bool array`, for lists of strings.

    Returns:
        `(kept, report)`: the kept pairs (in order, a split pair's sentences in place)
        and a dict with `"split"` (pairs split), `"from_split"` (sentence pairs kept
        from them) and `"dropped"` (pairs, or sentence pairs, that did not fit).
    """
    pairs = list(pairs)
    report = {"split": 0, "from_split": 0, "dropped": 0}
    if not pairs:
        return [], report
    fit = np.asarray(fits([s for s, _ in pairs], [t for _, t in pairs]), bool)
    long_pairs = [pair for pair, ok in zip(pairs, fit) if not ok]
    if not long_pairs:
        return pairs, report
    sources = split_sentences(tf.constant([s for s, _ in long_pairs], tf.string))
    targets = split_sentences(tf.constant([t for _, t in long_pairs], tf.string))
    pieces = {}
    for index, (source, target) in enumerate(zip(sources.to_list(), targets.to_list())):
        if len(source) == len(target) > 1:
            pieces[index] = [(s.decode("utf-8"), t.decode("utf-8")) for s, t in zip(source, target)]
    candidates = [pair for index in sorted(pieces) for pair in pieces[index]]
    piece_fits = iter(
        np.asarray(fits([s for s, _ in candidates], [t for _, t in candidates]), bool)
        if candidates
        else []
    )
    kept, long_index = [], 0
    for pair, ok in zip(pairs, fit):
        if ok:
            kept.append(pair)
            continue
        if long_index in pieces:
            report["split"] += 1
            for piece in pieces[long_index]:
                if next(piece_fits):
                    kept.append(piece)
                    report["from_split"] += 1
                else:
                    report["dropped"] += 1
        else:
            report["dropped"] += 1
        long_index += 1
    return kept, report
