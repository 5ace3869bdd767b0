"""Learning-rate schedules and the Transformer paper's optimizer.

Every learning-rate schedule of Zoo lives here:

- `TransformerSchedule`: the paper's inverse-square-root learning rate with warm-up
  (a serializable `keras.optimizers.schedules.LearningRateSchedule`).
- `transformer_optimizer`: Adam(beta_1=0.9, beta_2=0.98, epsilon=1e-9) on that schedule.
- `warmup_cosine_decay`: linear warm-up to a peak, then cosine decay to a tenth of it
  (a `keras.optimizers.schedules.CosineDecay`; the GPT and BERT recipes' schedule).
- `BudgetCosineDecay`: the same warm-up and cosine, driven by a callback that also ends
  the decay when a training time budget runs out.
"""

import math
import time

import keras
from keras import ops

from zoo._checks import check_int

__all__ = [
    "PAPER_TRAINING",
    "BudgetCosineDecay",
    "TransformerSchedule",
    "transformer_optimizer",
    "warmup_cosine_decay",
]

# Training settings of the base model (Vaswani et al. 2017, section 5.3-5.4).
PAPER_TRAINING = {"label_smoothing": 0.1, "warmup_steps": 4000, "beta_1": 0.9, "beta_2": 0.98}


@keras.saving.register_keras_serializable(package="zoo")
class TransformerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The paper's learning rate: linear warm-up, then inverse square root decay.

    `lr(step) = scale * hidden_dim^-0.5 * min(step^-0.5, step * warmup_steps^-1.5)`, with
    `step` counted from 1. It peaks at step `warmup_steps` (about 7e-4 for d=512 and 4,000
    warm-up steps).

    Reference: Vaswani et al., 2017, https://arxiv.org/abs/1706.03762 (section 5.3).

    Args:
        hidden_dim: model width d.
        warmup_steps: steps of linear warm-up (4000 in the paper).
        scale: a multiplier on the whole schedule.

    Example:

    >>> schedule = TransformerSchedule(512, warmup_steps=4000)
    >>> round(float(schedule(3999)), 6)
    0.000699
    """

    def __init__(self, hidden_dim, warmup_steps=4000, scale=1.0):
        check_int(hidden_dim, "hidden_dim", type(self).__name__)
        check_int(warmup_steps, "warmup_steps", type(self).__name__)
        self.hidden_dim = hidden_dim
        self.warmup_steps = warmup_steps
        self.scale = scale

    def __call__(self, step):
        step = ops.cast(step, "float32") + 1.0  # optimizers count iterations from 0
        decay = ops.minimum(ops.rsqrt(step), step * (self.warmup_steps**-1.5))
        return self.scale * (self.hidden_dim**-0.5) * decay

    def get_config(self):
        return {
            "hidden_dim": self.hidden_dim,
            "warmup_steps": self.warmup_steps,
            "scale": self.scale,
        }


def transformer_optimizer(hidden_dim=512, warmup_steps=4000, **kwargs):
    """The paper's optimizer: Adam(beta_1=0.9, beta_2=0.98, epsilon=1e-9) on `TransformerSchedule`.

    Keyword arguments go to `keras.optimizers.Adam` (e.g. `clipnorm=1.0`).

    Example:

    >>> optimizer = transformer_optimizer(hidden_dim=512)
    >>> optimizer.beta_2
    0.98
    """
    return keras.optimizers.Adam(
        learning_rate=TransformerSchedule(hidden_dim, warmup_steps),
        beta_1=PAPER_TRAINING["beta_1"],
        beta_2=PAPER_TRAINING["beta_2"],
        epsilon=1e-9,
        **kwargs,
    )


def warmup_cosine_decay(peak, warmup_steps, total_steps):
    """Linear warm-up from 0 to `peak`, then cosine decay to a tenth of it at `total_steps`.

    `warmup_steps` is clipped to `[0, total_steps - 1]`; with no warm-up the schedule
    starts at `peak`. `BudgetCosineDecay` gives the same rates while its time budget
    does not bind.

    Args:
        peak: the rate at the end of the warm-up.
        warmup_steps: linear warm-up steps.
        total_steps: the run's steps; the decay ends there.

    Returns:
        A `keras.optimizers.schedules.CosineDecay`.

    Example:

    >>> schedule = warmup_cosine_decay(1e-3, warmup_steps=10, total_steps=100)
    >>> round(float(schedule(10)), 6), round(float(schedule(100)), 6)
    (0.001, 0.0001)
    """
    warmup_steps = max(0, min(warmup_steps, total_steps - 1))
    return keras.optimizers.schedules.CosineDecay(
        0.0 if warmup_steps else peak,
        decay_steps=max(1, total_steps - warmup_steps),
        alpha=0.1,
        warmup_target=peak if warmup_steps else None,
        warmup_steps=warmup_steps,
    )


class BudgetCosineDecay(keras.callbacks.Callback):
    """Warm-up then cosine decay that ends when a time budget does, if before `total_steps`.

    The schedule of `warmup_cosine_decay` (linear warm-up over `warmup_steps` to
    `peak`, then a cosine to `floor * peak` at `total_steps`), driven from Python: before
    each step it sets the optimizer's (float) learning rate. After the warm-up, the decay's
    progress is the larger of the step's share of the decay steps and the elapsed share of
    the budget left when the decay began, so on a machine too slow for `total_steps` in
    `seconds` the rate still reaches its floor when the budget runs out (and the training
    loop's time budget stops training), instead of stopping part-way down the curve. On a
    machine fast enough, the rates are those of the step-indexed schedule.

    The rate then depends on wall-clock time, so two runs agree only as far as their step
    times do. A resumed run continues the decay from the restored learning rate (it is
    saved with the optimizer) over this invocation's budget. Build the optimizer with a
    float learning rate (the callback sets it), not a schedule.

    Args:
        peak: the rate at the end of the warm-up.
        warmup_steps: linear warm-up steps from 0 (counted in steps, not time).
        total_steps: the run's steps; the decay ends there at the latest.
        seconds: the training budget of this invocation, in seconds.
        floor: the final rate as a fraction of `peak`.
        clock: a monotonic clock in seconds (for tests).

    Example:

    >>> decay = BudgetCosineDecay(1e-3, warmup_steps=10, total_steps=100, seconds=600)
    >>> decay.rate(5, elapsed=1.0), decay.rate(10, elapsed=2.0)
    (0.0005, 0.001)
    """

    def __init__(self, peak, warmup_steps, total_steps, seconds, floor=0.1, clock=time.monotonic):
        super().__init__()
        if not seconds or seconds <= 0:
            raise ValueError(
                f"The cosine_budget schedule ends the decay when the time budget runs out, so "
                f"it needs one in seconds > 0 (received {seconds!r}): pass --time-budget "
                "SECONDS (e.g. 600), or use --schedule cosine."
            )
        self.peak = float(peak)
        self.warmup_steps = max(0, min(int(warmup_steps), int(total_steps) - 1))
        self.total_steps = int(total_steps)
        self.seconds = float(seconds)
        self.floor = float(floor)
        self.clock = clock
        self.started = None
        self.step = 0
        self.decay_start = None  # (elapsed seconds, progress) when this invocation's decay began

    def step_progress(self, step):
        """The share of the decay's steps that `step` has done (below 0 in the warm-up)."""
        return (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)

    def progress_of_rate(self, rate):
        """The decay progress in [0, 1] at which the cosine gives `rate` (its inverse)."""
        cosine = (rate / self.peak - self.floor) / (1.0 - self.floor)
        return math.acos(min(1.0, max(-1.0, 2.0 * cosine - 1.0))) / math.pi

    def rate(self, step, elapsed):
        """The learning rate of `step` after `elapsed` seconds of this invocation (the first
        call after the warm-up records where and when the decay began)."""
        if step < self.warmup_steps:
            return self.peak * step / self.warmup_steps
        by_steps = self.step_progress(step)
        if self.decay_start is None:
            self.decay_start = (elapsed, by_steps)
        began, start_progress = self.decay_start
        left = self.seconds - began
        by_time = 1.0
        if left > 0:
            by_time = start_progress + (1.0 - start_progress) * (elapsed - began) / left
        progress = min(1.0, max(by_steps, by_time))
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.peak * (self.floor + (1.0 - self.floor) * cosine)

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        # A schedule's config is a dict (its serialized form); a float rate's is a float.
        if isinstance(optimizer.get_config().get("learning_rate"), dict):
            raise ValueError(
                "BudgetCosineDecay sets the learning rate itself: build the optimizer with a "
                "float learning rate, not a schedule."
            )
        self.started = self.clock()
        self.step = int(keras.ops.convert_to_numpy(optimizer.iterations))
        if self.step > self.warmup_steps:  # resumed during the decay: continue from its rate
            restored = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            progress = max(self.step_progress(self.step), self.progress_of_rate(restored))
            self.decay_start = (0.0, progress)

    def on_train_batch_begin(self, batch, logs=None):
        # Under JAX, reading `self.model` syncs the training state back first, so the next
        # step picks up the assigned rate.
        self.model.optimizer.learning_rate = self.rate(self.step, self.clock() - self.started)

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
