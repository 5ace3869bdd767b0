"""Sparse Transformer attention (Child et al., 2019): strided or fixed block patterns."""

import keras
from keras import ops

from zoo._checks import check_int
from zoo.layers.efficient_attention.base import (
    _CALL_DOC,
    _COMMON_ARGS_DOC,
    _EfficientAttention,
    _hide,
    _key_validity,
    _pad_sequence,
    _shift_blocks,
)


@keras.saving.register_keras_serializable(package="zoo")
class SparseAttention(_EfficientAttention):
    __doc__ = (
        """Sparse Transformer attention: a strided or fixed pattern, computed block-sparse.

    The sequence is cut into blocks of `block_size` (the stride l). A query attends the
    union of two sets (one softmax over both, each pair counted once):

    - `pattern="strided"`: the keys within distance `< l` (local) and the keys at a
      distance that is a multiple of `l` (the stride). Local attention is computed on
      each block and its neighbour block(s); strided attention on the `(l, n / l)`
      transpose of the blocks.
    - `pattern="fixed"`: the keys of the query's own block, and the last
      `num_summary_tokens` keys ("summary" positions) of every block.

    With `use_causal_mask=True` both sets are restricted to earlier positions. Cost:
    O(n·(l + n / l)) time and memory instead of O(n²) (O(n·(l + n·c / l)) for
    `fixed`); `l ≈ sqrt(n)` gives O(n·sqrt(n)). The pattern covers every pair when
    `block_size >= n` (strided) or `num_summary_tokens == block_size` (fixed), and the
    layer then equals full attention.

    Cached decoding (`cache=`) attends to the same pattern over the cache.

    Reference: Child et al., "Generating Long Sequences with Sparse Transformers", 2019,
    https://arxiv.org/abs/1904.10509 (section 4).

    Args:
"""
        + _COMMON_ARGS_DOC.replace(
            "        num_heads:",
            '        pattern: `"strided"` or `"fixed"`.\n'
            "        block_size: block length l (the stride).\n"
            '        num_summary_tokens: summary positions c per block (`"fixed"`),'
            " 1 <= c <= block_size;\n"
            "            `None`: block_size // 8, at least 1 (the paper: c = 8-32, l = 128).\n"
            "        num_heads:",
        )
        + _CALL_DOC
        + """
    Example:

    >>> import numpy as np
    >>> layer = SparseAttention(num_heads=2, key_dim=8, pattern="fixed", block_size=4)
    >>> x = np.random.rand(2, 16, 16).astype("float32")
    >>> tuple(layer(x, use_causal_mask=True).shape)
    (2, 16, 16)
    """
    )

    def __init__(
        self,
        num_heads,
        key_dim,
        pattern="strided",
        block_size=64,
        num_summary_tokens=None,
        **kwargs,
    ):
        super().__init__(num_heads, key_dim, **kwargs)
        if pattern not in ("strided", "fixed"):
            raise ValueError(
                f"`pattern` of SparseAttention must be 'strided' or 'fixed'. "
                f"Received: pattern={pattern!r}."
            )
        check_int(block_size, "block_size", "SparseAttention")
        if num_summary_tokens is not None:
            check_int(num_summary_tokens, "num_summary_tokens", "SparseAttention")
        if pattern == "fixed" and (num_summary_tokens or 0) > block_size:
            raise ValueError(
                "`num_summary_tokens` of SparseAttention counts positions of one block, so it "
                f"must be <= block_size. Received: num_summary_tokens={num_summary_tokens}, "
                f"block_size={block_size}."
            )
        self.pattern = pattern
        self.block_size = block_size
        self.num_summary_tokens = num_summary_tokens
        self._num_summary = num_summary_tokens or max(1, block_size // 8)

    def _pattern_mask(self, query_positions, key_positions):
        i = ops.expand_dims(query_positions, 1)
        j = ops.expand_dims(key_positions, 0)
        block = self.block_size
        if self.pattern == "strided":
            return ops.logical_or(ops.abs(i - j) < block, (i - j) % block == 0)
        summary = j % block >= block - self._num_summary
        return ops.logical_or(i // block == j // block, summary)

    def _attend_efficient(self, q, k, v, padding_mask, causal, training):
        length, block = q.shape[2], self.block_size
        num_blocks = -(-length // block)
        padded = num_blocks * block
        valid = _key_validity(padding_mask, length, padded)  # (batch or 1, padded)
        q, k, v = (_pad_sequence(x, padded) for x in (q, k, v))
        blocked_shape = (-1, self.num_heads, num_blocks, block)
        q_blocks = ops.reshape(q, (*blocked_shape, q.shape[-1]))  # (b, h, blocks, l, d)
        k_blocks = ops.reshape(k, (*blocked_shape, k.shape[-1]))
        v_blocks = ops.reshape(v, (*blocked_shape, v.shape[-1]))
        positions = ops.reshape(ops.arange(padded, dtype="int32"), (num_blocks, block))
        valid_blocks = ops.reshape(valid, (-1, num_blocks, block))  # (b, blocks, l)

        # Neighbour blocks of the local part: previous, own (, next) for strided; own for fixed.
        shifts = ((1, 0) if causal else (1, 0, -1)) if self.pattern == "strided" else (0,)
        local_keys = ops.concatenate([_shift_blocks(k_blocks, s, 2) for s in shifts], axis=3)
        local_values = ops.concatenate([_shift_blocks(v_blocks, s, 2) for s in shifts], axis=3)
        local_positions = ops.concatenate(
            [positions - s * block for s in shifts], axis=1
        )  # (blocks, keys); outside [0, padded) where a shift crosses the edge
        local_valid = ops.concatenate(
            [_shift_blocks(valid_blocks, s, 1) for s in shifts], axis=2
        )  # (b, blocks, keys); False across the edge
        # (b, h, blocks, l, keys)
        local_logits = self._scaled_logits("bhnqd,bhnkd->bhnqk", q_blocks, local_keys)
        i = positions[:, :, None]  # (blocks, l, 1)
        j = local_positions[:, None, :]  # (blocks, 1, keys)
        local_mask = local_valid[:, None, :, None, :]  # (b, 1, blocks, 1, keys)
        pair = ops.abs(i - j) < block if self.pattern == "strided" else ops.ones_like(i - j) > 0
        if causal:
            pair = ops.logical_and(pair, j <= i)
        local_mask = ops.logical_and(local_mask, pair)

        if self.pattern == "strided":
            # Keys at a distance that is a multiple of l share the offset inside their
            # block: attend across blocks on the (offset, block) transpose.
            q_t = ops.transpose(q_blocks, (0, 1, 3, 2, 4))  # (b, h, l, blocks, d)
            k_t = ops.transpose(k_blocks, (0, 1, 3, 2, 4))
            v_far = ops.transpose(v_blocks, (0, 1, 3, 2, 4))
            far_logits = self._scaled_logits("bhrqd,bhrkd->bhrqk", q_t, k_t)
            far_logits = ops.transpose(far_logits, (0, 1, 3, 2, 4))  # (b, h, blocks, l, blocks)
            query_block = ops.arange(num_blocks)[:, None, None]
            key_block = ops.arange(num_blocks)[None, None, :]
            # Own block excluded: its one strided key (the query itself) is local already.
            pair = key_block < query_block if causal else key_block != query_block
            key_valid = ops.transpose(valid_blocks, (0, 2, 1))  # (b, l, blocks)
            far_mask = ops.logical_and(key_valid[:, None, None, :, :], pair)
        else:
            summary = self._num_summary
            summary_keys = ops.reshape(
                k_blocks[:, :, :, block - summary :],
                (-1, self.num_heads, num_blocks * summary, k.shape[-1]),
            )
            v_far = ops.reshape(
                v_blocks[:, :, :, block - summary :],
                (-1, self.num_heads, num_blocks * summary, v.shape[-1]),
            )
            far_logits = self._scaled_logits("bhnqd,bhkd->bhnqk", q_blocks, summary_keys)
            query_block = ops.arange(num_blocks)[:, None, None]
            key_block = ops.repeat(ops.arange(num_blocks), summary)[None, None, :]
            pair = key_block < query_block if causal else key_block != query_block
            key_valid = ops.reshape(
                valid_blocks[:, :, block - summary :], (-1, num_blocks * summary)
            )
            far_mask = ops.logical_and(key_valid[:, None, None, None, :], pair)

        num_local = local_logits.shape[-1]
        logits = [_hide(local_logits, local_mask), _hide(far_logits, far_mask)]
        probabilities = ops.softmax(ops.concatenate(logits, axis=-1), axis=-1)
        local_probabilities = probabilities[..., :num_local]
        far_probabilities = probabilities[..., num_local:]
        attended = self._weighted_sum(
            "bhnqk,bhnkd->bhnqd", local_probabilities, local_values, training
        )  # (b, h, blocks, l, d)
        if self.pattern == "strided":
            far_probabilities = ops.transpose(far_probabilities, (0, 1, 3, 2, 4))
            far = self._weighted_sum("bhrqk,bhrkd->bhrqd", far_probabilities, v_far, training)
            far = ops.transpose(far, (0, 1, 3, 2, 4))  # (b, h, blocks, l, d)
        else:
            far = self._weighted_sum("bhnqk,bhkd->bhnqd", far_probabilities, v_far, training)
        attended = ops.reshape(attended + far, (-1, self.num_heads, padded, v.shape[-1]))
        return attended[:, :, :length]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "pattern": self.pattern,
                "block_size": self.block_size,
                "num_summary_tokens": self.num_summary_tokens,
            }
        )
        return config
