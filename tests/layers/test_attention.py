import keras
import numpy as np
import pytest

from tests.test_case import assert_all_close, random_normal, run_layer_test, to_numpy, xla_compile
from zoo.layers import MultiHeadAttention

BATCH, SEQUENCE, HIDDEN, HEADS = 2, 8, 16, 2


def _padding_mask():
    mask = np.ones((BATCH, SEQUENCE), bool)
    mask[0, 5:] = False
    mask[1, 3:] = False
    return mask


def test_layer_self_attention_with_masks():
    x = random_normal(BATCH, SEQUENCE, HIDDEN)
    # The mask goes in as a (positional) model input, so it is symbolic in the functional
    # check like the query; a constant batch-2 mask against a free batch fails under JAX.
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": HEADS, "key_dim": HIDDEN // HEADS, "dropout": 0.1},
        [x, x, x, _padding_mask()],  # query, value, key, padding_mask
        expected_output_shape=(BATCH, SEQUENCE, HIDDEN),
        expected_num_trainable_weights=8,
        expected_num_non_trainable_weights=0,
        call_kwargs={"use_causal_mask": True},
    )


def test_layer_cross_attention_returns_scores():
    query, value = random_normal(BATCH, 4, HIDDEN), random_normal(BATCH, SEQUENCE, 12, seed=1)
    # A tuple output: run_layer_test cannot compare nested expected shapes, so check here.
    output, scores = run_layer_test(
        MultiHeadAttention,
        {"num_heads": HEADS, "key_dim": 4, "value_dim": 6, "output_dim": 10, "use_bias": False},
        [query, value],
        expected_num_trainable_weights=4,
        call_kwargs={"return_attention_scores": True},
    )
    assert tuple(output.shape) == (BATCH, 4, 10)
    assert tuple(scores.shape) == (BATCH, HEADS, 4, SEQUENCE)
    assert_all_close(np.sum(to_numpy(scores), axis=-1), np.ones((BATCH, HEADS, 4)), atol=1e-5)


def _copied_pair(query_shape, value_shape=None, **kwargs):
    reference = keras.layers.MultiHeadAttention(HEADS, key_dim=8, **kwargs)
    query = np.zeros(query_shape, "float32")
    value = query if value_shape is None else np.zeros(value_shape, "float32")
    reference(query, value)
    layer = MultiHeadAttention(HEADS, key_dim=8, **kwargs)
    layer(query, value)
    layer.set_weights(reference.get_weights())
    return layer, reference


@pytest.mark.parametrize("masked", [False, True])
def test_self_attention_equals_keras_multi_head_attention(masked):
    layer, reference = _copied_pair((BATCH, SEQUENCE, HIDDEN))
    x = random_normal(BATCH, SEQUENCE, HIDDEN)
    padding_mask = _padding_mask() if masked else None
    keras_mask = None
    if masked:
        keras_mask = np.broadcast_to(padding_mask[:, None, :], (BATCH, SEQUENCE, SEQUENCE))
    expected, expected_scores = reference(
        x, x, attention_mask=keras_mask, use_causal_mask=masked, return_attention_scores=True
    )
    output, scores = layer(
        x, padding_mask=padding_mask, use_causal_mask=masked, return_attention_scores=True
    )
    assert_all_close(output, expected, atol=1e-5, rtol=1e-5)
    assert_all_close(scores, expected_scores, atol=1e-5, rtol=1e-5)
    # The fast path (no scores requested) agrees as well.
    fast = layer(x, padding_mask=padding_mask, use_causal_mask=masked)
    assert_all_close(fast, expected, atol=1e-5, rtol=1e-5)


def test_cross_attention_equals_keras_multi_head_attention():
    layer, reference = _copied_pair((BATCH, 5, HIDDEN), (BATCH, SEQUENCE, 12))
    query, value, key = (
        random_normal(BATCH, 5, HIDDEN),
        random_normal(BATCH, SEQUENCE, 12, seed=1),
        None,
    )
    attention_mask = np.random.default_rng(2).random((BATCH, 5, SEQUENCE)) > 0.3
    attention_mask[..., 0] = True
    expected = reference(query, value, key, attention_mask=attention_mask)
    output = layer(query, value, key, attention_mask=attention_mask)
    assert_all_close(output, expected, atol=1e-5, rtol=1e-5)


def test_fast_path_equals_explicit_path():
    layer = MultiHeadAttention(HEADS, key_dim=8)
    query, value = random_normal(BATCH, 5, HIDDEN), random_normal(BATCH, SEQUENCE, HIDDEN, seed=1)
    padding_mask = _padding_mask()
    explicit, _ = layer(query, value, padding_mask=padding_mask, return_attention_scores=True)
    fast = layer(query, value, padding_mask=padding_mask)
    assert_all_close(fast, explicit, atol=1e-6, rtol=1e-6)


def test_single_query_path_equals_explicit_path():
    # One query per example takes the products-and-sums path (decoding steps).
    layer = MultiHeadAttention(HEADS, key_dim=8)
    query, value = random_normal(BATCH, 1, HIDDEN), random_normal(BATCH, SEQUENCE, HIDDEN, seed=1)
    padding_mask = _padding_mask()
    padding_mask[-1] = False  # a query that sees no key at all: uniform, finite
    explicit, _ = layer(query, value, padding_mask=padding_mask, return_attention_scores=True)
    single = layer(query, value, padding_mask=padding_mask)
    assert tuple(single.shape) == (BATCH, 1, HIDDEN)
    assert np.all(np.isfinite(to_numpy(single)))
    assert_all_close(single, explicit, atol=1e-6, rtol=1e-6)
    unmasked, _ = layer(query, value, return_attention_scores=True)
    assert_all_close(layer(query, value), unmasked, atol=1e-6, rtol=1e-6)


def test_padded_keys_do_not_change_real_positions():
    layer = MultiHeadAttention(HEADS, key_dim=8)
    x = random_normal(BATCH, SEQUENCE, HIDDEN)
    padding_mask = _padding_mask()
    changed = np.where(padding_mask[..., None], x, 100.0 * random_normal(*x.shape, seed=3))
    for scores in (False, True):
        before = to_numpy(layer(x, padding_mask=padding_mask, return_attention_scores=scores))
        after = to_numpy(layer(changed, padding_mask=padding_mask, return_attention_scores=scores))
        before, after = (before[0], after[0]) if scores else (before, after)
        assert_all_close(after[padding_mask], before[padding_mask], atol=1e-5, rtol=1e-5)


def test_causal_output_does_not_depend_on_the_future():
    layer = MultiHeadAttention(HEADS, key_dim=8)
    x = random_normal(BATCH, SEQUENCE, HIDDEN)
    full = to_numpy(layer(x, use_causal_mask=True))
    for t in range(SEQUENCE - 1):
        changed = x.copy()
        changed[:, t + 1 :] = random_normal(BATCH, SEQUENCE - t - 1, HIDDEN, seed=t + 10)
        output = to_numpy(layer(changed, use_causal_mask=True))
        assert_all_close(output[:, : t + 1], full[:, : t + 1], atol=1e-5, rtol=1e-5)
        assert not np.allclose(output[:, t + 1 :], full[:, t + 1 :])


def test_fully_masked_queries_stay_finite():
    layer = MultiHeadAttention(HEADS, key_dim=8)
    x = random_normal(BATCH, SEQUENCE, HIDDEN)
    padding_mask = np.zeros((BATCH, SEQUENCE), bool)
    for scores in (False, True):
        output = layer(x, padding_mask=padding_mask, return_attention_scores=scores)
        assert np.all(np.isfinite(to_numpy(output)[0] if scores else to_numpy(output)))


def test_cached_decoding_equals_full_causal_pass():
    layer = MultiHeadAttention(HEADS, key_dim=8)
    x = random_normal(BATCH, SEQUENCE, HIDDEN)
    full = layer(x, use_causal_mask=True)
    cache = np.zeros((BATCH, 2, SEQUENCE, HEADS, 8), "float32")
    # Prefill the first three positions at once, then one token at a time.
    output, cache = layer(x[:, :3], cache=cache, cache_update_index=0, use_causal_mask=True)
    outputs = [to_numpy(output)]
    step = xla_compile(
        lambda token, cache, index: layer(
            token, cache=cache, cache_update_index=index, use_causal_mask=True
        )
    )
    for t in range(3, SEQUENCE):
        output, cache = step(x[:, t : t + 1], cache, np.array(t, "int32"))
        outputs.append(to_numpy(output))
    assert tuple(cache.shape) == (BATCH, 2, SEQUENCE, HEADS, 8)
    assert_all_close(np.concatenate(outputs, axis=1), full, atol=1e-5, rtol=1e-5)
    # The cache holds the keys and values of every position.
    assert_all_close(layer.compute_cache(x), cache, atol=1e-6, rtol=1e-6)


def test_mixed_precision_stays_close_to_float32():
    x = random_normal(BATCH, SEQUENCE, HIDDEN)
    layer = MultiHeadAttention(HEADS, key_dim=8)
    mixed = MultiHeadAttention(HEADS, key_dim=8, dtype="mixed_bfloat16")
    expected = layer(x, use_causal_mask=True)
    mixed(x)
    mixed.set_weights(layer.get_weights())
    output, scores = mixed(x, use_causal_mask=True, return_attention_scores=True)
    assert keras.backend.standardize_dtype(scores.dtype) == "bfloat16"
    assert_all_close(output, expected, atol=5e-2, rtol=5e-2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_heads": 0, "key_dim": 8}, "num_heads"),
        ({"num_heads": 2, "key_dim": 8.0}, "key_dim"),
        ({"num_heads": 2, "key_dim": 8, "dropout": 1.5}, r"dropout.*\[0, 1\)"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MultiHeadAttention(**kwargs)


def test_invalid_inputs_and_caches_raise():
    with pytest.raises(ValueError, match=r"\(batch, sequence, features\)"):
        MultiHeadAttention(HEADS, key_dim=8)(np.zeros((2, 16), "float32"))
    layer = MultiHeadAttention(HEADS, key_dim=8)
    x = random_normal(BATCH, 1, HIDDEN)
    with pytest.raises(ValueError, match=r"cache.shape=\(2, 2, 8, 2, 4\)"):
        layer(x, cache=np.zeros((BATCH, 2, SEQUENCE, HEADS, 4), "float32"), cache_update_index=0)
    with pytest.raises(ValueError, match=r"shaped \(batch, 8\).*whole cache"):
        layer(
            x,
            padding_mask=np.ones((BATCH, 1), bool),
            cache=np.zeros((BATCH, 2, SEQUENCE, HEADS, 8), "float32"),
            cache_update_index=0,
        )
    different = MultiHeadAttention(HEADS, key_dim=8, value_dim=4)
    with pytest.raises(ValueError, match="value_dim == key_dim"):
        different(
            x, cache=np.zeros((BATCH, 2, SEQUENCE, HEADS, 8), "float32"), cache_update_index=0
        )
