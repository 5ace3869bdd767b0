"""Performer attention (FAVOR+, Choromanski et al., 2020): positive random features."""

import keras
import numpy as np
from keras import ops

from zoo._checks import check_int
from zoo.layers.efficient_attention.base import (
    _CALL_DOC,
    _COMMON_ARGS_DOC,
    _check_seed,
    _draw_seed,
    _EfficientAttention,
    _pad_sequence,
)


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
    __doc__ = (
        """Performer attention (FAVOR+): softmax attention through positive random features.

    `exp(q·k / sqrt(d))` is estimated by `phi(q)·phi(k)` with `phi(x) = exp(w x - |x|²/2)
    / sqrt(m)` over m positive orthogonal random features w (x scaled by d^-1/4), so the
    attention is `phi(Q) (phi(K)^T V)` normalized by `phi(Q) phi(K)^T 1`: O(n·m·d) time,
    O(n·m) memory, no n×n matrix. The causal mode uses prefix sums of `phi(k) v^T`,
    computed on chunks of `chunk_size` positions (exact masked products inside a chunk,
    a running sum across chunks), so memory stays O(n·m + (n / chunk)·m·d). The error
    against softmax attention shrinks as `num_features` grows.

    The features are drawn once (from `seed`) and kept as a non-trainable weight, so the
    layer is deterministic and saved features are reloaded; the paper also redraws them
    during training. There are no attention probabilities, so `dropout` is not applied.
    Exponents run in float32; the bidirectional mode subtracts the largest key exponent
    (it cancels in the ratio), the causal mode only each query's own maximum, so no
    future key changes a past output. No cache decoding.

    Reference: Choromanski et al., "Rethinking Attention with Performers", 2020,
    https://arxiv.org/abs/2009.14794 (sections 2.2-2.4 and B.1).

    Args:
"""
        + _COMMON_ARGS_DOC.replace(
            "        num_heads:",
            "        num_features: m, the number of random features.\n"
            "        chunk_size: positions per chunk of the causal prefix sums.\n"
            "        seed: seed of the random features; `None` draws one from NumPy.\n"
            "        num_heads:",
        )
        + _CALL_DOC
        + """
    Example:

    >>> import numpy as np
    >>> layer = PerformerAttention(num_heads=2, key_dim=8, num_features=32, seed=0)
    >>> x = np.random.rand(2, 16, 16).astype("float32")
    >>> tuple(layer(x, use_causal_mask=True).shape)
    (2, 16, 16)
    """
    )

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
        length = q.shape[2]
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
            return numerator / ops.maximum(denominator, 1e-30)[..., None]

        chunk = min(self.chunk_size, length)
        num_chunks = -(-length // chunk)
        padded = num_chunks * chunk

        def chunks(x):  # (b, h, n, f) -> (b, h, chunks, c, f)
            x = _pad_sequence(x, padded)
            return ops.reshape(x, (-1, self.num_heads, num_chunks, chunk, x.shape[-1]))

        qf, kf, vc = chunks(query_features), chunks(key_features), chunks(values)
        # Across chunks: the sums of phi(k) v^T and phi(k) over all earlier chunks.
        chunk_key_values = ops.einsum("bhcnm,bhcnd->bhcmd", kf, vc)  # (b, h, chunks, m, d)
        chunk_keys = ops.sum(kf, axis=3)  # (b, h, chunks, m)
        earlier_key_values = ops.cumsum(chunk_key_values, axis=2) - chunk_key_values
        earlier_keys = ops.cumsum(chunk_keys, axis=2) - chunk_keys
        numerator = ops.einsum("bhcnm,bhcmd->bhcnd", qf, earlier_key_values)
        denominator = ops.einsum("bhcnm,bhcm->bhcn", qf, earlier_keys)
        # Inside a chunk: the masked (c, c) products.
        within = ops.einsum("bhcim,bhcjm->bhcij", qf, kf)
        lower = ops.arange(chunk)[:, None] >= ops.arange(chunk)[None, :]
        within = ops.where(lower, within, 0.0)
        numerator = numerator + ops.einsum("bhcij,bhcjd->bhcid", within, vc)
        denominator = denominator + ops.sum(within, axis=-1)
        attended = numerator / ops.maximum(denominator, 1e-30)[..., None]
        return ops.reshape(attended, (-1, self.num_heads, padded, v.shape[-1]))[:, :, :length]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_features": self.num_features,
                "chunk_size": self.chunk_size,
                "seed": self.seed,
            }
        )
        return config
