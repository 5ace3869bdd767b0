"""The train loop every recipe shares: step-indexed data, atomic checkpoints, exact resume.

Three ideas make a run that is killed at any moment and resumed end with the same
weights as a run that was never interrupted:

1. The batch is a function of the step. Examples are tokenized once into arrays; the
   batch for step `s` is `gather(arrays, index_shuffle(positions, seed=[seed, epoch]))`,
   a stateless permutation per epoch (`zoo.data.step_dataset`, or
   `zoo.data.bucketed_step_dataset` for length-bucketed batches). Resuming at step `s`
   starts `tf.data.Dataset.range(s, total_steps)`; nothing is replayed.
2. A checkpoint holds every variable: the model's (weights and the dropout seed
   generators' states), the optimizer's (slots and iteration count) and the step
   (`Checkpointer`). It is written to a temporary file, flushed and renamed, and the
   `latest.json` pointer is replaced the same way, so a kill during a save leaves the
   previous checkpoint in place and usable.
3. The config is saved beside each checkpoint, and `--resume` refuses a run directory
   whose config disagrees on anything that changes the computation.
"""

import contextlib
import glob
import json
import os
import time

import keras
import numpy as np

import tpu
from recipes.common import is_chief, resume_history, save_config
from recipes.export import export_run
from zoo.data.steps import bucketed_step_dataset, length_buckets, step_dataset

__all__ = [
    "CheckpointCallback",
    "Checkpointer",
    "TimeBudget",
    "bucketed_step_dataset",
    "compile_model",
    "length_buckets",
    "save_and_export",
    "save_model",
    "step_dataset",
    "train",
]


# Checkpoints -----------------------------------------------------------------------------


class Checkpointer:
    """Atomic checkpoints of a model, its optimizer and the step.

    Files: `<directory>/ckpt-<step>.npz` (all variables), `ckpt-<step>.json` (the
    config and the step) and `latest.json` (which checkpoint is the newest). The
    newest `keep` checkpoints are kept.
    """

    def __init__(self, directory, model, optimizer, config=None, keep=2):
        self.directory = directory
        self.model = model
        self.optimizer = optimizer
        self.config = config
        self.keep = keep
        os.makedirs(directory, exist_ok=True)

    def _variables(self):
        if not self.optimizer.built:
            # Optimizer slots must be created under the strategy that holds the model.
            strategy = getattr(self.model, "distribute_strategy", None)
            with strategy.scope() if strategy is not None else contextlib.nullcontext():
                self.optimizer.build(self.model.trainable_variables)
        return list(self.model.variables) + list(self.optimizer.variables)

    def save(self, step, loss=None):
        """Write checkpoint `step`; returns its path.

        In a multi-host run every process must call it (a variable spread over hosts is
        gathered first); process 0 alone writes.
        """
        path = os.path.join(self.directory, f"ckpt-{step}.npz")
        values = {
            f"v{index}": _host_value(variable) for index, variable in enumerate(self._variables())
        }
        if not is_chief():
            return path
        _atomic_write(path, lambda file: np.savez(file, **values), binary=True)
        if self.config is not None:
            save_config(self.config, os.path.join(self.directory, f"ckpt-{step}.config.json"))
        state = {"step": int(step), "file": os.path.basename(path), "time": time.time()}
        if loss is not None:
            state["loss"] = float(loss)
        _atomic_write(
            os.path.join(self.directory, "latest.json"),
            lambda file: file.write(json.dumps(state)),
        )
        self._prune()
        return path

    def latest_step(self):
        """The step of the newest complete checkpoint, or None."""
        state = self.latest_state()
        return None if state is None else int(state["step"])

    def latest_state(self):
        """`latest.json` of the newest checkpoint (step, file, time, and the training loss
        of that step when it was known), or None."""
        state_path = os.path.join(self.directory, "latest.json")
        if not os.path.exists(state_path):
            return None
        with open(state_path, encoding="utf-8") as file:
            return json.load(file)

    def restore(self, step=None):
        """Load checkpoint `step` (default: the newest) into the model and optimizer.

        Returns the restored step, or 0 when there is no checkpoint.
        """
        step = self.latest_step() if step is None else step
        if step is None:
            return 0
        path = os.path.join(self.directory, f"ckpt-{step}.npz")
        variables = self._variables()
        with np.load(path) as values:
            if len(values.files) != len(variables):
                raise ValueError(
                    f"Checkpoint {path} holds {len(values.files)} variables, the model and "
                    f"optimizer have {len(variables)}: it was written by another configuration. "
                    "Start a new run with another --out, or resume with the same flags."
                )
            for index, variable in enumerate(variables):
                value = values[f"v{index}"]
                if tuple(value.shape) != tuple(variable.shape):
                    raise ValueError(
                        f"Checkpoint {path}: variable {variable.path} has shape {value.shape}, "
                        f"the model expects {tuple(variable.shape)}. Resume with the same flags."
                    )
                variable.assign(value)
        return step

    def _prune(self):
        steps = sorted(
            int(os.path.basename(p)[len("ckpt-") : -len(".npz")])
            for p in glob.glob(os.path.join(self.directory, "ckpt-*.npz"))
        )
        for old in steps[: -self.keep]:
            for suffix in (".npz", ".config.json"):
                path = os.path.join(self.directory, f"ckpt-{old}{suffix}")
                if os.path.exists(path):
                    os.remove(path)


def save_model(model, path):
    """`model.save(path)` from process 0, also in a multi-host JAX run.

    There every process must call it: each variable's value is gathered from the hosts
    that hold its shards (a collective), and process 0 writes a copy of the model built
    off the mesh (Keras creates variables as it saves, and under a multi-host
    distribution creating one is a collective too).
    """
    if tpu.process_shard()[1] == 1:
        model.save(path)
        return
    values = [_host_value(variable) for variable in model.weights]
    if not is_chief():
        return
    distribution = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        copy = model.__class__.from_config(model.get_config())
        copy.set_weights(values)
        copy.save(path)
    finally:
        keras.distribution.set_distribution(distribution)


def save_and_export(model, config, recipe):
    """Save the run's `<out>/model.keras` (every process calls it, as `save_model` needs)
    and, on process 0 with `--export`, write its SavedModel with `export_run(recipe, ...)`.

    Returns the SavedModel's path, or None where this process wrote none.
    """
    save_model(model, os.path.join(config.out, "model.keras"))
    if is_chief() and config.export:
        return export_run(recipe, config.out, verbose=bool(config.verbose))
    return None


def _host_value(variable):
    """A variable's whole value as numpy, also when its shards live on several hosts."""
    value = variable.value
    if keras.backend.backend() == "jax" and not getattr(value, "is_fully_addressable", True):
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(value, tiled=True))
    return keras.ops.convert_to_numpy(value)


def _atomic_write(path, write, binary=False):
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "wb" if binary else "w", encoding=None if binary else "utf-8") as file:
        write(file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def write_summary(out_dir, summary):
    """Write a run's `summary` (a JSON-able dict) to `<out_dir>/summary.json`, atomically."""
    os.makedirs(out_dir, exist_ok=True)
    _atomic_write(
        os.path.join(out_dir, "summary.json"),
        lambda file: json.dump(summary, file, indent=2, ensure_ascii=False),
    )


def finish_run(config, summary, report=(), signatures=""):
    """End a recipe's run: on process 0, write `summary` to `<out>/summary.json` and, with
    `--verbose`, print the `report` lines, the SavedModel (`summary["saved_model"]`) with
    its `signatures`, and where the summary is. Returns `summary`."""
    if not is_chief():  # process 0 of a multi-host run writes; the others only train
        return summary
    write_summary(config.out, summary)
    if config.verbose:
        for line in report:
            print(line)
        if summary.get("saved_model"):
            print(f"SavedModel: {summary['saved_model']} ({signatures})")
        print(f"summary: {os.path.join(config.out, 'summary.json')}")
    return summary


class CheckpointCallback(keras.callbacks.Callback):
    """Saves a checkpoint every `every` steps and at the end of training.

    It also keeps `loss`, the training loss of the last step that ran (None before the
    first), and stores it with each checkpoint. Keras logs the running mean of the
    epoch's losses, `m_k` after `k` steps, so the last step's loss is
    `k * m_k - (k - 1) * m_(k-1)` (with `steps_per_execution > 1`: the mean of the last
    execution's steps), exact up to float32 rounding of the means.
    """

    def __init__(self, checkpointer, every, start_step, total_steps):
        super().__init__()
        self.checkpointer = checkpointer
        self.every = every
        self.start_step = start_step
        self.total_steps = total_steps
        self.last_saved = start_step
        self.step = start_step
        self.loss = None
        self._mean = (0, 0.0)  # (steps, running mean of the loss) at the last batch end

    def on_train_batch_end(self, batch, logs=None):
        # Keras numbers the end of the last execution `begin + steps_per_execution - 1`
        # even when fewer steps were left: the step is capped at the run's last.
        batch = min(batch, self.total_steps - self.start_step - 1)
        step = self.start_step + batch + 1
        self.step = step
        if logs and "loss" in logs:
            done, mean = step - self.start_step, float(logs["loss"])
            seen, previous = self._mean
            self.loss = (done * mean - seen * previous) / (done - seen)
            self._mean = (done, mean)
        if self.every and step // self.every > self.last_saved // self.every:
            self.model  # noqa: B018 (under JAX, reading .model syncs the training state back)
            self.checkpointer.save(step, self.loss)
            self.last_saved = step

    def on_epoch_end(self, epoch, logs=None):
        # The last step that ran: all of them, or fewer when a callback stopped training.
        # Saved here rather than at the end of training: `fit` then replaces the weights
        # with an optimizer's weight average (`use_ema`), and a resumed run needs the raw
        # weights to continue exactly.
        step = self.step
        if step > self.last_saved:
            self.model  # noqa: B018 (syncs the JAX training state back, as above)
            self.checkpointer.save(step, self.loss)
            self.last_saved = step


class TimeBudget(keras.callbacks.Callback):
    """Stops training at the first step boundary after `seconds` of wall-clock time.

    The clock starts when training starts (so it includes the first step's compilation).
    With `steps_per_execution > 1` the boundary is the end of an execution. Setting
    `model.stop_training` ends `fit` normally: `CheckpointCallback` then saves the step
    reached, and the recipe evaluates and exports as usual.

    Args:
        seconds: the training budget; `None` or `0` disables it.
    """

    def __init__(self, seconds):
        super().__init__()
        if seconds is not None and (isinstance(seconds, bool) or seconds < 0):
            raise ValueError(
                f"TimeBudget received seconds={seconds!r}. Expected a number of seconds >= 0 "
                "(0 or None: no budget), e.g. --time-budget 600."
            )
        self.seconds = seconds
        self.started = None
        self.stopped_early = False

    def on_train_begin(self, logs=None):
        self.started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if self.seconds and time.monotonic() - self.started >= self.seconds:
            self.model.stop_training = True
            self.stopped_early = True


# Optimizer -------------------------------------------------------------------------------


def compile_model(
    model,
    settings,
    loss,
    learning_rate,
    weight_decay=None,
    optimizer_options=None,
    tuning=None,
    **options,
):
    """Compile `model` for the run: Adam (AdamW with `weight_decay`) on `learning_rate`.

    Every recipe's model compiles here, with the strategy's XLA and steps-per-execution
    settings (`jit_compile=True` and `steps_per_execution` 32 on a TPU).

    Args:
        model: the Keras model, built under the run's strategy scope (call this there too).
        settings: the run's `tpu.training_settings` (`jit_compile`, `steps_per_execution`).
        loss: the loss (or a dict of losses, one per output).
        learning_rate: a float or a schedule (`zoo.optimizers`).
        weight_decay: `keras.optimizers.AdamW`'s decoupled weight decay; `None`: Adam.
        optimizer_options: more arguments of the optimizer (`beta_2`, `epsilon`,
            `use_ema`, ...).
        tuning: the run's `recipes.common.FineTuning` flags (the recipe's config):
            `lora_rank` > 0 enables LoRA adapters on `model` (its `enable_lora`) before
            compiling, `accumulation_steps` > 1 sets the optimizer's
            `gradient_accumulation_steps`. The dtype policy (`precision`) was set by
            `start_run` before the model was built.
        **options: more arguments of `model.compile` (`metrics`, `weighted_metrics`).

    Returns:
        The model, compiled.
    """
    optimizer_options = dict(optimizer_options or {})
    lora_rank = getattr(tuning, "lora_rank", 0)
    if lora_rank:
        counts = model.enable_lora(lora_rank)
        if getattr(tuning, "verbose", 0) and is_chief():
            print(
                f"LoRA rank {lora_rank}: {counts['trainable_parameters']:,} of "
                f"{counts['total_parameters']:,} parameters train"
            )
    accumulation_steps = getattr(tuning, "accumulation_steps", 1)
    if accumulation_steps > 1:
        optimizer_options["gradient_accumulation_steps"] = accumulation_steps
    if weight_decay is None:
        optimizer = keras.optimizers.Adam(learning_rate, **optimizer_options)
    else:
        optimizer = keras.optimizers.AdamW(
            learning_rate, weight_decay=weight_decay, **optimizer_options
        )
    model.compile(
        optimizer=optimizer,
        loss=loss,
        jit_compile=settings.jit_compile,
        steps_per_execution=settings.steps_per_execution,
        **options,
    )
    return model


# Loop ------------------------------------------------------------------------------------


def train_run(model, arrays, config, batch_size, **options):
    """`train` with the flags every recipe's `Config` has (`RunLoop`): `--steps`, `--out`,
    `--seed`, `--resume`, `--checkpoint-every`, `--verbose`, and `--time-budget` where the
    recipe has one. `options` are `train`'s other arguments, or override one of these
    (BERT's fine-tuning stage trains `finetune_steps` steps into `<out>/finetune`)."""
    settings = {
        "total_steps": config.steps,
        "out_dir": config.out,
        "seed": config.seed,
        "resume": config.resume,
        "checkpoint_every": config.checkpoint_every,
        "verbose": config.verbose,
        "time_budget": getattr(config, "time_budget", 0) or None,
        **options,
    }
    return train(model, arrays, batch_size=batch_size, config=config, **settings)


def train(
    model,
    arrays,
    batch_size,
    total_steps,
    out_dir,
    config=None,
    seed=0,
    resume=False,
    checkpoint_every=100,
    callbacks=(),
    verbose=1,
    time_budget=None,
    lengths=None,
    buckets=None,
):
    """Train a compiled `model` for `total_steps` steps on step-indexed batches.

    Args:
        model: a compiled Keras model (its optimizer is checkpointed with it). With an
            optimizer that keeps a weight average (`use_ema`), the model ends holding the
            average, as after `fit`, also when a finished run is resumed.
        arrays: training data for `step_dataset`: `(inputs, labels)` or
            `(inputs, labels, sample_weights)` of numpy arrays; or, for batches that are
            a stream rather than arrays, a function `make_dataset(start_step, end_step,
            shard=)` that returns those steps' batches for this process's rows
            (`zoo.data.Word2VecData.dataset`).
        batch_size: global batch size.
        total_steps: steps of the whole run (a resumed run stops there too).
        out_dir: run directory: `checkpoints/`, `logs/` (TensorBoard), `config.json`.
        config: the recipe's dataclass config, saved in the run directory and beside
            each checkpoint.
        seed: data order seed.
        resume: continue from the newest checkpoint in `out_dir/checkpoints`.
        checkpoint_every: steps between checkpoints (0: only at the end).
        callbacks: more Keras callbacks.
        verbose: Keras progress bar (1) or none (0).
        time_budget: optional wall-clock seconds for this invocation's training; it stops
            at the first step boundary after the budget and checkpoints that step
            (`TimeBudget`). `None` or 0: train all `total_steps`.
        lengths, buckets: train on length-bucketed batches (`bucketed_step_dataset`):
            per-example lengths and the bucket widths. `None`: every batch at the arrays'
            full length (`step_dataset`), the only choice for a TPU.

    Returns:
        `(history or None, first step of this invocation, final loss)`: the final loss is
        the training loss of the run's last step (`CheckpointCallback.loss`; for a run
        resumed after its last step, the one its checkpoint recorded, or None).

    In a multi-host JAX run every process calls `train` alike; each feeds its own rows
    of every step's batch, and process 0 alone writes files (config, checkpoints, logs).
    """
    os.makedirs(out_dir, exist_ok=True)
    checkpointer = Checkpointer(
        os.path.join(out_dir, "checkpoints"), model, model.optimizer, config
    )
    config_path = os.path.join(out_dir, "config.json")
    start_step = 0
    if not resume and checkpointer.latest_step() is not None:
        raise ValueError(
            f"{out_dir} already holds checkpoints (step {checkpointer.latest_step()}). Pass "
            "--resume to continue that run, or choose another --out."
        )
    history = None
    if config is not None:
        # A resumed run may change only what does not change a step; the run's config.json
        # holds this invocation's values and a history of every invocation and its changes.
        history = [{"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "step": 0}]
        history[0].update(global_batch_size=int(batch_size), changed={})
        if resume and os.path.exists(config_path):
            history = resume_history(
                config, config_path, batch_size, checkpointer.latest_step() or 0
            )
    if resume:
        start_step = checkpointer.restore()
        if verbose:
            print(f"Resumed from step {start_step} in {checkpointer.directory}.")
    if config is not None and is_chief():
        save_config(config, config_path, history)
    if start_step >= total_steps:
        # `fit` ends by moving an optimizer's weight average (`use_ema`) into the model; a
        # run resumed after its last step restored the raw weights, so do the same here.
        model.optimizer.finalize_variable_values(model.trainable_variables)
        return None, start_step, (checkpointer.latest_state() or {}).get("loss")
    shard = tpu.process_shard()  # this process's rows of every global batch
    if callable(arrays):
        dataset = arrays(start_step, total_steps, shard=shard)
    elif buckets and len(buckets) > 1:
        dataset = bucketed_step_dataset(
            arrays, lengths, buckets, batch_size, seed, start_step, total_steps, shard=shard
        )
    else:
        dataset = step_dataset(arrays, batch_size, seed, start_step, total_steps, shard=shard)
    saver = CheckpointCallback(checkpointer, checkpoint_every, start_step, total_steps)
    all_callbacks = [saver, *callbacks]
    if is_chief():
        all_callbacks.insert(
            1, keras.callbacks.TensorBoard(os.path.join(out_dir, "logs"), update_freq=50)
        )
    if time_budget:
        all_callbacks.append(TimeBudget(time_budget))
    history = model.fit(
        dataset,
        epochs=1,
        steps_per_epoch=total_steps - start_step,
        shuffle=False,  # the order is step-indexed already
        callbacks=all_callbacks,
        verbose=verbose if is_chief() else 0,
    )
    return history, start_step, saver.loss
