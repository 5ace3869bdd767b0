"""Efficient self-attention: Sparse Transformer, Longformer, Linformer, Performer, Reformer.

Full attention scores every query against every key: O(n²) time and memory. The layers
here keep the call signature of `zoo.layers.MultiHeadAttention` (they subclass it and
reuse its Q/K/V/output projections), so a Transformer block, `Bert` or `GPT` takes any of
them with `attention="sparse" | "longformer" | "linformer" | "performer" | "reformer"`:

| layer | what a query sees | time / memory |
|---|---|---|
| `SparseAttention` | a strided or fixed block pattern (Child et al., 2019) | O(n·(l + n/l)) |
| `LongformerAttention` | a sliding window of ±w plus global tokens | O(n·w) |
| `LinformerAttention` | k learned mixtures of the keys / values | O(n·k) |
| `PerformerAttention` | softmax kernel estimated with m random features | O(n·m) |
| `ReformerAttention` | keys in the same LSH bucket, sorted and chunked | O(n·c·hashes) |

Each layer computes block-wise or chunk-wise with static shapes (the sequence is padded
up to a multiple of the block size inside the layer), so it compiles with XLA; logits,
softmax and the random-feature maps run in float32 under mixed precision.

What each layer cannot do raises a `ValueError` saying so: all of them are
self-attention only (no `value=`/`key=` sequence, no arbitrary `attention_mask`, no
`return_attention_scores`); Linformer has no causal mode; key/value-cache decoding
(`GPT` generation) is supported by the pattern layers, `SparseAttention` and
`LongformerAttention`, whose cached step attends to the same keys as the full forward
pass (a dense masked row over the cache, like `MultiHeadAttention`). Performer,
Linformer and Reformer raise on a cache: generate with them through
`zoo.models.generation.generate(..., use_cache=False)` (the model reruns on the whole
padded sequence at each step), or train with `attention="full"` / `"sparse"` /
`"longformer"` for cached generation.
"""

import inspect
import math

import keras
import numpy as np
from keras import ops

from zoo.layers.attention import (
    _LARGE_NEGATIVE,
    MultiHeadAttention,
    _check_positive_int,
    flat_projection,
)

__all__ = [
    "ATTENTION_TYPES",
    "LinformerAttention",
    "LongformerAttention",
    "PerformerAttention",
    "ReformerAttention",
    "SparseAttention",
    "check_attention_options",
    "make_attention",
]

# Reformer's rule for a token and itself: a large negative logit (not "never"), so a
# token attends to itself only when no other key is available.
_SELF_LOGIT = -1e5


def _in_symbolic_scope():
    try:
        from keras.src.backend.common.symbolic_scope import in_symbolic_scope
    except ImportError:  # pragma: no cover - a Keras without the private module
        return False
    return in_symbolic_scope()


def _heads_first(x):
    return ops.transpose(x, (0, 2, 1, 3))  # (batch, seq, heads, dim) <-> (batch, heads, seq, dim)


def _pad_sequence(x, length, axis=2):
    """Zero-pad `x` along `axis` up to the static `length`."""
    extra = length - x.shape[axis]
    if extra == 0:
        return x
    pad = [[0, 0]] * len(x.shape)
    pad[axis] = [0, extra]
    return ops.pad(x, pad)


def _key_validity(padding_mask, length, padded_length):
    """Boolean `(batch or 1, padded_length)`: a real (non-padded) key inside the sequence."""
    inside = ops.arange(padded_length) < length  # (padded_length,)
    if padding_mask is None:
        return ops.expand_dims(inside, 0)
    mask = _pad_sequence(ops.cast(padding_mask, "bool"), padded_length, axis=1)
    return ops.logical_and(mask, ops.expand_dims(inside, 0))


def _shift_blocks(x, shift, axis):
    """Blocks moved by `shift` along `axis` (1: block i holds block i-1), zeros at the edge."""
    size = x.shape[axis]
    if abs(shift) >= size:
        return ops.zeros_like(x)
    pad = [[0, 0]] * len(x.shape)
    if shift > 0:
        pad[axis] = [shift, 0]
        return _take(ops.pad(x, pad), 0, size, axis)
    pad[axis] = [0, -shift]
    return _take(ops.pad(x, pad), -shift, size, axis)


def _take(x, start, size, axis):
    index = [slice(None)] * len(x.shape)
    index[axis] = slice(start, start + size)
    return x[tuple(index)]


def _hide(logits, mask):
    """float32 `logits` with a large negative value where `mask` (broadcast) is False."""
    return ops.where(mask, logits, _LARGE_NEGATIVE)


class _EfficientAttention(MultiHeadAttention):
    """Shared call path: checks, projections, the static length, the output projection."""

    _supports_causal = True

    def _check_self_attention(self, query, value, key, attention_mask, return_attention_scores):
        name = type(self).__name__
        if (value is not None and value is not query) or (key is not None and key is not query):
            raise ValueError(
                f"{name} is self-attention only: call it as layer(x, ...) without `value=` or "
                "`key=`. For cross-attention use zoo.layers.MultiHeadAttention."
            )
        if attention_mask is not None:
            raise ValueError(
                f"{name} does not take an arbitrary `attention_mask` (a dense (batch, query, "
                "key) mask would cost the O(n²) memory it avoids). Received an attention_mask "
                f"of shape {tuple(attention_mask.shape)}. Pass `padding_mask` and "
                "`use_causal_mask` only, or use MultiHeadAttention."
            )
        if return_attention_scores:
            raise ValueError(
                f"{name} never forms the (batch, heads, query, key) probabilities, so it cannot "
                "return them. Received return_attention_scores=True; use MultiHeadAttention "
                "to visualize attention."
            )

    def _pattern_mask(self, query_positions, key_positions):
        """Boolean `(query, key)`: pairs the layer may attend (None: no position pattern)."""
        return None

    def _call_with_cache(
        self, query, padding_mask, attention_mask, use_causal_mask, cache, cache_update_index
    ):
        name = type(self).__name__
        positions = ops.arange(cache.shape[2], dtype="int32")
        if cache_update_index is None:
            raise ValueError(
                f"{name} decodes with a self-attention cache only: pass `cache_update_index` "
                "with `cache`. Received cache_update_index=None."
            )
        query_positions = ops.arange(query.shape[1], dtype="int32") + ops.cast(
            cache_update_index, "int32"
        )
        pattern = self._pattern_mask(query_positions, positions)
        if pattern is None:
            raise ValueError(
                f"{name} has no key/value-cache decoding (its keys are not a fixed set of "
                "earlier positions). Received a `cache`. Generate without a cache "
                "(zoo.models.generation.generate(..., use_cache=False) reruns the model on "
                "the whole padded sequence each step), or use attention='full', 'sparse' or "
                "'longformer'."
            )
        pattern = ops.expand_dims(pattern, 0)  # (1, query, key)
        if attention_mask is not None:
            pattern = ops.logical_and(ops.cast(attention_mask, "bool"), pattern)
        # A dense row over the fixed-length cache: the keys the pattern allows, as in the
        # full forward pass, so cached decoding gives the same outputs.
        return super().call(
            query,
            padding_mask=padding_mask,
            attention_mask=pattern,
            use_causal_mask=use_causal_mask,
            cache=cache,
            cache_update_index=cache_update_index,
        )

    def _project(self, query):
        """Q, K, V of the self-attention, each `(batch, sequence, heads, dim)`."""
        if self._value_dim == self.key_dim:
            return self._fused_projection(query)
        return (
            flat_projection(query, self._query_dense),
            flat_projection(query, self._key_dense),
            flat_projection(query, self._value_dense),
        )

    def call(
        self,
        query,
        value=None,
        key=None,
        padding_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        cache=None,
        cache_update_index=None,
        return_attention_scores=False,
        training=None,
    ):
        name = type(self).__name__
        if cache is not None:
            if return_attention_scores or value is not None or key is not None:
                raise ValueError(
                    f"{name} decodes with a self-attention cache only (no `value`, `key` or "
                    "`return_attention_scores`)."
                )
            return self._call_with_cache(
                query, padding_mask, attention_mask, use_causal_mask, cache, cache_update_index
            )
        self._check_self_attention(query, value, key, attention_mask, return_attention_scores)
        if use_causal_mask and not self._supports_causal:
            raise ValueError(
                f"{name} has no causal mode: its projections mix all positions, so a query "
                "would see the future. Received use_causal_mask=True. Use it in encoders "
                "(Bert), or pick 'performer', 'longformer', 'sparse' or 'reformer' for GPT."
            )
        length = query.shape[1]
        if length is None:
            if _in_symbolic_scope():
                # Shape inference only (a functional model being built): the output shape.
                return flat_projection(
                    flat_projection(query, self._value_dense), self._output_dense, 2
                )
            raise ValueError(
                f"{name} needs a static sequence length (pad batches to a fixed length, "
                "DESIGN.md convention 6). Received a query of shape "
                f"{tuple(query.shape)}."
            )
        self._check_mask_length(padding_mask, query, False)
        query_heads, key_heads, value_heads = self._project(query)
        attended = self._attend_efficient(
            _heads_first(query_heads),
            _heads_first(key_heads),
            _heads_first(value_heads),
            padding_mask,
            bool(use_causal_mask),
            training,
        )  # (batch, heads, sequence, value_dim)
        attended = ops.cast(_heads_first(attended), self.compute_dtype)
        return flat_projection(attended, self._output_dense, 2)  # (batch, sequence, output_dim)

    def _scaled_logits(self, equation, q, k):
        logits = ops.einsum(equation, q, k)
        return ops.cast(logits, "float32") * (1.0 / math.sqrt(self.key_dim))

    def _weighted_sum(self, equation, probabilities, values, training):
        probabilities = ops.cast(probabilities, self.compute_dtype)
        probabilities = self._dropout_layer(probabilities, training=training)
        return ops.einsum(equation, probabilities, values)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return (*query_shape[:-1], self.output_dim or query_shape[-1])


_COMMON_ARGS_DOC = """        num_heads: number of attention heads.
        key_dim: size of each head for the queries and keys.
        value_dim: size of each head for the values; defaults to `key_dim`.
        dropout: dropout rate on the attention probabilities.
        use_bias: whether the projections have biases.
        output_dim: size of the output features; defaults to the query's last dimension.
        kernel_initializer: initializer of the projection kernels.
        bias_initializer: initializer of the projection biases.
        **kwargs: base layer arguments (`name`, `dtype`, ...)."""

_CALL_DOC = """
    Call arguments:
        query: `(batch, sequence, features)`, with a static sequence length.
        padding_mask: `(batch, sequence)`, truthy for real tokens.
        use_causal_mask: hide keys after each query's position.
        training: whether attention dropout is active.
        value, key, attention_mask, return_attention_scores: accepted for the
            `MultiHeadAttention` signature; anything but their defaults raises.
"""


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
        _check_positive_int(block_size, "block_size", "SparseAttention")
        if num_summary_tokens is not None:
            _check_positive_int(num_summary_tokens, "num_summary_tokens", "SparseAttention")
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


@keras.saving.register_keras_serializable(package="zoo")
class LongformerAttention(_EfficientAttention):
    __doc__ = (
        """Longformer attention: a sliding window plus global tokens, chunked to O(n·w).

    Every query attends to the keys within `attention_window` positions on either side
    (only earlier ones with `use_causal_mask=True`). The first `num_global_tokens`
    positions (e.g. `[CLS]`) are global: every query attends to them, and they attend
    to every key. The window is computed on chunks of `w` queries against their own and
    neighbouring chunks of keys, so memory is O(n·w) (plus O(n·g) for g global tokens)
    instead of O(n²). With `attention_window >= n` the layer equals full attention.

    Global attention uses the same Q/K/V projections as the window (the paper adds a
    second set for it; here the layer stays a drop-in with the weights of
    `MultiHeadAttention`). Cached decoding (`cache=`) attends to the same keys over the
    cache.

    Reference: Beltagy et al., "Longformer: The Long-Document Transformer", 2020,
    https://arxiv.org/abs/2004.05150 (section 3.1).

    Args:
"""
        + _COMMON_ARGS_DOC.replace(
            "        num_heads:",
            "        attention_window: one-sided window w: query i sees keys |i - j| <= w.\n"
            "        num_global_tokens: number of leading global positions (0: none).\n"
            "        num_heads:",
        )
        + _CALL_DOC
        + """
    Example:

    >>> import numpy as np
    >>> layer = LongformerAttention(num_heads=2, key_dim=8, attention_window=4,
    ...                             num_global_tokens=1)
    >>> x = np.random.rand(2, 32, 16).astype("float32")
    >>> tuple(layer(x, padding_mask=np.ones((2, 32), bool)).shape)
    (2, 32, 16)
    """
    )

    def __init__(self, num_heads, key_dim, attention_window=128, num_global_tokens=1, **kwargs):
        super().__init__(num_heads, key_dim, **kwargs)
        _check_positive_int(attention_window, "attention_window", "LongformerAttention")
        if (
            isinstance(num_global_tokens, bool)
            or not isinstance(num_global_tokens, int)
            or num_global_tokens < 0
        ):
            raise ValueError(
                "`num_global_tokens` of LongformerAttention must be an int >= 0. "
                f"Received: num_global_tokens={num_global_tokens!r}."
            )
        self.attention_window = attention_window
        self.num_global_tokens = num_global_tokens

    def _pattern_mask(self, query_positions, key_positions):
        i = ops.expand_dims(query_positions, 1)
        j = ops.expand_dims(key_positions, 0)
        window = ops.abs(i - j) <= self.attention_window
        is_global = ops.logical_or(j < self.num_global_tokens, i < self.num_global_tokens)
        return ops.logical_or(window, is_global)

    def _attend_efficient(self, q, k, v, padding_mask, causal, training):
        length = q.shape[2]
        num_global = min(self.num_global_tokens, length)
        chunk = max(1, min(self.attention_window, length))
        num_chunks = -(-length // chunk)
        padded = num_chunks * chunk
        valid = _key_validity(padding_mask, length, padded)  # (b, padded)
        qp, kp, vp = (_pad_sequence(x, padded) for x in (q, k, v))
        shape = (-1, self.num_heads, num_chunks, chunk)
        q_chunks = ops.reshape(qp, (*shape, q.shape[-1]))  # (b, h, chunks, c, d)
        k_chunks = ops.reshape(kp, (*shape, k.shape[-1]))
        v_chunks = ops.reshape(vp, (*shape, v.shape[-1]))
        positions = ops.reshape(ops.arange(padded, dtype="int32"), (num_chunks, chunk))
        valid_chunks = ops.reshape(valid, (-1, num_chunks, chunk))

        # Window: each chunk of queries against the previous, own (and next) chunk of keys.
        shifts = (1, 0) if causal else (1, 0, -1)
        window_keys = ops.concatenate([_shift_blocks(k_chunks, s, 2) for s in shifts], axis=3)
        window_values = ops.concatenate([_shift_blocks(v_chunks, s, 2) for s in shifts], axis=3)
        window_positions = ops.concatenate([positions - s * chunk for s in shifts], axis=1)
        window_valid = ops.concatenate([_shift_blocks(valid_chunks, s, 1) for s in shifts], axis=2)
        i = positions[:, :, None]  # (chunks, c, 1)
        j = window_positions[:, None, :]  # (chunks, 1, keys)
        pair = ops.abs(i - j) <= self.attention_window
        if causal:
            pair = ops.logical_and(pair, j <= i)
        if num_global:
            pair = ops.logical_and(pair, j >= num_global)  # global keys are counted below
        window_mask = ops.logical_and(window_valid[:, None, :, None, :], pair)
        window_logits = self._scaled_logits("bhnqd,bhnkd->bhnqk", q_chunks, window_keys)
        logits = [_hide(window_logits, window_mask)]  # (b, h, chunks, c, keys)

        if num_global:
            global_keys, global_values = k[:, :, :num_global], v[:, :, :num_global]
            global_logits = self._scaled_logits("bhnqd,bhkd->bhnqk", q_chunks, global_keys)
            global_pair = ops.arange(num_global, dtype="int32")[None, None, :]
            global_pair = global_pair <= i if causal else ops.ones_like(global_pair) > 0
            global_mask = ops.logical_and(
                valid[:, None, None, None, :num_global], global_pair
            )  # (b, 1, chunks, c, g)
            logits.append(_hide(global_logits, global_mask))

        probabilities = ops.softmax(ops.concatenate(logits, axis=-1), axis=-1)
        num_window = window_logits.shape[-1]
        attended = self._weighted_sum(
            "bhnqk,bhnkd->bhnqd", probabilities[..., :num_window], window_values, training
        )
        if num_global:
            attended = attended + self._weighted_sum(
                "bhnqk,bhkd->bhnqd", probabilities[..., num_window:], global_values, training
            )
        attended = ops.reshape(attended, (-1, self.num_heads, padded, v.shape[-1]))[:, :, :length]
        if not num_global:
            return attended

        # Global queries see every key (every earlier key when causal): O(g·n).
        rows_logits = self._scaled_logits("bhqd,bhkd->bhqk", q[:, :, :num_global], k)
        rows_mask = valid[:, None, None, :length]  # (b, 1, 1, n)
        if causal:
            causal_rows = ops.arange(length)[None, :] <= ops.arange(num_global)[:, None]
            rows_mask = ops.logical_and(rows_mask, causal_rows)
        rows = ops.softmax(_hide(rows_logits, rows_mask), axis=-1)
        global_attended = self._weighted_sum("bhqk,bhkd->bhqd", rows, v, training)
        return ops.concatenate([global_attended, attended[:, :, num_global:]], axis=2)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "attention_window": self.attention_window,
                "num_global_tokens": self.num_global_tokens,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class LinformerAttention(_EfficientAttention):
    __doc__ = (
        """Linformer attention: keys and values projected along the sequence to length k.

    Two learned `(projection_dim, sequence_length)` matrices E and F mix the n keys and
    values into k: `softmax(Q (E K)^T / sqrt(d)) (F V)`, an `(n, k)` attention, so time
    and memory are O(n·k). The matrices are shared by the heads (the paper's headwise
    sharing); `shared_projection=True` also uses E for the values (key-value sharing).
    Inputs shorter than `sequence_length` use the first columns of E and F. Padded keys
    and values are zeroed before the projection. With k = n and identity projections
    the layer equals full attention.

    There is no causal mode: every projected key mixes all positions, so
    `use_causal_mask=True` raises (use Linformer in encoders). No cache decoding.

    Reference: Wang et al., "Linformer: Self-Attention with Linear Complexity", 2020,
    https://arxiv.org/abs/2006.04768 (section 4).

    Args:
"""
        + _COMMON_ARGS_DOC.replace(
            "        num_heads:",
            "        projection_dim: k, the projected length of keys and values.\n"
            "        sequence_length: the longest input n; `None` takes the length of the\n"
            "            first input (it must then be static).\n"
            "        shared_projection: use one matrix for keys and values.\n"
            "        projection_initializer: initializer of E and F; defaults to\n"
            "            N(0, 1/k), the Johnson-Lindenstrauss projection of the paper.\n"
            "        num_heads:",
        )
        + _CALL_DOC
        + """
    Example:

    >>> import numpy as np
    >>> layer = LinformerAttention(num_heads=2, key_dim=8, projection_dim=8,
    ...                            sequence_length=32)
    >>> x = np.random.rand(2, 32, 16).astype("float32")
    >>> tuple(layer(x).shape)
    (2, 32, 16)
    """
    )

    _supports_causal = False

    def __init__(
        self,
        num_heads,
        key_dim,
        projection_dim=128,
        sequence_length=None,
        shared_projection=False,
        projection_initializer=None,
        **kwargs,
    ):
        super().__init__(num_heads, key_dim, **kwargs)
        _check_positive_int(projection_dim, "projection_dim", "LinformerAttention")
        if sequence_length is not None:
            _check_positive_int(sequence_length, "sequence_length", "LinformerAttention")
        self.projection_dim = projection_dim
        self.sequence_length = sequence_length
        self.shared_projection = bool(shared_projection)
        self.projection_initializer = keras.initializers.get(
            projection_initializer
            or keras.initializers.RandomNormal(stddev=1.0 / math.sqrt(projection_dim))
        )

    def build(self, query_shape, value_shape=None, key_shape=None):
        super().build(query_shape, value_shape, key_shape)
        length = self.sequence_length or query_shape[1]
        if length is None:
            raise ValueError(
                "LinformerAttention needs `sequence_length` (the longest input) to size its "
                f"projections. Received sequence_length=None and an input of shape "
                f"{tuple(query_shape)}. Pass sequence_length=... (Bert and GPT pass "
                "max_sequence_length)."
            )
        self._built_length = length
        self.key_projection = self.add_weight(
            name="key_projection",
            shape=(self.projection_dim, length),
            initializer=self.projection_initializer,
        )
        self.value_projection = None
        if not self.shared_projection:
            self.value_projection = self.add_weight(
                name="value_projection",
                shape=(self.projection_dim, length),
                initializer=keras.initializers.get(
                    self.projection_initializer.__class__.from_config(
                        self.projection_initializer.get_config()
                    )
                ),
            )

    def _attend_efficient(self, q, k, v, padding_mask, causal, training):
        length = q.shape[2]
        if length > self._built_length:
            raise ValueError(
                f"LinformerAttention was built for sequences of up to {self._built_length} "
                f"positions (its projections are ({self.projection_dim}, "
                f"{self._built_length})). Received a sequence of {length}. Build it with a "
                "larger sequence_length."
            )
        if padding_mask is not None:
            keep = ops.cast(padding_mask, k.dtype)[:, None, :, None]  # (b, 1, n, 1)
            k, v = k * keep, v * keep
        key_projection = ops.cast(self.key_projection[:, :length], k.dtype)  # (k, n)
        value_projection = self.value_projection
        value_projection = (
            key_projection
            if value_projection is None
            else ops.cast(value_projection[:, :length], v.dtype)
        )
        projected_keys = ops.einsum("pn,bhnd->bhpd", key_projection, k)  # (b, h, k, d)
        projected_values = ops.einsum("pn,bhnd->bhpd", value_projection, v)
        logits = self._scaled_logits("bhqd,bhpd->bhqp", q, projected_keys)  # (b, h, n, k)
        probabilities = ops.softmax(logits, axis=-1)
        return self._weighted_sum("bhqp,bhpd->bhqd", probabilities, projected_values, training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "projection_dim": self.projection_dim,
                "sequence_length": self.sequence_length,
                "shared_projection": self.shared_projection,
                "projection_initializer": keras.initializers.serialize(self.projection_initializer),
            }
        )
        return config


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


def _check_seed(seed, layer_name):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(
            f"`seed` of {layer_name} must be None or an int >= 0. Received: seed={seed!r}."
        )


def _draw_seed(seed):
    return int(np.random.randint(0, 2**31 - 1)) if seed is None else seed


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
        _check_positive_int(num_features, "num_features", "PerformerAttention")
        _check_positive_int(chunk_size, "chunk_size", "PerformerAttention")
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


@keras.saving.register_keras_serializable(package="zoo")
class ReformerAttention(_EfficientAttention):
    __doc__ = (
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
"""
        + _COMMON_ARGS_DOC.replace(
            "        num_heads:",
            "        num_buckets: number of hash buckets: 1 or an even number.\n"
            "        num_hashes: number of hash rounds.\n"
            "        chunk_size: positions per chunk of the sorted sequence.\n"
            "        seed: seed of the random rotations; `None` draws one from NumPy.\n"
            "        num_heads:",
        )
        + _CALL_DOC
        + """
    Example:

    >>> import numpy as np
    >>> layer = ReformerAttention(num_heads=2, key_dim=8, num_buckets=4, chunk_size=8,
    ...                           seed=0)
    >>> x = np.random.rand(2, 32, 16).astype("float32")
    >>> tuple(layer(x, use_causal_mask=True).shape)
    (2, 32, 16)
    """
    )

    def __init__(
        self, num_heads, key_dim, num_buckets=8, num_hashes=2, chunk_size=64, seed=None, **kwargs
    ):
        super().__init__(num_heads, key_dim, **kwargs)
        _check_positive_int(num_buckets, "num_buckets", "ReformerAttention")
        _check_positive_int(num_hashes, "num_hashes", "ReformerAttention")
        _check_positive_int(chunk_size, "chunk_size", "ReformerAttention")
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

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_buckets": self.num_buckets,
                "num_hashes": self.num_hashes,
                "chunk_size": self.chunk_size,
                "seed": self.seed,
            }
        )
        return config


ATTENTION_TYPES = {
    "full": MultiHeadAttention,
    "sparse": SparseAttention,
    "longformer": LongformerAttention,
    "linformer": LinformerAttention,
    "performer": PerformerAttention,
    "reformer": ReformerAttention,
}

# Arguments every attention takes from its block (not per-type options).
_BLOCK_SET = ("num_heads", "key_dim", "dropout", "kernel_initializer", "dtype", "name")


def _own_arguments(name):
    cls = ATTENTION_TYPES[name]
    if cls is MultiHeadAttention:
        return ()
    own = inspect.signature(cls.__init__).parameters
    return tuple(p for p in own if p not in ("self", "kwargs", *_BLOCK_SET))


def check_attention_options(attention, attention_options, owner="layer"):
    """Validate an `attention=` name and its `attention_options` dict; return the dict.

    Raises a `ValueError` for an unknown name, a non-dict, or an option the attention
    type does not take (naming the ones it does).
    """
    if attention not in ATTENTION_TYPES:
        raise ValueError(
            f"Unknown attention for {owner}: {attention!r}. Expected one of "
            f"{list(ATTENTION_TYPES)} or a Keras layer instance."
        )
    options = {} if attention_options is None else attention_options
    if not isinstance(options, dict):
        raise ValueError(
            f"`attention_options` of {owner} must be a dict of the arguments of the "
            f"{attention!r} attention. Received: {attention_options!r}."
        )
    allowed = _own_arguments(attention)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"Unknown attention_options for attention={attention!r} of {owner}: {unknown}. "
            f"Expected a subset of {list(allowed)}."
        )
    return dict(options)


def make_attention(attention, num_heads, key_dim, attention_options=None, **kwargs):
    """The attention layer named `attention` (a key of `ATTENTION_TYPES`).

    Args:
        attention: `"full"`, `"sparse"`, `"longformer"`, `"linformer"`, `"performer"` or
            `"reformer"`.
        num_heads: number of heads.
        key_dim: size of each head.
        attention_options: dict of the type's own arguments (e.g. `{"attention_window":
            64}` for Longformer).
        **kwargs: common arguments (`dropout`, `kernel_initializer`, `dtype`, `name`).

    Example:

    >>> layer = make_attention("performer", 2, 8, {"num_features": 16, "seed": 0})
    >>> type(layer).__name__
    'PerformerAttention'
    """
    options = check_attention_options(attention, attention_options)
    return ATTENTION_TYPES[attention](num_heads, key_dim, **options, **kwargs)
