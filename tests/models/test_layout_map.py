"""`Bert.layout_map`, `GPT.layout_map`, `Transformer.layout_map` (zoo/models/layout.py):
Megatron-style `ModelParallel` layouts under JAX on 8 simulated CPU devices.

Keras fixes its backend per process and the suite runs under TensorFlow, so one JAX
subprocess (module fixture) builds every model under `ModelParallel` on a (2, 4)
("batch", "model") mesh, records each variable's sharding, and trains for 20 steps from
the same initial weights and batch: GPT on 1 device, under `DataParallel` over 8 and
under `ModelParallel` (2, 4); BERT (loss on its tied vocabulary projection) on 1 device
and under `ModelParallel`. The argument checks and the layout lookups on real variable
paths (the untied Transformer) run in this process, under TensorFlow.
"""

import json
import textwrap

import keras
import numpy as np
import pytest

from tests.test_case import run_jax
from zoo.models import GPT, Bert, Transformer, build_layout_map

CONFIG = {
    "vocabulary_size": 64,
    "num_layers": 2,
    "num_heads": 4,
    "hidden_dim": 16,
    "intermediate_dim": 32,
    "max_sequence_length": 8,
    "dropout": 0.0,
}

JAX_SCRIPT = textwrap.dedent(
    """
    import contextlib, json, sys
    import jax
    import keras
    import numpy as np
    from keras.distribution import DataParallel, DeviceMesh, ModelParallel
    from zoo.models import GPT, Bert, Transformer

    out, config = sys.argv[1], json.loads(sys.argv[2])
    assert keras.backend.backend() == "jax" and len(jax.devices()) == 8, jax.devices()
    mesh = DeviceMesh((2, 4), ("batch", "model"), jax.devices())
    results = {"shardings": {}, "losses": {}, "weight_differences": {}}

    def model_parallel(cls):
        return ModelParallel(layout_map=cls.layout_map(mesh), batch_dim_name="batch")

    def shardings(model):
        return {
            v.path: [list(v.value.sharding.spec), v.value.sharding.is_fully_replicated]
            for v in model.weights
        }

    # Every family under ModelParallel: the sharding of each variable.
    built = {}
    for key, cls in (("Bert", Bert), ("GPT", GPT), ("Transformer", Transformer)):
        with model_parallel(cls).scope():
            built[key] = cls(**config)
        results["shardings"][key] = shardings(built[key])

    # A split size that the model axis does not divide: zoo's ValueError, before JAX's.
    with model_parallel(GPT).scope():
        try:
            GPT(**{**config, "vocabulary_size": 50})
        except ValueError as error:
            results["indivisible_error"] = str(error)

    # Training: the same initial weights and batch on 1 device, DataParallel over 8 and
    # ModelParallel (2, 4). Dropout is off, so the three runs compute the same steps.
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, config["vocabulary_size"], (8, 9)).astype("int32")
    padding_mask = np.ones((8, 8), "int32")
    padding_mask[1, 6:] = 0

    def lm(model):
        if isinstance(model, GPT):
            return model
        # BERT with its tied projection onto the (split) vocabulary as the loss's logits.
        sequence = model.output["sequence_output"]
        return keras.Model(model.input, model.embeddings.logits(sequence))

    data = {
        "GPT": ({"token_ids": tokens[:, :-1], "padding_mask": padding_mask}, tokens[:, 1:]),
        "Bert": (
            {
                "token_ids": tokens[:, :-1],
                "padding_mask": padding_mask,
                "segment_ids": np.zeros((8, 8), "int32"),
            },
            tokens[:, 1:],
        ),
    }
    # BERT runs 1 device and ModelParallel only (DataParallel is GPT's), for time.
    for key, cls in (("GPT", GPT), ("Bert", Bert)):
        initial = built[key].get_weights()
        x, y = data[key]
        final_weights = {}
        runs = [("one_device", None), ("model_parallel_2x4", model_parallel(cls))]
        if key == "GPT":
            runs.insert(1, ("data_parallel_8", DataParallel(devices=jax.devices())))
        for name, distribution in runs:
            scope = distribution.scope() if distribution else contextlib.nullcontext()
            with scope:
                if name == "model_parallel_2x4":
                    model = built[key]
                else:
                    model = cls(**config)
                model.set_weights(initial)
                trainable = lm(model)
                trainable.compile(
                    optimizer=keras.optimizers.AdamW(learning_rate=1e-2),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    jit_compile=True,
                )
                # One batch, 20 epochs: 20 steps, each epoch's loss is that step's.
                history = trainable.fit(x, y, batch_size=8, epochs=20, shuffle=False, verbose=0)
            results["losses"][f"{key}/{name}"] = [float(v) for v in history.history["loss"]]
            final_weights[name] = [np.asarray(w) for w in model.get_weights()]
            if name != "one_device":
                results["weight_differences"][f"{key}/{name}"] = max(
                    float(np.max(np.abs(a - b)))
                    for a, b in zip(final_weights[name], final_weights["one_device"])
                )
    with open(out, "w") as file:
        json.dump(results, file)
    """
)


@pytest.fixture(scope="module")
def jax_results(tmp_path_factory):
    pytest.importorskip("jax", reason="ModelParallel is tested where jax is installed ([test])")
    out = tmp_path_factory.mktemp("layout_map") / "results.json"
    run_jax(JAX_SCRIPT, out, json.dumps(CONFIG), devices=8)
    with open(out) as file:
        return json.load(file)


def expected_spec(path, rank):
    """The layout the brief asks for, written from the path by hand (not the regexes)."""
    parts = path.split("/")
    layer, variable = parts[-2], parts[-1]
    in_attention = len(parts) >= 3 and parts[-3] in ("self_attention", "cross_attention")
    in_feed_forward = len(parts) >= 3 and parts[-3] == "feed_forward"
    if layer == "token_embedding" and variable == "embeddings":
        return ["model", None]
    if in_attention and layer in ("query", "key", "value"):
        return [None, "model", None] if variable == "kernel" else ["model", None]
    if in_attention and layer == "attention_output" and variable == "kernel":
        return ["model", None, None]
    if in_feed_forward and layer == "intermediate_dense":
        return [None, "model"] if variable == "kernel" else ["model"]
    if in_feed_forward and layer == "output_dense" and variable == "kernel":
        return ["model", None]
    if path == "output_dense/kernel":  # the untied Transformer's vocabulary projection
        return [None, "model"]
    if path == "output_dense/bias":
        return ["model"]
    return [None] * rank


# Split variables: token embeddings, 10 per encoder block (Q/K/V kernels and biases,
# attention output kernel, FFN kernels and first bias), 17 per decoder block (+ cross
# attention).
SPLIT_COUNTS = {"Bert": 1 + 2 * 10, "GPT": 1 + 2 * 10, "Transformer": 1 + 2 * 10 + 2 * 17}


@pytest.mark.parametrize("key", sorted(SPLIT_COUNTS))
def test_variables_are_split_as_megatron(jax_results, key):
    shardings = jax_results["shardings"][key]
    split = 0
    for path, (spec, fully_replicated) in shardings.items():
        # JAX may drop trailing Nones from a spec; compare padded to the variable's rank.
        expected = expected_spec(path, len(spec))
        spec = spec + [None] * (len(expected) - len(spec))
        assert spec == expected, path
        if any(axis is not None for axis in expected):
            split += 1
            assert not fully_replicated, path
        else:
            assert fully_replicated, path
    assert split == SPLIT_COUNTS[key]
    # Replicated: LayerNorms, position / segment embeddings, row-parallel biases.
    replicated = [p for p, (_, full) in shardings.items() if full]
    assert any(p.endswith("layer_norm/gamma") for p in replicated)
    assert any(p.endswith("feed_forward/output_dense/bias") for p in replicated)
    if key in ("Bert", "GPT"):
        assert "embeddings/position_embedding/embeddings" in replicated
    if key == "Bert":
        assert "embeddings/segment_embedding/embeddings" in replicated
        assert "pooled_dense/kernel" in replicated


@pytest.mark.parametrize("family", ["GPT", "Bert"])
def test_training_matches_one_device(jax_results, family):
    losses = jax_results["losses"]
    reference = np.array(losses[f"{family}/one_device"])
    assert len(reference) == 20 and reference[-1] < reference[0]  # it trained
    names = ["model_parallel_2x4"] + (["data_parallel_8"] if family == "GPT" else [])
    for name in names:
        got = np.array(losses[f"{family}/{name}"])
        np.testing.assert_allclose(got, reference, rtol=1e-3, err_msg=name)
        assert jax_results["weight_differences"][f"{family}/{name}"] < 1e-3, name


def test_indivisible_size_raises_naming_the_argument(jax_results):
    message = jax_results["indivisible_error"]
    assert "vocabulary_size=50" in message and "divisible by 4" in message
    assert "embeddings/token_embedding/embeddings" in message


def _mesh(shape, axis_names):
    """A one-device mesh (the checks need only the axis names), under any backend."""
    return keras.distribution.DeviceMesh(shape, axis_names, keras.distribution.list_devices()[:1])


@pytest.mark.parametrize("cls", [Bert, GPT, Transformer])
def test_mesh_without_model_axis_raises(cls):
    mesh = _mesh((1,), ("batch",))
    with pytest.raises(ValueError, match=r"axes \('batch',\).*model_axis='model'"):
        cls.layout_map(mesh)
    with pytest.raises(ValueError, match="batch_axis='data'"):
        cls.layout_map(_mesh((1, 1), ("batch", "model")), batch_axis="data")
    # Own axis names, and a model-axis-only mesh.
    layout_map = cls.layout_map(_mesh((1, 1), ("data", "tp")), model_axis="tp", batch_axis="data")
    assert any("tp" in layout.axes for layout in layout_map.values())
    assert len(cls.layout_map(_mesh((1,), ("model",)), batch_axis=None)) > 0
    with pytest.raises(ValueError, match="DeviceMesh"):
        cls.layout_map(("batch", "model"))


def test_layout_map_lookups_and_unmatched_variables():
    layout_map = GPT.layout_map(_mesh((1, 1), ("batch", "model")))
    # Efficient attention variables have their own names: not matched, so replicated.
    for path in (
        "transformer_layer_0/self_attention/key_projection",
        "transformer_layer_0/self_attention/random_features",
        "transformer_layer_0/self_attention/rotations",
        "transformer_layer_0/self_attention_layer_norm/gamma",
        "transformer_layer_0/self_attention/attention_output/bias",
        "transformer_layer_0/feed_forward/output_dense/bias",
        "transformer_layer_0/output",  # a layer output path (Keras asks for those too)
        "layer_norm/gamma",
    ):
        assert layout_map[path] is None, path
    # Inside an outer name scope the map still applies.
    assert layout_map["outer/transformer_layer_3/self_attention/value/kernel"].axes == (
        None,
        "model",
        None,
    )
    transformer_map = Transformer.layout_map(_mesh((1, 1), ("batch", "model")))
    assert transformer_map["output_dense/kernel"].axes == (None, "model")
    assert transformer_map["encoder_layer_0/feed_forward/output_dense/kernel"].axes == (
        "model",
        None,
    )
    assert transformer_map["decoder_layer_1/feed_forward/output_dense/bias"] is None


def test_untied_transformer_projection_is_split():
    # Layout lookups on the real variable paths (built here, under TensorFlow): two
    # embedding matrices and the `output_dense` projection over the target vocabulary.
    model = Transformer(
        **{**CONFIG, "vocabulary_size": None, "tie_embeddings": False},
        source_vocabulary_size=64,
        target_vocabulary_size=32,
    )
    layout_map = Transformer.layout_map(_mesh((1, 1), ("batch", "model")))
    split = 0
    for variable in model.weights:
        layout = layout_map[variable.path]
        axes = [None] * len(variable.shape) if layout is None else list(layout.axes)
        assert axes == expected_spec(variable.path, len(variable.shape)), variable.path
        split += any(axis is not None for axis in axes)
    assert split == 2 + 2 * 10 + 2 * 17 + 2
    assert layout_map["output_dense/bias"].axes == ("model",)


def test_build_layout_map_checks_rules():
    mesh = _mesh((1, 1), ("batch", "model"))
    with pytest.raises(ValueError, match=r"names mesh axes \['tensor'\]"):
        build_layout_map(mesh, [("dense/kernel", (None, "tensor"))])
    with pytest.raises(ValueError, match="does not compile"):
        build_layout_map(mesh, [("dense/(kernel", (None, "model"))])
    with pytest.raises(ValueError, match="given twice"):
        build_layout_map(mesh, [("dense/kernel", (None, "model"))] * 2)
    with pytest.raises(ValueError, match="two different mesh axes"):
        build_layout_map(mesh, [], model_axis="model", batch_axis="model")
