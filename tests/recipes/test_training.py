import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from recipes.training import Checkpointer, step_dataset

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_resume_worker.py")


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
    return subprocess.Popen(
        [sys.executable, WORKER, str(out_dir), str(steps), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(process, timeout=300):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-3000:]


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
    _wait(_run(killed_dir, total, "--resume"))
    _wait(reference)
    expected = np.load(tmp_path / "reference" / "final.npz")
    resumed = np.load(killed_dir / "final.npz")
    assert expected.files == resumed.files
    for key in expected.files:
        np.testing.assert_array_equal(resumed[key], expected[key])
