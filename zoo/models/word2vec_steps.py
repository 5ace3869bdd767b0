"""Word2Vec's training executions under TensorFlow with XLA: many steps in one call.

A word2vec step is small (a few thousand rows of the two matrices gathered and
scattered), so what surrounds it costs as much as the step: a host call per step, and a
new XLA compile for every new model, since Keras' train function belongs to its model.
`FusedExecution`, the `train_function` that `Word2Vec.make_train_function` installs under
TensorFlow with XLA, takes an execution's batches from the iterator and runs all of them
in one compiled call. Its steps are one of two:

- **the SGD kernel** (`sgd_kernel`), when the model is compiled with plain SGD at a
  constant or linearly decaying rate (what `word2vec_optimizer` and `Word2Vec.train`
  use) and nothing else to train or measure: the gradients of the negative-sampling loss
  in closed form, applied as scatter-adds. The compiled function takes the model's
  variables as arguments, so every model of the same shapes reuses one trace and one
  XLA compile in a process (a second model trained on the same corpus compiles
  nothing);
- **Keras' `train_step`** of the model otherwise (any optimizer or schedule), compiled
  for that model.

Either way the steps are Keras' steps: the optimizer's `iterations`, the loss metric and
the callbacks see what Keras' own train function gives, up to float rounding.
"""

import functools

import keras
import numpy as np
import tensorflow as tf

__all__ = ["FusedExecution", "sgd_kernel"]


def sgd_kernel(model):
    """`(initial_rate, final_rate, decay_steps)` of the SGD that the kernel can apply for
    `model`, or None when Keras' `train_step` must run (another optimizer, momentum,
    weight decay, clipping, another schedule, other metrics, frozen matrices or a
    non-float32 policy).

    A constant rate r is `(r, r, 1)`; `PolynomialDecay(power=1, cycle=False)` is its own
    three numbers.
    """
    optimizer = getattr(model, "optimizer", None)
    if type(optimizer) is not keras.optimizers.SGD:
        return None
    plain = (
        not optimizer.momentum
        and not optimizer.nesterov
        and not optimizer.weight_decay
        and optimizer.clipnorm is None
        and optimizer.clipvalue is None
        and optimizer.global_clipnorm is None
        and not optimizer.use_ema
        and not getattr(optimizer, "gradient_accumulation_steps", None)
    )
    matrices = [model.token_embedding.embeddings, model.context_embedding.embeddings]
    if (
        not plain
        or model.dtype_policy.name != "float32"
        or [id(v) for v in model.trainable_variables] != [id(v) for v in matrices]
        or len(model.metrics) != 1  # the loss tracker alone
        or not isinstance(model.metrics[0], keras.metrics.Mean)
        or model.losses
    ):
        return None
    rate = optimizer.get_config()["learning_rate"]  # a float, or a schedule's config
    if not isinstance(rate, dict):
        rate = float(rate)
        return (rate, rate, 1.0)
    config = rate.get("config", {})
    if rate.get("class_name") != "PolynomialDecay" or config.get("power") != 1.0:
        return None
    if config.get("cycle"):
        return None
    return (
        float(config["initial_learning_rate"]),
        float(config["end_learning_rate"]),
        float(config["decay_steps"]),
    )


def _take_batches(iterator, steps):
    """Up to `steps` batches from a `tf.data` iterator, stacked: `(count, batches)`."""
    specs = tf.nest.flatten(iterator.element_spec)
    arrays = [tf.TensorArray(s.dtype, size=steps, element_shape=s.shape) for s in specs]

    def more(step, optional, arrays):
        return tf.logical_and(step < steps, optional.has_value())

    def take(step, optional, arrays):
        values = tf.nest.flatten(optional.get_value())
        arrays = [array.write(step, value) for array, value in zip(arrays, values)]
        following = tf.cond(step + 1 < steps, iterator.get_next_as_optional, lambda: optional)
        return step + 1, following, arrays

    count, _, arrays = tf.while_loop(
        more, take, (tf.constant(0), iterator.get_next_as_optional(), arrays)
    )
    return count, tf.nest.pack_sequence_as(
        iterator.element_spec, [array.stack() for array in arrays]
    )


def _sgd_step(batch, token, context, rate, mode):
    """One SGD step of word2vec's negative-sampling loss on a batch; returns the loss.

    The loss and gradients are those of `Word2Vec.compute_loss` (its gradient is the
    sum's, its value the mean per pair, or per center for CBOW), in closed form: the
    score s of a slot with sign +1 (true pair) or -1 (negative) and weight w adds
    `-w log sigmoid(sign s)` to the sum, whose gradient with respect to s is
    `-w sign sigmoid(-sign s)`. Both matrices' steps are taken at the same point.
    """
    weights = tf.cast(batch["context_weights"], tf.float32)  # (batch, 2w)
    negatives = batch["negative_ids"]  # (batch, k)
    num_negatives = negatives.shape[-1]
    pairs = tf.reduce_sum(weights, -1, keepdims=True)  # (batch, 1)
    if mode == "skipgram":
        inputs = tf.gather(token, batch["center_ids"])  # (batch, dim)
        output_ids = tf.concat([batch["context_ids"], negatives], 1)
        slot_weights = tf.concat([weights, tf.repeat(pairs, num_negatives, 1)], 1)
        signs = [1.0] * weights.shape[-1] + [-1.0] * num_negatives
        count = tf.reduce_sum(pairs)
    else:
        contexts = tf.gather(token, batch["context_ids"])  # (batch, 2w, dim)
        inputs = tf.reduce_sum(weights[:, :, None] * contexts, 1) / tf.maximum(pairs, 1.0)
        output_ids = tf.concat([batch["center_ids"][:, None], negatives], 1)
        active = tf.cast(pairs > 0, tf.float32)
        slot_weights = tf.repeat(active, 1 + num_negatives, 1)
        signs = [1.0] + [-1.0] * num_negatives
        count = tf.reduce_sum(active)
    signs = tf.constant(signs, tf.float32)
    targets = tf.gather(context, output_ids)  # (batch, slots, dim)
    scores = tf.einsum("bd,bsd->bs", inputs, targets)
    total = -tf.reduce_sum(slot_weights * tf.math.log_sigmoid(signs * scores))
    # rate x the negative gradient of the sum with respect to each score
    scale = rate * slot_weights * signs * tf.sigmoid(-signs * scores)
    step_inputs = tf.einsum("bs,bsd->bd", scale, targets)
    step_targets = scale[:, :, None] * inputs[:, None, :]
    dim = targets.shape[-1]
    if mode == "skipgram":
        token.scatter_add(tf.IndexedSlices(step_inputs, batch["center_ids"]))
    else:  # every context vector takes the whole step of the mean (word2vec.c)
        step_contexts = weights[:, :, None] * step_inputs[:, None, :]
        token.scatter_add(
            tf.IndexedSlices(
                tf.reshape(step_contexts, [-1, dim]), tf.reshape(batch["context_ids"], [-1])
            )
        )
    context.scatter_add(
        tf.IndexedSlices(tf.reshape(step_targets, [-1, dim]), tf.reshape(output_ids, [-1]))
    )
    return total / tf.maximum(count, 1.0)


def _sgd_steps(batches, count, variables, schedule, mode, steps):
    """`count` SGD steps, one per stacked batch; returns the loss metric after each.

    `variables`: the word and context matrices, the optimizer's `iterations` and the
    loss metric's total and count. `schedule`: `(initial, final, decay_steps)`; step `t`
    uses Keras' `PolynomialDecay(power=1)` rate at `t`.
    """
    token, context, iterations, total, seen = variables
    initial, final, decay_steps = tf.unstack(schedule)
    means = tf.TensorArray(tf.float32, size=steps)

    def step(index, means):
        batch = tf.nest.map_structure(lambda value: value[index], batches)
        progress = tf.minimum(tf.cast(iterations, tf.float32), decay_steps) / decay_steps
        rate = (initial - final) * (1.0 - progress) + final
        loss = _sgd_step(batch, token, context, rate, mode)
        size = tf.cast(tf.shape(tf.nest.flatten(batch)[0])[0], tf.float32)
        total.assign_add(loss * size)  # Keras' loss tracker: a Mean weighted by batch size
        seen.assign_add(size)
        iterations.assign_add(tf.ones([], iterations.dtype))
        return index + 1, means.write(index, tf.math.divide_no_nan(total, seen))

    _, means = tf.while_loop(
        lambda index, means: index < count, step, (tf.constant(0), means), maximum_iterations=steps
    )
    return means.stack()


@functools.cache
def _sgd_execution(mode, steps):
    """The SGD kernel's execution for (mode, steps per execution), shared by every model:
    tf.function traces variables by shape and dtype, so models of the same shapes share
    the trace and its XLA executable."""
    kernel = tf.function(
        functools.partial(_sgd_steps, mode=mode, steps=steps), autograph=False, jit_compile=True
    )

    def execute(iterator, variables, schedule):
        count, batches = _take_batches(iterator, steps)
        return count, kernel(batches, count, variables, schedule)

    return tf.function(execute, autograph=False)  # a trace per shape: XLA needs them whole


class FusedExecution:
    """A TensorFlow `train_function` that runs an execution's steps in one XLA call.

    Keras' own runs `steps_per_execution` compiled steps in a graph loop, one XLA call
    each; a word2vec step is so small that the call costs about as much as the step. This
    one takes up to `steps_per_execution` batches from the iterator (as Keras does: it
    stops early when the data ends), stacks them, and runs the steps in a loop inside one
    compiled function: the shared SGD kernel where `sgd_kernel(model)` allows it, else
    the model's own `train_step`.

    After each call, `step_means` holds the loss metric's value after each step of the
    execution (numpy `(steps,)`), from which `Word2Vec.train` reads per-epoch losses.
    Iterators it cannot stack (no `tf.data` iterator, or shapes not fully known) go to
    Keras' function (`fallback`).
    """

    def __init__(self, model, fallback):
        self.model = model
        self.fallback = fallback
        self.step_means = np.zeros([0], np.float32)
        self.uses_kernel = None  # whether the last call ran the SGD kernel
        self._execution = tf.function(self._execute, autograph=False, reduce_retracing=True)
        self._steps = tf.function(self._run_steps, autograph=False, jit_compile=True)

    def __call__(self, iterator):
        if not isinstance(iterator, tf.data.Iterator) or not all(
            spec.shape.is_fully_defined() for spec in tf.nest.flatten(iterator.element_spec)
        ):
            self.step_means = None
            return self.fallback(iterator)
        model = self.model
        schedule = sgd_kernel(model)  # read each call: the rate may be changed between fits
        self.uses_kernel = schedule is not None
        if self.uses_kernel:
            tracker = model.metrics[0]
            variables = [
                model.token_embedding.embeddings.value,
                model.context_embedding.embeddings.value,
                model.optimizer.iterations.value,
                tracker.total.value,
                tracker.count.value,
            ]
            execution = _sgd_execution(model.mode, int(model.steps_per_execution))
            count, means = execution(iterator, variables, tf.constant(schedule, tf.float32))
            logs = None
        else:
            count, logs, means = self._execution(iterator)
        count = int(count)
        if count == 0:
            raise StopIteration
        self.step_means = means.numpy()[:count]
        return model.get_metrics_result() if logs is None else logs

    def _execute(self, iterator):
        count, batches = _take_batches(iterator, self.model.steps_per_execution)
        return (count, *self._steps(batches, count))

    def _run_steps(self, batches, count):
        model, steps = self.model, self.model.steps_per_execution
        means = tf.TensorArray(tf.float32, size=steps)

        def step(index, logs, means):
            logs = model.train_step(tf.nest.map_structure(lambda value: value[index], batches))
            return index + 1, logs, means.write(index, tf.cast(logs["loss"], tf.float32))

        _, logs, means = tf.while_loop(
            lambda index, logs, means: index < count,
            step,
            (tf.constant(0), model.get_metrics_result(), means),
            maximum_iterations=steps,
        )
        return logs, means.stack()
