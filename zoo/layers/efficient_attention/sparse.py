"""Sparse Transformer attention (Child et al., 2019): strided or fixed block patterns."""

import itertools

import keras
from keras import ops

from zoo._checks import check_int
from zoo.layers.efficient_attention.base import (
    _cut_blocks,
    _EfficientAttention,
    _hide,
    _layer_doc,
    _neighbour_blocks,
)


@keras.saving.register_keras_serializable(package="zoo")
class SparseAttention(_EfficientAttention):
    __doc__ = _layer_doc(
        """Sparse Transformer attention: a strided or fixed pattern, computed block-sparse.

    The sequence is cut into blocks of `block_size` (the stride l). A query attends the
    union of two sets (one softmax over both, each pair counted once):

    - `pattern="strided"`: the keys within distance `< l` (local) and the keys at a
      distance that is a multiple of `l` (the stride). Local attention is computed on
      each block and its neighbour block(s); strided attention on the `(l, n / l)`
      transpose of the blocks.
    - `pattern="fixed"`: the keys of the query's own block, and the last
      `num_summary_tokens` keys ("summary" positions) of every block.

    With `use_causal_mask=True` both sets are restricted to earlier positions, and the
    local part drops the next block (all masked). The far part (strided keys, or
    summaries) is computed dense and masked by default: cutting the query blocks into
    groups whose far part stops at the group's last block skips the far keys after it
    (4 groups leave 5/8 of it), exactly, but on a quiet 2-core CPU it was slower, not
    faster, in a one-block GPT training step (l = 128, strided, CPU ms per step, 1 group
    vs 4: 425 vs 443 at n = 4096, 2023 vs 2096 at n = 16384), since XLA then runs more,
    smaller products. The class attribute `_causal_groups` sets the number of groups.
    Cost:
    O(n·(l + n / l)) time and memory instead of O(n²) (O(n·(l + n·c / l)) for
    `fixed`); `l ≈ sqrt(n)` gives O(n·sqrt(n)). The pattern covers every pair when
    `block_size >= n` (strided) or `num_summary_tokens == block_size` (fixed), and the
    layer then equals full attention.

    Cached decoding (`cache=`) attends to the same pattern over the cache.

    Reference: Child et al., "Generating Long Sequences with Sparse Transformers", 2019,
    https://arxiv.org/abs/1904.10509 (section 4).

    Args:
""",
        """        pattern: `"strided"` or `"fixed"`.
        block_size: block length l (the stride).
        num_summary_tokens: summary positions c per block (`"fixed"`), 1 <= c <= block_size;
            `None`: block_size // 8, at least 1 (the paper: c = 8-32, l = 128).
""",
        """    >>> layer = SparseAttention(num_heads=2, key_dim=8, pattern="fixed", block_size=4)
    >>> x = np.random.rand(2, 16, 16).astype("float32")
    >>> tuple(layer(x, use_causal_mask=True).shape)
    (2, 16, 16)
    """,
    )

    _config_arguments = ("pattern", "block_size", "num_summary_tokens")

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

    # Causal mode: the query blocks are cut into this many groups, and a group attends
    # to no far key of a later group (an all-masked part, skipped); 1 computes it dense
    # (faster on CPU, see the class docstring).
    _causal_groups = 1

    def _attend_efficient(self, q, k, v, padding_mask, causal, training):
        length, block = q.shape[2], self.block_size
        # (b, h, blocks, l, d); positions (blocks, l); valid_blocks (b or 1, blocks, l)
        blocks, positions, _, valid_blocks = _cut_blocks(q, k, v, padding_mask, block)
        q_blocks, k_blocks, v_blocks = blocks
        num_blocks = positions.shape[0]

        # Neighbour blocks of the local part: previous, own (, next) for strided; own for fixed.
        shifts = ((1, 0) if causal else (1, 0, -1)) if self.pattern == "strided" else (0,)
        local_keys, local_values, local_positions, local_valid = _neighbour_blocks(
            k_blocks, v_blocks, positions, valid_blocks, shifts
        )  # keys (b, h, blocks, keys, d), positions (blocks, keys), valid (b, blocks, keys)
        i = positions[:, :, None]  # (blocks, l, 1)
        j = local_positions[:, None, :]  # (blocks, 1, keys)
        pair = ops.abs(i - j) < block if self.pattern == "strided" else ops.ones_like(i - j) > 0
        if causal:
            pair = ops.logical_and(pair, j <= i)
        local_mask = ops.logical_and(local_valid[:, None, :, None, :], pair)

        # The far keys of each block: all its keys (strided: those at a multiple of l from
        # a query are at its offset in another block), or its last c (fixed: summaries).
        first = 0 if self.pattern == "strided" else block - self._num_summary
        far_keys, far_values = k_blocks[:, :, :, first:], v_blocks[:, :, :, first:]
        far_valid = valid_blocks[:, :, first:]  # (b, blocks, f)
        groups = min(num_blocks, self._causal_groups) if causal else 1
        bounds = [round(g * num_blocks / groups) for g in range(groups + 1)]
        attended = []
        for start, stop in itertools.pairwise(bounds):
            key_stop = stop if causal else num_blocks  # causal: no key after the group
            attended.append(
                self._attend_group(
                    q_blocks[:, :, start:stop],
                    (local_keys[:, :, start:stop], local_values[:, :, start:stop]),
                    local_mask[:, :, start:stop],
                    (far_keys[:, :, :key_stop], far_values[:, :, :key_stop]),
                    far_valid[:, :key_stop],
                    ops.arange(start, stop),
                    causal,
                    training,
                )
            )  # (b, h, group blocks, l, d)
        attended = ops.concatenate(attended, axis=2) if groups > 1 else attended[0]
        attended = ops.reshape(attended, (-1, self.num_heads, num_blocks * block, v.shape[-1]))
        return attended[:, :, :length]

    def _attend_group(
        self, q_blocks, local, local_mask, far, far_valid, query_block, causal, training
    ):
        """One softmax over the local and far keys of a group of query blocks.

        Args:
            q_blocks: `(b, h, g, l, d)`, the queries of blocks `query_block` `(g,)`.
            local: keys and values `(b, h, g, keys, d)` of their neighbour blocks, and
                `local_mask` `(b or 1, 1, g, l, keys)`, the pairs they may attend.
            far: keys and values `(b, h, K, f, d)` of key blocks `0 ... K - 1` (strided:
                all l keys of a block; fixed: its f summary keys), valid `(b or 1, K, f)`.

        Returns:
            `(b, h, g, l, d)`.
        """
        local_logits = self._scaled_logits("bhnqd,bhnkd->bhnqk", q_blocks, local[0])
        far_keys, far_values = far
        key_block = ops.arange(far_keys.shape[2])[None, :]
        # Own block excluded: its strided key (the query itself) or summaries are local.
        pair = key_block < query_block[:, None] if causal else key_block != query_block[:, None]
        if self.pattern == "strided":
            # Keys at a distance that is a multiple of l share the offset inside their
            # block: attend across blocks on the (offset, block) transpose.
            q_t = ops.transpose(q_blocks, (0, 1, 3, 2, 4))  # (b, h, l, g, d)
            k_t = ops.transpose(far_keys, (0, 1, 3, 2, 4))  # (b, h, l, K, d)
            v_far = ops.transpose(far_values, (0, 1, 3, 2, 4))
            far_logits = self._scaled_logits("bhrqd,bhrkd->bhrqk", q_t, k_t)
            far_logits = ops.transpose(far_logits, (0, 1, 3, 2, 4))  # (b, h, g, l, K)
            key_valid = ops.transpose(far_valid, (0, 2, 1))  # (b, l, K)
            far_mask = ops.logical_and(key_valid[:, None, None, :, :], pair[:, None, :])
        else:
            count = far_keys.shape[2] * far_keys.shape[3]
            summary_keys = ops.reshape(far_keys, (-1, self.num_heads, count, far_keys.shape[-1]))
            v_far = ops.reshape(far_values, (-1, self.num_heads, count, far_values.shape[-1]))
            far_logits = self._scaled_logits("bhnqd,bhkd->bhnqk", q_blocks, summary_keys)
            pair = ops.repeat(pair, far_keys.shape[3], axis=1)[:, None, :]  # (g, 1, K·f)
            key_valid = ops.reshape(far_valid, (-1, count))
            far_mask = ops.logical_and(key_valid[:, None, None, None, :], pair)

        num_local = local_logits.shape[-1]
        logits = [_hide(local_logits, local_mask), _hide(far_logits, far_mask)]
        probabilities = ops.softmax(ops.concatenate(logits, axis=-1), axis=-1)
        local_probabilities = probabilities[..., :num_local]
        far_probabilities = probabilities[..., num_local:]
        attended = self._weighted_sum(
            "bhnqk,bhnkd->bhnqd", local_probabilities, local[1], training
        )  # (b, h, g, l, d)
        if self.pattern == "strided":
            far_probabilities = ops.transpose(far_probabilities, (0, 1, 3, 2, 4))
            far = self._weighted_sum("bhrqk,bhrkd->bhrqd", far_probabilities, v_far, training)
            return attended + ops.transpose(far, (0, 1, 3, 2, 4))
        far = self._weighted_sum("bhnqk,bhkd->bhnqd", far_probabilities, v_far, training)
        return attended + far
