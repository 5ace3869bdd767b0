"""Shared core of the efficient attention layers: `_EfficientAttention` and its helpers.

The call path (checks, projections, static length, cache decoding, output projection),
the block/padding helpers, the seed checks and the docstring pieces every layer reuses.
"""

import math

import numpy as np
from keras import ops

from zoo._compat import in_symbolic_scope
from zoo.layers.attention import _LARGE_NEGATIVE, MultiHeadAttention, flat_projection


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


def _cut_blocks(q, k, v, padding_mask, block):
    """Q, K, V `(b, h, n, d)` zero-padded to whole blocks of `block` positions and cut.

    Returns:
        `(q_blocks, k_blocks, v_blocks)`, each `(b, h, blocks, block, d)`; the positions
        `(blocks, block)` (int32); the key validity `(b or 1, padded)` (a real key inside
        the sequence) and the same cut into blocks, `(b or 1, blocks, block)`.
    """
    length = q.shape[2]
    num_blocks = -(-length // block)
    padded = num_blocks * block
    valid = _key_validity(padding_mask, length, padded)
    shape = (-1, q.shape[1], num_blocks, block)
    blocks = tuple(ops.reshape(_pad_sequence(x, padded), (*shape, x.shape[-1])) for x in (q, k, v))
    positions = ops.reshape(ops.arange(padded, dtype="int32"), (num_blocks, block))
    return blocks, positions, valid, ops.reshape(valid, (-1, num_blocks, block))


def _neighbour_blocks(k_blocks, v_blocks, positions, valid_blocks, shifts):
    """The keys each block sees: those of the blocks `shifts` away, joined on the key axis.

    A shift of 1 is the previous block, 0 the block itself, -1 the next one. Returns the
    keys and values `(b, h, blocks, keys, d)`, their positions `(blocks, keys)` (outside
    `[0, padded)` where a shift crosses the edge) and validity `(b or 1, blocks, keys)`
    (False across the edge).
    """
    block = positions.shape[1]
    return (
        ops.concatenate([_shift_blocks(k_blocks, s, 2) for s in shifts], axis=3),
        ops.concatenate([_shift_blocks(v_blocks, s, 2) for s in shifts], axis=3),
        ops.concatenate([positions - s * block for s in shifts], axis=1),
        ops.concatenate([_shift_blocks(valid_blocks, s, 1) for s in shifts], axis=2),
    )


class _EfficientAttention(MultiHeadAttention):
    """Shared call path: checks, projections, the static length, the output projection."""

    _supports_causal = True
    # The subclass's own constructor arguments, added to `get_config` in this order.
    _config_arguments = ()

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
        if not isinstance(length, int):  # None, or a symbolic dimension (JAX shape inference)
            if in_symbolic_scope():
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

    def get_config(self):
        config = super().get_config()
        config.update({name: getattr(self, name) for name in self._config_arguments})
        return config


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


def _layer_doc(summary, own_arguments, example):
    """A layer's docstring: `summary` (ending with "Args:"), the layer's `own_arguments`
    (lines "        name: text\n") before the common ones, the call arguments, and an
    example after `import numpy as np` (its `>>>` lines and their output)."""
    arguments = _COMMON_ARGS_DOC.replace("        num_heads:", own_arguments + "        num_heads:")
    example = "\n    Example:\n\n    >>> import numpy as np\n" + example
    return summary + arguments + _CALL_DOC + example


def _check_seed(seed, layer_name):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(
            f"`seed` of {layer_name} must be None or an int >= 0. Received: seed={seed!r}."
        )


def _draw_seed(seed):
    return int(np.random.randint(0, 2**31 - 1)) if seed is None else seed
