"""Trains a tiny dropout model (weights averaged) with recipes.training; run by test_training.py.

Usage: python _resume_worker.py OUT_DIR TOTAL_STEPS [--resume] [--slow]
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import keras
import numpy as np

from recipes.training import train


class _Slow(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.05)


def main(out_dir, total_steps, resume, slow):
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1))).astype("float32")
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    hidden = keras.layers.Dropout(0.3)(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    # A weight average (use_ema) is optimizer state too: the resumed run must restore it.
    optimizer = keras.optimizers.AdamW(1e-2, use_ema=True, ema_momentum=0.8)
    model.compile(optimizer=optimizer, loss="mse", jit_compile=True)
    train(
        model,
        (x, y),
        batch_size=16,
        total_steps=total_steps,
        out_dir=out_dir,
        seed=11,
        resume=resume,
        checkpoint_every=3,
        callbacks=[_Slow()] if slow else [],
        verbose=0,
    )
    np.savez(os.path.join(out_dir, "final.npz"), *model.get_weights())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), "--resume" in sys.argv, "--slow" in sys.argv)
