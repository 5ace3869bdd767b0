"""Causal long context: Performer's chunked causal form against its unchunked (dense) form,
decoding with its recurrent state against the full pass, and Sparse's causal form that
skips the far keys of later query groups against the dense form."""

import numpy as np
import pytest

from tests.test_case import assert_all_close, run_jax, to_numpy
from zoo.layers import PerformerAttention, SparseAttention
from zoo.layers.efficient_attention.base import _heads_first

HEADS, KEY_DIM, HIDDEN = 2, 8, 16


def _random(*shape, seed=0, scale=1.0):
    return (scale * np.random.default_rng(seed).normal(size=shape)).astype("float32")


def _dense_causal_reference(layer, x, padding_mask=None):
    """The unchunked form: `tril(phi(Q) phi(K)^T) V`, normalized row by row, in NumPy."""
    q, k, v = (_heads_first(t) for t in layer._project(x))
    query_features = to_numpy(layer._features(q, (-1,))).astype("float64")
    key_features = to_numpy(layer._features(k, None)).astype("float64")
    if padding_mask is not None:
        key_features = key_features * padding_mask[:, None, :, None]
    scores = np.einsum("bhim,bhjm->bhij", query_features, key_features)
    scores = np.tril(scores)  # (b, h, n, n): keys j <= i
    attended = np.einsum("bhij,bhjd->bhid", scores, to_numpy(v)) / scores.sum(-1)[..., None]
    return attended  # (b, h, n, d)


@pytest.mark.parametrize(
    "length, chunk_size",
    [
        (16, 1),
        (16, 3),  # a chunk size that does not divide the length
        (16, 4),
        (16, 16),
        (16, 64),  # one chunk, shorter than chunk_size
        (150, 2),  # 75 chunks: the two-level prefix sum
    ],
)
def test_performer_chunked_causal_equals_unchunked(length, chunk_size):
    layer = PerformerAttention(HEADS, KEY_DIM, num_features=32, chunk_size=chunk_size, seed=0)
    x = _random(2, length, HIDDEN, scale=0.5)
    mask = np.ones((2, length), "float32")
    mask[1, length - 5 :] = 0.0
    layer(x)
    q, k, v = (_heads_first(t) for t in layer._project(x))
    chunked = to_numpy(layer._attend_efficient(q, k, v, mask, True, False))
    expected = _dense_causal_reference(layer, x, mask)
    error = np.abs(chunked - expected).max() / np.abs(expected).max()
    assert error < 2e-6, error
    # And it is not trivially equal: the bidirectional form differs.
    bidirectional = to_numpy(layer._attend_efficient(q, k, v, mask, False, False))
    assert np.abs(bidirectional - expected).max() > 1e-2


@pytest.mark.parametrize("pieces", [(16,), (1,) * 16, (5, 1, 1, 4, 3, 2)])
def test_performer_state_decoding_equals_the_full_pass(pieces):
    layer = PerformerAttention(HEADS, KEY_DIM, num_features=32, chunk_size=4, seed=1)
    x = _random(2, 16, HIDDEN, seed=3, scale=0.5)
    expected = to_numpy(layer(x, use_causal_mask=True))
    state = layer.init_cache(2)
    assert tuple(state.shape) == (2, HEADS, 32, KEY_DIM + 1)
    outputs, index = [], 0
    for size in pieces:
        output, state = layer(
            x[:, index : index + size], cache=state, cache_update_index=index, use_causal_mask=True
        )
        outputs.append(to_numpy(output))
        index += size
    assert_all_close(np.concatenate(outputs, axis=1), expected, atol=1e-5, rtol=1e-5)
    # The state is the sum of phi(k) [v, 1]^T: its normalizer column is sum phi(k).
    key_features = to_numpy(layer._features(_heads_first(layer._project(x)[1]), None))
    assert_all_close(to_numpy(state)[..., -1], key_features.sum(2), rtol=1e-5, atol=1e-6)


def test_performer_state_skips_masked_keys():
    layer = PerformerAttention(HEADS, KEY_DIM, num_features=16, chunk_size=4, seed=0)
    x = _random(2, 8, HIDDEN)
    mask = np.ones((2, 12), "int32")  # over positions, as a decoding loop passes it
    mask[:, 5:] = 0
    _, state = layer(x, cache=layer.init_cache(2), cache_update_index=0, padding_mask=mask)
    _, first_five = layer(x[:, :5], cache=layer.init_cache(2), cache_update_index=0)
    assert_all_close(state, first_five, rtol=1e-6, atol=1e-6)


def test_performer_state_errors():
    layer = PerformerAttention(HEADS, KEY_DIM, num_features=16, seed=0)
    x = _random(2, 4, HIDDEN)
    layer(x)
    state = layer.init_cache(2)
    with pytest.raises(ValueError, match="cache_update_index"):
        layer(x, cache=state)
    with pytest.raises(ValueError, match="attention_mask"):
        layer(x, cache=state, cache_update_index=0, attention_mask=np.ones((2, 4, 4), bool))
    with pytest.raises(ValueError, match=r"\(batch, 2, 16, 9\)"):
        layer(x, cache=np.zeros((2, 2, 16, 8), "float32"), cache_update_index=0)


_JAX_STATE = """
import numpy as np, keras
from zoo.layers import PerformerAttention, SparseAttention
assert keras.backend.backend() == "jax"
layer = PerformerAttention(2, 8, num_features=32, chunk_size=4, seed=1)
x = np.random.default_rng(3).normal(size=(2, 16, 16)).astype("float32") * 0.5
expected = keras.ops.convert_to_numpy(layer(x, use_causal_mask=True))
state, outputs = layer.init_cache(2), []
for index, size in ((0, 5), (5, 1), (6, 10)):
    output, state = layer(x[:, index:index + size], cache=state, cache_update_index=index)
    outputs.append(keras.ops.convert_to_numpy(output))
print(float(np.abs(np.concatenate(outputs, 1) - expected).max()))
"""


@pytest.mark.slow  # a JAX subprocess: ~30 s on a loaded 2-core machine
def test_performer_state_decoding_under_jax():
    pytest.importorskip("jax")
    error = float(run_jax(_JAX_STATE).strip().splitlines()[-1])
    assert error < 1e-5, error


@pytest.mark.parametrize(
    "options, length, groups",
    [
        ({"pattern": "strided", "block_size": 4}, 40, 4),  # 10 blocks in groups of 2-3
        ({"pattern": "strided", "block_size": 3}, 40, 3),  # a block size that leaves a rest
        ({"pattern": "fixed", "block_size": 4, "num_summary_tokens": 2}, 40, 4),
        ({"pattern": "fixed", "block_size": 8, "num_summary_tokens": 3}, 20, 5),  # 3 blocks
    ],
)
def test_sparse_causal_groups_equal_the_dense_form(options, length, groups):
    layer = SparseAttention(HEADS, KEY_DIM, **options)
    x = _random(2, length, HIDDEN)
    mask = np.ones((2, length), bool)
    mask[1, length - 7 :] = False
    layer._causal_groups = groups
    grouped = to_numpy(layer(x, padding_mask=mask, use_causal_mask=True))
    layer._causal_groups = 1  # one group: every far key computed, the later ones masked
    dense = to_numpy(layer(x, padding_mask=mask, use_causal_mask=True))
    assert_all_close(grouped, dense, atol=1e-6, rtol=1e-6)
