"""Word2Vec's training executions under TensorFlow with XLA: many steps in one call.

A word2vec step is small (a few thousand rows of the two matrices gathered and
scattered), so what surrounds it costs as much as the step: a host call per step, a
tf.data element per step (tens of microseconds of TensorFlow runtime each), and a new
XLA compile for every new model, since Keras' train function belongs to its model.
`FusedExecution`, the `train_function` that `Word2Vec.make_train_function` installs under
TensorFlow with XLA, takes an execution's batches from the iterator (best as one element
of stacked steps, `Word2VecData.dataset(steps_per_element=...)`, which
`Word2Vec.fit_dataset` asks for) and runs all of them in one compiled call. Its steps
are one of two:

- **the SGD kernel** (`sgd_kernel`), when the model is compiled with plain SGD at a
  constant or linearly decaying rate (what `word2vec_optimizer` and `Word2Vec.train`
  use) and nothing else to train or measure: the gradients of the negative-sampling loss
  in closed form, applied as scatter-adds. The compiled function takes the model's
  variables as arguments, so every model of the same shapes reuses one trace and one
  XLA compile in a process (a second model trained on the same corpus compiles
  nothing). When a step's contexts are the rows of its frame (the centers with `window`
  tokens on each side, as in every `Word2VecData` step, checked on each execution), the
  kernel gathers and scatters each frame row once instead of once per pair: 266 rows
  instead of 2,560 for 256 centers and a window of 5;
- **Keras' `train_step`** of the model otherwise (any optimizer or schedule), compiled
  for that model.

Either way the steps are Keras' steps: the optimizer's `iterations`, the loss metric and
the callbacks see what Keras' own train function gives, up to float rounding.
"""

import functools

import keras
import numpy as np
import tensorflow as tf

from zoo.data.word2vec import window_offsets

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


def _take_group(iterator):
    """One element of whole steps (`Word2VecData.dataset(steps_per_element=k)`): its
    "steps" (0 at the end of the data) and its stacked batches."""
    optional = iterator.get_next_as_optional()
    specs = {key: spec for key, spec in iterator.element_spec.items() if key != "steps"}

    def value():
        element = optional.get_value()
        return element["steps"], {key: element[key] for key in specs}

    def end():
        return tf.constant(0), {
            key: tf.zeros(spec.shape, spec.dtype) for key, spec in specs.items()
        }

    return tf.cond(optional.has_value(), value, end)


def _take(iterator, steps):
    """`(count, batches)` of an execution: one element of whole steps, or up to `steps`
    elements of one step, stacked."""
    if _grouped(iterator.element_spec):
        return _take_group(iterator)
    return _take_batches(iterator, steps)


def _grouped(element_spec):
    return isinstance(element_spec, dict) and "steps" in element_spec


def _slots(weights, num_negatives, mode):
    """`(slot_weights, signs, count)` of a step's (center, slot) scores: skip-gram's slots
    are the contexts (weight 1 each) then the negatives (weight = the center's pairs),
    CBOW's the center then the negatives (weight 1 for a center with a context); `count`
    is what the loss is averaged over (pairs, or centers)."""
    pairs = tf.reduce_sum(weights, -1, keepdims=True)  # (batch, 1)
    if mode == "skipgram":
        slot_weights = tf.concat([weights, tf.repeat(pairs, num_negatives, 1)], 1)
        signs = [1.0] * weights.shape[-1] + [-1.0] * num_negatives
        return slot_weights, tf.constant(signs, tf.float32), tf.reduce_sum(pairs)
    active = tf.cast(pairs > 0, tf.float32)
    slot_weights = tf.repeat(active, 1 + num_negatives, 1)
    signs = [1.0] + [-1.0] * num_negatives
    return slot_weights, tf.constant(signs, tf.float32), tf.reduce_sum(active)


def _negative_sampling(inputs, targets, slot_weights, signs, rate):
    """The summed loss of a step's scores and its SGD steps, in closed form: the score s
    of a slot with sign +1 (true pair) or -1 (negative) and weight w adds
    `-w log sigmoid(sign s)` to the sum, whose gradient with respect to s is
    `-w sign sigmoid(-sign s)`.

    Returns `(total, scale, step_inputs)`: `scale` is rate x the negative gradient of
    each score, `(batch, slots)`; `step_inputs` the inputs' steps, `(batch, dim)` (a
    target's step is `scale * input`).
    """
    scores = tf.einsum("bd,bsd->bs", inputs, targets)
    total = -tf.reduce_sum(slot_weights * tf.math.log_sigmoid(signs * scores))
    scale = rate * slot_weights * signs * tf.sigmoid(-signs * scores)
    return total, scale, tf.einsum("bs,bsd->bd", scale, targets)


def _cbow_inputs(weights, contexts):
    """CBOW's input: the mean of a center's context vectors, `(batch, dim)`."""
    pairs = tf.reduce_sum(weights, -1, keepdims=True)
    return tf.reduce_sum(weights[:, :, None] * contexts, 1) / tf.maximum(pairs, 1.0)


def _sgd_step(batch, token, context, rate, mode):
    """One SGD step of word2vec's negative-sampling loss on a batch; returns the loss.

    The loss and gradients are those of `Word2Vec.compute_loss` (its gradient is the
    sum's, its value the mean per pair, or per center for CBOW), in closed form
    (`_negative_sampling`). Both matrices' steps are taken at the same point.
    """
    weights = tf.cast(batch["context_weights"], tf.float32)  # (batch, 2w)
    negatives = batch["negative_ids"]  # (batch, k)
    slot_weights, signs, count = _slots(weights, negatives.shape[-1], mode)
    if mode == "skipgram":
        inputs = tf.gather(token, batch["center_ids"])  # (batch, dim)
        output_ids = tf.concat([batch["context_ids"], negatives], 1)
    else:
        inputs = _cbow_inputs(weights, tf.gather(token, batch["context_ids"]))
        output_ids = tf.concat([batch["center_ids"][:, None], negatives], 1)
    targets = tf.gather(context, output_ids)  # (batch, slots, dim)
    total, scale, step_inputs = _negative_sampling(inputs, targets, slot_weights, signs, rate)
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


def _frame_index(batch_size, window):
    """Constant indices between a step's pairs and its frame (the centers with `window`
    tokens on each side, `batch_size + 2 * window` rows).

    `pairs[i, j]`: the frame row of center i's context in slot j (offset
    `window_offsets(window)[j]`). `centers[r, j]` / `flat[r, j]`: the center, and its
    flattened (center, slot) pair, whose slot j reads frame row r; `batch_size` and
    `batch_size * 2 * window` where none does (they index a zero row).
    """
    offsets = np.array(window_offsets(window))
    pairs = np.arange(batch_size)[:, None] + window + offsets[None, :]
    rows = np.arange(batch_size + 2 * window)[:, None]
    centers = rows - window - offsets[None, :]
    inside = (centers >= 0) & (centers < batch_size)
    flat = np.where(inside, centers * 2 * window + np.arange(2 * window), batch_size * 2 * window)
    centers = np.where(inside, centers, batch_size)
    return pairs.astype(np.int32), centers.astype(np.int32), flat.astype(np.int32)


def _frames(batches):
    """The frames of stacked steps, `(steps, batch + 2 * window)`, and whether every
    step's contexts are its frame's rows (as `Word2VecData` batches are)."""
    center_ids, context_ids = batches["center_ids"], batches["context_ids"]
    batch_size, slots = center_ids.shape[-1], context_ids.shape[-1]
    window = slots // 2
    frames = tf.concat(
        [context_ids[:, 0, :window], center_ids, context_ids[:, -1, window:]], axis=1
    )
    pairs, _, _ = _frame_index(batch_size, window)
    framed = tf.reduce_all(tf.equal(tf.gather(frames, pairs, axis=1), context_ids))
    return frames, framed


def _to_frame_rows(values, vectors, index):
    """`rows[r] = sum_j values[i, j] * vectors[i]` over the (center i, slot j) pairs that
    read frame row r: the frame's share of the pairs' steps, with no scatter."""
    _, centers, flat = index
    values = tf.concat([tf.reshape(values, [-1]), tf.zeros([1], values.dtype)], 0)
    vectors = tf.concat([vectors, tf.zeros([1, vectors.shape[-1]], vectors.dtype)], 0)
    return tf.reduce_sum(tf.gather(values, flat)[:, :, None] * tf.gather(vectors, centers), 1)


def _sgd_step_frames(batch, frame, token, context, rate, mode):
    """`_sgd_step` for a step whose contexts are rows of its frame: the same loss and
    steps, but the matrix rows of the contexts are gathered and scattered once per frame
    row (`batch + 2 * window`) instead of once per pair (`batch * 2 * window`)."""
    weights = tf.cast(batch["context_weights"], tf.float32)  # (batch, 2w)
    negatives = batch["negative_ids"]  # (batch, k)
    center_ids = batch["center_ids"]
    batch_size, slots = weights.shape
    index = _frame_index(batch_size, slots // 2)
    pairs_index = tf.constant(index[0])
    slot_weights, signs, count = _slots(weights, negatives.shape[-1], mode)
    if mode == "skipgram":
        inputs = tf.gather(token, center_ids)  # (batch, dim)
        frame_rows = tf.gather(context, frame)  # (batch + 2w, dim)
        noise = tf.gather(context, negatives)  # (batch, k, dim)
        targets = tf.concat([tf.gather(frame_rows, pairs_index), noise], 1)
    else:
        frame_rows = tf.gather(token, frame)  # (batch + 2w, dim)
        inputs = _cbow_inputs(weights, tf.gather(frame_rows, pairs_index))
        output_ids = tf.concat([center_ids[:, None], negatives], 1)
        targets = tf.gather(context, output_ids)  # (batch, 1 + k, dim)
    total, scale, step_inputs = _negative_sampling(inputs, targets, slot_weights, signs, rate)
    dim = targets.shape[-1]
    if mode == "skipgram":
        token.scatter_add(tf.IndexedSlices(step_inputs, center_ids))
        step_frame = _to_frame_rows(scale[:, :slots], inputs, index)
        step_noise = scale[:, slots:, None] * inputs[:, None, :]
        context.scatter_add(
            tf.IndexedSlices(
                tf.concat([step_frame, tf.reshape(step_noise, [-1, dim])], 0),
                tf.concat([frame, tf.reshape(negatives, [-1])], 0),
            )
        )
    else:  # every context vector takes the whole step of the mean (word2vec.c)
        token.scatter_add(tf.IndexedSlices(_to_frame_rows(weights, step_inputs, index), frame))
        step_targets = scale[:, :, None] * inputs[:, None, :]
        context.scatter_add(
            tf.IndexedSlices(tf.reshape(step_targets, [-1, dim]), tf.reshape(output_ids, [-1]))
        )
    return total / tf.maximum(count, 1.0)


def _sgd_steps(batches, count, variables, schedule, mode, steps, frames=None):
    """`count` SGD steps, one per stacked batch; returns the loss metric after each.

    `variables`: the word and context matrices, the optimizer's `iterations` and the
    loss metric's total and count. `schedule`: `(initial, final, decay_steps)`; step `t`
    uses Keras' `PolynomialDecay(power=1)` rate at `t`. `frames`: the steps' frames
    when their contexts are frame rows (`_frames`), else None.
    """
    token, context, iterations, total, seen = variables
    initial, final, decay_steps = tf.unstack(schedule)
    means = tf.TensorArray(tf.float32, size=steps)

    def step(index, means):
        batch = tf.nest.map_structure(lambda value: value[index], batches)
        progress = tf.minimum(tf.cast(iterations, tf.float32), decay_steps) / decay_steps
        rate = (initial - final) * (1.0 - progress) + final
        if frames is None:
            loss = _sgd_step(batch, token, context, rate, mode)
        else:
            loss = _sgd_step_frames(batch, frames[index], token, context, rate, mode)
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
    the traces and their XLA executables. Steps whose contexts are frame rows (every
    `Word2VecData` step) run `_sgd_step_frames`, others `_sgd_step`: the check runs with
    the take, and only the kernel it picks is traced and compiled."""
    kernel = tf.function(
        functools.partial(_sgd_steps, mode=mode, steps=steps), autograph=False, jit_compile=True
    )  # one trace (and executable) with frames, one without

    def take(iterator):
        count, batches = _take(iterator, steps)
        return (count, batches, *_frames(batches))

    take = tf.function(take, autograph=False)  # a trace per shape: XLA needs them whole

    def execute(iterator, variables, schedule):
        count, batches, frames, is_framed = take(iterator)
        if bool(is_framed):
            return count, kernel(batches, count, variables, schedule, frames=frames), True
        return count, kernel(batches, count, variables, schedule), False

    execute.functions = (take, kernel)  # for their tracing counts
    return execute


class FusedExecution:
    """A TensorFlow `train_function` that runs an execution's steps in one XLA call.

    Keras' own runs `steps_per_execution` compiled steps in a graph loop, one XLA call
    each; a word2vec step is so small that the call costs about as much as the step. This
    one takes up to `steps_per_execution` batches from the iterator (as Keras does: it
    stops early when the data ends) and stacks them, or takes one element of that many
    stacked steps (`Word2VecData.dataset(steps_per_element=...)`, the cheaper way), and
    runs the steps in a loop inside one compiled function: the shared SGD kernel where
    `sgd_kernel(model)` allows it, else the model's own `train_step`.

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
        self.framed = None  # and whether it ran its frame path
        self._execution = tf.function(self._execute, autograph=False, reduce_retracing=True)
        self._steps = tf.function(self._run_steps, autograph=False, jit_compile=True)

    def __call__(self, iterator):
        if not isinstance(iterator, tf.data.Iterator) or not all(
            spec.shape.is_fully_defined() for spec in tf.nest.flatten(iterator.element_spec)
        ):
            self.step_means = None
            return self.fallback(iterator)
        model = self.model
        if _grouped(iterator.element_spec):
            steps = iterator.element_spec["center_ids"].shape[0]
            if steps != model.steps_per_execution:
                raise ValueError(
                    f"The Word2Vec dataset gives {steps} steps an element, and the model "
                    f"runs steps_per_execution={model.steps_per_execution}. Build it with "
                    "Word2Vec.fit_dataset(), or with steps_per_element equal to "
                    "steps_per_execution."
                )
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
            count, means, framed = execution(iterator, variables, tf.constant(schedule, tf.float32))
            self.framed = bool(framed)
            logs = None
        else:
            count, logs, means = self._execution(iterator)
        count = int(count)
        if count == 0:
            raise StopIteration
        self.step_means = means.numpy()[:count]
        return model.get_metrics_result() if logs is None else logs

    def _execute(self, iterator):
        count, batches = _take(iterator, self.model.steps_per_execution)
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
