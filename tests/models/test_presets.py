"""`from_preset` parity, offline: small random checkpoints written here, never downloaded.

- keras-hub presets: `BertBackbone` / `RobertaBackbone` / `GPT2Backbone` -> `save_to_preset`
  -> zoo `from_preset`, against the keras-hub backbone.
- Hugging Face directories (`config.json` + `model.safetensors` with Hugging Face names)
  for "bert", "roberta" and "gpt2", against keras-hub's own Hugging Face converter loading
  the same directory; "marian" against a NumPy forward pass written from the Hugging Face
  model's definition (and against `transformers` itself where it is installed).
- Configs Zoo cannot map fail with a ValueError naming the field.
"""

import json
import os

import keras
import keras_hub
import numpy as np
import pytest

from zoo.models import GPT, Bert, Transformer

safetensors_numpy = pytest.importorskip("safetensors.numpy")

TOLERANCE = 1e-4
SMALL = {
    "vocabulary_size": 60,
    "num_layers": 2,
    "num_heads": 2,
    "hidden_dim": 16,
    "intermediate_dim": 32,
    "max_sequence_length": 12,
}
LENGTHS = (10, 6)  # the second row is right-padded


def _batch(segments=True, vocabulary=60, start=3):
    rng = np.random.default_rng(0)
    mask = np.arange(10)[None] < np.array(LENGTHS)[:, None]
    batch = {
        "token_ids": (rng.integers(start, vocabulary, (2, 10)) * mask).astype("int32"),
        "padding_mask": mask.astype("int32"),
    }
    if segments:
        batch["segment_ids"] = ((np.arange(10)[None] >= 4) & mask).astype("int32")
    return batch


def _max_difference(actual, expected, mask=None):
    """max |actual - expected|, over the positions where `mask` is true (all if None)."""
    actual, expected = np.asarray(actual, "float64"), np.asarray(expected, "float64")
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    difference = np.abs(actual - expected)
    if mask is not None:
        difference = difference[np.asarray(mask, bool)]
    return float(difference.max())


def _randomize(model):
    """Non-trivial LayerNorm parameters and biases (keras-hub starts them at 1 / 0)."""
    rng = np.random.default_rng(1)
    for weight in model.weights:
        if weight.path.endswith(("gamma", "beta", "bias")):
            weight.assign(rng.normal(scale=0.5, size=weight.shape).astype("float32"))


# ------------------------------------------------------------------------- keras-hub presets
def test_bert_from_keras_hub_preset(tmp_path):
    reference = keras_hub.models.BertBackbone(**SMALL)
    _randomize(reference)
    reference.save_to_preset(str(tmp_path))
    model = Bert.from_preset(str(tmp_path))
    batch = _batch()
    actual, expected = model(batch), reference(batch)
    mask = batch["padding_mask"]
    assert _max_difference(actual["sequence_output"], expected["sequence_output"], mask) < 1e-4
    assert _max_difference(actual["pooled_output"], expected["pooled_output"]) < TOLERANCE
    assert model.count_params() == reference.count_params()


def test_roberta_from_keras_hub_preset(tmp_path):
    reference = keras_hub.models.RobertaBackbone(**SMALL)
    _randomize(reference)
    reference.save_to_preset(str(tmp_path))
    model = Bert.from_preset(tmp_path)  # a PathLike works too
    assert (model.num_segments, model.activation, model.layer_norm_epsilon) == (1, "gelu", 1e-5)
    batch = _batch(segments=False)
    difference = _max_difference(
        model(batch)["sequence_output"], reference(batch), batch["padding_mask"]
    )
    assert difference < TOLERANCE


def test_gpt_from_keras_hub_preset(tmp_path):
    reference = keras_hub.models.GPT2Backbone(**SMALL)
    _randomize(reference)
    reference.save_to_preset(str(tmp_path))
    model = GPT.from_preset(str(tmp_path), dtype="float32")
    batch = _batch(segments=False)
    expected = reference.token_embedding(reference(batch), reverse=True)
    assert _max_difference(model(batch), expected, batch["padding_mask"]) < TOLERANCE


def test_keras_hub_preset_of_another_class_is_refused(tmp_path):
    keras_hub.models.GPT2Backbone(**SMALL).save_to_preset(str(tmp_path))
    with pytest.raises(ValueError, match="class_name='GPT2Backbone'.*GPT.from_preset"):
        Bert.from_preset(str(tmp_path))
    with pytest.raises(ValueError, match="class_name='GPT2Backbone'.*Marian"):
        Transformer.from_preset(str(tmp_path))


def test_keras_hub_names_load_through_keras_hub_only(monkeypatch):
    with pytest.raises(ValueError, match="keras-hub preset name"):
        Bert.from_preset("not_a_preset_name")
    with pytest.raises(ValueError, match="transformer_base"):
        Transformer.from_preset("not_a_preset_name")
    reference = keras_hub.models.BertBackbone(**SMALL)
    asked = []

    def fake_from_preset(preset, **kwargs):
        asked.append(preset)
        return reference

    monkeypatch.setattr(keras_hub.models.Backbone, "from_preset", fake_from_preset)
    name = sorted(keras_hub.models.BertBackbone.presets)[0]
    model = Bert.from_preset(name)
    assert asked == [name] and model.count_params() == reference.count_params()
    with pytest.raises(ValueError, match="BertBackbone.*GPT"):
        GPT.from_preset("kaggle://keras/bert/keras/some_bert")


# ------------------------------------------------------------------- Hugging Face directories
def _write_hugging_face(path, config, tensors):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    safetensors_numpy.save_file(
        {name: np.ascontiguousarray(value) for name, value in tensors.items()},
        os.path.join(path, "model.safetensors"),
        metadata={"format": "pt"},  # as transformers writes it
    )
    return str(path)


class _Tensors(dict):
    """Random Hugging Face tensors, PyTorch layouts (`Linear.weight` is `(out, in)`)."""

    def __init__(self, seed=0):
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def normal(self, name, *shape, scale=0.3):
        self[name] = self.rng.normal(scale=scale, size=shape).astype("float32")

    def linear(self, name, out_features, in_features):
        self.normal(f"{name}.weight", out_features, in_features)
        self.normal(f"{name}.bias", out_features)

    def layer_norm(self, name):
        self[f"{name}.weight"] = (1 + self.rng.normal(scale=0.3, size=16)).astype("float32")
        self.normal(f"{name}.bias", 16)


BERT_CONFIG = {
    "model_type": "bert",
    "vocab_size": 60,
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "hidden_act": "gelu_new",  # keras-hub's BertBackbone computes the tanh GELU
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 12,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "position_embedding_type": "absolute",
    "pad_token_id": 0,
}


def _bert_tensors(config, prefix="bert.", pooler=True, zero_segments=False):
    t = _Tensors()
    d, f = config["hidden_size"], config["intermediate_size"]
    t.normal(f"{prefix}embeddings.word_embeddings.weight", config["vocab_size"], d)
    t.normal(f"{prefix}embeddings.position_embeddings.weight", config["max_position_embeddings"], d)
    t.normal(f"{prefix}embeddings.token_type_embeddings.weight", config["type_vocab_size"], d)
    if zero_segments:  # RoBERTa's conversion zeroes its one token-type row
        t[f"{prefix}embeddings.token_type_embeddings.weight"][:] = 0
    t.layer_norm(f"{prefix}embeddings.LayerNorm")
    for i in range(config["num_hidden_layers"]):
        layer = f"{prefix}encoder.layer.{i}."
        for name in ("query", "key", "value"):
            t.linear(f"{layer}attention.self.{name}", d, d)
        t.linear(f"{layer}attention.output.dense", d, d)
        t.layer_norm(f"{layer}attention.output.LayerNorm")
        t.linear(f"{layer}intermediate.dense", f, d)
        t.linear(f"{layer}output.dense", d, f)
        t.layer_norm(f"{layer}output.LayerNorm")
    if pooler:
        t.linear(f"{prefix}pooler.dense", d, d)
    # A buffer and a task head: not backbone weights, ignored by the loader.
    t[f"{prefix}embeddings.position_ids"] = np.arange(config["max_position_embeddings"])[None]
    t.normal("cls.predictions.bias", config["vocab_size"])
    return t


def test_bert_from_hugging_face_matches_keras_hub_converter(tmp_path):
    path = _write_hugging_face(tmp_path / "bert", BERT_CONFIG, _bert_tensors(BERT_CONFIG))
    reference = keras_hub.models.BertBackbone.from_preset(path)
    model = Bert.from_preset(path)
    assert (model.activation, model.layer_norm_epsilon, model.num_segments) == (
        "gelu_approximate",
        1e-12,
        2,
    )
    batch = _batch()
    actual, expected = model(batch), reference(batch)
    mask = batch["padding_mask"]
    assert _max_difference(actual["sequence_output"], expected["sequence_output"], mask) < 1e-4
    assert _max_difference(actual["pooled_output"], expected["pooled_output"]) < TOLERANCE


def test_bert_exact_gelu_and_no_pooler(tmp_path):
    config = {**BERT_CONFIG, "hidden_act": "gelu"}
    tensors = _bert_tensors(config, prefix="", pooler=False)
    path = _write_hugging_face(tmp_path, config, tensors)
    with pytest.warns(UserWarning, match="pooler"):
        model = Bert.from_preset(path)
    assert model.activation == "gelu"  # the erf GELU of the checkpoint, not the tanh one
    with pytest.warns(UserWarning, match="pooler"):
        reference = Bert.from_preset(path, activation="gelu_approximate")
    batch = _batch()
    difference = _max_difference(
        model(batch)["sequence_output"],
        reference(batch)["sequence_output"],
        batch["padding_mask"],
    )
    assert 0 < difference < 0.05  # close, but not the same function


def test_roberta_from_hugging_face_matches_keras_hub_converter(tmp_path):
    config = {
        **BERT_CONFIG,
        "model_type": "roberta",
        "hidden_act": "gelu",  # keras-hub's RobertaBackbone computes the erf GELU
        "layer_norm_eps": 1e-5,
        "max_position_embeddings": 14,  # 12 positions after the padding_idx + 1 offset
        "type_vocab_size": 1,
        "pad_token_id": 1,
    }
    tensors = _bert_tensors(config, prefix="roberta.", pooler=False, zero_segments=True)
    tensors.normal("lm_head.bias", config["vocab_size"])
    path = _write_hugging_face(tmp_path, config, tensors)
    reference = keras_hub.models.RobertaBackbone.from_preset(path)
    model = Bert.from_preset(path)
    assert (model.max_sequence_length, model.num_segments) == (12, 1)
    batch = _batch(segments=False)
    batch["token_ids"] = np.where(batch["padding_mask"] > 0, batch["token_ids"], 1)  # <pad> = 1
    difference = _max_difference(
        model(batch)["sequence_output"], reference(batch), batch["padding_mask"]
    )
    assert difference < TOLERANCE


GPT2_CONFIG = {
    "model_type": "gpt2",
    "vocab_size": 60,
    "n_embd": 16,
    "n_layer": 2,
    "n_head": 2,
    "n_inner": None,
    "n_positions": 12,
    "activation_function": "gelu_new",
    "layer_norm_epsilon": 1e-5,
    "resid_pdrop": 0.1,
    "embd_pdrop": 0.1,
    "attn_pdrop": 0.1,
}


def _gpt2_tensors(config, prefix=""):
    t = _Tensors()
    d = config["n_embd"]
    t.normal(f"{prefix}wte.weight", config["vocab_size"], d)
    t.normal(f"{prefix}wpe.weight", config["n_positions"], d)
    for i in range(config["n_layer"]):
        layer = f"{prefix}h.{i}."
        t.layer_norm(f"{layer}ln_1")
        t.layer_norm(f"{layer}ln_2")
        # Conv1D: weight (in, out).
        t.normal(f"{layer}attn.c_attn.weight", d, 3 * d)
        t.normal(f"{layer}attn.c_attn.bias", 3 * d)
        t.normal(f"{layer}attn.c_proj.weight", d, d)
        t.normal(f"{layer}attn.c_proj.bias", d)
        t.normal(f"{layer}mlp.c_fc.weight", d, 4 * d)
        t.normal(f"{layer}mlp.c_fc.bias", 4 * d)
        t.normal(f"{layer}mlp.c_proj.weight", 4 * d, d)
        t.normal(f"{layer}mlp.c_proj.bias", d)
        t[f"{layer}attn.bias"] = np.tril(np.ones((12, 12), "float32"))[None, None]  # a buffer
    t.layer_norm(f"{prefix}ln_f")
    return t


@pytest.mark.parametrize("prefix", ["", "transformer."])
def test_gpt2_from_hugging_face_matches_keras_hub_converter(tmp_path, prefix):
    tensors = _gpt2_tensors(GPT2_CONFIG, prefix)
    if prefix:  # GPT2LMHeadModel: an lm_head tied to wte
        tensors["lm_head.weight"] = tensors[f"{prefix}wte.weight"].copy()
    path = _write_hugging_face(tmp_path, GPT2_CONFIG, tensors)
    reference = keras_hub.models.GPT2Backbone.from_preset(path)
    model = GPT.from_preset(path)
    batch = _batch(segments=False)
    expected = reference.token_embedding(reference(batch), reverse=True)
    assert _max_difference(model(batch), expected, batch["padding_mask"]) < TOLERANCE


def test_hf_ids_download_only_through_huggingface_hub(tmp_path, monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    path = _write_hugging_face(tmp_path, GPT2_CONFIG, _gpt2_tensors(GPT2_CONFIG))
    asked = []

    def fake_download(repo_id, allow_patterns=None, **kwargs):
        asked.append((repo_id, allow_patterns))
        return path

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    model = GPT.from_preset("hf://openai-community/gpt2")
    assert asked[0][0] == "openai-community/gpt2" and "model.safetensors" in asked[0][1]
    assert model.num_layers == 2
    with pytest.raises(ValueError, match="hf://org/name"):
        GPT.from_preset("hf://")


# ------------------------------------------------------------------------------------ refusals
def _family(name):
    """`(zoo class, Hugging Face config, tensors of the config)` of a checkpoint family."""
    return {
        "bert": (Bert, BERT_CONFIG, _bert_tensors),
        "gpt2": (GPT, GPT2_CONFIG, _gpt2_tensors),
        "marian": (Transformer, MARIAN_CONFIG, _marian_tensors),
    }[name]


def test_bad_directories_are_refused(tmp_path):
    path = _write_hugging_face(tmp_path / "bert", BERT_CONFIG, _bert_tensors(BERT_CONFIG))
    with pytest.raises(ValueError, match="vocabulary_size|word_embeddings"):
        Bert.from_preset(path, vocabulary_size=61)  # a size-changing override
    os.remove(os.path.join(path, "model.safetensors"))
    with pytest.raises(ValueError, match="no model.safetensors"):
        Bert.from_preset(path)
    with pytest.raises(ValueError, match="not a directory"):
        Bert.from_preset(str(tmp_path / "missing" / "dir"))
    os.makedirs(tmp_path / "empty")
    with pytest.raises(ValueError, match="no config.json"):
        Bert.from_preset(str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="preset=3"):
        GPT.from_preset(3)


def test_dtype_override(tmp_path):
    path = _write_hugging_face(tmp_path, GPT2_CONFIG, _gpt2_tensors(GPT2_CONFIG))
    model = GPT.from_preset(path, dtype="mixed_bfloat16")
    reference = GPT.from_preset(path)
    batch = _batch(segments=False)
    logits = model(batch)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert _max_difference(logits, reference(batch), batch["padding_mask"]) < 0.5


def test_sharded_half_precision_weights(tmp_path):
    """`model.safetensors.index.json` with shards, float16 and bfloat16 tensors."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    tensors = _gpt2_tensors(GPT2_CONFIG)
    names = sorted(tensors)
    shards = {"model-00001-of-00002.safetensors": names[::2]}
    shards["model-00002-of-00002.safetensors"] = names[1::2]
    dtypes = {"model-00001-of-00002.safetensors": np.float16}
    dtypes["model-00002-of-00002.safetensors"] = ml_dtypes.bfloat16
    for file, members in shards.items():
        safetensors_numpy.save_file(
            {name: tensors[name].astype(dtypes[file]) for name in members}, str(tmp_path / file)
        )
    weight_map = {name: file for file, members in shards.items() for name in members}
    with open(tmp_path / "model.safetensors.index.json", "w", encoding="utf-8") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)
    with open(tmp_path / "config.json", "w", encoding="utf-8") as f:
        json.dump(GPT2_CONFIG, f)
    model = GPT.from_preset(str(tmp_path))
    full = GPT.from_preset(_write_hugging_face(tmp_path / "full", GPT2_CONFIG, tensors))
    rounded = tensors["h.0.mlp.c_fc.weight"].astype(dtypes[weight_map["h.0.mlp.c_fc.weight"]])
    kernel = model.transformer_layers[0]._feed_forward._intermediate_dense.kernel
    np.testing.assert_array_equal(np.asarray(kernel), rounded.astype("float32"))
    batch = _batch(segments=False)
    assert _max_difference(model(batch), full(batch), batch["padding_mask"]) < 0.5


# ---------------------------------------------------------------------------------- Marian
MARIAN_CONFIG = {
    "model_type": "marian",
    "vocab_size": 40,
    "decoder_vocab_size": 40,
    "d_model": 16,
    "encoder_layers": 2,
    "decoder_layers": 2,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 32,
    "decoder_ffn_dim": 32,
    "max_position_embeddings": 24,
    "activation_function": "swish",
    "scale_embedding": True,
    "share_encoder_decoder_embeddings": True,
    "dropout": 0.1,
    "attention_dropout": 0.0,
    "activation_dropout": 0.0,
    "pad_token_id": 39,
    "eos_token_id": 0,
    "decoder_start_token_id": 39,
}


def _hugging_face_sinusoids(n_positions, dim):
    """MarianSinusoidalPositionalEmbedding's table, as Hugging Face computes it."""
    angles = np.array(
        [
            [pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)]
            for pos in range(n_positions)
        ]
    )
    table = np.zeros((n_positions, dim))
    table[:, : dim // 2] = np.sin(angles[:, 0::2])
    table[:, dim // 2 :] = np.cos(angles[:, 1::2])
    return table.astype("float32")


def _marian_tensors(config, final_logits_bias=False):
    t = _Tensors()
    d, f = config["d_model"], config["encoder_ffn_dim"]
    if config["share_encoder_decoder_embeddings"]:
        t.normal("model.shared.weight", config["vocab_size"], d)
    else:
        t.normal("model.encoder.embed_tokens.weight", config["vocab_size"], d)
        t.normal("model.decoder.embed_tokens.weight", config["decoder_vocab_size"], d)
    for side in ("encoder", "decoder"):
        table = _hugging_face_sinusoids(config["max_position_embeddings"], d)
        t[f"model.{side}.embed_positions.weight"] = table
        for i in range(config[f"{side}_layers"]):
            layer = f"model.{side}.layers.{i}."
            attentions = ["self_attn"] + (["encoder_attn"] if side == "decoder" else [])
            for attention in attentions:
                for name in ("q", "k", "v", "out"):
                    t.linear(f"{layer}{attention}.{name}_proj", d, d)
                t.layer_norm(f"{layer}{attention}_layer_norm")
            t.linear(f"{layer}fc1", f, d)
            t.linear(f"{layer}fc2", d, f)
            t.layer_norm(f"{layer}final_layer_norm")
    bias = np.zeros((1, config["decoder_vocab_size"]), "float32")
    if final_logits_bias:
        bias = t.rng.normal(size=bias.shape).astype("float32")
    t["final_logits_bias"] = bias
    return t


def _marian_reference(t, config, encoder_ids, encoder_mask, decoder_ids):
    """Hugging Face MarianMTModel's forward pass (eval mode), in float64 NumPy."""
    t = {name: np.asarray(value, "float64") for name, value in t.items()}
    d = config["d_model"]
    heads = config["encoder_attention_heads"]
    head_dim = d // heads

    def linear(x, name):
        return x @ t[f"{name}.weight"].T + t[f"{name}.bias"]

    def layer_norm(x, name):
        mean, variance = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(variance + 1e-5) * t[f"{name}.weight"] + t[f"{name}.bias"]

    def split(x):  # (batch, length, d) -> (batch, heads, length, head_dim)
        return x.reshape(x.shape[0], x.shape[1], heads, head_dim).transpose(0, 2, 1, 3)

    def attention(x, memory, name, mask):  # mask: (batch, query, key), true = attend
        query = split(linear(x, f"{name}.q_proj") * head_dim**-0.5)
        key, value = (
            split(linear(memory, f"{name}.k_proj")),
            split(linear(memory, f"{name}.v_proj")),
        )
        scores = np.where(mask[:, None], query @ key.transpose(0, 1, 3, 2), -1e9)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        output = (weights @ value).transpose(0, 2, 1, 3).reshape(x.shape)
        return linear(output, f"{name}.out_proj")

    def feed_forward(x, layer):
        hidden = linear(x, f"{layer}fc1")
        return linear(hidden / (1 + np.exp(-hidden)), f"{layer}fc2")  # swish

    if config["share_encoder_decoder_embeddings"]:
        source_table = target_table = t["model.shared.weight"]
    else:
        source_table = t["model.encoder.embed_tokens.weight"]
        target_table = t["model.decoder.embed_tokens.weight"]
    positions = t["model.encoder.embed_positions.weight"]

    x = source_table[encoder_ids] * np.sqrt(d) + positions[: encoder_ids.shape[1]]
    source_mask = np.broadcast_to(
        encoder_mask[:, None, :].astype(bool), (len(x), x.shape[1], x.shape[1])
    )
    for i in range(config["encoder_layers"]):
        layer = f"model.encoder.layers.{i}."
        x = layer_norm(
            x + attention(x, x, f"{layer}self_attn", source_mask), f"{layer}self_attn_layer_norm"
        )
        x = layer_norm(x + feed_forward(x, layer), f"{layer}final_layer_norm")
    memory = x

    y = target_table[decoder_ids] * np.sqrt(d) + positions[: decoder_ids.shape[1]]
    length = y.shape[1]
    causal = np.broadcast_to(np.tril(np.ones((length, length), bool)), (len(y), length, length))
    cross_mask = np.broadcast_to(
        encoder_mask[:, None, :].astype(bool), (len(y), length, memory.shape[1])
    )
    for i in range(config["decoder_layers"]):
        layer = f"model.decoder.layers.{i}."
        y = layer_norm(
            y + attention(y, y, f"{layer}self_attn", causal), f"{layer}self_attn_layer_norm"
        )
        y = layer_norm(
            y + attention(y, memory, f"{layer}encoder_attn", cross_mask),
            f"{layer}encoder_attn_layer_norm",
        )
        y = layer_norm(y + feed_forward(y, layer), f"{layer}final_layer_norm")
    return y @ target_table.T + t["final_logits_bias"].reshape(-1)


def _marian_batch(source_vocabulary, target_vocabulary):
    rng = np.random.default_rng(3)
    source_mask = (np.arange(9)[None] < np.array([9, 5])[:, None]).astype("int32")
    target_mask = (np.arange(7)[None] < np.array([7, 4])[:, None]).astype("int32")
    return {
        "encoder_token_ids": (rng.integers(1, source_vocabulary - 1, (2, 9)) * source_mask).astype(
            "int32"
        ),
        "encoder_padding_mask": source_mask,
        "decoder_token_ids": (rng.integers(1, target_vocabulary - 1, (2, 7)) * target_mask).astype(
            "int32"
        ),
        "decoder_padding_mask": target_mask,
    }


@pytest.mark.parametrize(
    "change, final_logits_bias, tied",
    [
        ({}, False, True),  # shared vocabulary, tied output, zero bias: Zoo's tied projection
        ({}, True, False),  # a final_logits_bias: an untied output_dense holds it
        (
            {"share_encoder_decoder_embeddings": False, "decoder_vocab_size": 33},
            False,
            True,
        ),
    ],
)
def test_marian_matches_hugging_face_forward_pass(tmp_path, change, final_logits_bias, tied):
    config = {**MARIAN_CONFIG, **change}
    tensors = _marian_tensors(config, final_logits_bias)
    if tied and config["share_encoder_decoder_embeddings"]:  # tied copies stored twice
        tensors["lm_head.weight"] = tensors["model.shared.weight"].copy()
    path = _write_hugging_face(tmp_path, config, tensors)
    model = Transformer.from_preset(path)
    assert (model.output_dense is None) == tied
    assert (model.activation, model.normalize_first) == ("silu", False)
    batch = _marian_batch(config["vocab_size"], config["decoder_vocab_size"])
    expected = _marian_reference(
        tensors,
        config,
        batch["encoder_token_ids"],
        batch["encoder_padding_mask"],
        batch["decoder_token_ids"],
    )
    difference = _max_difference(model(batch), expected, batch["decoder_padding_mask"])
    assert difference < TOLERANCE


@pytest.mark.parametrize(
    "family, change, field",
    [
        ("bert", {"model_type": "t5"}, "model_type='t5'"),
        ("bert", {"model_type": "xlm-roberta"}, "model_type='xlm-roberta'"),
        ("bert", {"hidden_act": "quick_gelu"}, "`hidden_act`='quick_gelu'"),
        ("bert", {"position_embedding_type": "relative_key"}, "`position_embedding_type`"),
        ("bert", {"is_decoder": True}, "`is_decoder`=True"),
        ("bert", {"model_type": "gpt2"}, "GPT.from_preset"),
        ("gpt2", {"activation_function": "gelu_10"}, "`activation_function`='gelu_10'"),
        ("gpt2", {"scale_attn_by_inverse_layer_idx": True}, "`scale_attn_by_inverse_layer_idx`"),
        ("gpt2", {"tie_word_embeddings": False}, "`tie_word_embeddings`=False"),
        ("marian", {"scale_embedding": False}, "`scale_embedding`=False"),
        ("marian", {"normalize_before": True}, "`normalize_before`=True"),
        ("marian", {"decoder_attention_heads": 4}, "`decoder_attention_heads`=4"),
        ("marian", {"decoder_ffn_dim": 64}, "`decoder_ffn_dim`=64"),
        ("marian", {"activation_function": "gelu_10"}, "`activation_function`='gelu_10'"),
    ],
)
def test_unmappable_configs_are_refused(tmp_path, family, change, field):
    cls, config, tensors = _family(family)
    path = _write_hugging_face(tmp_path, {**config, **change}, tensors(config))
    with pytest.raises(ValueError, match=field):
        cls.from_preset(path)


@pytest.mark.parametrize(
    "family, weight, shape, message",
    [
        (
            "bert",
            "bert.encoder.layer.0.attention.self.distance_embedding.weight",
            (23, 16),
            "could not map 1 weight.*distance_embedding",
        ),
        ("gpt2", "lm_head.weight", (60, 16), "lm_head.weight differs"),
        (
            "marian",
            "model.encoder.embed_positions.weight",
            (24, 16),
            "embed_positions.weight is not Marian's sinusoidal",
        ),
    ],
)
def test_unmapped_or_changed_weights_are_refused(tmp_path, family, weight, shape, message):
    cls, config, tensors = _family(family)
    tensors = tensors(config)
    tensors.normal(weight, *shape)  # an extra weight, or one that replaces a derived one
    path = _write_hugging_face(tmp_path, config, tensors)
    with pytest.raises(ValueError, match=message):
        cls.from_preset(path)


def test_marian_checkpoint_of_another_class_is_refused(tmp_path):
    path = _write_hugging_face(tmp_path / "ok", MARIAN_CONFIG, _marian_tensors(MARIAN_CONFIG))
    with pytest.raises(ValueError, match="Transformer.from_preset"):
        Bert.from_preset(path)
    assert Transformer.from_preset("transformer_tiny", vocabulary_size=50).vocabulary_size == 50


def test_marian_matches_transformers(tmp_path):
    """Against `transformers` itself, where it (and PyTorch) is installed: an optional check."""
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    config = transformers.MarianConfig(
        **{k: v for k, v in MARIAN_CONFIG.items() if k != "model_type"}
    )
    torch.manual_seed(0)
    reference = transformers.MarianMTModel(config).eval()
    with torch.no_grad():
        for name, parameter in reference.named_parameters():
            if "embed_positions" not in name:
                parameter.normal_(0, 0.3)
        reference.final_logits_bias.normal_()
    reference.save_pretrained(str(tmp_path))
    model = Transformer.from_preset(str(tmp_path))
    batch = _marian_batch(40, 40)
    with torch.no_grad():
        expected = reference(
            input_ids=torch.tensor(batch["encoder_token_ids"], dtype=torch.long),
            attention_mask=torch.tensor(batch["encoder_padding_mask"]),
            decoder_input_ids=torch.tensor(batch["decoder_token_ids"], dtype=torch.long),
        ).logits.numpy()
    difference = _max_difference(model(batch), expected, batch["decoder_padding_mask"])
    assert difference < TOLERANCE


def _reference_greedy(tensors, config, encoder_ids, encoder_mask, max_length):
    """Hugging Face's greedy `generate` for Marian, on the NumPy forward pass: start from
    `decoder_start_token_id`, the pad logit at -inf, stop at `eos_token_id` (pad after)."""
    start, pad, eos = (
        config[k] for k in ("decoder_start_token_id", "pad_token_id", "eos_token_id")
    )
    output = np.full((len(encoder_ids), 1), start)
    done = np.zeros(len(encoder_ids), bool)
    while output.shape[1] < max_length:
        logits = _marian_reference(tensors, config, encoder_ids, encoder_mask, output)[:, -1]
        logits[:, pad] = -np.inf
        token = np.where(done, pad, logits.argmax(-1))
        done |= token == eos
        output = np.concatenate([output, token[:, None]], axis=1)
    return output


def test_marian_generation_settings_decode_as_hugging_face(tmp_path):
    """A loaded Marian starts from its pad id, never emits it and stops at `</s>`:
    `translate` with the model's `generation_config` gives the reference greedy ids."""
    from zoo.models.generation import GenerationConfig, translate

    config = {**MARIAN_CONFIG, "bad_words_ids": [[39]]}
    tensors = _marian_tensors(config, final_logits_bias=True)
    tensors["final_logits_bias"][0, 39] = 6.0  # pad would win everywhere if not suppressed
    model = Transformer.from_preset(_write_hugging_face(tmp_path, config, tensors))
    assert model.generation_config == {
        "bos_token_id": 39,
        "end_token_id": 0,
        "pad_token_id": 39,
        "suppressed_token_ids": [39],
    }
    batch = _marian_batch(40, 40)
    source, mask = batch["encoder_token_ids"], batch["encoder_padding_mask"]
    expected = _reference_greedy(tensors, config, source, mask, max_length=8)
    actual = translate(model, source, mask, max_length=8)
    np.testing.assert_array_equal(actual, expected)
    assert not np.any(actual[:, 1:][~np.cumsum(actual[:, 1:] == 0, 1).astype(bool)] == 39)
    # Without the suppression, the biased pad id is what greedy decoding picks.
    plain = GenerationConfig(bos_token_id=39, run_eagerly=True)  # one compile is enough
    plain = translate(model, source, mask, max_length=8, config=plain)
    assert np.all(plain[:, 1] == 39)
    # The settings survive the config round trip (a .keras file, a recipe's model.keras).
    assert Transformer.from_config(model.get_config()).generation_config == model.generation_config
    with pytest.raises(ValueError, match="generation_config"):
        Transformer.from_preset("transformer_tiny", generation_config={"bos": 1})


def test_suppressed_token_ids_are_checked_and_round_trip():
    from zoo.models.generation import GenerationConfig

    config = GenerationConfig(suppressed_token_ids=[5, 2, 5])
    assert config.suppressed_token_ids == (2, 5)
    assert GenerationConfig(suppressed_token_ids=7).suppressed_token_ids == (7,)
    assert GenerationConfig.from_config(config.get_config()) == config
    for bad in (-1, "5", [1.5], None):
        with pytest.raises(ValueError, match="suppressed_token_ids"):
            GenerationConfig(suppressed_token_ids=bad)
