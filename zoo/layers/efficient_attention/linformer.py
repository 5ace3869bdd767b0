"""Linformer attention (Wang et al., 2020): keys and values projected along the sequence."""

import math

import keras
from keras import ops

from zoo._checks import check_int
from zoo.layers.efficient_attention.base import _EfficientAttention, _layer_doc


@keras.saving.register_keras_serializable(package="zoo")
class LinformerAttention(_EfficientAttention):
    __doc__ = _layer_doc(
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
""",
        """        projection_dim: k, the projected length of keys and values.
        sequence_length: the longest input n; `None` takes the length of the
            first input (it must then be static).
        shared_projection: use one matrix for keys and values.
        projection_initializer: initializer of E and F; defaults to
            N(0, 1/k), the Johnson-Lindenstrauss projection of the paper.
""",
        """    >>> layer = LinformerAttention(num_heads=2, key_dim=8, projection_dim=8,
    ...                            sequence_length=32)
    >>> x = np.random.rand(2, 32, 16).astype("float32")
    >>> tuple(layer(x).shape)
    (2, 32, 16)
    """,
    )

    _supports_causal = False
    _config_arguments = ("projection_dim", "sequence_length", "shared_projection")

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
        check_int(projection_dim, "projection_dim", "LinformerAttention")
        if sequence_length is not None:
            check_int(sequence_length, "sequence_length", "LinformerAttention")
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
        config["projection_initializer"] = keras.initializers.serialize(self.projection_initializer)
        return config
