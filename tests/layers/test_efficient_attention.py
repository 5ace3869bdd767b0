import itertools

import keras
import numpy as np
import pytest

from tests.test_case import assert_all_close, run_layer_test, run_saving_test, to_numpy
from zoo.layers import (
    LinformerAttention,
    LongformerAttention,
    MultiHeadAttention,
    PerformerAttention,
    ReformerAttention,
    SparseAttention,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)
from zoo.layers.efficient_attention import make_attention
from zoo.models.bert import Bert
from zoo.models.gpt import GPT

BATCH, SEQUENCE, HIDDEN, HEADS = 2, 16, 16, 2
KEY_DIM = HIDDEN // HEADS
LENGTHS = (16, 11)  # real tokens per example

# One small configuration per variant: (class, options, trainable, non-trainable weights).
VARIANTS = {
    "sparse": (
        SparseAttention,
        {"pattern": "fixed", "block_size": 4, "num_summary_tokens": 2},
        8,
        0,
    ),
    "longformer": (LongformerAttention, {"attention_window": 3, "num_global_tokens": 1}, 8, 0),
    "linformer": (LinformerAttention, {"projection_dim": 8, "sequence_length": SEQUENCE}, 10, 0),
    "performer": (PerformerAttention, {"num_features": 16, "chunk_size": 4, "seed": 0}, 8, 1),
    "reformer": (
        ReformerAttention,
        {"num_buckets": 4, "num_hashes": 2, "chunk_size": 4, "seed": 0},
        6,
        1,
    ),
}
CAUSAL_VARIANTS = ("sparse", "longformer", "performer", "reformer")


def _random(*shape, seed=0, scale=1.0):
    return (scale * np.random.default_rng(seed).normal(size=shape)).astype("float32")


def _padding_mask(lengths=LENGTHS, length=SEQUENCE):
    return np.arange(length)[None, :] < np.array(lengths)[:, None]  # (batch, length)


def _full_attention_like(layer, x):
    """A `MultiHeadAttention` with `layer`'s projection weights."""
    full = MultiHeadAttention(HEADS, KEY_DIM)
    full(x)
    for name in ("_query_dense", "_key_dense", "_value_dense", "_output_dense"):
        getattr(full, name).set_weights(getattr(layer, name).get_weights())
    return full


def _real_rows(output, lengths=LENGTHS):
    """The outputs of real (non-padded) query positions, one array per example."""
    output = to_numpy(output)
    return [output[b, :n] for b, n in enumerate(lengths)]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_layer(variant):
    cls, options, trainable, non_trainable = VARIANTS[variant]
    run_layer_test(
        cls,
        {"num_heads": HEADS, "key_dim": KEY_DIM, **options},
        _random(BATCH, SEQUENCE, HIDDEN),
        call_kwargs={"use_causal_mask": variant in CAUSAL_VARIANTS},
        expected_output_shape=(BATCH, SEQUENCE, HIDDEN),
        expected_num_trainable_weights=trainable,
        expected_num_non_trainable_weights=non_trainable,
        atol=1e-5,
    )


# --- Exact equivalences with full attention -------------------------------------------


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(
    "cls, options",
    [
        (LongformerAttention, {"attention_window": SEQUENCE, "num_global_tokens": 0}),
        (LongformerAttention, {"attention_window": SEQUENCE + 5, "num_global_tokens": 2}),
        (SparseAttention, {"pattern": "strided", "block_size": SEQUENCE}),
        (SparseAttention, {"pattern": "fixed", "block_size": 4, "num_summary_tokens": 4}),
        (SparseAttention, {"pattern": "fixed", "block_size": 5, "num_summary_tokens": 5}),
    ],
)
def test_covering_pattern_equals_full_attention(cls, options, causal):
    x, mask = _random(BATCH, SEQUENCE, HIDDEN), _padding_mask()
    layer = cls(HEADS, KEY_DIM, **options)
    output = layer(x, padding_mask=mask, use_causal_mask=causal)
    expected = _full_attention_like(layer, x)(x, padding_mask=mask, use_causal_mask=causal)
    assert_all_close(_real_rows(output), _real_rows(expected), atol=2e-6, rtol=2e-6)


def test_linformer_with_identity_projections_equals_full_attention():
    x = _random(BATCH, SEQUENCE, HIDDEN)
    layer = LinformerAttention(HEADS, KEY_DIM, projection_dim=SEQUENCE)
    layer(x)
    layer.key_projection.assign(np.eye(SEQUENCE, dtype="float32"))
    layer.value_projection.assign(np.eye(SEQUENCE, dtype="float32"))
    assert_all_close(layer(x), _full_attention_like(layer, x)(x), atol=2e-6, rtol=2e-6)


def _sparse_pattern(pattern, block, summary):
    i, j = np.arange(SEQUENCE)[:, None], np.arange(SEQUENCE)[None, :]
    if pattern == "strided":
        return (np.abs(i - j) < block) | ((i - j) % block == 0)
    return (i // block == j // block) | (j % block >= block - summary)


def _longformer_pattern(window, num_global):
    i, j = np.arange(SEQUENCE)[:, None], np.arange(SEQUENCE)[None, :]
    return (np.abs(i - j) <= window) | (i < num_global) | (j < num_global)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(
    "cls, options, pattern",
    [
        (
            SparseAttention,
            {"pattern": "strided", "block_size": 4},
            _sparse_pattern("strided", 4, 0),
        ),
        (
            SparseAttention,
            {"pattern": "strided", "block_size": 5},
            _sparse_pattern("strided", 5, 0),
        ),
        (
            SparseAttention,
            {"pattern": "fixed", "block_size": 5, "num_summary_tokens": 2},
            _sparse_pattern("fixed", 5, 2),
        ),
        (
            LongformerAttention,
            {"attention_window": 3, "num_global_tokens": 2},
            _longformer_pattern(3, 2),
        ),
        (
            LongformerAttention,
            {"attention_window": 5, "num_global_tokens": 1},
            _longformer_pattern(5, 1),
        ),
    ],
)
def test_block_sparse_equals_dense_masked_pattern(cls, options, pattern, causal):
    """The blocked computation attends exactly the pairs of the paper's pattern."""
    x, mask = _random(BATCH, SEQUENCE, HIDDEN), _padding_mask()
    layer = cls(HEADS, KEY_DIM, **options)
    output = layer(x, padding_mask=mask, use_causal_mask=causal)
    expected = _full_attention_like(layer, x)(
        x,
        padding_mask=mask,
        attention_mask=np.broadcast_to(pattern, (BATCH, SEQUENCE, SEQUENCE)),
        use_causal_mask=causal,
    )
    assert_all_close(_real_rows(output), _real_rows(expected), atol=2e-6, rtol=2e-6)


@pytest.mark.parametrize("causal", [False, True])
def test_reformer_with_one_bucket_equals_full_shared_qk_attention(causal):
    x, mask = _random(BATCH, SEQUENCE, HIDDEN), _padding_mask()
    # One bucket, two chunks: every query sees every key; three rounds agree.
    layer = ReformerAttention(HEADS, KEY_DIM, num_buckets=1, num_hashes=3, chunk_size=8)
    output = layer(x, padding_mask=mask, use_causal_mask=causal)

    queries = to_numpy(layer._query_dense(x)).astype("float64")  # (batch, n, heads, d)
    values = to_numpy(layer._value_dense(x)).astype("float64")
    keys = queries / np.linalg.norm(queries, axis=-1, keepdims=True)
    logits = np.einsum("bqhd,bkhd->bhqk", queries, keys) / np.sqrt(KEY_DIM)
    allowed = np.broadcast_to(mask[:, None, None, :], logits.shape).copy()
    if causal:
        allowed &= np.tril(np.ones((SEQUENCE, SEQUENCE), bool))
    eye = np.eye(SEQUENCE, dtype=bool)
    logits = np.where(eye, -1e5, logits)  # itself only when nothing else is visible
    logits = np.where(allowed | eye, logits, -1e30)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    attended = np.einsum("bhqk,bkhd->bqhd", weights, values).astype("float32")
    expected = layer._output_dense(attended)
    assert_all_close(_real_rows(output), _real_rows(expected), atol=2e-5, rtol=2e-5)


def _relative_error(output, expected, lengths=LENGTHS):
    output, expected = np.concatenate(_real_rows(output)), np.concatenate(_real_rows(expected))
    return np.linalg.norm(output - expected) / np.linalg.norm(expected)


@pytest.mark.parametrize("causal", [False, True])
def test_performer_error_shrinks_with_more_features(causal):
    x, mask = _random(BATCH, SEQUENCE, HIDDEN, scale=0.5), _padding_mask()
    errors = []
    for num_features in (8, 32, 128, 512):
        seed_errors = []
        for seed in range(3):
            layer = PerformerAttention(
                HEADS, KEY_DIM, num_features=num_features, chunk_size=4, seed=seed
            )
            output = layer(x, padding_mask=mask, use_causal_mask=causal)
            full = _full_attention_like(layer, x)
            expected = full(x, padding_mask=mask, use_causal_mask=causal)
            seed_errors.append(_relative_error(output, expected))
        errors.append(float(np.mean(seed_errors)))
    assert all(b < a for a, b in itertools.pairwise(errors)), errors
    assert errors[-1] < errors[0] / 2.5, errors  # Monte Carlo: ~1/sqrt(m); 64x the features


# --- Masks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant, options",
    [
        ("sparse", {"pattern": "strided", "block_size": 4}),
        ("sparse", {"pattern": "fixed", "block_size": 4, "num_summary_tokens": 1}),
        ("longformer", {"attention_window": 2, "num_global_tokens": 2}),
        ("performer", {"num_features": 16, "chunk_size": 4, "seed": 0}),
        ("performer", {"num_features": 16, "chunk_size": 16, "seed": 0}),
        # Two chunks: the set of earlier keys in a query's chunk does not depend on later
        # tokens (with more chunks it can, see ReformerAttention's docstring).
        ("reformer", {"num_buckets": 4, "num_hashes": 2, "chunk_size": 8, "seed": 0}),
    ],
)
def test_causal_variants_never_look_ahead(variant, options):
    layer = make_attention(variant, HEADS, KEY_DIM, options)
    x = _random(BATCH, SEQUENCE, HIDDEN)
    changed = x.copy()
    changed[:, 9:] = _random(BATCH, SEQUENCE - 9, HIDDEN, seed=5)
    before = to_numpy(layer(x, use_causal_mask=True))
    after = to_numpy(layer(changed, use_causal_mask=True))
    assert_all_close(after[:, :9], before[:, :9], atol=1e-5, rtol=1e-5)
    assert not np.allclose(after[:, 9:], before[:, 9:], atol=1e-3)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_padded_keys_are_hidden(variant):
    cls, options, _, _ = VARIANTS[variant]
    layer = cls(HEADS, KEY_DIM, **options)
    x, mask = _random(BATCH, SEQUENCE, HIDDEN), _padding_mask()
    changed = x.copy()
    changed[1, LENGTHS[1] :] = _random(SEQUENCE - LENGTHS[1], HIDDEN, seed=7)
    causal = variant in CAUSAL_VARIANTS
    before = layer(x, padding_mask=mask, use_causal_mask=causal)
    after = layer(changed, padding_mask=mask, use_causal_mask=causal)
    assert_all_close(_real_rows(after), _real_rows(before), atol=1e-5, rtol=1e-5)


# --- Errors --------------------------------------------------------------------------


def test_unsupported_uses_raise_clear_errors():
    x = _random(BATCH, SEQUENCE, HIDDEN)
    with pytest.raises(ValueError, match="no causal mode"):
        LinformerAttention(HEADS, KEY_DIM, projection_dim=4)(x, use_causal_mask=True)
    performer = PerformerAttention(HEADS, KEY_DIM, num_features=8, seed=0)
    cache = np.zeros((BATCH, 2, SEQUENCE, HEADS, KEY_DIM), "float32")
    with pytest.raises(ValueError, match="recurrent state, not a key/value cache"):
        performer(x[:, :1], cache=cache, cache_update_index=0, use_causal_mask=True)
    with pytest.raises(ValueError, match="self-attention only"):
        performer(x, value=_random(BATCH, 4, HIDDEN))
    with pytest.raises(ValueError, match="attention_mask"):
        performer(x, attention_mask=np.ones((BATCH, SEQUENCE, SEQUENCE), bool))
    with pytest.raises(ValueError, match="return_attention_scores"):
        performer(x, return_attention_scores=True)
    linformer = LinformerAttention(HEADS, KEY_DIM, sequence_length=SEQUENCE)
    linformer(x)
    with pytest.raises(ValueError, match="built for sequences of up to 16"):
        linformer(_random(BATCH, SEQUENCE + 4, HIDDEN))
    with pytest.raises(ValueError, match="must be 1 or even"):
        ReformerAttention(HEADS, KEY_DIM, num_buckets=3)
    with pytest.raises(ValueError, match="pattern"):
        SparseAttention(HEADS, KEY_DIM, pattern="diagonal")
    with pytest.raises(ValueError, match="num_summary_tokens"):
        SparseAttention(HEADS, KEY_DIM, pattern="fixed", block_size=4, num_summary_tokens=5)


def test_blocks_and_models_validate_attention_names_and_options():
    with pytest.raises(ValueError, match="Unknown attention"):
        TransformerEncoderBlock(HEADS, 32, attention="linear")
    with pytest.raises(ValueError, match=r"Unknown attention_options.*'window'"):
        TransformerEncoderBlock(HEADS, 32, attention="longformer", attention_options={"window": 2})
    with pytest.raises(ValueError, match="go with an attention name"):
        TransformerEncoderBlock(HEADS, 32, attention_options={"attention_window": 2})
    with pytest.raises(ValueError, match="Unknown attention for GPT"):
        GPT(100, 1, HEADS, HIDDEN, 32, attention="flash")
    with pytest.raises(ValueError, match="no causal mode") as error:
        GPT(100, 1, HEADS, HIDDEN, 32, max_sequence_length=SEQUENCE, attention="linformer")
    # Refused by GPT itself, not wrapped in Keras' "Could not automatically infer ...".
    assert str(error.value).startswith("GPT received attention='linformer'")
    assert "infer the output shape" not in str(error.value)


# --- Blocks and models -----------------------------------------------------------------


def test_blocks_build_the_named_attention_and_round_trip():
    options = {"attention_window": 2, "num_global_tokens": 1}
    block = TransformerDecoderBlock(
        HEADS, 32, dropout=0.0, attention="longformer", attention_options=options
    )
    x = _random(BATCH, SEQUENCE, HIDDEN)
    output = block(x)
    assert isinstance(block._self_attention_layer, LongformerAttention)
    assert block._self_attention_layer.attention_window == 2
    revived = TransformerDecoderBlock.from_config(block.get_config())
    assert revived.get_config() == block.get_config()
    revived(x)
    revived.set_weights(block.get_weights())
    assert_all_close(revived(x), output, atol=1e-6)
    # "full" is the plain MultiHeadAttention with the same weights as attention=None.
    full = TransformerEncoderBlock(HEADS, 32, attention="full")
    full(x)
    assert type(full._self_attention_layer) is MultiHeadAttention
    assert full.get_config()["attention"] == "full"


MODEL_OPTIONS = {
    "full": {},
    "sparse": {"pattern": "strided", "block_size": 4},
    "longformer": {"attention_window": 3, "num_global_tokens": 1},
    "linformer": {"projection_dim": 8},
    "performer": {"num_features": 16, "chunk_size": 4, "seed": 0},
    "reformer": {"num_buckets": 2, "num_hashes": 2, "chunk_size": 4, "seed": 0},
}


def _tiny(model_cls, attention, **kwargs):
    return model_cls(
        vocabulary_size=32,
        num_layers=1,
        num_heads=HEADS,
        hidden_dim=HIDDEN,
        intermediate_dim=32,
        dropout=0.0,
        max_sequence_length=SEQUENCE,
        attention=attention,
        attention_options=MODEL_OPTIONS[attention],
        **kwargs,
    )


@pytest.mark.filterwarnings("ignore:Gradients do not exist")  # Bert's pooler: no loss on it
@pytest.mark.parametrize(
    "attention",
    [
        "performer",
        "sparse",
        # Compiling dominates (~20 s each on 2 cores): the other three run with `-m slow`;
        # every variant's layer also takes an XLA fit step in test_layer.
        pytest.param("longformer", marks=pytest.mark.slow),
        pytest.param("linformer", marks=pytest.mark.slow),
        pytest.param("reformer", marks=pytest.mark.slow),
    ],
)
def test_tiny_gpt_and_bert_train_under_xla(attention):
    """A tiny Bert (MLM) and a tiny GPT (next token) trained together in one XLA step."""
    rng = np.random.default_rng(0)
    token_ids = rng.integers(1, 32, size=(4, SEQUENCE)).astype("int32")
    padding_mask = np.ones((4, SEQUENCE), "int32")
    padding_mask[1, 12:] = 0
    data = {"token_ids": token_ids, "padding_mask": padding_mask}
    targets = {"mlm": token_ids, "lm": np.roll(token_ids, -1, axis=1)}

    # One compiled step for both models keeps the test fast (compiling dominates).
    inputs = {name: keras.Input((SEQUENCE,), dtype="int32", name=name) for name in data}
    bert = _tiny(Bert, attention)
    mlm_head = keras.layers.Dense(32, name="mlm")
    outputs = {"mlm": mlm_head(bert(inputs)["sequence_output"])}
    if attention != "linformer":  # no causal mode: GPT raises (tested above)
        gpt = _tiny(GPT, attention)
        outputs["lm"] = gpt(inputs)
    model = keras.Model(inputs, outputs)
    targets = {name: targets[name] for name in outputs}
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer=keras.optimizers.SGD(0.5),
        loss={name: loss for name in outputs},
        jit_compile=True,
    )
    # Each returned loss is measured before that step's update.
    first = model.train_on_batch(data, targets, return_dict=True)
    for _ in range(4):
        last = model.train_on_batch(data, targets, return_dict=True)
    for name in outputs:
        key = f"{name}_loss" if len(outputs) > 1 else "loss"
        assert np.isfinite(last[key]) and last[key] < first[key], (name, first, last)


def test_models_save_and_reload_with_efficient_attention(tmp_path):
    token_ids = np.random.default_rng(1).integers(1, 32, size=(2, SEQUENCE)).astype("int32")
    inputs = {"token_ids": token_ids, "padding_mask": np.ones_like(token_ids)}
    gpt = _tiny(GPT, "performer")
    loaded = run_saving_test(gpt, inputs, atol=1e-5)
    assert loaded.attention == "performer"
    assert loaded.attention_options == MODEL_OPTIONS["performer"]
    bert = _tiny(Bert, "linformer")
    config = bert.get_config()
    assert Bert.from_config(config).get_config() == config
    # The model passed its max_sequence_length to the Linformer projections.
    attention = bert.transformer_layers[0]._self_attention_layer
    assert tuple(attention.key_projection.shape) == (8, SEQUENCE)


@pytest.mark.parametrize("attention", ["sparse", "longformer"])
def test_cached_decoding_matches_the_full_pass(attention):
    gpt = _tiny(GPT, attention)
    token_ids = np.random.default_rng(2).integers(1, 32, size=(2, SEQUENCE)).astype("int32")
    expected = gpt({"token_ids": token_ids, "padding_mask": np.ones_like(token_ids)})
    cache = gpt.init_cache(2, SEQUENCE)
    steps = []
    for index in range(SEQUENCE):
        logits, _, cache = gpt.call_with_cache(token_ids[:, index : index + 1], cache, index)
        steps.append(to_numpy(logits))
    assert_all_close(np.concatenate(steps, axis=1), expected, atol=1e-5, rtol=1e-5)


def test_make_attention_builds_each_type():
    for name, (cls, options, _, _) in VARIANTS.items():
        layer = make_attention(name, HEADS, KEY_DIM, options, dropout=0.0)
        assert type(layer) is cls
    assert type(make_attention("full", HEADS, KEY_DIM)) is MultiHeadAttention
