import math

import numpy as np
import pytest

from tests.test_case import assert_all_close, random_normal, run_layer_test, to_numpy
from zoo.layers import FeedForward


def test_layer():
    run_layer_test(
        FeedForward,
        {"intermediate_dim": 64, "activation": "gelu", "dropout": 0.1},
        random_normal(2, 8, 16),
        expected_output_shape=(2, 8, 16),
        expected_num_trainable_weights=4,
        expected_num_non_trainable_weights=0,
    )


@pytest.mark.parametrize("activation", ["relu", "gelu", "gelu_approximate", "silu", "tanh"])
def test_computes_dense_activation_dense(activation):
    numpy_activations = {
        "relu": lambda x: np.maximum(x, 0.0),
        "gelu": lambda x: 0.5 * x * (1.0 + np.vectorize(math.erf)(x / np.sqrt(2))),
        "gelu_approximate": lambda x: (
            0.5 * x * (1.0 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
        ),
        "silu": lambda x: x / (1.0 + np.exp(-x)),
        "tanh": np.tanh,
    }
    layer = FeedForward(intermediate_dim=32, hidden_dim=12, activation=activation)
    x = random_normal(2, 3, 16)
    output = layer(x)
    assert tuple(output.shape) == (2, 3, 12)
    w1, b1, w2, b2 = (to_numpy(w) for w in layer.weights)
    expected = numpy_activations[activation](x @ w1 + b1) @ w2 + b2
    assert_all_close(output, expected, atol=1e-5, rtol=1e-5)


def test_unknown_activation_lists_the_options():
    with pytest.raises(ValueError, match=r"Unknown activation.*'swishy'.*'gelu'.*'relu'"):
        FeedForward(intermediate_dim=8, activation="swishy")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"intermediate_dim": 0}, "intermediate_dim"),
        ({"intermediate_dim": 8, "dropout": -0.1}, "dropout"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FeedForward(**kwargs)
