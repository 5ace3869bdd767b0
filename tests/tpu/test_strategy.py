import json
import os
import socket
import sys
import time

import keras
import numpy as np
import pytest

import tpu
from tests.test_case import finish_process, start_process

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_train_worker.py")


def _run_worker(mode, out, env=None):
    return start_process([sys.executable, WORKER, mode, str(out)], {**os.environ, **(env or {})})


def _finish(process, timeout=240):
    finish_process(process, timeout)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cpu_strategy_says_what_it_chose(capsys):
    strategy = tpu.get_strategy("cpu")
    assert strategy.kind == "cpu"
    assert strategy.num_replicas == 1
    assert strategy.jit_compile
    assert "CPU" in capsys.readouterr().err
    with strategy.scope():
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
    assert layer.kernel.shape == (3, 2)


def test_auto_falls_back_to_cpu_without_accelerators(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    monkeypatch.delenv("COLAB_TPU_ADDR", raising=False)
    strategy = tpu.get_strategy("auto", verbose=False)
    assert strategy.kind == "cpu"
    assert "no TPU or GPU" in strategy.reason


def test_unknown_strategy_name_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown strategy name 'tpuu'.*auto"):
        tpu.get_strategy("tpuu")


def test_asking_for_a_missing_tpu_fails_fast(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    monkeypatch.delenv("COLAB_TPU_ADDR", raising=False)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="none is reachable.*Colab"):
        tpu.get_strategy("tpu")
    with pytest.raises(ValueError, match="does not answer"):
        tpu.get_strategy("tpu", tpu=f"grpc://127.0.0.1:{_free_port()}")
    with pytest.raises(ValueError, match="no /dev/accel"):
        tpu.get_strategy("tpu", tpu="local")
    assert time.perf_counter() - start < 15


def test_asking_for_missing_gpus_or_cluster_is_a_clear_error(monkeypatch):
    with pytest.raises(ValueError, match="GPU"):
        tpu.get_strategy("gpu")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG is not set"):
        tpu.get_strategy("multi_worker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid"):
        tpu.get_strategy("multi_worker")


def test_training_settings_apply_the_tpu_rules():
    cpu = tpu.get_strategy("cpu", verbose=False)
    settings = tpu.training_settings(cpu, per_replica_batch_size=16)
    assert settings.global_batch_size == 16
    assert settings.steps_per_execution == 1
    assert settings.dtype_policy == "float32"
    assert settings.drop_remainder and settings.id_dtype == "int32"
    fake_tpu = tpu.Strategy("tpu", None, 8, True, "test")
    settings = tpu.training_settings(fake_tpu, per_replica_batch_size=16)
    assert settings.global_batch_size == 128
    assert settings.steps_per_execution == tpu.TPU_DEFAULT_STEPS_PER_EXECUTION
    assert settings.dtype_policy == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "mixed_bfloat16"
    with pytest.raises(ValueError, match="per_replica_batch_size"):
        tpu.training_settings(cpu, per_replica_batch_size=0)


def test_mirrored_over_two_logical_cpus_matches_one_device(tmp_path):
    one = _run_worker("one_device", tmp_path / "one.npz")
    _finish(one)
    two = _run_worker("two_logical_cpus", tmp_path / "two.npz")
    _finish(two)
    single, mirrored = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    assert int(mirrored["replicas"]) == 2
    assert not bool(mirrored["jit_compile"]), "XLA must be off across logical CPU devices"
    np.testing.assert_allclose(mirrored["loss"], single["loss"], rtol=1e-4)
    for key in single.files:
        if key.startswith("w"):
            np.testing.assert_allclose(mirrored[key], single[key], rtol=1e-4, atol=1e-5)


def test_two_process_multi_worker_ends_with_equal_weights(tmp_path):
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes = []
    for index in range(2):
        config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        processes.append(
            _run_worker(
                "multi_worker", tmp_path / f"worker{index}.npz", {"TF_CONFIG": json.dumps(config)}
            )
        )
    for process in processes:
        _finish(process)
    first, second = np.load(tmp_path / "worker0.npz"), np.load(tmp_path / "worker1.npz")
    assert int(first["replicas"]) == 2
    weight_keys = [key for key in first.files if key.startswith("w")]
    assert weight_keys
    for key in weight_keys:
        np.testing.assert_array_equal(first[key], second[key])
    assert np.isfinite(first["loss"]).all()
