"""Transformer encoder and decoder blocks: N x D in, N x D out."""

import keras

from zoo._arguments import deserialize_entry
from zoo._checks import check_int, check_rate
from zoo.layers.attention import MultiHeadAttention, _clone_initializer
from zoo.layers.dropout import Dropout
from zoo.layers.efficient_attention import check_attention_options, make_attention
from zoo.layers.feed_forward import ACTIVATIONS, FeedForward

__all__ = ["TransformerDecoderBlock", "TransformerEncoderBlock"]


def _check_block_arguments(layer, activation, layer_norm_epsilon):
    name = type(layer).__name__
    check_int(layer.num_heads, "num_heads", name)
    check_int(layer.intermediate_dim, "intermediate_dim", name)
    check_rate(layer.dropout, "dropout", name)
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation for {name}: {activation!r}. Expected one of {sorted(ACTIVATIONS)}."
        )
    if not isinstance(layer_norm_epsilon, (int, float)) or layer_norm_epsilon <= 0:
        raise ValueError(
            f"`layer_norm_epsilon` of {name} must be a small positive number (e.g. 1e-5). "
            f"Received: layer_norm_epsilon={layer_norm_epsilon!r}."
        )


def _head_dim(layer, hidden_dim):
    """`hidden_dim // num_heads`, or a ValueError that says how to fix the mismatch."""
    if hidden_dim is None:
        raise ValueError(
            f"{type(layer).__name__} needs a known last (hidden) dimension. "
            "Received an input whose last dimension is None."
        )
    if hidden_dim % layer.num_heads:
        divisors = [n for n in range(1, min(hidden_dim, 64) + 1) if hidden_dim % n == 0]
        multiple = hidden_dim + layer.num_heads - hidden_dim % layer.num_heads
        raise ValueError(
            f"hidden_dim (the inputs' last dimension) must be divisible by num_heads. "
            f"Received: hidden_dim={hidden_dim}, num_heads={layer.num_heads}. Choose "
            f"num_heads from {divisors}, or a hidden_dim that is a multiple of "
            f"{layer.num_heads} (e.g. {multiple})."
        )
    return hidden_dim // layer.num_heads


def _check_returns_scores(block, attention):
    """ValueError unless `attention` is a zoo `MultiHeadAttention` (which returns scores)."""
    if not isinstance(attention, MultiHeadAttention):
        raise ValueError(
            f"Block '{block.name}' uses a {type(attention).__name__} for attention, which does "
            "not return attention probabilities. return_attention_scores=True (attention "
            "heatmaps) needs the zoo MultiHeadAttention (build the block with attention=None)."
        )


def _serialize_layer(layer):
    return None if layer is None else keras.saving.serialize_keras_object(layer)


class _Block(keras.layers.Layer):
    """What the encoder and decoder blocks share: arguments, sublayer factories, config."""

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.1,
        activation="relu",
        layer_norm_epsilon=1e-5,
        normalize_first=False,
        attention=None,
        kernel_initializer="glorot_uniform",
        attention_options=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        _check_block_arguments(self, activation, layer_norm_epsilon)
        if isinstance(attention, str):
            attention_options = check_attention_options(
                attention, attention_options, type(self).__name__
            )
        elif attention is not None and not isinstance(attention, keras.layers.Layer):
            raise ValueError(
                f"`attention` of {type(self).__name__} must be None (a zoo MultiHeadAttention "
                "is built), an attention name ('full', 'sparse', 'longformer', 'linformer', "
                f"'performer', 'reformer') or a Keras layer instance. Received: {attention!r}."
            )
        elif attention_options:
            raise ValueError(
                f"`attention_options` of {type(self).__name__} go with an attention name, e.g. "
                "attention='longformer'. Received attention_options="
                f"{attention_options!r} with attention={attention!r}."
            )
        self.attention_options = attention_options or None
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.normalize_first = normalize_first
        self.attention = attention
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _make_attention(self, hidden_dim, name):
        return MultiHeadAttention(
            self.num_heads,
            _head_dim(self, hidden_dim),
            dropout=self.dropout,
            kernel_initializer=_clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def _make_self_attention(self, hidden_dim):
        """The self-attention layer: the given instance, or one built from its name."""
        if isinstance(self.attention, keras.layers.Layer):
            return self.attention
        if self.attention in (None, "full"):
            return self._make_attention(hidden_dim, "self_attention")
        return make_attention(
            self.attention,
            self.num_heads,
            _head_dim(self, hidden_dim),
            self.attention_options,
            dropout=self.dropout,
            kernel_initializer=_clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="self_attention",
        )

    def _make_layer_norm(self, name, inputs_shape):
        layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        layer_norm.build(inputs_shape)
        return layer_norm

    def _make_dropout(self, name):
        return Dropout(self.dropout, dtype=self.dtype_policy, name=name)

    def _build_self_attention(self, inputs_shape):
        """The self-attention sub-layer: the attention, its LayerNorm and dropout."""
        self._self_attention_layer = self._make_self_attention(inputs_shape[-1])
        if not self._self_attention_layer.built:
            self._self_attention_layer.build(inputs_shape)
        self._self_attention_layer_norm = self._make_layer_norm(
            "self_attention_layer_norm", inputs_shape
        )
        self._self_attention_dropout = self._make_dropout("self_attention_dropout")

    def _build_feed_forward(self, inputs_shape):
        """The feed-forward sub-layer and its LayerNorm (the block's last sub-layer)."""
        self._feed_forward = FeedForward(
            self.intermediate_dim,
            activation=self.activation,
            dropout=self.dropout,
            kernel_initializer=_clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="feed_forward",
        )
        self._feed_forward.build(inputs_shape)
        self._feed_forward_layer_norm = self._make_layer_norm(
            "feed_forward_layer_norm", inputs_shape
        )

    def _sublayer(self, sublayer, layer_norm, x, **kwargs):
        """`LN(x + F(x))` (post-LN, the paper) or `x + F(LN(x))` (pre-LN).

        `sublayer` returns `F(x)` or a tuple whose first item is `F(x)` (the rest, e.g.
        attention scores or an updated cache, is returned beside the new `x`).
        """
        residual = x
        if self.normalize_first:
            x = layer_norm(x)
        outputs = sublayer(x, **kwargs)
        extra = ()
        if isinstance(outputs, (tuple, list)):
            outputs, *extra = outputs
        x = residual + outputs
        if not self.normalize_first:
            x = layer_norm(x)
        return (x, *extra) if extra else x

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "normalize_first": self.normalize_first,
                "attention": (
                    self.attention
                    if isinstance(self.attention, str)
                    else _serialize_layer(self.attention)
                ),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "attention_options": self.attention_options,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_entry(config, "attention"))


_BLOCK_ARGS_DOC = """
    Args:
        num_heads: number of attention heads; must divide the hidden dimension.
        intermediate_dim: width of the feed-forward hidden layer (4 · D in the paper).
        dropout: dropout rate on each sub-layer's output and on attention probabilities.
        activation: feed-forward activation, one of `"relu"`, `"gelu"`,
            `"gelu_approximate"`, `"silu"`, `"tanh"`.
        layer_norm_epsilon: LayerNorm epsilon.
        normalize_first: `False`: post-LN, `LN(x + F(x))`, as in the paper; `True`:
            pre-LN, `x + F(LN(x))` (GPT-2; add a final LayerNorm after the stack).
        attention: the self-attention: `None` or `"full"` for a zoo
            `MultiHeadAttention`; `"sparse"`, `"longformer"`, `"linformer"`,
            `"performer"` or `"reformer"` for the layer of `zoo.layers.efficient_attention`
            (cross-attention stays full); or a layer instance, called as
            `attention(x, padding_mask=..., attention_mask=..., training=...)`, plus
            `use_causal_mask=` in the decoder and `cache=`, `cache_update_index=` when
            decoding with a cache.
        kernel_initializer: initializer of every kernel.
        attention_options: dict of the named attention's own arguments, e.g.
            `{"attention_window": 64, "num_global_tokens": 1}` for `"longformer"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).
"""


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoderBlock(_Block):
    __doc__ = (
        """One Transformer encoder block: self-attention and a feed-forward network.

    Every position attends to every (non-padded) position, then goes through a
    position-wise feed-forward network; each of the two sub-layers is wrapped in a
    residual connection `X + F(X)` and a LayerNorm (statistics in float32 under
    mixed precision). The block maps `(batch, sequence, D)` to the same shape, so
    blocks stack.

    Reference: Vaswani et al., "Attention Is All You Need", 2017,
    https://arxiv.org/abs/1706.03762 (section 3.1); pre-LN: Xiong et al., 2020,
    https://arxiv.org/abs/2002.04745.
"""
        + _BLOCK_ARGS_DOC
        + """
    Call arguments:
        inputs: `(batch, sequence, hidden_dim)`.
        padding_mask: `(batch, sequence)`, truthy for real tokens.
        attention_mask: `(batch, sequence, sequence)`, truthy where a position may attend.
        training: whether dropout is active.
        return_attention_scores: also return the self-attention probabilities (as
            keras-hub's `TransformerEncoder`); needs the zoo `MultiHeadAttention`
            (`attention=None` or `"full"`).

    Returns:
        The output `(batch, sequence, hidden_dim)`; with `return_attention_scores`,
        `(output, scores)`, where `scores` `(batch, num_heads, sequence, sequence)` are
        the probabilities each query puts on each key, before attention dropout: the
        ones this call used (pre-LN blocks normalize the input first).

    Example:

    >>> import numpy as np
    >>> block = TransformerEncoderBlock(num_heads=2, intermediate_dim=64)
    >>> x = np.random.rand(2, 8, 16).astype("float32")
    >>> tuple(block(x, padding_mask=np.ones((2, 8), bool)).shape)
    (2, 8, 16)
    >>> output, scores = block(x, return_attention_scores=True)
    >>> tuple(scores.shape)
    (2, 2, 8, 8)
    """
    )

    def build(self, inputs_shape):
        self._build_self_attention(inputs_shape)
        self._build_feed_forward(inputs_shape)

    def _attention_sublayer(
        self, x, padding_mask, attention_mask, return_attention_scores, training
    ):
        if not return_attention_scores:
            x = self._self_attention_layer(
                x, padding_mask=padding_mask, attention_mask=attention_mask, training=training
            )
            return self._self_attention_dropout(x, training=training)
        x, scores = self._self_attention_layer(
            x,
            padding_mask=padding_mask,
            attention_mask=attention_mask,
            return_attention_scores=True,
            training=training,
        )  # (batch, sequence, hidden), (batch, heads, sequence, sequence)
        return self._self_attention_dropout(x, training=training), scores

    def call(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
    ):
        if return_attention_scores:
            _check_returns_scores(self, self._self_attention_layer)
        outputs = self._sublayer(
            self._attention_sublayer,
            self._self_attention_layer_norm,
            inputs,
            padding_mask=padding_mask,
            attention_mask=attention_mask,
            return_attention_scores=return_attention_scores,
            training=training,
        )
        x, scores = outputs if return_attention_scores else (outputs, None)  # (batch, seq, D)
        x = self._sublayer(self._feed_forward, self._feed_forward_layer_norm, x, training=training)
        return (x, scores) if return_attention_scores else x

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def compute_output_spec(self, inputs, *args, return_attention_scores=False, **kwargs):
        if not return_attention_scores:
            return super().compute_output_spec(inputs, *args, **kwargs)
        batch, sequence = inputs.shape[0], inputs.shape[1]
        return (
            keras.KerasTensor(inputs.shape, dtype=self.compute_dtype),
            keras.KerasTensor((batch, self.num_heads, sequence, sequence), self.compute_dtype),
        )


@keras.saving.register_keras_serializable(package="zoo")
class TransformerDecoderBlock(_Block):
    __doc__ = (
        """One Transformer decoder block: causal self-attention, cross-attention, feed-forward.

    Masked (causal) self-attention lets position t see positions <= t only ("no
    information from the future"). When the block is built with an
    `encoder_sequence`, a cross-attention sub-layer follows, whose queries come from
    the decoder and keys/values from the encoder output (translation: the decoder
    writing "I study ML" looks at the encoded "Я изучаю ML"). A feed-forward network
    comes last. Each sub-layer has a residual connection and a LayerNorm (post-LN or
    pre-LN). Without `encoder_sequence` it is a GPT block.

    Decoding with a cache: pass `self_attention_cache`
    `(batch, 2, max_length, num_heads, hidden_dim // num_heads)` (zeros at the start)
    and `self_attention_cache_update_index` (the position of the first token of
    `decoder_sequence`); the block writes this step's keys/values there and returns
    `(output, self_attention_cache)`; with cross-attention it returns
    `(output, self_attention_cache, cross_attention_cache)`, where the cross-attention
    cache (the encoder's keys/values, computed from `encoder_sequence` when not
    given; `compute_cross_attention_cache(encoder_sequence)` computes it up front)
    can be passed back so the encoder output is projected once. All shapes are
    fixed, so the step compiles once with XLA. While caching, `decoder_padding_mask`
    covers the cache positions, `(batch, max_length)`. An attention that decodes with
    its own cache (a Performer's recurrent state, a Longformer's ring) takes that as
    `self_attention_cache` instead: `init_self_attention_cache(batch_size, max_length)`
    makes it.

    Reference: Vaswani et al., "Attention Is All You Need", 2017,
    https://arxiv.org/abs/1706.03762 (section 3.1); Radford et al., "Language Models
    are Unsupervised Multitask Learners" (GPT-2), 2019.
"""
        + _BLOCK_ARGS_DOC
        + """
    Call arguments:
        decoder_sequence: `(batch, target, hidden_dim)`.
        encoder_sequence: `(batch, source, encoder_dim)` or `None`.
        decoder_padding_mask: `(batch, target)` (`(batch, max_length)` with a cache).
        encoder_padding_mask: `(batch, source)`.
        decoder_attention_mask: `(batch, target, target)` (or `(batch, target,
            max_length)` with a cache), merged with the causal mask.
        encoder_attention_mask: `(batch, target, source)`.
        self_attention_cache: `(batch, 2, max_length, num_heads, head_dim)`.
        self_attention_cache_update_index: int or scalar tensor.
        cross_attention_cache: `(batch, 2, source, num_heads, head_dim)`.
        use_causal_mask: apply the causal mask in self-attention (default `True`).
        training: whether dropout is active.
        return_attention_scores: also return the attention probabilities; needs the
            zoo `MultiHeadAttention` (`attention=None` or `"full"`).

    Returns:
        The output `(batch, target, hidden_dim)`. With a cache, the tuple
        `(output, self_attention_cache)`, or `(output, self_attention_cache,
        cross_attention_cache)` when the block has cross-attention. With
        `return_attention_scores`, one more item comes last: a dict with
        `"self_attention"`, `(batch, num_heads, target, target)` (`(batch, num_heads,
        target, max_length)` with a cache), and, when the block has cross-attention,
        `"cross_attention"`, `(batch, num_heads, target, source)`: the probabilities
        each query puts on each key before attention dropout, on the inputs this call
        gave each sub-layer. So `(output, scores)` without a cache.

    Example:

    >>> import numpy as np
    >>> block = TransformerDecoderBlock(num_heads=2, intermediate_dim=64)
    >>> target = np.random.rand(2, 6, 16).astype("float32")
    >>> source = np.random.rand(2, 8, 16).astype("float32")
    >>> tuple(block(target, source).shape)
    (2, 6, 16)
    >>> output, scores = block(target, source, return_attention_scores=True)
    >>> tuple(scores["self_attention"].shape), tuple(scores["cross_attention"].shape)
    ((2, 2, 6, 6), (2, 2, 6, 8))
    >>> tuple(block.compute_cross_attention_cache(source).shape)
    (2, 2, 8, 2, 8)
    """
    )

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        self._build_self_attention(decoder_sequence_shape)
        self._cross_attention_layer = None
        if encoder_sequence_shape is not None:
            hidden_dim = decoder_sequence_shape[-1]
            self._cross_attention_layer = self._make_attention(hidden_dim, "cross_attention")
            self._cross_attention_layer.build(decoder_sequence_shape, encoder_sequence_shape)
            self._cross_attention_layer_norm = self._make_layer_norm(
                "cross_attention_layer_norm", decoder_sequence_shape
            )
            self._cross_attention_dropout = self._make_dropout("cross_attention_dropout")
        self._build_feed_forward(decoder_sequence_shape)

    def compute_cross_attention_cache(self, encoder_sequence):
        """The cross-attention keys and values of an encoder output, for decoding.

        Args:
            encoder_sequence: the encoder output `(batch, source, encoder_dim)`.

        Returns:
            `(batch, 2, source, num_heads, hidden_dim // num_heads)`: keys, then values;
            pass it as `cross_attention_cache` at every step, so the encoder output is
            projected once.
        """
        if getattr(self, "_cross_attention_layer", None) is None:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has no cross-attention"
                + ("" if self.built else " yet: it is built on its first call")
                + ", so it has no cross-attention cache. Call it (or build it) with an "
                "`encoder_sequence` first."
            )
        return self._cross_attention_layer.compute_cache(encoder_sequence)

    def init_self_attention_cache(self, batch_size, max_length):
        """The self-attention's own decoding state, or None for a key/value cache.

        An attention with an `init_cache(batch_size, max_length)` method (a Performer's
        recurrent state, a Longformer's ring) decodes with what it returns; for the
        others (None) the cache is `(batch, 2, max_length, num_heads, hidden_dim //
        num_heads)` zeros.
        """
        init = getattr(self._self_attention_layer, "init_cache", None)
        return None if init is None else init(batch_size, max_length)

    def _self_attention_sublayer(
        self, x, cache, cache_update_index, return_attention_scores, training, **kwargs
    ):
        """`(F(x), scores or None, updated cache or None)`."""
        if return_attention_scores:
            kwargs["return_attention_scores"] = True
        if cache is not None:
            kwargs.update(cache=cache, cache_update_index=cache_update_index)
        outputs = self._self_attention_layer(x, training=training, **kwargs)
        if cache is None and not return_attention_scores:
            outputs = (outputs,)
        outputs, *extra = outputs
        scores = extra.pop(0) if return_attention_scores else None
        cache = extra.pop(0) if cache is not None else None
        return self._self_attention_dropout(outputs, training=training), scores, cache

    def _cross_attention_sublayer(
        self, x, encoder_sequence, cache, return_attention_scores, training, **kwargs
    ):
        """`(F(x), scores or None)`."""
        if return_attention_scores:
            kwargs["return_attention_scores"] = True
        if cache is None:
            outputs = self._cross_attention_layer(
                x, value=encoder_sequence, training=training, **kwargs
            )
            if not return_attention_scores:
                outputs = (outputs,)
        else:
            outputs = self._cross_attention_layer(x, cache=cache, training=training, **kwargs)
            outputs = outputs[:-1]  # the cache comes back unchanged
        scores = outputs[1] if return_attention_scores else None
        return self._cross_attention_dropout(outputs[0], training=training), scores

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        encoder_padding_mask=None,
        decoder_attention_mask=None,
        encoder_attention_mask=None,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        use_causal_mask=True,
        training=None,
        return_attention_scores=False,
    ):
        has_cross_attention = self._cross_attention_layer is not None
        has_encoder = encoder_sequence is not None or cross_attention_cache is not None
        if has_encoder and not has_cross_attention:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' was built without cross-attention (its "
                "first call had no `encoder_sequence`), but received an `encoder_sequence` or "
                "`cross_attention_cache`. Call it with the encoder output from the start."
            )
        if has_cross_attention and not has_encoder:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has cross-attention and needs "
                "`encoder_sequence` (or `cross_attention_cache`). Received neither."
            )
        if (self_attention_cache is None) != (self_attention_cache_update_index is None):
            raise ValueError(
                "Pass `self_attention_cache` and `self_attention_cache_update_index` together. "
                f"Received: self_attention_cache is None: {self_attention_cache is None}, "
                "self_attention_cache_update_index is None: "
                f"{self_attention_cache_update_index is None}."
            )
        caching = self_attention_cache is not None
        if return_attention_scores:
            _check_returns_scores(self, self._self_attention_layer)
        scores = {}

        x, scores["self_attention"], self_attention_cache = self._sublayer(
            self._self_attention_sublayer,
            self._self_attention_layer_norm,
            decoder_sequence,
            cache=self_attention_cache,
            cache_update_index=self_attention_cache_update_index,
            return_attention_scores=return_attention_scores,
            padding_mask=decoder_padding_mask,
            attention_mask=decoder_attention_mask,
            use_causal_mask=use_causal_mask,
            training=training,
        )  # (batch, target, D), (batch, heads, target, target | max_length)

        if has_cross_attention:
            if caching and cross_attention_cache is None:
                # (batch, 2, source, heads, head_dim)
                cross_attention_cache = self.compute_cross_attention_cache(encoder_sequence)
            x, scores["cross_attention"] = self._sublayer(
                self._cross_attention_sublayer,
                self._cross_attention_layer_norm,
                x,
                encoder_sequence=encoder_sequence,
                cache=cross_attention_cache,
                return_attention_scores=return_attention_scores,
                padding_mask=encoder_padding_mask,
                attention_mask=encoder_attention_mask,
                training=training,
            )  # (batch, target, D), (batch, heads, target, source)

        x = self._sublayer(self._feed_forward, self._feed_forward_layer_norm, x, training=training)
        outputs = (x,)
        if caching:
            outputs += (self_attention_cache,)
            if has_cross_attention:
                outputs += (cross_attention_cache,)
        if return_attention_scores:
            outputs += (scores,)
        return outputs[0] if len(outputs) == 1 else outputs
