"""Performer attention (FAVOR+, Choromanski et al., 2020): positive random features."""

import math

import keras
import numpy as np
from keras import ops

from zoo._checks import check_int
from zoo.layers.attention import flat_projection
from zoo.layers.efficient_attention.base import (
    _check_seed,
    _draw_seed,
    _EfficientAttention,
    _heads_first,
    _layer_doc,
    _pad_sequence,
)


def _normalize(numerator, denominator):
    """`(b, h, n, d)` sums of `phi(q)·phi(k) v` over `(b, h, n)` sums of `phi(q)·phi(k)`."""
    return numerator / ops.maximum(denominator, 1e-30)[..., None]


# Up to this many chunks the prefix sum is one triangular product, beyond in two levels.
_ONE_LEVEL_CHUNKS = 16


def _strictly_lower(size, batch, dtype):
    """`(batch, size, size)` copies of the strictly lower-triangular 0/1 matrix."""
    lower = ops.cast(ops.arange(size)[:, None] > ops.arange(size)[None, :], dtype)
    return ops.broadcast_to(lower, (batch, size, size))


def _exclusive_prefix_sum(x):
    """`out[:, :, i] = sum over j < i of x[:, :, j]` for `x` `(b, h, c, ...)`.

    Computed as products with a strictly lower-triangular 0/1 matrix (dense products
    instead of a cumulative sum, which XLA on CPU runs as a slow reduce-window), batched
    over `(b, h)` so that `x` is read as `(b·h, c, features)` in place, without a
    transpose; beyond 16 chunks in two levels (groups of ~sqrt(c) chunks, then the
    groups), so the cost stays O(c^1.5) instead of O(c²) per feature.
    """
    count, shape = x.shape[2], x.shape
    flat = ops.reshape(x, (-1, count, math.prod(shape[3:])))  # (b·h, c, f)
    if count <= _ONE_LEVEL_CHUNKS:
        prefix = ops.matmul(_strictly_lower(count, ops.shape(flat)[0], x.dtype), flat)
        return ops.reshape(prefix, (-1, *shape[1:]))
    group = math.ceil(math.sqrt(count))
    num_groups = -(-count // group)
    features = flat.shape[-1]
    grouped = ops.reshape(_pad_sequence(flat, num_groups * group, axis=1), (-1, group, features))
    inside = ops.matmul(_strictly_lower(group, ops.shape(grouped)[0], x.dtype), grouped)
    inside = ops.reshape(inside, (-1, num_groups, group, features))
    totals = ops.sum(ops.reshape(grouped, (-1, num_groups, group, features)), axis=2)
    before = ops.matmul(_strictly_lower(num_groups, ops.shape(totals)[0], x.dtype), totals)
    prefix = ops.reshape(inside + before[:, :, None], (-1, num_groups * group, features))
    return ops.reshape(prefix[:, :count], (-1, *shape[1:]))


def _orthogonal_gaussian(num_rows, dim, seed):
    """`(num_rows, dim)` rows: orthogonal within blocks of `dim`, chi(dim)-distributed norms.

    The "positive orthogonal random features" of FAVOR+ (Performer, section 2.4): each
    row is marginally N(0, I), rows of a block are exactly orthogonal.
    """
    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(-(-num_rows // dim)):
        orthonormal, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        blocks.append(orthonormal.T)
    rows = np.concatenate(blocks, axis=0)[:num_rows]
    norms = np.linalg.norm(rng.standard_normal((num_rows, dim)), axis=1)
    return rows * norms[:, None]


@keras.saving.register_keras_serializable(package="zoo")
class PerformerAttention(_EfficientAttention):
    __doc__ = _layer_doc(
        """Performer attention (FAVOR+): softmax attention through positive random features.

    `exp(q·k / sqrt(d))` is estimated by `phi(q)·phi(k)` with `phi(x) = exp(w x - |x|²/2)
    / sqrt(m)` over m positive orthogonal random features w (x scaled by d^-1/4), so the
    attention is `phi(Q) (phi(K)^T V)` normalized by `phi(Q) phi(K)^T 1`: O(n·m·d) time,
    O(n·m) memory, no n×n matrix. The causal mode uses prefix sums of `phi(k)^T v` and
    of `phi(k)` (the normalizer), computed on chunks of `chunk_size` positions: exact
    masked `(c, c)` products inside a chunk, the sum over earlier chunks as products with
    a triangular matrix (not a cumulative sum; in two levels beyond 16 chunks), so
    memory stays O(n·m + (n / c)·m·d) and the result equals the unchunked form up to
    float rounding. Time: O(n·c·m) inside chunks plus O(n·m·d) across them; c = 64 suits
    m = 256, d = 64. The error against softmax attention shrinks as `num_features` grows.

    The features are drawn once (from `seed`) and kept as a non-trainable weight, so the
    layer is deterministic and saved features are reloaded; the paper also redraws them
    during training. There are no attention probabilities, so `dropout` is not applied.
    Exponents run in float32; the bidirectional mode subtracts the largest key exponent
    (it cancels in the ratio), the causal mode only each query's own maximum, so no
    future key changes a past output.

    Cached decoding (`GPT` generation) carries the recurrent state instead of keys and
    values: `init_cache(batch_size)` gives float32 zeros `(batch, heads, num_features,
    key_dim + 1)`, and `layer(x, cache=state, cache_update_index=i)` returns `(output,
    state)` for the tokens of `x` at positions `i, i + 1, ...` (one token or a whole
    prompt), equal to the causal full pass. The state's size does not depend on the
    context length.

    Reference: Choromanski et al., "Rethinking Attention with Performers", 2020,
    https://arxiv.org/abs/2009.14794 (sections 2.2-2.4 and B.1).

    Args:
""",
        """        num_features: m, the number of random features.
        chunk_size: positions per chunk of the causal prefix sums.
        seed: seed of the random features; `None` draws one from NumPy.
""",
        """    >>> layer = PerformerAttention(num_heads=2, key_dim=8, num_features=32, seed=0)
    >>> x = np.random.rand(2, 16, 16).astype("float32")
    >>> tuple(layer(x, use_causal_mask=True).shape)
    (2, 16, 16)
    """,
    )

    _config_arguments = ("num_features", "chunk_size", "seed")

    def __init__(self, num_heads, key_dim, num_features=256, chunk_size=64, seed=None, **kwargs):
        super().__init__(num_heads, key_dim, **kwargs)
        check_int(num_features, "num_features", "PerformerAttention")
        check_int(chunk_size, "chunk_size", "PerformerAttention")
        _check_seed(seed, "PerformerAttention")
        self.num_features = num_features
        self.chunk_size = chunk_size
        self.seed = seed

    def build(self, query_shape, value_shape=None, key_shape=None):
        super().build(query_shape, value_shape, key_shape)
        features = _orthogonal_gaussian(self.num_features, self.key_dim, _draw_seed(self.seed))
        self.random_features = self.add_weight(
            name="random_features",
            shape=(self.num_features, self.key_dim),
            initializer=lambda shape, dtype=None: ops.convert_to_tensor(features, "float32"),
            dtype="float32",
            trainable=False,
            autocast=False,
        )

    def _features(self, x, stabilizer_axes):
        """phi(x): `(b, h, n, d)` -> float32 `(b, h, n, m)`."""
        x = ops.cast(x, "float32") * (self.key_dim**-0.25)
        projected = ops.einsum("bhnd,md->bhnm", x, self.random_features)  # w·x
        exponent = projected - 0.5 * ops.sum(ops.square(x), axis=-1, keepdims=True)
        if stabilizer_axes:
            exponent = exponent - ops.stop_gradient(
                ops.max(exponent, axis=stabilizer_axes, keepdims=True)
            )
        return (ops.exp(exponent) + 1e-6) * (self.num_features**-0.5)

    def _attend_efficient(self, q, k, v, padding_mask, causal, training):
        query_features = self._features(q, (-1,))  # each query's own maximum cancels
        key_features = self._features(k, None if causal else (2, 3))
        values = ops.cast(v, "float32")
        if padding_mask is not None:
            keep = ops.cast(padding_mask, "float32")[:, None, :, None]  # (b, 1, n, 1)
            key_features = key_features * keep
        if not causal:
            key_values = ops.einsum("bhnm,bhnd->bhmd", key_features, values)  # (b, h, m, d)
            numerator = ops.einsum("bhnm,bhmd->bhnd", query_features, key_values)
            denominator = ops.einsum("bhnm,bhm->bhn", query_features, ops.sum(key_features, 2))
            return _normalize(numerator, denominator)
        return _normalize(*self._causal_products(query_features, key_features, values))

    def _causal_products(self, query_features, key_features, values, state=None):
        """`sum over j <= i of (phi(q_i)·phi(k_j)) v_j` and of `phi(q_i)·phi(k_j)`, by chunks.

        Args:
            query_features, key_features: float32 `(b, h, n, m)`.
            values: float32 `(b, h, n, d)`.
            state: optional float32 `(b, h, m, d + 1)`: the sum of `phi(k) [v, 1]^T` over
                the positions before these n (cached decoding).

        Returns:
            float32 numerator `(b, h, n, d)` and denominator `(b, h, n)`.
        """
        length = query_features.shape[2]
        chunk = min(self.chunk_size, length)
        num_chunks = -(-length // chunk)
        padded = num_chunks * chunk

        def chunks(x):  # (b, h, n, f) -> (b, h, chunks, c, f)
            x = _pad_sequence(x, padded)
            return ops.reshape(x, (-1, self.num_heads, num_chunks, chunk, x.shape[-1]))

        qf, kf, vc = chunks(query_features), chunks(key_features), chunks(values)
        # Across chunks: phi(k)^T v and the normalizer sum phi(k) of all earlier chunks, kept
        # apart (a column of ones after v makes every product d + 1 wide, slower on CPU).
        earlier = _exclusive_prefix_sum(ops.einsum("bhcnm,bhcnd->bhcmd", kf, vc))
        earlier_sums = _exclusive_prefix_sum(ops.sum(kf, axis=3))  # (b, h, chunks, m)
        if state is not None:
            earlier = earlier + ops.expand_dims(state[..., :-1], 2)
            earlier_sums = earlier_sums + ops.expand_dims(state[..., -1], 2)
        numerator = ops.einsum("bhcnm,bhcmd->bhcnd", qf, earlier)
        denominator = ops.einsum("bhcnm,bhcm->bhcn", qf, earlier_sums)
        # Inside a chunk: the masked (c, c) products.
        within = ops.einsum("bhcim,bhcjm->bhcij", qf, kf)
        lower = ops.arange(chunk)[:, None] >= ops.arange(chunk)[None, :]
        within = ops.where(lower, within, 0.0)
        numerator = numerator + ops.einsum("bhcij,bhcjd->bhcid", within, vc)
        denominator = denominator + ops.sum(within, axis=-1)
        numerator = ops.reshape(numerator, (-1, self.num_heads, padded, values.shape[-1]))
        denominator = ops.reshape(denominator, (-1, self.num_heads, padded))
        return numerator[:, :, :length], denominator[:, :, :length]

    # --- Cached decoding: a recurrent state instead of keys and values ---

    def init_cache(self, batch_size, max_length=None):
        """Zeros of the decoding state: float32 `(batch, heads, num_features, key_dim + 1)`.

        The state is `sum over decoded positions j of phi(k_j) [v_j, 1]^T`: its first
        `key_dim` columns the key/value products, the last the normalizer `sum phi(k_j)`.
        Its size does not depend on `max_length` (accepted for the cache protocol).
        """
        if self._value_dim != self.key_dim:
            raise ValueError(
                "PerformerAttention decodes with a state of shape (batch, heads, features, "
                "key_dim + 1), which needs value_dim == key_dim. Received: "
                f"key_dim={self.key_dim}, value_dim={self._value_dim}."
            )
        shape = (batch_size, self.num_heads, self.num_features, self.key_dim + 1)
        return ops.zeros(shape, dtype="float32")

    def _call_with_cache(
        self, query, padding_mask, attention_mask, use_causal_mask, cache, cache_update_index
    ):
        expected = (self.num_heads, self.num_features, self.key_dim + 1)
        if len(cache.shape) != 4 or tuple(cache.shape[1:]) != expected:
            raise ValueError(
                "PerformerAttention decodes with its recurrent state, not a key/value cache: "
                f"`cache` must be shaped (batch, {', '.join(map(str, expected))}), as "
                f"`init_cache` makes it. Received: cache.shape={tuple(cache.shape)}."
            )
        if cache_update_index is None:
            raise ValueError(
                "PerformerAttention decodes with a state: pass `cache_update_index` (the "
                "position of the first query) with `cache`. Received cache_update_index=None."
            )
        if attention_mask is not None:
            raise ValueError(
                "PerformerAttention does not take an `attention_mask` with its decoding "
                "state (the state is causal by construction). Received an attention_mask "
                f"of shape {tuple(attention_mask.shape)}; pass `padding_mask` only."
            )
        query_heads, key_heads, value_heads = (_heads_first(x) for x in self._project(query))
        query_features = self._features(query_heads, (-1,))
        key_features = self._features(key_heads, None)  # as the causal full pass
        if padding_mask is not None:
            # (batch, max_length) over positions: the new tokens' slice of it.
            length = query.shape[1]
            keep = ops.slice(
                ops.cast(padding_mask, "float32"),
                [0, cache_update_index],
                [ops.shape(padding_mask)[0], length],
            )
            key_features = key_features * keep[:, None, :, None]
        values = ops.cast(value_heads, "float32")
        state = ops.cast(cache, "float32")
        products = self._causal_products(query_features, key_features, values, state)
        update = ops.einsum("bhnm,bhnd->bhmd", key_features, values)
        update = ops.concatenate([update, ops.sum(key_features, axis=2)[..., None]], axis=-1)
        state = state + update  # (b, h, m, d + 1): [phi(k)^T v, sum phi(k)]
        attended = ops.cast(_heads_first(_normalize(*products)), self.compute_dtype)
        return flat_projection(attended, self._output_dense, 2), state
