"""Reformer attention (Kitaev et al., 2020): LSH buckets, sorted and chunked."""

import keras
import numpy as np
from keras import ops

from zoo._checks import check_int
from zoo.layers.attention import flat_projection
from zoo.layers.efficient_attention.base import (
    _check_seed,
    _draw_seed,
    _EfficientAttention,
    _hide,
    _key_validity,
    _layer_doc,
    _pad_sequence,
)

# Reformer's rule for a token and itself: a large negative logit (not "never"), so a
# token attends to itself only when no other key is available.
_SELF_LOGIT = -1e5


@keras.saving.register_keras_serializable(package="zoo")
class ReformerAttention(_EfficientAttention):
    __doc__ = _layer_doc(
        """Reformer attention: LSH buckets, sorted and chunked, over several hash rounds.

    Queries and keys are shared (the key of a token is its normalized query, the
    paper's shared-QK attention; the layer has no key projection). Each of `num_hashes`
    rounds hashes the normalized queries into `num_buckets` buckets with a random
    rotation (`argmax([xR, -xR])`), sorts the positions by (bucket, position), cuts the
    sorted sequence into chunks of `chunk_size` and lets each chunk attend to itself and
    the previous chunk, only to keys of the same bucket. A token attends to itself only
    when no other key is available (logit -1e5). The rounds are combined with weights
    proportional to their softmax normalizers. Time and memory O(num_hashes·n·chunk).

    With `num_buckets=1` and two chunks every query sees every key, and the layer equals
    full shared-QK attention with the self rule. With `use_causal_mask=True` a query
    attends to earlier keys only; note that which earlier keys share its sorted chunk
    depends on the buckets of all tokens, later ones included (as in the paper).

    The rotations are drawn once (from `seed`) and kept as a non-trainable weight (the
    paper redraws them at every step), so inference is deterministic. No cache decoding.

    Reference: Kitaev et al., "Reformer: The Efficient Transformer", 2020,
    https://arxiv.org/abs/2001.04451 (section 2).

    Args:
""",
        """        num_buckets: number of hash buckets: 1 or an even number.
        num_hashes: number of hash rounds.
        chunk_size: positions per chunk of the sorted sequence.
        seed: seed of the random rotations; `None` draws one from NumPy.
""",
        """    >>> layer = ReformerAttention(num_heads=2, key_dim=8, num_buckets=4, chunk_size=8,
    ...                           seed=0)
    >>> x = np.random.rand(2, 32, 16).astype("float32")
    >>> tuple(layer(x, use_causal_mask=True).shape)
    (2, 32, 16)
    """,
    )

    _config_arguments = ("num_buckets", "num_hashes", "chunk_size", "seed")

    def __init__(
        self, num_heads, key_dim, num_buckets=8, num_hashes=2, chunk_size=64, seed=None, **kwargs
    ):
        super().__init__(num_heads, key_dim, **kwargs)
        check_int(num_buckets, "num_buckets", "ReformerAttention")
        check_int(num_hashes, "num_hashes", "ReformerAttention")
        check_int(chunk_size, "chunk_size", "ReformerAttention")
        if num_buckets > 1 and num_buckets % 2:
            raise ValueError(
                "`num_buckets` of ReformerAttention must be 1 or even (a bucket is the argmax "
                f"of [xR, -xR]). Received: num_buckets={num_buckets}; use {num_buckets + 1}."
            )
        _check_seed(seed, "ReformerAttention")
        self.num_buckets = num_buckets
        self.num_hashes = num_hashes
        self.chunk_size = chunk_size
        self.seed = seed

    def build(self, query_shape, value_shape=None, key_shape=None):
        # Shared-QK: query, value and output projections only.
        self._query_dense = self._projection(
            "abc,cde->abde", (None, self.num_heads, self.key_dim), "de", "query"
        )
        self._query_dense.build(query_shape)
        self._value_dense = self._projection(
            "abc,cde->abde", (None, self.num_heads, self._value_dim), "de", "value"
        )
        self._value_dense.build(query_shape)
        output_dim = self.output_dim or query_shape[-1]
        self._output_dense = self._projection(
            "abcd,cde->abe", (None, output_dim), "e", "attention_output"
        )
        self._output_dense.build((query_shape[0], query_shape[1], self.num_heads, self._value_dim))
        self.rotations = None
        if self.num_buckets > 1:
            rng = np.random.default_rng(_draw_seed(self.seed))
            shape = (self.key_dim, self.num_hashes, self.num_buckets // 2)
            rotations = rng.standard_normal(shape).astype("float32")
            self.rotations = self.add_weight(
                name="rotations",
                shape=shape,
                initializer=lambda shape, dtype=None: ops.convert_to_tensor(rotations),
                dtype="float32",
                trainable=False,
                autocast=False,
            )

    def _project(self, query):
        query_heads = flat_projection(query, self._query_dense)
        return query_heads, query_heads, flat_projection(query, self._value_dense)

    def _attend_efficient(self, q, k, v, padding_mask, causal, training):
        length = q.shape[2]
        chunk = min(self.chunk_size, length)
        num_chunks = -(-length // chunk)
        padded = num_chunks * chunk
        hashes = self.num_hashes
        valid = _key_validity(padding_mask, length, padded)  # (b or 1, padded)
        q = _pad_sequence(q, padded)
        v = _pad_sequence(v, padded)
        q32 = ops.cast(q, "float32")
        keys = q32 / ops.maximum(ops.norm(q32, axis=-1, keepdims=True), 1e-6)  # unit, shared-QK

        # Buckets (b, h, hashes, n); hidden positions go to an extra last bucket.
        if self.rotations is None:
            buckets = ops.zeros((1, 1, hashes, padded), "int32")
        else:
            rotated = ops.einsum("bhnd,drk->bhrnk", keys, self.rotations)
            buckets = ops.argmax(ops.concatenate([rotated, -rotated], axis=-1), axis=-1)
        buckets = ops.where(valid[:, None, None, :], ops.cast(buckets, "int32"), self.num_buckets)
        buckets = ops.broadcast_to(buckets, (ops.shape(q)[0], self.num_heads, hashes, padded))
        positions = ops.arange(padded, dtype="int32")
        order = ops.argsort(buckets * padded + positions, axis=-1)  # (b, h, hashes, n)
        undo = ops.argsort(order, axis=-1)

        def gather(x):  # (b, h, n, f) -> (b, h, hashes, n, f) in sorted order
            x = ops.broadcast_to(ops.expand_dims(x, 2), (*ops.shape(order), x.shape[-1]))
            return ops.take_along_axis(x, ops.expand_dims(order, -1), axis=3)

        def chunked(x):  # (b, h, hashes, n, ...) -> (b, h, hashes, chunks, c, ...)
            return ops.reshape(x, (-1, self.num_heads, hashes, num_chunks, chunk, *x.shape[4:]))

        def with_previous(x):  # each chunk and the one before it (wrapping around)
            if num_chunks == 1:
                return x
            return ops.concatenate([x, ops.roll(x, 1, axis=3)], axis=4)

        sorted_q = chunked(gather(q))
        sorted_keys = with_previous(chunked(gather(ops.cast(keys, q.dtype))))
        sorted_values = with_previous(chunked(gather(v)))
        sorted_positions = chunked(order)  # (b, h, hashes, chunks, c)
        sorted_buckets = chunked(ops.take_along_axis(buckets, order, axis=-1))
        key_positions = with_previous(sorted_positions)
        key_buckets = with_previous(sorted_buckets)
        key_valid = ops.take_along_axis(
            ops.broadcast_to(valid[:, None, None, :], ops.shape(order)), order, axis=-1
        )
        key_valid = with_previous(chunked(key_valid))

        # (b, h, hashes, chunks, c, keys)
        logits = self._scaled_logits("bhrnqd,bhrnkd->bhrnqk", sorted_q, sorted_keys)
        i = sorted_positions[..., :, None]
        j = key_positions[..., None, :]
        mask = ops.logical_and(
            sorted_buckets[..., :, None] == key_buckets[..., None, :], key_valid[..., None, :]
        )
        if causal:
            mask = ops.logical_and(mask, j <= i)
        logits = ops.where(i == j, _SELF_LOGIT, logits)
        logits = _hide(logits, ops.logical_or(mask, i == j))
        normalizer = ops.logsumexp(logits, axis=-1, keepdims=True)
        probabilities = ops.exp(logits - normalizer)
        attended = self._weighted_sum(
            "bhrnqk,bhrnkd->bhrnqd", probabilities, sorted_values, training
        )  # (b, h, hashes, chunks, c, d)

        # Undo the sort, then weight each round by its share of the total normalizer.
        attended = ops.reshape(attended, (-1, self.num_heads, hashes, padded, v.shape[-1]))
        attended = ops.take_along_axis(attended, ops.expand_dims(undo, -1), axis=3)
        normalizer = ops.reshape(normalizer, (-1, self.num_heads, hashes, padded))
        normalizer = ops.take_along_axis(normalizer, undo, axis=-1)
        weights = ops.softmax(normalizer, axis=2)  # (b, h, hashes, n)
        attended = ops.sum(
            ops.cast(attended, "float32") * ops.expand_dims(weights, -1), axis=2
        )  # (b, h, n, d)
        return attended[:, :, :length]
