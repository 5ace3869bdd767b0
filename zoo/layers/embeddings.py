"""Token, segment and position embeddings."""

import math

import keras
from keras import ops

from zoo._arguments import arguments_config, keep_arguments
from zoo._checks import check_float, check_int, check_rate
from zoo.layers.attention import _clone_initializer
from zoo.layers.cpu_matmul import tied_logits
from zoo.layers.dropout import Dropout

__all__ = [
    "PositionEmbedding",
    "RotaryEmbedding",
    "SinusoidalPositionEncoding",
    "TokenAndPositionEmbedding",
]


def _check_sequence_length(length, start_index, max_sequence_length, layer_name):
    """Raise when a statically known sequence does not fit in `max_sequence_length`."""
    static = isinstance(length, int) and isinstance(start_index, int)
    if static and start_index + length > max_sequence_length:
        raise ValueError(
            f"{layer_name} got a sequence of length {length} starting at position "
            f"{start_index}, but max_sequence_length={max_sequence_length}. Truncate "
            f"the inputs to at most {max_sequence_length - start_index} positions, or "
            f"build the layer with max_sequence_length >= {start_index + length}."
        )


_WAVELENGTH_HINT = "The paper uses 10000."


def _positions(length, start_index, dtype="float32"):
    """`start_index, ..., start_index + length - 1` as `dtype`, shaped `(length,)`."""
    positions = ops.arange(length, dtype="int32") + ops.cast(start_index, "int32")
    return ops.cast(positions, dtype)


@keras.saving.register_keras_serializable(package="zoo")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Fixed sine/cosine position encodings, shaped like the inputs.

    Position `pos` and feature `k` (with `i = k // 2`) get
    `sin(pos / max_wavelength^(2i / D))` for even `k` and
    `cos(pos / max_wavelength^(2i / D))` for odd `k`. Wavelengths form a geometric
    progression from 2π to `max_wavelength · 2π`, so a fixed offset is a linear
    function of the encoding. The layer has no weights; add its output to the token
    embeddings. It works for any length (no `max_sequence_length`).

    Reference: Vaswani et al., "Attention Is All You Need", 2017,
    https://arxiv.org/abs/1706.03762 (section 3.5).

    Args:
        max_wavelength: the base of the geometric progression of wavelengths.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(batch, sequence, hidden_dim)`, e.g. the token embeddings; only its
            shape is used.
        start_index: int or scalar tensor, the position of the first step (for
            decoding one token at a time with a cache).

    Example:

    >>> import numpy as np
    >>> embeddings = np.zeros((2, 8, 16), "float32")
    >>> encodings = SinusoidalPositionEncoding()(embeddings)
    >>> tuple(encodings.shape)
    (2, 8, 16)
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        check_float(
            max_wavelength,
            "max_wavelength",
            type(self).__name__,
            minimum=1,
            strict=True,
            hint=_WAVELENGTH_HINT,
        )
        self.max_wavelength = max_wavelength
        self.built = True

    def call(self, inputs, start_index=0):
        shape = ops.shape(inputs)
        hidden_dim = inputs.shape[-1]
        feature = ops.arange(hidden_dim, dtype="int32")
        exponent = ops.cast(feature // 2 * 2, "float32") / hidden_dim  # 2i / D, (hidden,)
        inverse_timescales = ops.power(float(self.max_wavelength), -exponent)
        angles = ops.expand_dims(_positions(shape[1], start_index), 1) * ops.expand_dims(
            inverse_timescales, 0
        )  # (sequence, hidden)
        encoding = ops.where(feature % 2 == 0, ops.sin(angles), ops.cos(angles))
        return ops.broadcast_to(ops.cast(encoding, self.compute_dtype), shape)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config


@keras.saving.register_keras_serializable(package="zoo")
class PositionEmbedding(keras.layers.Layer):
    """Learned position embeddings, shaped like the inputs.

    A `(max_sequence_length, hidden_dim)` table whose row `p` is the embedding of
    position `p`, as in BERT and GPT. Returns the rows for the input's positions,
    broadcast over the batch; add them to the token embeddings.

    Reference: Devlin et al., "BERT", 2018, https://arxiv.org/abs/1810.04805; the
    paper's alternative to sinusoids in Vaswani et al., 2017 (section 3.5).

    Args:
        max_sequence_length: the number of positions in the table.
        initializer: initializer of the table.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(batch, sequence, hidden_dim)`; only its shape is used.
        start_index: int or scalar tensor, the position of the first step (for
            decoding with a cache).

    Raises:
        ValueError: when the (static) sequence is longer than `max_sequence_length`.

    Example:

    >>> import numpy as np
    >>> layer = PositionEmbedding(max_sequence_length=32)
    >>> tuple(layer(np.zeros((2, 8, 16), "float32")).shape)
    (2, 8, 16)
    """

    def __init__(self, max_sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_int(max_sequence_length, "max_sequence_length", type(self).__name__)
        self.max_sequence_length = max_sequence_length
        self.initializer = keras.initializers.get(initializer)

    def build(self, inputs_shape):
        self.position_embeddings = self.add_weight(
            name="embeddings",
            shape=(self.max_sequence_length, inputs_shape[-1]),
            initializer=_clone_initializer(self.initializer),
        )

    def call(self, inputs, start_index=0):
        _check_sequence_length(
            inputs.shape[1], start_index, self.max_sequence_length, type(self).__name__
        )
        shape = ops.shape(inputs)
        table = ops.cast(self.position_embeddings, self.compute_dtype)
        if isinstance(inputs.shape[1], int):
            rows = ops.slice(table, (start_index, 0), (shape[1], shape[-1]))  # (sequence, hidden)
        else:
            # Unknown length (a functional model traced symbolically, as under JAX): a
            # slice would need a size that provably fits the table; a gather does not.
            rows = ops.take(table, _positions(shape[1], start_index, "int32"), axis=0)
        return ops.broadcast_to(rows, shape)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_sequence_length": self.max_sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class RotaryEmbedding(keras.layers.Layer):
    """Rotary position embedding (RoPE), applied to query or key tensors.

    Feature pairs `(x_j, x_{j + d/2})` of each head are rotated by the angle
    `position / scaling_factor · max_wavelength^(-2j / d)`, so the dot product of a
    rotated query and a rotated key depends only on their relative position. Apply it
    to the per-head queries and keys before the attention scores; it has no weights.
    The rotation is computed in float32 and cast back to the layer's compute dtype.

    Reference: Su et al., "RoFormer: Enhanced Transformer with Rotary Position
    Embedding", 2021, https://arxiv.org/abs/2104.09864. `scaling_factor` > 1 is
    linear position interpolation (Chen et al., 2023, https://arxiv.org/abs/2306.15595).

    Args:
        max_wavelength: the base of the geometric progression of frequencies.
        scaling_factor: positions are divided by this (context extension).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(batch, sequence, ..., head_dim)`, usually
            `(batch, sequence, heads, head_dim)`; `head_dim` must be even.
        start_index: int or scalar tensor, the position of the first step.

    Example:

    >>> import numpy as np
    >>> query = np.random.rand(2, 8, 2, 8).astype("float32")  # (batch, seq, heads, dim)
    >>> tuple(RotaryEmbedding()(query).shape)
    (2, 8, 2, 8)
    """

    def __init__(self, max_wavelength=10000, scaling_factor=1.0, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        check_float(
            max_wavelength, "max_wavelength", name, minimum=1, strict=True, hint=_WAVELENGTH_HINT
        )
        check_float(scaling_factor, "scaling_factor", name, strict=True)
        self.max_wavelength = max_wavelength
        self.scaling_factor = scaling_factor
        self.built = True

    def call(self, inputs, start_index=0):
        rank = len(inputs.shape)
        head_dim = inputs.shape[-1]
        if rank < 3 or head_dim is None or head_dim % 2:
            raise ValueError(
                f"{type(self).__name__} expects inputs shaped (batch, sequence, ..., head_dim) "
                f"with an even head_dim. Received: inputs.shape={tuple(inputs.shape)}."
            )
        half = head_dim // 2
        exponent = ops.arange(half, dtype="float32") * (2.0 / head_dim)
        inverse_frequencies = ops.power(float(self.max_wavelength), -exponent)  # (half,)
        positions = _positions(ops.shape(inputs)[1], start_index) / self.scaling_factor
        angles = ops.expand_dims(positions, 1) * ops.expand_dims(inverse_frequencies, 0)
        angles = ops.concatenate([angles, angles], axis=-1)  # (sequence, head_dim)
        # (sequence, head_dim) -> (1, sequence, 1, ..., head_dim)
        angles = ops.reshape(angles, (1, -1, *([1] * (rank - 3)), head_dim))
        x = ops.cast(inputs, "float32")
        x_first, x_second = x[..., :half], x[..., half:]
        rotated = ops.concatenate([-x_second, x_first], axis=-1)
        outputs = x * ops.cos(angles) + rotated * ops.sin(angles)
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {"max_wavelength": self.max_wavelength, "scaling_factor": self.scaling_factor}
        )
        return config


_POSITIONS = ("learned", "sinusoidal")
# The constructor arguments of `TokenAndPositionEmbedding`, as its config holds them.
_TOKEN_AND_POSITION_ARGUMENTS = (
    "vocabulary_size",
    "max_sequence_length",
    "hidden_dim",
    "num_segments",
    "position",
    "embeddings_scale",
    "layer_norm",
    "dropout",
    "layer_norm_epsilon",
    "embeddings_initializer",
)


@keras.saving.register_keras_serializable(package="zoo")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embeddings plus position (and optional segment) embeddings.

    Looks up token ids in a `(vocabulary_size, hidden_dim)` matrix (the vocabulary is
    its height, the embedding size its width), optionally multiplies them by
    `sqrt(hidden_dim)` as in the Transformer paper, adds learned or sinusoidal position
    embeddings and, for BERT, segment embeddings (`num_segments=2` for sentence A/B),
    then applies an optional LayerNorm and dropout.

    `logits(hidden)` (or `call(hidden, reverse=True)`) multiplies hidden states by the
    transposed token matrix, `hidden @ E^T`, for an output projection tied to the input
    embeddings.

    References: Vaswani et al., 2017, https://arxiv.org/abs/1706.03762 (section 3.4);
    Devlin et al., "BERT", 2018, https://arxiv.org/abs/1810.04805 (section 3.2);
    Press & Wolf, "Using the Output Embedding to Improve Language Models", 2016,
    https://arxiv.org/abs/1608.05859.

    Args:
        vocabulary_size: number of token ids.
        max_sequence_length: the longest sequence accepted.
        hidden_dim: embedding size.
        num_segments: number of segment ids (2 for BERT); `None` for no segments.
        position: `"learned"` (a `PositionEmbedding`) or `"sinusoidal"`.
        embeddings_scale: multiply token embeddings by `sqrt(hidden_dim)`.
        layer_norm: apply LayerNorm to the sum (BERT).
        dropout: dropout rate on the output.
        layer_norm_epsilon: LayerNorm epsilon.
        embeddings_initializer: initializer of the token, segment and learned position
            tables.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: int token ids `(batch, sequence)`; with `reverse=True`, hidden states
            `(batch, sequence, hidden_dim)`.
        segment_ids: int `(batch, sequence)`; zeros when omitted.
        start_index: int or scalar tensor, the position of the first token (decoding).
        reverse: return `inputs @ E^T`, logits `(batch, sequence, vocabulary_size)`.
        training: whether dropout is active.

    Example:

    >>> import numpy as np
    >>> layer = TokenAndPositionEmbedding(100, max_sequence_length=16, hidden_dim=8)
    >>> hidden = layer(np.array([[5, 6, 7, 0]]))
    >>> tuple(hidden.shape), tuple(layer.logits(hidden).shape)
    ((1, 4, 8), (1, 4, 100))
    """

    def __init__(
        self,
        vocabulary_size,
        max_sequence_length,
        hidden_dim,
        num_segments=None,
        position="learned",
        embeddings_scale=False,
        layer_norm=False,
        dropout=0.0,
        layer_norm_epsilon=1e-5,
        embeddings_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        check_int(vocabulary_size, "vocabulary_size", name)
        check_int(max_sequence_length, "max_sequence_length", name)
        check_int(hidden_dim, "hidden_dim", name)
        if num_segments is not None:
            check_int(num_segments, "num_segments", name)
        if position not in _POSITIONS:
            raise ValueError(
                f"Unknown `position` for {name}: {position!r}. Expected one of {_POSITIONS}."
            )
        check_rate(dropout, "dropout", name)
        keep_arguments(self, locals(), _TOKEN_AND_POSITION_ARGUMENTS)

        self._token_embedding = self._table(vocabulary_size, "token_embedding")
        if position == "learned":
            self._position_embedding = PositionEmbedding(
                max_sequence_length,
                initializer=_clone_initializer(self.embeddings_initializer),
                dtype=self.dtype_policy,
                name="position_embedding",
            )
        else:
            self._position_embedding = SinusoidalPositionEncoding(
                dtype=self.dtype_policy, name="position_encoding"
            )
        self._segment_embedding = None
        if num_segments is not None:
            self._segment_embedding = self._table(num_segments, "segment_embedding")
        self._layer_norm = None
        if layer_norm:
            self._layer_norm = keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="embeddings_layer_norm"
            )
        self._dropout_layer = Dropout(dropout, dtype=self.dtype_policy, name="embeddings_dropout")

    def _table(self, rows, name):
        """An `Embedding` of `rows` vectors of `hidden_dim` (the token or segment table)."""
        return keras.layers.Embedding(
            rows,
            self.hidden_dim,
            embeddings_initializer=_clone_initializer(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    @property
    def embeddings(self):
        """The `(vocabulary_size, hidden_dim)` token embedding matrix."""
        return self._token_embedding.embeddings

    def build(self, inputs_shape=None):
        hidden_shape = (None, None, self.hidden_dim)
        self._token_embedding.build((None, None))
        self._position_embedding.build(hidden_shape)
        if self._segment_embedding is not None:
            self._segment_embedding.build((None, None))
        if self._layer_norm is not None:
            self._layer_norm.build(hidden_shape)

    def call(self, inputs, segment_ids=None, start_index=0, reverse=False, training=None):
        if reverse:
            matrix = ops.cast(self.embeddings, self.compute_dtype)  # (vocabulary, hidden)
            # One 2-D product `(tokens, hidden) x (vocabulary, hidden)^T`, contracting with
            # the matrix as stored (`tied_logits` lays out its gradient for CPU). Under XLA
            # on CPU the gradient of a batched `"abh,vh->abv"` einsum with respect to the
            # matrix ran 2-3x slower than this flattened form; for a translation model with
            # an 8k vocabulary the training step took 0.33 s instead of 0.15 s at length 8
            # (2 cores).
            shape = ops.shape(inputs)
            flat = ops.reshape(inputs, (-1, shape[-1]))
            logits = tied_logits(flat, matrix, training)  # (tokens, vocabulary)
            return ops.reshape(logits, (*shape[:-1], self.vocabulary_size))
        _check_sequence_length(
            inputs.shape[1], start_index, self.max_sequence_length, type(self).__name__
        )
        x = self._token_embedding(inputs)  # (batch, sequence, hidden)
        if self.embeddings_scale:
            x = x * ops.cast(math.sqrt(self.hidden_dim), x.dtype)
        x = x + self._position_embedding(x, start_index=start_index)
        if self._segment_embedding is not None:
            if segment_ids is None:
                segment_ids = ops.zeros_like(inputs)
            x = x + self._segment_embedding(segment_ids)
        if self._layer_norm is not None:
            x = self._layer_norm(x)
        return self._dropout_layer(x, training=training)

    def logits(self, hidden):
        """Tied output projection: `hidden @ E^T`, `(batch, sequence, vocabulary_size)`."""
        return self(hidden, reverse=True)

    def get_config(self):
        return {**super().get_config(), **arguments_config(self, _TOKEN_AND_POSITION_ARGUMENTS)}
