"""Tests of zoo.data.steps: the batch of a step is a function of the step (exact resume),
length buckets, and each process's share of a global batch."""

import numpy as np
import pytest

from zoo.data import bucketed_step_dataset, length_buckets, step_dataset


def _batches(dataset):
    return [tuple(np.asarray(t) for t in batch) for batch in dataset.as_numpy_iterator()]


def test_the_batch_is_a_function_of_the_step():
    x = np.arange(50, dtype="int32")
    y = x * 2
    full = _batches(step_dataset((x, y), batch_size=8, seed=4, start_step=0, total_steps=14))
    tail = _batches(step_dataset((x, y), batch_size=8, seed=4, start_step=9, total_steps=14))
    assert len(full) == 14 and len(tail) == 5
    for a, b in zip(full[9:], tail):
        np.testing.assert_array_equal(a[0], b[0])
    # Each epoch (6 steps of 8 out of 50 examples) draws distinct examples, and the
    # epochs are ordered differently.
    first_epoch = np.concatenate([batch[0] for batch in full[:6]])
    assert len(set(first_epoch.tolist())) == 48
    assert not np.array_equal(full[0][0], full[6][0])
    np.testing.assert_array_equal(full[3][1], full[3][0] * 2)  # pairs stay aligned
    other_seed = _batches(step_dataset((x, y), batch_size=8, seed=5, start_step=0, total_steps=1))
    assert not np.array_equal(other_seed[0][0], full[0][0])


def test_step_dataset_rejects_too_little_data():
    with pytest.raises(ValueError, match="fewer than one batch"):
        step_dataset((np.zeros(3),), batch_size=8, seed=0, start_step=0, total_steps=1)


def _padded_examples(count=200, width=24, seed=0):
    """Token rows padded with 0 after a random length, a label per row, and the lengths."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, width + 1, count)
    tokens = rng.integers(1, 100, (count, width)).astype("int32")
    tokens[np.arange(width)[None, :] >= lengths[:, None]] = 0
    return {"ids": tokens}, np.arange(count, dtype="int32"), lengths


def test_bucketed_batches_are_a_function_of_the_step_and_lose_no_token():
    features, labels, lengths = _padded_examples()
    buckets = (6, 12, 24)

    def batches(start, total, seed=4):
        dataset = bucketed_step_dataset(
            (features, labels), lengths, buckets, 16, seed, start, total
        )
        return [(batch[0]["ids"], batch[1]) for batch in dataset.as_numpy_iterator()]

    full, tail = batches(0, 30), batches(17, 30)
    assert len(full) == 30 and len(tail) == 13
    for (ids_a, labels_a), (ids_b, labels_b) in zip(full[17:], tail):
        np.testing.assert_array_equal(ids_a, ids_b)
        np.testing.assert_array_equal(labels_a, labels_b)
    widths = set()
    for ids, rows in full:
        width = ids.shape[1]
        widths.add(width)
        assert width in buckets
        longest = lengths[rows].max()
        assert width == min(b for b in buckets if b >= longest)  # the smallest that fits
        # the cropped positions held only padding: the rows are the examples, intact
        np.testing.assert_array_equal(ids, features["ids"][rows, :width])
        assert not features["ids"][rows, width:].any()
    assert widths == set(buckets)
    # one epoch (12 steps of 16 out of 200) draws distinct examples; epochs differ
    first_epoch = np.concatenate([rows for _, rows in full[:12]])
    assert len(set(first_epoch.tolist())) == 192
    assert not np.array_equal(full[0][1], full[12][1])
    assert not np.array_equal(batches(0, 1, seed=5)[0][1], full[0][1])
    # sorting pools make batches of similar lengths: less padding than random batches
    padded = sum(ids.size for ids, _ in full[:12])
    assert padded < 0.8 * 192 * 24


def test_length_buckets_and_bucketing_errors():
    lengths = np.concatenate([np.full(50, 3), np.full(50, 9), np.full(50, 14), np.full(50, 30)])
    assert length_buckets(lengths, 32, count=4) == (4, 12, 16, 32)
    assert length_buckets(np.full(10, 5), 32, count=4) == (8, 32)  # coinciding quantiles
    assert length_buckets(lengths, 32, count=1) == (32,)
    features, labels, example_lengths = _padded_examples()
    with pytest.raises(ValueError, match="widest bucket"):
        bucketed_step_dataset((features, labels), example_lengths, (4, 8), 16, 0, 0, 1)
    with pytest.raises(ValueError, match="increasing"):
        bucketed_step_dataset((features, labels), example_lengths, (24, 8), 16, 0, 0, 1)
    with pytest.raises(ValueError, match="fewer than one batch"):
        bucketed_step_dataset((features, labels), example_lengths, (24,), 500, 0, 0, 1)


def test_process_shards_split_the_global_batch_of_every_step():
    features, labels, lengths = _padded_examples()
    arrays = (features, labels)

    def steps(shard, bucketed):
        if bucketed:
            dataset = bucketed_step_dataset(arrays, lengths, (6, 12, 24), 16, 3, 5, 30, shard=shard)
        else:
            dataset = step_dataset(arrays, 16, 3, 5, 30, shard=shard)
        return [(batch[0]["ids"], batch[1]) for batch in dataset.as_numpy_iterator()]

    for bucketed in (False, True):
        whole = steps(None, bucketed)
        assert len(whole) == 25
        for count in (2, 4):
            parts = [steps((index, count), bucketed) for index in range(count)]
            for step, (ids, rows) in enumerate(whole):
                # Process i feeds rows [i * 16 / count, (i + 1) * 16 / count) of the batch,
                # cropped to the width the whole global batch needs.
                np.testing.assert_array_equal(
                    np.concatenate([part[step][1] for part in parts]), rows
                )
                np.testing.assert_array_equal(
                    np.concatenate([part[step][0] for part in parts]), ids
                )
    with pytest.raises(ValueError, match="split evenly between 3 processes"):
        step_dataset(arrays, 16, 0, 0, 1, shard=(0, 3))
    with pytest.raises(ValueError, match="0 <= index < count"):
        bucketed_step_dataset(arrays, lengths, (24,), 16, 0, 0, 1, shard=(2, 2))


def test_the_recipes_train_loop_uses_these_datasets():
    from recipes import training

    assert training.step_dataset is step_dataset
    assert training.bucketed_step_dataset is bucketed_step_dataset
    assert training.length_buckets is length_buckets
