"""Step-indexed batches: the batch of training step `s` is a function of `s` alone.

Examples are encoded once into numpy arrays (`zoo.data.language_model_windows`,
`zoo.data.pretraining_arrays`, `zoo.data.classification_arrays`, ...); these datasets cut
them into the batches of steps `start_step, ..., total_steps - 1`. Every epoch is a
seeded, stateless permutation of the examples, so a run resumed at step `s` starts
`tf.data.Dataset.range(s, total_steps)` and sees exactly the batches an uninterrupted
run sees: nothing is replayed or skipped.

- `step_dataset`: batches at the arrays' full (static) shape, the only choice on a TPU.
- `bucketed_step_dataset`: batches of similar lengths, cropped to one of a few widths
  (`length_buckets`), so a model runs short batches at short widths.

Both take `shard=(process index, process count)`: in a multi-host run every process
feeds its own equal slice of each global batch (`tpu.process_shard()` gives this
process's place), and the global batch stays a function of the step.

Example:

```python
features, labels = zoo.data.language_model_windows(tokenizer, texts, sequence_length=64)
dataset = zoo.data.step_dataset((features, labels), batch_size=32, seed=0,
                                start_step=0, total_steps=1000)
model.fit(dataset, steps_per_epoch=1000)
```
"""

import numpy as np
import tensorflow as tf

__all__ = ["bucketed_step_dataset", "length_buckets", "step_dataset"]


def step_dataset(arrays, batch_size, seed, start_step, total_steps, shard=None):
    """A dataset whose element number `i` is the batch of step `start_step + i`.

    The batch of step `s` holds examples `index_shuffle(positions, seed=[seed, epoch])`
    of epoch `s // steps_per_epoch`, where an epoch is `len(examples) // batch_size`
    steps (the examples left over are not seen in that epoch).

    Args:
        arrays: a (nested) dict/tuple of numpy arrays with the same first dimension.
        batch_size: examples per step (the global batch).
        seed: int; the order of every epoch derives from it.
        start_step: first step to produce (0, or the step a run resumes at).
        total_steps: one past the last step.
        shard: `(process index, process count)`: produce only that process's rows of
            each global batch (the `index`-th of `count` equal slices), e.g.
            `tpu.process_shard()` in a multi-host run. Default `(0, 1)`: the whole batch.

    Returns:
        `tf.data.Dataset` of batches (of `batch_size / count` rows) with static shapes,
        with the structure of `arrays`.

    Example:

    >>> x = np.arange(10)
    >>> dataset = step_dataset((x, x * 2), batch_size=4, seed=0, start_step=0, total_steps=3)
    >>> [len(inputs) for inputs, _ in dataset.as_numpy_iterator()]
    [4, 4, 4]
    """
    leaves = tf.nest.flatten(arrays)
    num_examples = int(leaves[0].shape[0])
    if any(int(leaf.shape[0]) != num_examples for leaf in leaves):
        raise ValueError("All arrays must have the same number of examples (first dimension).")
    _check_enough(num_examples, batch_size)
    steps_per_epoch = num_examples // batch_size
    tensors = tf.nest.map_structure(tf.constant, arrays)
    first, rows = _shard_rows(batch_size, shard)

    def batch_of(step):
        epoch = step // steps_per_epoch
        positions = (step % steps_per_epoch) * batch_size + first + tf.range(rows, dtype=tf.int64)
        indices = tf.random.experimental.index_shuffle(
            positions,
            seed=tf.stack([tf.constant(seed, tf.int64), epoch]),
            max_index=num_examples - 1,
        )
        return tf.nest.map_structure(lambda tensor: tf.gather(tensor, indices), tensors)

    dataset = tf.data.Dataset.range(start_step, total_steps)
    dataset = dataset.map(batch_of, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def length_buckets(lengths, full_length, count=4, multiple=4):
    """Bucket widths for `bucketed_step_dataset`: quantiles of `lengths`, rounded up.

    Args:
        lengths: per-example number of positions that hold tokens.
        full_length: the arrays' padded length; always the last bucket.
        count: at most this many buckets (fewer when quantiles coincide).
        multiple: widths are rounded up to a multiple of this (friendlier matmul shapes).

    Returns:
        Sorted tuple of distinct widths ending with `full_length`.

    Example:

    >>> length_buckets([3] * 50 + [9] * 50 + [14] * 50 + [30] * 50, 32, count=4)
    (4, 12, 16, 32)
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, received {count}.")
    lengths = np.asarray(lengths)
    fractions = np.arange(1, count) / count
    quantiles = np.quantile(lengths, fractions, method="inverted_cdf") if count > 1 else []
    widths = {
        int(min(full_length, -(-max(1, int(np.ceil(q))) // multiple) * multiple)) for q in quantiles
    }
    widths.add(int(full_length))
    return tuple(sorted(widths))


def bucketed_step_dataset(
    arrays, lengths, buckets, batch_size, seed, start_step, total_steps, pool=32, shard=None
):
    """`step_dataset` with length bucketing: batches of similar lengths, cropped to a bucket.

    Each epoch is a seeded permutation of the examples (a function of `(seed, epoch)`),
    cut into pools of `pool * batch_size` examples; each pool is sorted by length and cut
    into batches, and the batches of the epoch are shuffled. A batch is cropped along
    axis 1 (every array of rank >= 2) to the smallest bucket that holds its longest
    example, so a model compiles once per bucket width instead of running every batch at
    the full padded length. The batch of step `s` is still a function of `s` alone, so a
    resumed run sees exactly the batches an uninterrupted run sees.

    Args:
        arrays: as in `step_dataset`; arrays of rank >= 2 are `(examples, length, ...)`
            padded at the end.
        lengths: int array `(examples,)`, the positions of each example that matter
            (the longest of its sequences); positions past it are padding everywhere.
        buckets: sorted widths, e.g. from `length_buckets`; the last must be at least
            `max(lengths)`.
        batch_size, seed, start_step, total_steps: as in `step_dataset`.
        pool: batches per sorting pool; larger pools pad less and mix lengths less.
        shard: as in `step_dataset`; the bucket is chosen from the whole global batch,
            so every process crops its rows to the same width.

    Returns:
        `tf.data.Dataset` of batches whose axis 1 is one of `buckets` (shape `None` in
        its spec).

    Example:

    >>> ids = np.array([[1, 0, 0, 0], [1, 2, 0, 0], [1, 2, 3, 4], [1, 2, 3, 0]] * 4)
    >>> lengths = (ids > 0).sum(axis=1)
    >>> dataset = bucketed_step_dataset(ids, lengths, (2, 4), 4, 0, 0, 4, pool=4)
    >>> sorted(batch.shape[1] for batch in dataset.as_numpy_iterator())
    [2, 2, 4, 4]
    """
    leaves = [np.asarray(leaf) for leaf in tf.nest.flatten(arrays)]
    lengths = np.asarray(lengths, np.int64)
    num_examples = len(lengths)
    if any(leaf.shape[0] != num_examples for leaf in leaves):
        raise ValueError(
            "lengths and all arrays must have the same number of examples (first dimension)."
        )
    _check_enough(num_examples, batch_size)
    buckets = tuple(int(width) for width in buckets)
    if not buckets or list(buckets) != sorted(set(buckets)) or buckets[0] < 1:
        raise ValueError(f"buckets must be increasing positive widths, received {buckets}.")
    if int(lengths.max()) > buckets[-1]:
        raise ValueError(
            f"The longest example has {int(lengths.max())} positions, more than the widest "
            f"bucket ({buckets[-1]}); add a wider bucket."
        )
    steps_per_epoch = num_examples // batch_size
    edges = np.asarray(buckets)
    cache = {}
    first, rows = _shard_rows(batch_size, shard)

    def epoch_batches(epoch):
        if epoch not in cache:
            cache.clear()  # one epoch at a time
            rng = np.random.default_rng([seed, epoch])
            order = rng.permutation(num_examples)[: steps_per_epoch * batch_size]
            batches = []
            for start in range(0, len(order), pool * batch_size):
                chunk = order[start : start + pool * batch_size]
                chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
                batches.extend(chunk.reshape(-1, batch_size))
            cache[epoch] = [batches[i] for i in rng.permutation(len(batches))]
        return cache[epoch]

    def generate():
        for step in range(start_step, total_steps):
            indices = epoch_batches(step // steps_per_epoch)[step % steps_per_epoch]
            width = int(edges[np.searchsorted(edges, lengths[indices].max())])
            indices = indices[first : first + rows]
            batch = [leaf[indices, :width] if leaf.ndim >= 2 else leaf[indices] for leaf in leaves]
            yield tuple(batch)

    signature = tuple(
        tf.TensorSpec(
            (rows, None, *leaf.shape[2:]) if leaf.ndim >= 2 else (rows,),
            tf.as_dtype(leaf.dtype),
        )
        for leaf in leaves
    )
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    dataset = dataset.map(lambda *batch: tf.nest.pack_sequence_as(arrays, list(batch)))
    return dataset.prefetch(tf.data.AUTOTUNE)


def _check_enough(num_examples, batch_size):
    if num_examples < batch_size:
        raise ValueError(
            f"The training data has {num_examples} examples, fewer than one batch of "
            f"{batch_size}. Lower the batch size (--batch-size) or add data."
        )


def _shard_rows(batch_size, shard):
    """`(first row, rows)` of a global batch that process `shard[0]` of `shard[1]` feeds."""
    index, count = (0, 1) if shard is None else shard
    if not 0 <= index < count:
        raise ValueError(
            f"Received shard={shard!r}; expected (process index, process count) with "
            "0 <= index < count, e.g. tpu.process_shard()."
        )
    if batch_size % count:
        raise ValueError(
            f"A global batch of {batch_size} cannot be split evenly between {count} processes; "
            f"pass a batch size (--batch-size) that is a multiple of {count}."
        )
    rows = batch_size // count
    return index * rows, rows
