"""Multi-head scaled dot-product attention, written from Q/K/V projections."""

import math

import keras
from keras import ops

from zoo._arguments import arguments_config, keep_arguments
from zoo._checks import check_int, check_rate
from zoo.layers.dropout import Dropout
from zoo.layers.masks import compute_causal_mask, merge_padding_and_attention_mask

__all__ = ["MultiHeadAttention", "flat_projection"]

# Added to the float32 logits of hidden keys. Finite (unlike -inf), so a query that may
# see no key at all gets a uniform row instead of NaN; matches keras.ops.dot_product_attention.
_LARGE_NEGATIVE = -0.7 * 3.38953e38

# The constructor arguments of `MultiHeadAttention`, as its config holds them.
_ARGUMENTS = (
    "num_heads",
    "key_dim",
    "value_dim",
    "dropout",
    "use_bias",
    "output_dim",
    "kernel_initializer",
    "bias_initializer",
)


def flat_projection(inputs, layer, input_axes=1):
    """Apply a `Dense` / `EinsumDense` layer's kernel and bias as one 2-D matmul.

    The layer's kernel is `(*input_dims, *output_dims)` over the last `input_axes` axes
    of `inputs`; the result is `(*leading, *output_dims)`, the same values the layer's own
    call gives. Flattening the leading axes first matters on CPU: under XLA the
    gradients of a batched `(batch, sequence, ...)` contraction with respect to the
    kernel ran 1.3-1.5x slower than one `(tokens, fan_in) x (fan_in, fan_out)` matmul
    (2 cores, batch 32 x 128 tokens, 256 <-> 1024 features).
    """
    bias = getattr(layer, "bias", None)
    return _flat_matmul(inputs, layer.kernel, bias, input_axes, layer.compute_dtype)


def _flat_matmul(inputs, kernel, bias, input_axes, dtype):
    """`inputs` contracted over its last `input_axes` axes with `kernel`, plus `bias`."""
    kernel = ops.cast(kernel, dtype)
    output_dims = tuple(kernel.shape[input_axes:])
    fan_in = math.prod(kernel.shape[:input_axes])
    fan_out = math.prod(output_dims)
    leading = ops.shape(inputs)[: len(inputs.shape) - input_axes]
    outputs = ops.matmul(ops.reshape(inputs, (-1, fan_in)), ops.reshape(kernel, (fan_in, fan_out)))
    if bias is not None:
        outputs = outputs + ops.reshape(ops.cast(bias, dtype), (fan_out,))
    return ops.reshape(outputs, (*leading, *output_dims))


def _clone_initializer(initializer):
    """A fresh initializer with the same config, so seeded ones do not repeat values."""
    return initializer.__class__.from_config(initializer.get_config())


@keras.saving.register_keras_serializable(package="zoo")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention: softmax(Q K^T / sqrt(key_dim)) V, on several heads at once.

    The query, key and value sequences are projected to `num_heads` heads of size
    `key_dim` (`value_dim` for the values). Each head scores every query against every
    key with a scaled dot product, turns the scores into probabilities with a softmax
    (computed in float32, also under mixed precision), and returns the
    probability-weighted sum of the values. The heads are concatenated and projected
    back to `output_dim` (the query's last dimension by default). Time and memory grow
    as O(query * key).

    Masks: `padding_mask` `(batch, key)` hides padded keys, `attention_mask`
    `(batch, query, key)` hides arbitrary pairs, `use_causal_mask=True` hides the
    future. They are merged by `zoo.layers.masks`.

    When the attention probabilities are not requested and no attention dropout is
    active, the layer takes the `keras.ops.dot_product_attention` fast path, which
    computes the same thing; with a single query (a decoding step) it uses broadcast
    products and sums over the keys instead, which skip the transposes of the cache.

    Decoding with a key/value cache: pass `cache`, a `(batch, 2, max_length, heads,
    key_dim)` tensor holding keys (index 0) and values (index 1) of earlier positions.
    With `cache_update_index`, the new keys/values of this call are written at that
    position with `keras.ops.slice_update` and the queries attend to the updated cache;
    shapes never change, so a whole decoding loop compiles once with XLA. Without
    `cache_update_index` the cache is read as is (cross-attention to a fixed encoder
    output, see `compute_cache`).

    Reference: Vaswani et al., "Attention Is All You Need", 2017,
    https://arxiv.org/abs/1706.03762 (section 3.2).

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for the queries and keys.
        value_dim: size of each head for the values; defaults to `key_dim`.
        dropout: dropout rate on the attention probabilities.
        use_bias: whether the four projections have biases.
        output_dim: size of the output features; defaults to the query's last
            dimension.
        kernel_initializer: initializer of the projection kernels.
        bias_initializer: initializer of the projection biases.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, query, query_dim)`.
        value: `(batch, key, value_dim_in)`; defaults to `query` (self-attention).
        key: `(batch, key, key_dim_in)`; defaults to `value`.
        padding_mask: `(batch, key)`, truthy for real key tokens.
        attention_mask: `(batch, query, key)`, truthy where a query may attend.
        use_causal_mask: hide keys after each query's position.
        cache: `(batch, 2, max_length, num_heads, key_dim)` keys/values cache.
        cache_update_index: int or scalar tensor, where this call's keys/values go.
        return_attention_scores: also return the `(batch, heads, query, key)`
            attention probabilities.
        training: whether attention dropout is active.

    Returns:
        `output` `(batch, query, output_dim)`; `(output, scores)` with
        `return_attention_scores`; `(output, cache)` with `cache`;
        `(output, scores, cache)` with both.

    Example:

    >>> import numpy as np
    >>> layer = MultiHeadAttention(num_heads=2, key_dim=8)
    >>> x = np.random.rand(2, 5, 16).astype("float32")
    >>> output, scores = layer(x, padding_mask=np.ones((2, 5)), return_attention_scores=True)
    >>> tuple(output.shape), tuple(scores.shape)
    ((2, 5, 16), (2, 2, 5, 5))
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_dim=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        check_int(num_heads, "num_heads", name)
        check_int(key_dim, "key_dim", name)
        if value_dim is not None:
            check_int(value_dim, "value_dim", name)
        if output_dim is not None:
            check_int(output_dim, "output_dim", name)
        check_rate(dropout, "dropout", name)
        keep_arguments(self, locals(), _ARGUMENTS)
        self._value_dim = value_dim or key_dim
        self._dropout_layer = Dropout(dropout, dtype=self.dtype_policy, name="attention_dropout")

    def _projection(self, equation, output_shape, bias_axes, name):
        return keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            kernel_initializer=_clone_initializer(self.kernel_initializer),
            bias_initializer=_clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        for shape_name, shape in (("query", query_shape), ("value", value_shape)):
            if len(shape) != 3:
                raise ValueError(
                    f"{type(self).__name__} expects `{shape_name}` shaped (batch, sequence, "
                    f"features). Received: {shape_name}.shape={tuple(shape)}."
                )
        self._query_dense = self._head_projection("query", self.key_dim, query_shape)
        self._key_dense = self._head_projection("key", self.key_dim, key_shape)
        self._value_dense = self._head_projection("value", self._value_dim, value_shape)
        self._output_dense = self._output_projection(query_shape)

    def _head_projection(self, name, head_dim, inputs_shape):
        """The built projection `(batch, sequence, features) -> (batch, sequence, heads,
        head_dim)` named `name` (`"query"`, `"key"`, `"value"`)."""
        dense = self._projection("abc,cde->abde", (None, self.num_heads, head_dim), "de", name)
        dense.build(inputs_shape)
        return dense

    def _output_projection(self, query_shape):
        """The built `attention_output` projection `(batch, query, heads, value_dim) ->
        (batch, query, output_dim)`."""
        output_dim = self.output_dim or query_shape[-1]
        dense = self._projection("abcd,cde->abe", (None, output_dim), "e", "attention_output")
        dense.build((query_shape[0], query_shape[1], self.num_heads, self._value_dim))
        return dense

    def compute_cache(self, value, key=None):
        """Keys and values of `value` / `key`, stacked as a `(batch, 2, key, heads, key_dim)`
        cache, for attending to a fixed sequence (an encoder output) while decoding."""
        self._check_cache_dims()
        key = value if key is None else key
        return ops.stack(
            [flat_projection(key, self._key_dense), flat_projection(value, self._value_dense)],
            axis=1,
        )

    def _check_cache_dims(self, cache=None):
        if self._value_dim != self.key_dim:
            raise ValueError(
                "A key/value cache needs value_dim == key_dim. Received: "
                f"key_dim={self.key_dim}, value_dim={self.value_dim}. Leave value_dim=None."
            )
        expected = (self.num_heads, self.key_dim)
        if cache is not None and (len(cache.shape) != 5 or tuple(cache.shape[-2:]) != expected):
            raise ValueError(
                "`cache` must be shaped (batch, 2, max_length, num_heads, key_dim) = "
                f"(batch, 2, max_length, {self.num_heads}, {self.key_dim}). "
                f"Received: cache.shape={tuple(cache.shape)}."
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
        self_attention = (value is None or value is query) and (key is None or key is query)
        value = query if value is None else value
        key = value if key is None else key
        if cache is not None:
            self._check_cache_dims(cache)
            if cache_update_index is None:
                # (batch, query, heads, key_dim)
                query_heads = flat_projection(query, self._query_dense)
                key_heads = cache[:, 0]  # (batch, key, heads, key_dim)
                value_heads = cache[:, 1]
            else:
                if self_attention:
                    query_heads, new_keys, new_values = self._fused_projection(query)
                else:
                    query_heads = flat_projection(query, self._query_dense)
                    new_keys, new_values = (
                        flat_projection(key, self._key_dense),
                        flat_projection(value, self._value_dense),
                    )
                # One in-place write of this step's keys and values, (batch, 2, n, heads, dim).
                update = ops.stack([new_keys, new_values], axis=1)
                cache = ops.slice_update(cache, [0, 0, cache_update_index, 0, 0], update)
                key_heads, value_heads = cache[:, 0], cache[:, 1]
        elif self_attention and self._value_dim == self.key_dim:
            query_heads, key_heads, value_heads = self._fused_projection(query)
        else:
            # (batch, query | key, heads, key_dim | value_dim)
            query_heads = flat_projection(query, self._query_dense)
            key_heads = flat_projection(key, self._key_dense)
            value_heads = flat_projection(value, self._value_dense)

        self._check_mask_length(padding_mask, key_heads, cache is not None)
        mask = merge_padding_and_attention_mask(query, padding_mask, attention_mask)
        if use_causal_mask:
            # (1, query, key): broadcasts over the batch of the other masks.
            causal_mask = compute_causal_mask(
                1,
                ops.shape(query_heads)[1],
                ops.shape(key_heads)[1],
                cache_index=cache_update_index,
            )
            mask = causal_mask if mask is None else ops.logical_and(mask, causal_mask)

        use_dropout = bool(training) and self.dropout > 0
        if return_attention_scores or use_dropout or self._value_dim != self.key_dim:
            attended, scores = self._attend(query_heads, key_heads, value_heads, mask, training)
        elif query_heads.shape[1] == 1:
            attended = self._attend_one_query(query_heads, key_heads, value_heads, mask)
            scores = None
        else:
            attended = ops.dot_product_attention(
                query_heads,
                key_heads,
                value_heads,
                mask=None if mask is None else ops.expand_dims(mask, 1),
                scale=1.0 / math.sqrt(self.key_dim),
            )  # (batch, query, heads, value_dim)
            scores = None
        output = flat_projection(attended, self._output_dense, 2)  # (batch, query, output_dim)

        outputs = (output,)
        if return_attention_scores:
            outputs += (scores,)
        if cache is not None:
            outputs += (cache,)
        return outputs[0] if len(outputs) == 1 else outputs

    def _fused_projection(self, inputs):
        """Self-attention Q, K, V from one matmul: the three kernels side by side.

        The weights stay the separate `query` / `key` / `value` EinsumDense kernels (same
        layout as `keras.layers.MultiHeadAttention`); they are stacked for the call, so a
        `(batch * sequence, features) x (features, 3 * heads * key_dim)` product replaces
        three narrower ones (forward and backward).
        """
        denses = (self._query_dense, self._key_dense, self._value_dense)
        dtype = self.compute_dtype
        kernel = ops.stack([ops.cast(d.kernel, dtype) for d in denses], axis=1)  # (c, 3, h, d)
        bias = ops.stack([ops.cast(d.bias, dtype) for d in denses]) if self.use_bias else None
        projected = _flat_matmul(inputs, kernel, bias, 1, dtype)
        return projected[:, :, 0], projected[:, :, 1], projected[:, :, 2]  # (b, s, heads, dim)

    def _check_mask_length(self, padding_mask, key_heads, cached):
        key_length = key_heads.shape[1]
        if padding_mask is None or len(padding_mask.shape) != 2:
            return  # no mask, or a rank error that `merge_padding_and_attention_mask` explains
        mask_length = padding_mask.shape[1]
        static = isinstance(key_length, int) and isinstance(mask_length, int)
        if static and key_length != mask_length:
            hint = " With a cache, the keys are the whole cache." if cached else ""
            raise ValueError(
                f"`padding_mask` marks the keys, so it must be shaped (batch, {key_length})."
                f" Received: padding_mask.shape={tuple(padding_mask.shape)}.{hint}"
            )

    def _attend_one_query(self, query_heads, key_heads, value_heads, mask):
        """One query per example (a decoding step): products and sums, no matmuls.

        With a single query the two attention matmuls are matrix-vector products; as
        broadcast multiplies and reductions over the keys' own `(batch, key, heads,
        dim)` layout they read each cached key and value once, where a batched matmul
        first transposes the whole cache to `(batch, heads, key, dim)`. In the greedy
        decoding of `benchmarks/generation.py` (XLA, one CPU thread) this made the loop
        take about 1.35x less time.
        """
        products = ops.cast(query_heads * key_heads, "float32")  # (batch, key, heads, dim)
        logits = ops.sum(products, axis=-1) * (1.0 / math.sqrt(self.key_dim))  # (b, key, heads)
        if mask is not None:
            key_mask = ops.transpose(mask, (0, 2, 1))  # (batch, 1, key) -> (batch, key, 1)
            logits = ops.where(key_mask, logits, _LARGE_NEGATIVE)
        probabilities = ops.cast(ops.softmax(logits, axis=1), self.compute_dtype)
        weighted = ops.expand_dims(probabilities, -1) * value_heads  # (batch, key, heads, dim)
        return ops.sum(weighted, axis=1, keepdims=True)  # (batch, 1, heads, dim)

    def _attend(self, query_heads, key_heads, value_heads, mask, training):
        """The explicit path: returns the attended values and the probabilities."""
        logits = ops.einsum("bqhd,bkhd->bhqk", query_heads, key_heads)  # (batch, heads, query, key)
        logits = ops.cast(logits, "float32") * (1.0 / math.sqrt(self.key_dim))
        if mask is not None:
            logits = ops.where(ops.expand_dims(mask, 1), logits, _LARGE_NEGATIVE)
        scores = ops.cast(ops.softmax(logits, axis=-1), self.compute_dtype)
        dropped = self._dropout_layer(scores, training=training)
        attended = ops.einsum("bhqk,bkhd->bqhd", dropped, value_heads)  # (batch, query, heads, dim)
        return attended, scores

    def get_config(self):
        return {**super().get_config(), **arguments_config(self, _ARGUMENTS)}
