"""Recipes on a TPU-shaped JAX mesh: 8 simulated devices, model parallelism, 2 processes.

Keras fixes its backend per process and this suite runs under TensorFlow, so every JAX
run here is a subprocess with `KERAS_BACKEND=jax` and
`XLA_FLAGS=--xla_force_host_platform_device_count=N` (the shape of a Colab TPU v2-8 with
N = 8). The recipe runs share one tiny GPT configuration and compare what they end with:
the last step's training loss (`summary.json`) and the final checkpoint's variables.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.test_case import finish_process, jax_environment, run_jax, start_process
from tpu.batches import check_batch_size, local_rows, pad_examples, process_rows

pytest.importorskip("jax", reason="the JAX mesh is tested where jax is installed ([test] extra)")

STEPS = 6
TINY_GPT = [
    "--vocabulary-size", "400", "--sequence-length", "16", "--num-layers", "1",
    "--num-heads", "4", "--hidden-dim", "32", "--intermediate-dim", "64",
    "--warmup-steps", "2", "--steps", str(STEPS), "--checkpoint-every", "3",
    "--eval-batch-size", "12", "--max-new-tokens", "3", "--prompt-length", "4",
    "--prompts", "Я", "My", "x", "--verbose", "0",
]  # fmt: skip


def _recipe(out, devices, *flags, data, wait=True):
    command = [sys.executable, "-m", "recipes", "gpt", "--data", data, "--out", str(out)]
    process = start_process([*command, *TINY_GPT, *flags], jax_environment(devices))
    return _finish(process) if wait else process


def _finish(process, timeout=300):
    return finish_process(process, timeout, tail=4000)


def _summary(out):
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as file:
        return json.load(file)


def _weights(out, step=STEPS):
    with np.load(os.path.join(out, "checkpoints", f"ckpt-{step}.npz")) as values:
        return [values[f"v{i}"] for i in range(len(values.files))]


def _assert_same_run(out, reference, loss_tolerance=1e-3, weight_tolerance=2e-4):
    loss, expected = _summary(out)["final_loss"], _summary(reference)["final_loss"]
    assert abs(loss - expected) <= loss_tolerance * abs(expected), (loss, expected)
    ours, theirs = _weights(out), _weights(reference)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, atol=weight_tolerance, rtol=1e-3)


def _rewind(source, target, step):
    """A copy of run `source` as a kill right after checkpoint `step` would leave it."""
    shutil.copytree(source, target)
    directory = os.path.join(target, "checkpoints")
    for name in os.listdir(directory):
        if name.startswith("ckpt-") and not name.startswith(f"ckpt-{step}."):
            os.remove(os.path.join(directory, name))
    with open(os.path.join(directory, "latest.json"), "w", encoding="utf-8") as file:
        json.dump({"step": step, "file": f"ckpt-{step}.npz"}, file)
    for name in ("summary.json", "model.keras"):
        os.remove(os.path.join(target, name))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    """A small text (one document a line) cut from the bundled corpus."""
    from zoo.data.corpus import load_text

    path = tmp_path_factory.mktemp("text") / "text.txt"
    lines = load_text("en", "train")[:300] + load_text("ru", "train")[:300]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, text_file):
    """The reference runs, started two at a time: 1 device, and 8 devices (with export)."""
    root = tmp_path_factory.mktemp("mesh")
    one = _recipe(root / "one", 1, "--batch-size", "16", "--no-export", data=text_file, wait=False)
    eight = _recipe(root / "eight", 8, "--batch-size", "2", data=text_file, wait=False)
    _finish(one), _finish(eight)
    return {"root": root, "one": str(root / "one"), "eight": str(root / "eight")}


def test_gpt_recipe_runs_end_to_end_on_8_devices(runs):
    summary = _summary(runs["eight"])
    assert summary["devices"] == 8 and summary["mesh"] == {"batch": 8}
    assert summary["processes"] == 1
    assert np.isfinite(summary["final_loss"]) and np.isfinite(summary["perplexity"])
    assert set(summary["samples"]) == {"Я", "My", "x"}
    # The JAX run wrote its SavedModel itself.
    assert summary["saved_model"] == os.path.join(runs["eight"], "saved_model")
    assert os.path.exists(os.path.join(summary["saved_model"], "saved_model.pb"))
    one = _summary(runs["one"])
    assert one["devices"] == 1 and one["mesh"] == {"batch": 1}


def test_8_devices_end_where_1_device_ends(runs):
    _assert_same_run(runs["eight"], runs["one"])
    # The same held-out tokens are scored either way.
    eight, one = _summary(runs["eight"]), _summary(runs["one"])
    assert eight["test_tokens"] == one["test_tokens"]
    assert abs(eight["perplexity"] - one["perplexity"]) <= 1e-3 * one["perplexity"]


def test_model_parallel_4_ends_where_data_parallel_ends(runs, text_file):
    out = runs["root"] / "model_parallel"
    _recipe(out, 8, "--batch-size", "8", "--model-parallel", "4", "--no-export", data=text_file)
    summary = _summary(out)
    assert summary["mesh"] == {"batch": 2, "model": 4} and summary["devices"] == 8
    _assert_same_run(str(out), runs["one"])


def test_checkpoints_move_between_meshes(runs, text_file):
    root = runs["root"]
    # Saved on 8 devices at step 3, resumed on 1.
    _rewind(runs["eight"], root / "eight_to_one", 3)
    to_one = _recipe(
        root / "eight_to_one", 1, "--batch-size", "16", "--resume", "--no-export",
        data=text_file, wait=False,
    )  # fmt: skip
    # Saved on 1 device at step 3, resumed on a (2 x 4) model-parallel mesh.
    _rewind(runs["one"], root / "one_to_model_parallel", 3)
    to_model_parallel = _recipe(
        root / "one_to_model_parallel", 8, "--batch-size", "8", "--model-parallel", "4",
        "--resume", "--no-export", data=text_file, wait=False,
    )  # fmt: skip
    _finish(to_one), _finish(to_model_parallel)
    _assert_same_run(str(root / "eight_to_one"), runs["eight"])
    _assert_same_run(str(root / "one_to_model_parallel"), runs["one"])


def test_two_processes_end_where_one_process_ends(runs, text_file):
    out = runs["root"] / "two_processes"
    address = f"127.0.0.1:{_free_port()}"
    flags = ["--batch-size", "2", "--no-export", "--coordinator-address", address]
    processes = [
        _recipe(out, 4, *flags, "--num-processes", "2", "--process-id", str(index),
                data=text_file, wait=False)
        for index in range(2)
    ]  # fmt: skip
    for process in processes:
        _finish(process)
    summary = _summary(out)
    assert summary["processes"] == 2 and summary["devices"] == 8
    assert summary["mesh"] == {"batch": 8}
    _assert_same_run(str(out), runs["eight"], loss_tolerance=1e-5, weight_tolerance=1e-5)


def test_padded_evaluation_equals_one_device():
    """13 examples, batches of 5 on 8 devices: padded to 8-multiples and masked."""
    output = run_jax(
        textwrap.dedent(
            """
        import json
        import jax, keras, numpy as np
        import tpu
        from recipes.gpt import Config, build_model
        from tpu import TrainingSettings
        from zoo.models import BertPretrainer, Bert, GPT

        rng = np.random.default_rng(0)
        x = {"token_ids": rng.integers(1, 40, (13, 8)).astype("int32"),
             "padding_mask": np.ones((13, 8), "int32")}
        y = rng.integers(1, 40, (13, 8)).astype("int32")
        settings = TrainingSettings(8, 1, 1, "float32", True)
        results = {}
        for name, devices in (("one", jax.devices()[:1]), ("eight", jax.devices())):
            distribution = keras.distribution.DataParallel(devices=devices)
            keras.distribution.set_distribution(distribution)
            keras.utils.set_random_seed(3)
            config = Config(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32,
                            sequence_length=8)
            model = build_model(config, 40, settings)  # the recipe's loss and metrics
            metrics = tpu.evaluate(model, x, y, batch_size=5)
            logits = tpu.predict(model, x, batch_size=5)
            results[name] = {"metrics": metrics, "logits": logits.tolist()}
            if name == "one":  # Keras itself, one batch of all 13 examples
                reference = model.evaluate(x, y, batch_size=13, verbose=0, return_dict=True)
                results["keras"] = reference
                results["plain_logits"] = np.asarray(model(x)).tolist()
        print(json.dumps(results))
        """
        ),
        devices=8,
    )
    results = json.loads(output.strip().splitlines()[-1])
    one, eight, keras_reference = results["one"], results["eight"], results["keras"]
    assert set(eight["metrics"]) == {"cross_entropy", "accuracy"}
    for name, value in one["metrics"].items():
        assert eight["metrics"][name] == pytest.approx(value, rel=1e-5)
    assert one["metrics"]["cross_entropy"] == pytest.approx(keras_reference["loss"], rel=1e-5)
    assert one["metrics"]["accuracy"] == pytest.approx(keras_reference["accuracy"], rel=1e-6)
    assert np.asarray(eight["logits"]).shape == (13, 8, 40)
    np.testing.assert_allclose(eight["logits"], results["plain_logits"], atol=1e-5)
    np.testing.assert_allclose(one["logits"], results["plain_logits"], atol=1e-5)


def test_a_training_batch_the_mesh_cannot_split_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"cannot split evenly.*multiple of 8 \(e\.g\. 8, 16"):
        check_batch_size(12, shards=8)
    with pytest.raises(ValueError, match=r"--batch-size 3 .*multiple of 2 \(e\.g\. 2, 4, 6\)"):
        check_batch_size(12, shards=8, replicas=4)
    check_batch_size(16, shards=8)


def test_pad_examples_repeats_the_first_example():
    padded, count = pad_examples({"a": np.arange(5), "b": np.ones((5, 2))}, 4)
    assert count == 5
    np.testing.assert_array_equal(padded["a"], [0, 1, 2, 3, 4, 0, 0, 0])
    assert padded["b"].shape == (8, 2)
    with pytest.raises(ValueError, match="same number of examples"):
        pad_examples((np.zeros(3), np.zeros(4)), 2)
    with pytest.raises(ValueError, match="no examples"):
        pad_examples(np.zeros((0, 2)), 2)


def test_one_process_feeds_every_row():
    np.testing.assert_array_equal(local_rows(6, 3), np.arange(6))


def test_each_process_feeds_its_slice_of_every_batch():
    assert process_rows(8, (0, 2)) == (0, 4) and process_rows(8, (1, 2)) == (4, 4)
    with pytest.raises(ValueError, match="global batch of 6 cannot be split evenly between 4"):
        process_rows(6, (0, 4))


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--model-parallel", "3"], "--model-parallel 3 does not divide the 8 JAX devices; "
         "pass one of 1, 2, 4, 8."),
        (["--num-processes", "2", "--process-id", "2"], "--process-id 2 is out of range for "
         "--num-processes 2; pass 0 to 1."),
        (["--num-processes", "2", "--coordinator-address", "nohost"],
         "--coordinator-address must be HOST:PORT"),
    ],
)  # fmt: skip
def test_a_bad_mesh_or_process_flag_is_one_line(tmp_path, flags, message):
    completed = subprocess.run(
        [sys.executable, "-m", "recipes", "gpt", "--out", str(tmp_path / "run"), *flags],
        env=jax_environment(8),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2, completed.stderr[-3000:]
    lines = [line for line in completed.stderr.splitlines() if line.startswith("error: ")]
    assert lines and message in lines[-1], completed.stderr[-3000:]
    assert "Traceback" not in completed.stderr


def test_an_unreachable_coordinator_times_out_with_one_line(tmp_path):
    address = f"127.0.0.1:{_free_port()}"  # nobody listens there
    completed = subprocess.run(
        [
            sys.executable, "-m", "recipes", "gpt", "--out", str(tmp_path / "run"),
            "--coordinator-address", address, "--num-processes", "2", "--process-id", "1",
            "--coordinator-timeout", "5",
        ],
        env=jax_environment(4),
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert completed.returncode == 2, completed.stderr[-3000:]
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: Could not join the run at {address} as process 1 of 2")
