"""The position-wise feed-forward network of a Transformer block."""

import keras

from zoo._arguments import arguments_config, keep_arguments
from zoo._checks import check_int, check_rate
from zoo.layers.attention import _clone_initializer, flat_projection
from zoo.layers.dropout import Dropout

__all__ = ["ACTIVATIONS", "FeedForward"]

ACTIVATIONS = {
    "relu": keras.activations.relu,
    "gelu": lambda x: keras.activations.gelu(x, approximate=False),
    # The tanh approximation, as in BERT's and GPT-2's original code.
    "gelu_approximate": lambda x: keras.activations.gelu(x, approximate=True),
    "silu": keras.activations.silu,
    "tanh": keras.activations.tanh,
}

# The constructor arguments of `FeedForward`, as its config holds them.
_ARGUMENTS = (
    "intermediate_dim",
    "hidden_dim",
    "activation",
    "dropout",
    "use_bias",
    "kernel_initializer",
    "bias_initializer",
)


@keras.saving.register_keras_serializable(package="zoo")
class FeedForward(keras.layers.Layer):
    """Position-wise feed-forward network: D -> intermediate_dim -> D.

    Two dense layers with an activation between them, applied to every position on
    its own: `dropout(W2 · activation(W1 · x + b1) + b2)`. With `intermediate_dim = 4D`
    it is the Transformer's FFN; it can be read as a key/value memory whose keys are
    the rows of `W1` and values the rows of `W2` (Geva et al., 2021). The dropout on
    the output is the paper's "residual dropout" of this sub-layer.

    Reference: Vaswani et al., "Attention Is All You Need", 2017,
    https://arxiv.org/abs/1706.03762 (section 3.3).

    Args:
        intermediate_dim: width of the hidden layer.
        hidden_dim: width of the output; defaults to the input's last dimension.
        activation: one of `"relu"`, `"gelu"`, `"gelu_approximate"`, `"silu"`,
            `"tanh"`.
        dropout: dropout rate on the output.
        use_bias: whether the dense layers have biases.
        kernel_initializer: initializer of the kernels.
        bias_initializer: initializer of the biases.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(batch, sequence, features)` (any rank; the last axis is mapped).
        training: whether dropout is active.

    Example:

    >>> import numpy as np
    >>> layer = FeedForward(intermediate_dim=64, activation="gelu")
    >>> tuple(layer(np.ones((2, 8, 16), "float32")).shape)
    (2, 8, 16)
    """

    def __init__(
        self,
        intermediate_dim,
        hidden_dim=None,
        activation="relu",
        dropout=0.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        check_int(intermediate_dim, "intermediate_dim", name)
        if hidden_dim is not None:
            check_int(hidden_dim, "hidden_dim", name)
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ValueError(
                f"Unknown activation for {name}: {activation!r}. "
                f"Expected one of {sorted(ACTIVATIONS)}."
            )
        check_rate(dropout, "dropout", name)
        keep_arguments(self, locals(), _ARGUMENTS)
        self._activation_fn = ACTIVATIONS[activation]
        self._dropout_layer = Dropout(dropout, dtype=self.dtype_policy, name="output_dropout")

    def _dense(self, units, name):
        return keras.layers.Dense(
            units,
            use_bias=self.use_bias,
            kernel_initializer=_clone_initializer(self.kernel_initializer),
            bias_initializer=_clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, inputs_shape):
        self._intermediate_dense = self._dense(self.intermediate_dim, "intermediate_dense")
        self._intermediate_dense.build(inputs_shape)
        self._output_dense = self._dense(self.hidden_dim or inputs_shape[-1], "output_dense")
        self._output_dense.build((*inputs_shape[:-1], self.intermediate_dim))

    def call(self, inputs, training=None):
        # One 2-D matmul per layer (see `flat_projection`), the Dense layers' own weights.
        x = self._activation_fn(flat_projection(inputs, self._intermediate_dense))
        x = flat_projection(x, self._output_dense)  # (..., hidden_dim)
        return self._dropout_layer(x, training=training)

    def compute_output_shape(self, inputs_shape):
        return (*inputs_shape[:-1], self.hidden_dim or inputs_shape[-1])

    def get_config(self):
        return {**super().get_config(), **arguments_config(self, _ARGUMENTS)}
