import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_layer_test
from zoo.layers import Dropout, dropout_mask


def test_layer():
    run_layer_test(
        Dropout,
        {"rate": 0.25, "seed": 3},
        np.random.default_rng(0).normal(size=(2, 8, 16)).astype("float32"),
        expected_output_shape=(2, 8, 16),
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        run_training_check=False,  # no weights to train
    )


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_keep_rate_scale_and_independence(rate):
    layer = Dropout(rate, seed=1)
    x = np.ones((64, 4, 32, 32), "float32")
    step = tf.function(lambda x: layer(x, training=True), jit_compile=True)
    first, second = np.asarray(step(x)), np.asarray(step(x))
    keep = first != 0
    n = keep.size
    assert abs(keep.mean() - (1 - rate)) < 4 * np.sqrt(rate * (1 - rate) / n)
    np.testing.assert_allclose(first[keep], 1 / (1 - rate), rtol=1e-6)
    # A new mask each call, independent of the previous one.
    both = (second != 0) & keep
    assert abs(both.mean() - (1 - rate) ** 2) < 0.01
    # No correlation between neighbours along any axis.
    flat = keep.reshape(-1, 32).astype("float32")
    assert abs(np.corrcoef(flat[:, :-1].ravel(), flat[:, 1:].ravel())[0, 1]) < 0.01


def test_inference_is_identity_and_masks_are_seeded():
    x = np.random.default_rng(0).normal(size=(4, 10)).astype("float32")
    np.testing.assert_array_equal(np.asarray(Dropout(0.3)(x)), x)
    np.testing.assert_array_equal(np.asarray(Dropout(0.3)(x, training=False)), x)
    a = np.asarray(dropout_mask((50, 40), 0.3, np.array([7, 8])))
    b = np.asarray(dropout_mask((50, 40), 0.3, np.array([7, 8])))
    c = np.asarray(dropout_mask((50, 40), 0.3, np.array([7, 9])))
    np.testing.assert_array_equal(a, b)
    assert (a != c).mean() > 0.3


def test_mixed_precision_and_invalid_rate():
    layer = Dropout(0.2, dtype="mixed_bfloat16")
    y = layer(np.ones((8, 8), "float32"), training=True)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.0)
