"""The shared checks themselves: they pass on a correct layer and fail on a broken one."""

import keras
import numpy as np
import pytest

from tests.test_case import (
    TINY,
    assert_all_close,
    random_ids,
    run_layer_test,
    run_saving_test,
    tiny_model,
)


def test_run_layer_test_passes_on_dense():
    output = run_layer_test(
        keras.layers.Dense,
        {"units": 3},
        np.ones((2, 4), "float32"),
        expected_output_shape=(2, 3),
        expected_num_trainable_weights=2,
        expected_num_non_trainable_weights=0,
    )
    assert output.shape == (2, 3)


@keras.saving.register_keras_serializable(package="zoo_tests")
class _ForgetsArgument(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def call(self, inputs):
        return inputs

    def get_config(self):
        config = super().get_config()
        config.pop("units", None)
        return config


def test_run_layer_test_fails_when_config_lacks_an_argument():
    with pytest.raises(AssertionError, match="lacks argument 'units'"):
        run_layer_test(
            _ForgetsArgument,
            {"units": 3},
            np.ones((2, 4), "float32"),
            run_training_check=False,
        )


def test_run_layer_test_fails_on_wrong_shape():
    with pytest.raises(AssertionError, match="output shape"):
        run_layer_test(
            keras.layers.Dense,
            {"units": 3},
            np.ones((2, 4), "float32"),
            expected_output_shape=(2, 4),
        )


def test_run_saving_test_round_trips_a_model():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    loaded = run_saving_test(model, np.ones((3, 4), "float32"))
    assert_all_close(loaded.get_weights(), model.get_weights())


def test_assert_all_close_compares_ragged_lists_and_strings():
    assert_all_close([[1, 2], [3]], [[1, 2], [3]])
    with pytest.raises(AssertionError):
        assert_all_close([[1, 2], [3]], [[1, 2], [4]])
    assert_all_close(np.array([b"a", b"b"]), np.array([b"a", b"b"]))
    with pytest.raises(AssertionError):
        assert_all_close(np.array([b"a"]), np.array([b"c"]))


@keras.saving.register_keras_serializable(package="zoo_tests")
class _TwoOutputs(keras.layers.Layer):
    def call(self, inputs):
        return inputs, keras.ops.sum(inputs, axis=-1)


def test_run_layer_test_checks_each_output_of_a_tuple():
    x = np.ones((2, 4), "float32")
    run_layer_test(_TwoOutputs, {}, x, expected_output_shape=((2, 4), (2,)))
    with pytest.raises(AssertionError, match="output 1 shape"):
        run_layer_test(_TwoOutputs, {}, x, expected_output_shape=((2, 4), (2, 1)))


def test_tiny_model_is_seeded_and_takes_overrides():
    from zoo.models import GPT

    first = tiny_model(GPT, 30, seed=3, num_layers=2)
    again = tiny_model(GPT, 30, seed=3, num_layers=2)
    assert first.num_layers == 2 and first.hidden_dim == TINY["hidden_dim"]
    assert_all_close(first.get_weights(), again.get_weights())
    other = tiny_model(GPT, 30, seed=4, num_layers=2)
    assert not np.allclose(first.get_weights()[0], other.get_weights()[0])


def test_random_ids_are_right_padded_past_the_special_tokens():
    token_ids, mask = random_ids(np.random.default_rng(0), 20, 6, (6, 2))
    assert token_ids.shape == mask.shape == (2, 6) and token_ids.dtype == "int32"
    assert mask.tolist() == [[1] * 6, [1, 1, 0, 0, 0, 0]]
    assert (token_ids[mask == 1] >= 7).all() and (token_ids[mask == 0] == 0).all()
