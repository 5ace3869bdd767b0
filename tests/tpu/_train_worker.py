"""Trains a tiny model for a few steps under a strategy; run as a subprocess by test_strategy.py.

Usage: python _train_worker.py MODE OUT.npz
MODE: "one_device" (one CPU), "two_logical_cpus" (MirroredStrategy over 2 logical CPUs),
or "multi_worker" (TF_CONFIG in the environment).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import keras
import numpy as np
import tensorflow as tf

import tpu

STEPS, GLOBAL_BATCH = 6, 8


def main(mode, out):
    if mode == "two_logical_cpus":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
    name = "multi_worker" if mode == "multi_worker" else "cpu"
    strategy = tpu.get_strategy(name, verbose=False)
    settings = tpu.training_settings(strategy, GLOBAL_BATCH // strategy.num_replicas)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(STEPS * GLOBAL_BATCH, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 1))).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(
        settings.global_batch_size, drop_remainder=settings.drop_remainder
    )
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(options)
    keras.utils.set_random_seed(7)
    with strategy.scope():
        inputs = keras.Input((6,))
        hidden = keras.layers.Dense(8, activation="tanh")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        model.compile(
            optimizer=keras.optimizers.SGD(0.1),
            loss="mse",
            jit_compile=settings.jit_compile,
        )
    history = model.fit(dataset, epochs=1, verbose=0, steps_per_epoch=STEPS)
    # Per-step losses: evaluate the trained model on every batch too.
    weights = model.get_weights()
    np.savez(
        out,
        loss=np.array(history.history["loss"]),
        jit_compile=np.array(settings.jit_compile),
        replicas=np.array(strategy.num_replicas),
        kind=np.array(strategy.kind),
        **{f"w{i}": w for i, w in enumerate(weights)},
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
