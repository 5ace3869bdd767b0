"""`Bert` and `GPT` under the JAX backend: built, loaded with weights saved under
TensorFlow, same outputs, one XLA training step; the tied projection's CPU gradient.

Keras fixes its backend per process, so the JAX side runs in a subprocess.
"""

import json
import textwrap

import numpy as np
import pytest

from tests.test_case import TINY, run_jax
from zoo.models.bert import Bert
from zoo.models.gpt import GPT

pytest.importorskip("jax", reason="the JAX backend is tested where jax is installed ([test] extra)")

CONFIG = {**TINY, "vocabulary_size": 50, "num_layers": 2, "max_sequence_length": 12}

JAX_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    from zoo.models.bert import Bert
    from zoo.models.gpt import GPT

    folder, config = sys.argv[1], json.loads(sys.argv[2])
    inputs = dict(np.load(f"{folder}/inputs.npz"))
    assert keras.backend.backend() == "jax", keras.backend.backend()
    results = {}
    for name, cls in (("bert", Bert), ("gpt", GPT)):
        model = cls(**config)
        model.load_weights(f"{folder}/{name}.weights.h5")
        features = {key: inputs[key] for key in model.input}
        outputs = model(features)
        if name == "bert":
            outputs = outputs["sequence_output"]
        results[name] = keras.ops.convert_to_numpy(outputs)
        # One jit-compiled training step on the same batch (functional model, None length).
        trainable = model if name == "gpt" else keras.Model(
            model.input, keras.layers.Dense(config["vocabulary_size"])(
                model.output["sequence_output"]
            )
        )
        trainable.compile(
            optimizer="adamw",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=True,
        )
        loss = trainable.train_on_batch(features, inputs["token_ids"])
        results[name + "_loss"] = np.asarray(loss)
    # The tied projection's CPU gradient layout (zoo.layers.cpu_matmul) under jax.grad.
    import jax
    from zoo.layers import cpu_matmul

    def tied_loss(hidden, matrix):
        logits = cpu_matmul.tied_logits(hidden, matrix, training=True)
        return (logits * inputs["tied_upstream"]).sum()

    tied_grad = jax.grad(tied_loss, argnums=(0, 1))
    tied_args = (inputs["tied_hidden"], inputs["tied_matrix"])
    results["tied_barrier"] = "optimization_barrier" in str(jax.make_jaxpr(tied_grad)(*tied_args))
    grads = jax.jit(tied_grad)(*tied_args)
    results["tied_hidden_grad"], results["tied_matrix_grad"] = map(np.asarray, grads)
    np.savez(f"{folder}/jax_outputs.npz", **results)
    """
)


def test_bert_and_gpt_match_across_backends(tmp_path):
    rng = np.random.default_rng(0)
    inputs = {
        "token_ids": rng.integers(1, CONFIG["vocabulary_size"], (3, 10)).astype("int32"),
        "padding_mask": np.array([[1] * 10, [1] * 7 + [0] * 3, [1] * 4 + [0] * 6], "int32"),
        "segment_ids": np.array([[0] * 5 + [1] * 5] * 3, "int32"),
        "tied_hidden": rng.normal(size=(24, 8)).astype("float32"),
        "tied_matrix": rng.normal(size=(40, 8)).astype("float32"),
        "tied_upstream": rng.normal(size=(24, 40)).astype("float32"),
    }
    np.savez(tmp_path / "inputs.npz", **inputs)
    expected = {}
    for name, cls in (("bert", Bert), ("gpt", GPT)):
        model = cls(**CONFIG)
        model.save_weights(tmp_path / f"{name}.weights.h5")
        outputs = model({key: inputs[key] for key in model.input})
        expected[name] = np.asarray(outputs["sequence_output"] if name == "bert" else outputs)

    run_jax(JAX_SCRIPT, tmp_path, json.dumps(CONFIG))
    got = np.load(tmp_path / "jax_outputs.npz")
    for name in ("bert", "gpt"):
        np.testing.assert_allclose(got[name], expected[name], atol=1e-5, rtol=1e-5)
        assert np.isfinite(got[name + "_loss"]).all()
    assert got["tied_barrier"]  # the CPU layout was traced, not the plain product
    upstream = inputs["tied_upstream"]
    np.testing.assert_allclose(
        got["tied_hidden_grad"], upstream @ inputs["tied_matrix"], rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        got["tied_matrix_grad"], upstream.T @ inputs["tied_hidden"], rtol=1e-5, atol=1e-5
    )
