import json
import os
import signal
import sys
import time

import keras
import numpy as np
import pytest

import tpu
from recipes.training import Checkpointer, compile_model, train
from tests.test_case import finish_process, start_process
from zoo.optimizers import BudgetCosineDecay, warmup_cosine_decay

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_resume_worker.py")


def _tiny_model():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="adam", loss="mse")
    return model


def test_a_crash_during_save_leaves_the_previous_checkpoint_usable(tmp_path, monkeypatch):
    model = _tiny_model()
    checkpointer = Checkpointer(str(tmp_path), model, model.optimizer)
    checkpointer.save(5)
    saved = [w.copy() for w in model.get_weights()]
    model.set_weights([w + 1 for w in saved])

    def crash(file, **values):
        file.write(b"partial")
        raise KeyboardInterrupt("killed while saving")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpointer.save(10)
    monkeypatch.undo()
    assert checkpointer.latest_step() == 5
    assert checkpointer.restore() == 5
    for restored, expected in zip(model.get_weights(), saved):
        np.testing.assert_array_equal(restored, expected)


def test_restore_rejects_a_checkpoint_of_another_model(tmp_path):
    model = _tiny_model()
    Checkpointer(str(tmp_path), model, model.optimizer).save(1)
    inputs = keras.Input((4,))
    other = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="shape"):
        Checkpointer(str(tmp_path), other, other.optimizer).restore()


def _run(out_dir, steps, *flags):
    return start_process([sys.executable, WORKER, str(out_dir), str(steps), *flags])


def test_sigkill_and_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path):
    total = 30
    reference = _run(tmp_path / "reference", total)
    killed_dir = tmp_path / "killed"
    killed = _run(killed_dir, total, "--slow")
    latest = killed_dir / "checkpoints" / "latest.json"
    deadline = time.time() + 240
    while time.time() < deadline:
        assert killed.poll() is None, killed.communicate()[0][-3000:]
        if latest.exists() and json.loads(latest.read_text() or "{}").get("step", 0) >= 9:
            break
        time.sleep(0.02)
    time.sleep(0.13)  # somewhere between checkpoints (or during a save)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL
    step_at_kill = json.loads(latest.read_text())["step"]
    assert 9 <= step_at_kill < total
    finish_process(_run(killed_dir, total, "--resume"))
    finish_process(reference)
    expected = np.load(tmp_path / "reference" / "final.npz")
    resumed = np.load(killed_dir / "final.npz")
    assert expected.files == resumed.files
    for key in expected.files:
        np.testing.assert_array_equal(resumed[key], expected[key])


def test_a_weight_average_ends_in_the_model_also_when_a_finished_run_is_resumed(tmp_path):
    def build():
        keras.utils.set_random_seed(1)
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
        optimizer = keras.optimizers.Adam(0.05, use_ema=True, ema_momentum=0.9)
        model.compile(optimizer=optimizer, loss="mse")
        return model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")
    model = build()
    train(model, (x, y), 8, 20, str(tmp_path), checkpoint_every=0, verbose=0)
    averaged = [np.asarray(v) for v in model.optimizer._model_variables_moving_average]
    final = model.get_weights()
    for weight, average in zip(final, averaged):
        np.testing.assert_array_equal(weight, average)
    # the checkpoint holds the raw weights (for an exact resume), which differ
    raw = np.load(tmp_path / "checkpoints" / "ckpt-20.npz")
    assert not np.allclose(raw[raw.files[0]], final[0])
    resumed = build()
    train(resumed, (x, y), 8, 20, str(tmp_path), resume=True, verbose=0)
    assert int(resumed.optimizer.iterations) == 20
    for weight, expected in zip(resumed.get_weights(), final):
        np.testing.assert_array_equal(weight, expected)


class _Clock:
    """A fake monotonic clock: each reading advances it by `tick` seconds."""

    def __init__(self, tick):
        self.now, self.tick = 0.0, tick

    def __call__(self):
        self.now += self.tick
        return self.now


def test_budget_cosine_decay_sets_the_rate_of_each_step_and_resumes_from_the_saved_rate(tmp_path):
    def build():
        keras.utils.set_random_seed(1)
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
        model.compile(optimizer=keras.optimizers.Adam(0.0), loss="mse")
        return model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")
    # 1 s a clock reading (one reading a step), a 20 s budget: time ends the decay at step 20
    # of 40, and the rate stays at its floor after that.
    model = build()
    decay = BudgetCosineDecay(0.01, 4, 40, seconds=20.0, clock=_Clock(1.0))
    train(model, (x, y), 8, 24, str(tmp_path / "a"), callbacks=[decay], verbose=0)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(model.optimizer.learning_rate) < float(warmup_cosine_decay(0.01, 4, 40)(23))
    # Stopped at step 12 of a run with a 20 s budget, part-way down (by time); resumed with
    # a long budget, the decay goes on from the saved rate, not from the step's higher one.
    first = build()
    decay = BudgetCosineDecay(0.01, 4, 40, seconds=20.0, clock=_Clock(1.0))
    train(first, (x, y), 8, 12, str(tmp_path / "b"), callbacks=[decay], verbose=0)
    saved = float(first.optimizer.learning_rate)
    assert 2e-3 < saved < float(warmup_cosine_decay(0.01, 4, 40)(11)) - 1e-3
    resumed = build()
    decay = BudgetCosineDecay(0.01, 4, 40, seconds=1e9, clock=_Clock(1.0))
    train(resumed, (x, y), 8, 13, str(tmp_path / "b"), callbacks=[decay], resume=True, verbose=0)
    assert float(resumed.optimizer.learning_rate) == pytest.approx(saved, rel=1e-3)


def test_budget_cosine_decay_refuses_an_optimizer_on_a_schedule(tmp_path):
    # (zoo.optimizers' own tests check the schedule; this is the train loop's callback path.)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(warmup_cosine_decay(1e-3, 2, 10)), loss="mse")
    data = (np.zeros((16, 4), "float32"), np.zeros((16, 2), "float32"))
    with pytest.raises(ValueError, match="float learning rate"):
        train(model, data, 8, 2, str(tmp_path), callbacks=[BudgetCosineDecay(1e-3, 2, 10, 60)])


def test_compile_model_builds_adam_or_adamw_with_the_run_settings():
    def dense():
        inputs = keras.Input((4,))
        return keras.Model(inputs, keras.layers.Dense(2)(inputs))

    settings = tpu.TrainingSettings(8, 8, 4, "float32", False)
    schedule = warmup_cosine_decay(1e-3, 2, 10)
    model = compile_model(dense(), settings, "mse", schedule, weight_decay=0.01, metrics=["mae"])
    optimizer = model.optimizer
    assert type(optimizer) is keras.optimizers.AdamW and optimizer.weight_decay == 0.01
    assert optimizer.get_config()["learning_rate"] == keras.saving.serialize_keras_object(schedule)
    assert model.steps_per_execution == 4 and model.jit_compile is False
    model = compile_model(
        dense(), settings, "mse", 0.5,
        optimizer_options={"beta_2": 0.98, "epsilon": 1e-9, "use_ema": True, "ema_momentum": 0.9},
    )  # fmt: skip
    optimizer = model.optimizer
    assert type(optimizer) is keras.optimizers.Adam and optimizer.weight_decay is None
    assert (optimizer.beta_2, optimizer.epsilon, optimizer.use_ema) == (0.98, 1e-9, True)
    assert optimizer.ema_momentum == 0.9 and float(optimizer.learning_rate) == 0.5


def _dense_model(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6,))
    return keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Dense(8)(inputs)))


def test_accumulation_steps_equal_one_step_on_the_whole_batch():
    from recipes.common import FineTuning

    settings = tpu.training_settings(tpu.get_strategy("cpu", verbose=False), 8)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 6)).astype("float32"), rng.normal(size=(8, 3)).astype("float32")
    whole, split = _dense_model(), _dense_model()
    compile_model(whole, settings, "mse", 0.01)
    compile_model(split, settings, "mse", 0.01, tuning=FineTuning(accumulation_steps=2))
    assert split.optimizer.gradient_accumulation_steps == 2
    whole.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    split.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)  # 2 batches, 1 update
    for a, b in zip(whole.get_weights(), split.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_lora_rank_and_precision_reach_the_model_and_the_optimizer(tmp_path):
    from recipes.common import FineTuning
    from zoo.models import GPT

    settings = tpu.training_settings(tpu.get_strategy("cpu", verbose=False), 4)
    keras.mixed_precision.set_dtype_policy("mixed_float16")  # start_run sets it so
    model = GPT(
        vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32,
        max_sequence_length=8,
    )  # fmt: skip
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    compile_model(model, settings, loss, 0.01, tuning=FineTuning(lora_rank=2))
    assert model.lora_rank == 2
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)  # float16 scaling
    trainable = {v.path for v in model.trainable_variables}
    assert trainable and all("lora" in path for path in trainable)
