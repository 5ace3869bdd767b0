import keras
import numpy as np
import pytest

from tests.test_case import (
    assert_all_close,
    random_normal,
    run_layer_test,
    run_saving_test,
    to_numpy,
    xla_compile,
)
from zoo.layers import (
    MultiHeadAttention,
    TokenAndPositionEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)

BATCH, SEQUENCE, HIDDEN, HEADS, INTERMEDIATE = 2, 8, 16, 2, 32
SOURCE = 6


def _padding_mask(length=SEQUENCE, lengths=(5, 3)):
    return np.arange(length)[None, :] < np.array(lengths)[:, None]  # (batch, length)


def _block_kwargs(**kwargs):
    return {"num_heads": HEADS, "intermediate_dim": INTERMEDIATE, **kwargs}


def test_encoder_layer():
    # Pre-LN is run by the decoder's layer test; both share the residual code.
    run_layer_test(
        TransformerEncoderBlock,
        _block_kwargs(activation="gelu"),
        [random_normal(BATCH, SEQUENCE, HIDDEN), _padding_mask()],  # inputs, padding_mask
        expected_output_shape=(BATCH, SEQUENCE, HIDDEN),
        # attention 8, two LayerNorms 4, feed-forward 4
        expected_num_trainable_weights=16,
        expected_num_non_trainable_weights=0,
    )


def test_decoder_layer_with_cross_attention():
    run_layer_test(
        TransformerDecoderBlock,
        _block_kwargs(normalize_first=True),
        [random_normal(BATCH, SEQUENCE, HIDDEN), random_normal(BATCH, SOURCE, HIDDEN, seed=1)],
        expected_output_shape=(BATCH, SEQUENCE, HIDDEN),
        # self-attention 8 + 2, cross-attention 8 + 2, feed-forward 4 + 2
        expected_num_trainable_weights=26,
    )


def test_decoder_layer_without_cross_attention():
    run_layer_test(
        TransformerDecoderBlock,
        _block_kwargs(dropout=0.0),
        random_normal(BATCH, SEQUENCE, HIDDEN),
        expected_output_shape=(BATCH, SEQUENCE, HIDDEN),
        expected_num_trainable_weights=16,
    )


def test_encoder_custom_attention_round_trips():
    attention = MultiHeadAttention(HEADS, key_dim=4, value_dim=8, name="custom_attention")
    block = TransformerEncoderBlock(**_block_kwargs(attention=attention))
    block(random_normal(BATCH, SEQUENCE, HIDDEN))
    assert block._self_attention_layer is attention
    assert len(block.trainable_weights) == 16
    revived = TransformerEncoderBlock.from_config(block.get_config())
    assert isinstance(revived.attention, MultiHeadAttention)
    assert revived.attention.value_dim == 8
    assert revived.get_config() == block.get_config()


@pytest.mark.parametrize("normalize_first", [False, True])
def test_encoder_padding_does_not_change_real_positions(normalize_first):
    block = TransformerEncoderBlock(**_block_kwargs(normalize_first=normalize_first))
    x = random_normal(BATCH, SEQUENCE, HIDDEN)
    padding_mask = _padding_mask()
    changed = np.where(padding_mask[..., None], x, random_normal(*x.shape, seed=5) * 10.0)
    before = to_numpy(block(x, padding_mask=padding_mask))
    after = to_numpy(block(changed, padding_mask=padding_mask))
    assert_all_close(after[padding_mask], before[padding_mask], atol=1e-5, rtol=1e-5)
    assert not np.allclose(after[~padding_mask], before[~padding_mask])


def test_decoder_padding_does_not_change_real_positions():
    block = TransformerDecoderBlock(**_block_kwargs())
    target, source = (
        random_normal(BATCH, SEQUENCE, HIDDEN),
        random_normal(BATCH, SOURCE, HIDDEN, seed=1),
    )
    target_mask, source_mask = _padding_mask(), _padding_mask(SOURCE, (4, 2))
    changed_target = np.where(target_mask[..., None], target, 10.0 * random_normal(*target.shape))
    changed_source = np.where(source_mask[..., None], source, 10.0 * random_normal(*source.shape))

    def run(target, source):
        return to_numpy(
            block(
                target,
                source,
                decoder_padding_mask=target_mask,
                encoder_padding_mask=source_mask,
            )
        )

    before, after = run(target, source), run(changed_target, changed_source)
    assert_all_close(after[target_mask], before[target_mask], atol=1e-5, rtol=1e-5)


def test_decoder_output_does_not_depend_on_the_future():
    block = TransformerDecoderBlock(**_block_kwargs())
    x, source = random_normal(BATCH, SEQUENCE, HIDDEN), random_normal(BATCH, SOURCE, HIDDEN, seed=1)
    full = to_numpy(block(x, source))
    for t in range(SEQUENCE - 1):
        changed = x.copy()
        changed[:, t + 1 :] = random_normal(BATCH, SEQUENCE - t - 1, HIDDEN, seed=t + 10)
        output = to_numpy(block(changed, source))
        assert_all_close(output[:, : t + 1], full[:, : t + 1], atol=1e-5, rtol=1e-5)
    # Without the causal mask the future leaks in.
    changed = x.copy()
    changed[:, -1] += 1.0
    unmasked = to_numpy(block(changed, source, use_causal_mask=False))
    assert not np.allclose(unmasked[:, 0], to_numpy(block(x, source, use_causal_mask=False))[:, 0])


@pytest.mark.parametrize("normalize_first", [False, True])
def test_cached_decoding_equals_full_causal_pass(normalize_first):
    block = TransformerDecoderBlock(**_block_kwargs(normalize_first=normalize_first))
    x, source = random_normal(BATCH, SEQUENCE, HIDDEN), random_normal(BATCH, SOURCE, HIDDEN, seed=1)
    source_mask = _padding_mask(SOURCE, (4, 6))
    full = block(x, source, encoder_padding_mask=source_mask)

    self_cache = np.zeros((BATCH, 2, SEQUENCE, HEADS, HIDDEN // HEADS), "float32")
    # The first step computes the cross-attention cache from the encoder output ...
    output, self_cache, cross_cache = block(
        x[:, :1],
        source,
        encoder_padding_mask=source_mask,
        self_attention_cache=self_cache,
        self_attention_cache_update_index=0,
    )
    assert tuple(cross_cache.shape) == (BATCH, 2, SOURCE, HEADS, HIDDEN // HEADS)
    outputs = [to_numpy(output)]

    # ... the next steps reuse it, in one XLA-compiled step with fixed shapes.
    @xla_compile
    def step(token, self_cache, cross_cache, index):
        return block(
            token,
            encoder_padding_mask=source_mask,
            self_attention_cache=self_cache,
            self_attention_cache_update_index=index,
            cross_attention_cache=cross_cache,
        )

    for t in range(1, SEQUENCE):
        output, self_cache, cross_cache = step(
            x[:, t : t + 1], self_cache, cross_cache, np.array(t, "int32")
        )
        outputs.append(to_numpy(output))
    assert_all_close(np.concatenate(outputs, axis=1), full, atol=1e-5, rtol=1e-5)


def test_cached_decoding_without_cross_attention():
    block = TransformerDecoderBlock(**_block_kwargs())
    x = random_normal(BATCH, SEQUENCE, HIDDEN)
    full = to_numpy(block(x))
    cache = np.zeros((BATCH, 2, SEQUENCE, HEADS, HIDDEN // HEADS), "float32")
    prefill, cache = block(
        x[:, :5], self_attention_cache=cache, self_attention_cache_update_index=0
    )
    assert_all_close(prefill, full[:, :5], atol=1e-5, rtol=1e-5)
    for t in range(5, SEQUENCE):
        output, cache = block(
            x[:, t : t + 1], self_attention_cache=cache, self_attention_cache_update_index=t
        )
        assert_all_close(output, full[:, t : t + 1], atol=1e-5, rtol=1e-5)


def test_mixed_precision_layer_norm_statistics_are_float32():
    # A large common offset: bfloat16 statistics would lose the small variations.
    x = 64.0 + random_normal(BATCH, SEQUENCE, HIDDEN)
    block = TransformerEncoderBlock(**_block_kwargs())
    mixed = TransformerEncoderBlock(**_block_kwargs(dtype="mixed_bfloat16"))
    expected = block(x)
    mixed(x)
    mixed.set_weights(block.get_weights())
    output = mixed(x)
    assert keras.backend.standardize_dtype(output.dtype) == "bfloat16"
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in mixed.weights)
    assert_all_close(output, expected, atol=0.1, rtol=0.1)


def test_hidden_dim_not_divisible_by_num_heads_says_how_to_fix():
    block = TransformerEncoderBlock(num_heads=3, intermediate_dim=INTERMEDIATE)
    with pytest.raises(ValueError, match=r"hidden_dim=16, num_heads=3.*\[1, 2, 4, 8, 16\]"):
        block(random_normal(BATCH, SEQUENCE, HIDDEN))
    with pytest.raises(ValueError, match="divisible by num_heads"):
        TransformerDecoderBlock(num_heads=5, intermediate_dim=8)(random_normal(1, 2, HIDDEN))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_heads": 0}, "num_heads"),
        ({"intermediate_dim": None}, "intermediate_dim"),
        ({"dropout": 1.0}, "dropout"),
        ({"activation": "sigmoidal"}, r"Unknown activation.*'relu'"),
        ({"layer_norm_epsilon": 0}, "layer_norm_epsilon"),
        ({"attention": "mha"}, "attention"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    for block_cls in (TransformerEncoderBlock, TransformerDecoderBlock):
        with pytest.raises(ValueError, match=message):
            block_cls(**_block_kwargs(**kwargs))


def test_invalid_decoder_calls_raise():
    x, source = random_normal(BATCH, SEQUENCE, HIDDEN), random_normal(BATCH, SOURCE, HIDDEN)
    gpt_block = TransformerDecoderBlock(**_block_kwargs())
    gpt_block(x)
    with pytest.raises(ValueError, match="built without cross-attention"):
        gpt_block(x, source)
    with pytest.raises(ValueError, match="together"):
        gpt_block(x, self_attention_cache=np.zeros((BATCH, 2, SEQUENCE, HEADS, 8), "float32"))
    translation_block = TransformerDecoderBlock(**_block_kwargs())
    translation_block(x, source)
    with pytest.raises(ValueError, match="needs `encoder_sequence`"):
        translation_block(x)


def _reference_scores(block, x, padding_mask, causal, encoder_output=None, encoder_mask=None):
    """The scores as `zoo.plots` computed them before the blocks returned their own: the
    block's LayerNorm / residual order re-done by hand around the attention layers' own
    `return_attention_scores` calls. `(self_scores, cross_scores or None)`."""
    attention = block._self_attention_layer
    query = block._self_attention_layer_norm(x) if block.normalize_first else x
    extra = {"use_causal_mask": True} if causal else {}
    output, self_scores = attention(
        query, padding_mask=padding_mask, return_attention_scores=True, training=False, **extra
    )
    if encoder_output is None:
        return self_scores, None
    hidden = x + output  # the sublayer's dropout is the identity at inference
    if not block.normalize_first:
        hidden = block._self_attention_layer_norm(hidden)
    query = block._cross_attention_layer_norm(hidden) if block.normalize_first else hidden
    _, cross_scores = block._cross_attention_layer(
        query,
        value=encoder_output,
        padding_mask=encoder_mask,
        return_attention_scores=True,
        training=False,
    )
    return self_scores, cross_scores


@pytest.mark.parametrize("normalize_first", [False, True])
def test_encoder_returns_the_scores_of_its_attention_layer(normalize_first):
    block = TransformerEncoderBlock(**_block_kwargs(normalize_first=normalize_first))
    x, padding_mask = random_normal(BATCH, SEQUENCE, HIDDEN), _padding_mask()
    output, scores = block(x, padding_mask=padding_mask, return_attention_scores=True)
    assert tuple(scores.shape) == (BATCH, HEADS, SEQUENCE, SEQUENCE)
    expected, _ = _reference_scores(block, x, padding_mask, causal=False)
    assert_all_close(scores, expected, atol=1e-6, rtol=1e-6)
    assert_all_close(output, block(x, padding_mask=padding_mask), atol=1e-5, rtol=1e-5)
    scores = to_numpy(scores)
    assert np.all(scores[0, :, :, 5:] < 1e-6) and np.all(scores[1, :, :, 3:] < 1e-6)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_decoder_returns_self_and_cross_attention_scores(normalize_first):
    block = TransformerDecoderBlock(**_block_kwargs(normalize_first=normalize_first))
    x, source = random_normal(BATCH, SEQUENCE, HIDDEN), random_normal(BATCH, SOURCE, HIDDEN, seed=1)
    target_mask, source_mask = _padding_mask(), _padding_mask(SOURCE, (4, 6))
    kwargs = {"decoder_padding_mask": target_mask, "encoder_padding_mask": source_mask}
    output, scores = block(x, source, return_attention_scores=True, **kwargs)
    assert sorted(scores) == ["cross_attention", "self_attention"]
    assert tuple(scores["self_attention"].shape) == (BATCH, HEADS, SEQUENCE, SEQUENCE)
    assert tuple(scores["cross_attention"].shape) == (BATCH, HEADS, SEQUENCE, SOURCE)
    expected_self, expected_cross = _reference_scores(
        block, x, target_mask, True, source, source_mask
    )
    assert_all_close(scores["self_attention"], expected_self, atol=1e-6, rtol=1e-6)
    assert_all_close(scores["cross_attention"], expected_cross, atol=1e-6, rtol=1e-6)
    assert_all_close(output, block(x, source, **kwargs), atol=1e-5, rtol=1e-5)
    upper = np.triu(np.ones((SEQUENCE, SEQUENCE), bool), k=1)
    assert np.all(to_numpy(scores["self_attention"])[:, :, upper] < 1e-6)  # causal

    gpt_block = TransformerDecoderBlock(**_block_kwargs(normalize_first=normalize_first))
    output, scores = gpt_block(x, decoder_padding_mask=target_mask, return_attention_scores=True)
    assert list(scores) == ["self_attention"]
    expected, _ = _reference_scores(gpt_block, x, target_mask, causal=True)
    assert_all_close(scores["self_attention"], expected, atol=1e-6, rtol=1e-6)


def test_decoder_scores_while_decoding_with_a_cache():
    block = TransformerDecoderBlock(**_block_kwargs())
    x, source = random_normal(BATCH, SEQUENCE, HIDDEN), random_normal(BATCH, SOURCE, HIDDEN, seed=1)
    source_mask = _padding_mask(SOURCE, (4, 6))
    expected, full = block(
        x, source, encoder_padding_mask=source_mask, return_attention_scores=True
    )
    self_cache = np.zeros((BATCH, 2, SEQUENCE, HEADS, HIDDEN // HEADS), "float32")
    cross_cache = block.compute_cross_attention_cache(source)
    for t in range(SEQUENCE):
        output, self_cache, cross_cache, scores = block(
            x[:, t : t + 1],
            encoder_padding_mask=source_mask,
            self_attention_cache=self_cache,
            self_attention_cache_update_index=t,
            cross_attention_cache=cross_cache,
            return_attention_scores=True,
        )
        assert_all_close(output, expected[:, t : t + 1], atol=1e-5, rtol=1e-5)
        # (batch, heads, 1, max_length): the cache positions after t get nothing.
        assert tuple(scores["self_attention"].shape) == (BATCH, HEADS, 1, SEQUENCE)
        for kind in ("self_attention", "cross_attention"):
            assert_all_close(scores[kind], full[kind][:, :, t : t + 1], atol=1e-5, rtol=1e-5)


def test_compute_cross_attention_cache_is_the_cache_the_block_makes():
    block = TransformerDecoderBlock(**_block_kwargs())
    x, source = random_normal(BATCH, SEQUENCE, HIDDEN), random_normal(BATCH, SOURCE, HIDDEN, seed=1)
    with pytest.raises(ValueError, match="built on its first call"):
        block.compute_cross_attention_cache(source)
    self_cache = np.zeros((BATCH, 2, SEQUENCE, HEADS, HIDDEN // HEADS), "float32")
    *_, made = block(
        x[:, :1], source, self_attention_cache=self_cache, self_attention_cache_update_index=0
    )
    cache = block.compute_cross_attention_cache(source)
    assert tuple(cache.shape) == (BATCH, 2, SOURCE, HEADS, HIDDEN // HEADS)
    assert_all_close(cache, made)
    gpt_block = TransformerDecoderBlock(**_block_kwargs())
    gpt_block(x)
    with pytest.raises(ValueError, match="has no cross-attention, so"):
        gpt_block.compute_cross_attention_cache(source)


def test_attention_scores_need_a_zoo_multi_head_attention():
    class Identity(keras.layers.Layer):
        def call(self, x, **kwargs):
            return x

    x = random_normal(BATCH, SEQUENCE, HIDDEN)
    block = TransformerEncoderBlock(**_block_kwargs(attention=Identity()))
    block(x)
    with pytest.raises(ValueError, match="needs the zoo MultiHeadAttention"):
        block(x, return_attention_scores=True)
    block = TransformerDecoderBlock(**_block_kwargs(attention="performer"))
    with pytest.raises(ValueError, match="cannot return them"):
        block(x, return_attention_scores=True)


def test_scores_in_a_functional_model():
    inputs = keras.Input((SEQUENCE, HIDDEN))
    source = keras.Input((SOURCE, HIDDEN))
    encoded, encoder_scores = TransformerEncoderBlock(**_block_kwargs())(
        inputs, return_attention_scores=True
    )
    assert tuple(encoder_scores.shape) == (None, HEADS, SEQUENCE, SEQUENCE)
    decoded, decoder_scores = TransformerDecoderBlock(**_block_kwargs())(
        inputs, source, return_attention_scores=True
    )
    model = keras.Model([inputs, source], [encoded, encoder_scores, decoded, decoder_scores])
    outputs = model([random_normal(BATCH, SEQUENCE, HIDDEN), random_normal(BATCH, SOURCE, HIDDEN)])
    assert tuple(outputs[1].shape) == (BATCH, HEADS, SEQUENCE, SEQUENCE)
    assert tuple(outputs[2].shape) == (BATCH, SEQUENCE, HIDDEN)
    assert tuple(outputs[3]["cross_attention"].shape) == (BATCH, HEADS, SEQUENCE, SOURCE)


def test_saving_a_functional_encoder_decoder():
    source_ids = keras.Input((SOURCE,), dtype="int32", name="source_ids")
    target_ids = keras.Input((SEQUENCE,), dtype="int32", name="target_ids")
    source_mask = keras.Input((SOURCE,), dtype="bool", name="source_mask")
    embedding = TokenAndPositionEmbedding(
        30, SEQUENCE, HIDDEN, position="sinusoidal", embeddings_scale=True, name="embedding"
    )
    attention = MultiHeadAttention(HEADS, key_dim=8, name="custom_attention")
    encoded = TransformerEncoderBlock(**_block_kwargs(attention=attention), name="encoder")(
        embedding(source_ids), padding_mask=source_mask
    )
    decoded = TransformerDecoderBlock(**_block_kwargs(normalize_first=True), name="decoder")(
        embedding(target_ids), encoded, encoder_padding_mask=source_mask
    )
    logits = embedding.logits(decoded)
    model = keras.Model([source_ids, target_ids, source_mask], logits)
    rng = np.random.default_rng(0)
    inputs = [
        rng.integers(0, 30, (BATCH, SOURCE)).astype("int32"),
        rng.integers(0, 30, (BATCH, SEQUENCE)).astype("int32"),
        _padding_mask(SOURCE, (6, 4)),
    ]
    loaded = run_saving_test(model, inputs, atol=1e-5)
    assert loaded.get_layer("encoder").attention.name == "custom_attention"
