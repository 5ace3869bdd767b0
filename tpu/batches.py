"""Batches that fit the device mesh: padded and masked evaluation, checked training batches.

Under `KERAS_BACKEND=jax` with a `keras.distribution` set, every batch `fit`, `evaluate`
and `predict` see is split along the mesh's batch axis, so its size must be a multiple of
that axis (8 on a Colab TPU v2-8). Training batches are fixed by the recipe, and
`check_batch_size` refuses one the axis cannot split. Evaluation data has whatever size
the data has: `predict` and `evaluate` here pad it with copies of its first example up to
a whole number of equal batches (one compiled shape), give the copies weight 0 and drop
their outputs, so no example is dropped or counted twice and the result is the one a
single device computes from the same weights.

Under the TensorFlow backend, and under JAX without a distribution, the batch axis has
one shard; the same functions still pad to equal batches (one compiled shape).
"""

import keras
import numpy as np
from keras import tree

__all__ = [
    "batch_shards",
    "check_batch_size",
    "evaluate",
    "local_rows",
    "pad_examples",
    "predict",
    "process_rows",
    "process_shard",
]


def batch_shards(distribution=None):
    """How many ways the current distribution splits a batch (1 when there is none).

    Args:
        distribution: a `keras.distribution.Distribution`; default: the one set with
            `keras.distribution.set_distribution` (JAX backend only).

    Returns:
        The size of the device mesh's batch axis.
    """
    if distribution is None:
        if keras.backend.backend() != "jax":
            return 1
        distribution = keras.distribution.distribution()
    if distribution is None:
        return 1
    mesh = distribution.device_mesh
    axis = getattr(distribution, "batch_dim_name", None) or mesh.axis_names[0]
    return int(mesh.shape[list(mesh.axis_names).index(axis)])


def check_batch_size(global_batch_size, shards=None, flag="--batch-size", replicas=1):
    """Refuse a training batch the mesh's batch axis cannot split, naming sizes that work.

    Args:
        global_batch_size: examples per training step.
        shards: the batch axis' size; default `batch_shards()`.
        flag: the option the user sets, for the message.
        replicas: the global batch is `flag`'s value times this (the replicas that
            `tpu.training_settings` multiplies a per-replica batch by), for the message.

    Raises:
        ValueError: one line with the sizes that would work.
    """
    shards = batch_shards() if shards is None else int(shards)
    if global_batch_size % shards == 0:
        return
    step = shards // np.gcd(shards, replicas)
    below = (global_batch_size // replicas) // step * step
    above = below + step
    choices = ", ".join(str(size) for size in (below, above, above + step) if size > 0)
    raise ValueError(
        f"{flag} {global_batch_size // replicas} gives a global batch of "
        f"{global_batch_size}, which the mesh's batch axis of {shards} devices cannot split "
        f"evenly; pass a multiple of {step} (e.g. {choices})."
    )


def pad_examples(arrays, multiple):
    """Pad every array of a nest along axis 0 to a multiple of `multiple`.

    The padding repeats the first example, so padded rows are valid inputs (an all-pad
    row could give NaN, and 0 x NaN is still NaN in a weighted mean).

    Returns:
        `(padded nest, number of real examples)`.
    """
    leaves = tree.flatten(arrays)
    count = int(np.shape(leaves[0])[0])
    if count == 0:
        raise ValueError("Received no examples to evaluate; expected at least one.")
    if any(int(np.shape(leaf)[0]) != count for leaf in leaves):
        raise ValueError(
            "All arrays must have the same number of examples (first dimension), received "
            f"{sorted({int(np.shape(leaf)[0]) for leaf in leaves})}."
        )
    extra = -count % multiple

    def pad(leaf):
        leaf = np.asarray(leaf)
        if not extra:
            return leaf
        return np.concatenate([leaf, np.repeat(leaf[:1], extra, axis=0)], axis=0)

    return tree.map_structure(pad, arrays), count


def process_shard():
    """`(index, count)` of this process among the processes feeding the batch axis.

    Under JAX with several processes (`jax.distributed.initialize`) each process feeds
    rows `[index * b / count, (index + 1) * b / count)` of every global batch of `b`
    examples; elsewhere `(0, 1)`.
    """
    if keras.backend.backend() != "jax":
        return 0, 1
    import jax

    return jax.process_index(), jax.process_count()


def process_rows(batch, shard=None):
    """`(first row, rows)` of a global batch of `batch` examples that a process feeds.

    Args:
        batch: examples in the global batch.
        shard: `(process index, process count)`; default `process_shard()`.

    Raises:
        ValueError: the batch does not split evenly between the processes.
    """
    index, count = process_shard() if shard is None else shard
    if batch % count:
        raise ValueError(
            f"A global batch of {batch} cannot be split evenly between {count} processes; "
            f"pass a --batch-size that makes it a multiple of {count}."
        )
    rows = batch // count
    return index * rows, rows


def local_rows(total, batch):
    """Indices of this process's rows in `total` examples cut into global batches of `batch`."""
    first, rows = process_rows(batch)
    starts = np.arange(0, total, batch) + first
    return (starts[:, None] + np.arange(rows)[None, :]).reshape(-1)


def _batch_for(inputs, batch_size):
    """The evaluation batch: `batch_size`, at most the examples, rounded up to a multiple
    of the batch axis."""
    count = int(np.shape(tree.flatten(inputs)[0])[0])
    batch = max(1, min(int(batch_size), count))
    shards = batch_shards()
    return -(-batch // shards) * shards


def predict(model, inputs, batch_size, verbose=0):
    """`model.predict` on any number of examples: equal padded batches, real rows returned.

    Args:
        model: a built Keras model.
        inputs: a nest of numpy arrays with the examples on axis 0.
        batch_size: examples per batch; rounded up to a multiple of `batch_shards()`.
        verbose: Keras' progress bar.

    Returns:
        The outputs of the real examples, in order.
    """
    batch = _batch_for(inputs, batch_size)
    padded, count = pad_examples(inputs, batch)
    if process_shard()[1] > 1:
        outputs = _predict_across_processes(model, padded, batch)
    else:
        outputs = model.predict(padded, batch_size=batch, verbose=verbose)
    return tree.map_structure(lambda output: np.asarray(output)[:count], outputs)


def _predict_across_processes(model, inputs, batch):
    """`predict` when several processes feed a batch: Keras' `predict` gathers its outputs
    on the host, which a batch spread over processes cannot do. Each process feeds its
    rows and the outputs come back replicated, so every process gets all of them."""
    import jax

    distribution = keras.distribution.distribution()
    replicated = jax.sharding.NamedSharding(
        distribution.device_mesh.backend_mesh, jax.sharding.PartitionSpec()
    )
    rows = local_rows(len(tree.flatten(inputs)[0]), batch)
    share = process_rows(batch)[1]
    local = tree.map_structure(lambda array: np.asarray(array)[rows], inputs)
    state = (
        [variable.value for variable in model.trainable_variables],
        [variable.value for variable in model.non_trainable_variables],
    )

    @jax.jit
    def forward(state, data):
        outputs, _ = model.stateless_call(*state, data, training=False)
        return jax.lax.with_sharding_constraint(outputs, replicated)

    pieces = []
    for start in range(0, len(rows), share):
        chunk = tree.map_structure(lambda array, at=start: array[at : at + share], local)
        layouts = tree.map_structure(
            lambda array: distribution.get_data_layout((batch, *array.shape[1:])).backend_layout,
            chunk,
        )
        data = tree.map_structure(jax.make_array_from_process_local_data, layouts, chunk)
        pieces.append(tree.map_structure(np.asarray, forward(state, data)))
    return tree.map_structure(lambda *parts: np.concatenate(parts), *pieces)


def evaluate(model, inputs, labels, batch_size, sample_weight=None, verbose=0):
    """`model.evaluate` on any number of examples; padded examples get weight 0.

    The model must report what matters as `weighted_metrics` (Keras applies
    `sample_weight` to those, not to `metrics`). The `loss` that Keras reports weighs
    every batch by its size, pads included, so it is left out: compile a weighted
    metric of the loss (e.g. `keras.metrics.SparseCategoricalCrossentropy`) instead.

    Args:
        model: a compiled Keras model.
        inputs, labels: nests of numpy arrays with the examples on axis 0.
        batch_size: examples per batch; rounded up to a multiple of `batch_shards()`.
        sample_weight: weights like `labels` (or None: every label weighs 1).
        verbose: Keras' progress bar.

    Returns:
        `{metric name: value}` for every compiled metric but the loss.
    """
    if sample_weight is None:
        sample_weight = tree.map_structure(
            lambda label: np.ones(np.shape(label), "float32"), labels
        )
    batch = _batch_for(inputs, batch_size)
    (inputs, labels, sample_weight), count = pad_examples((inputs, labels, sample_weight), batch)
    real = np.arange(len(tree.flatten(inputs)[0])) < count

    def mask(weights):
        weights = np.asarray(weights, "float32")
        return weights * real.reshape((-1,) + (1,) * (weights.ndim - 1))

    sample_weight = tree.map_structure(mask, sample_weight)
    if process_shard()[1] > 1:  # each process feeds its rows of every batch
        rows = local_rows(len(real), batch)
        inputs, labels, sample_weight = tree.map_structure(
            lambda array: array[rows], (inputs, labels, sample_weight)
        )
    results = model.evaluate(
        inputs,
        labels,
        sample_weight=sample_weight,
        batch_size=process_rows(batch)[1],
        verbose=verbose,
        return_dict=True,
    )
    return {name: float(value) for name, value in results.items() if name != "loss"}
