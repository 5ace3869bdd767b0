"""The tied projection's CPU gradient layout gives the plain product's values and gradients."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.layers import cpu_matmul
from zoo.models.gpt import GPT


@pytest.fixture
def plain_products(monkeypatch):
    """Switch the CPU layout off for the duration of a test."""

    def switch(enabled):
        monkeypatch.setattr(cpu_matmul, "_ENABLED", enabled)

    return switch


def _tied_step(training, jit_compile=True):
    @tf.function(jit_compile=jit_compile)
    def step(hidden, matrix, upstream):
        with tf.GradientTape() as tape:
            tape.watch([hidden, matrix])
            logits = cpu_matmul.tied_logits(hidden, matrix, training=training)
            loss = tf.reduce_sum(logits * upstream)
        return (logits, *tape.gradient(loss, [hidden, matrix]))

    return step


def _arrays(seed=0, tokens=24, hidden=8, vocabulary=40):
    rng = np.random.default_rng(seed)
    return [
        tf.constant(rng.normal(size=shape).astype("float32"))
        for shape in ((tokens, hidden), (vocabulary, hidden), (tokens, vocabulary))
    ]


def test_tied_logits_values_and_gradients_match_the_plain_product(plain_products):
    arrays = _arrays()
    laid_out = [t.numpy() for t in _tied_step(True)(*arrays)]
    plain_products(False)
    plain = [t.numpy() for t in _tied_step(True)(*arrays)]
    for got, expected in zip(laid_out, plain):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    hidden, matrix, upstream = (t.numpy() for t in arrays)
    np.testing.assert_allclose(laid_out[1], upstream @ matrix, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(laid_out[2], upstream.T @ hidden, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "training, enabled, barriers", [(True, True, True), (False, True, False), (True, False, False)]
)
def test_the_layout_is_used_in_training_on_cpu_only(plain_products, training, enabled, barriers):
    plain_products(enabled)
    hlo = _tied_step(training).experimental_get_compiler_ir(*_arrays())(stage="hlo")
    assert ("opt-barrier" in hlo) is barriers


@pytest.mark.parametrize("jit_compile", [False, None])
def test_graphs_without_xla_use_the_plain_product(jit_compile):
    step = _tied_step(True, jit_compile=jit_compile)
    arrays = _arrays()
    graph = step.get_concrete_function(*arrays).graph.as_graph_def()
    ops = {node.op for node in graph.node}
    ops |= {node.op for function in graph.library.function for node in function.node_def}
    assert "XlaOptimizationBarrier" not in ops and "MatMul" in ops
    _, _, matrix_gradient = step(*arrays)
    hidden, _, upstream = (t.numpy() for t in arrays)
    np.testing.assert_allclose(matrix_gradient.numpy(), upstream.T @ hidden, rtol=1e-5, atol=1e-5)


def test_eager_calls_use_the_plain_product():
    assert not cpu_matmul._cpu_only_compiled()  # outside tf.function: no barrier
    hidden, matrix, _ = _arrays()
    logits = cpu_matmul.tied_logits(hidden, matrix, training=True)
    np.testing.assert_allclose(logits.numpy(), hidden.numpy() @ matrix.numpy().T, rtol=1e-5)


def test_gpt_training_step_is_the_same_with_either_layout(plain_products, monkeypatch):
    config = dict(
        vocabulary_size=60,
        num_layers=1,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=10,
        dropout=0.0,
    )
    rng = np.random.default_rng(1)
    features = {
        "token_ids": rng.integers(1, 60, (4, 10)).astype("int32"),
        "padding_mask": np.ones((4, 10), "int32"),
    }
    labels = rng.integers(0, 60, (4, 10)).astype("int32")
    traced = []  # Keras's XLA-compiled train step takes the CPU layout
    laid_out = cpu_matmul._tied_logits
    monkeypatch.setattr(
        cpu_matmul, "_tied_logits", lambda *args: traced.append(1) or laid_out(*args)
    )
    weights = None
    trained = []
    for enabled in (True, False):
        plain_products(enabled)
        traced.clear()
        keras.utils.set_random_seed(0)
        model = GPT(**config)
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile(
            optimizer=keras.optimizers.SGD(0.5),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=True,
        )
        model.train_on_batch(features, labels)
        trained.append(model.get_weights())
        assert bool(traced) is enabled
    embedding = model.embeddings.embeddings.path
    for got, expected in zip(*trained):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # The step moved the tied matrix (both its lookup and its projection gradients).
    index = [w.path for w in model.weights].index(embedding)
    assert np.abs(trained[0][index] - weights[index]).max() > 1e-4
