"""The tied output projection, with its gradient laid out for XLA on CPU.

`logits = h @ E^T` (`h`: `(tokens, hidden)` states, `E`: the `(vocabulary, hidden)`
embedding matrix as stored) has the matrix gradient `E' = upstream^T @ h`, a product that
contracts over the long tokens axis with a transposed left operand. XLA folds any
`transpose` it is given into the product's dimension numbers, and on CPU that folded
form ran well below the machine's matmul rate: on 2 cores (float32, 4,096 tokens, 256
features, 8,192 words) it took 138 ms (125 GFLOP/s), against 93 ms (185 GFLOP/s) for
`h^T @ upstream` with `h^T` written out and the small `(256, 8192)` result transposed
after, the same in TensorFlow and JAX.

So in training on a CPU-only process, under TensorFlow inside a function compiled with
XLA (`jit_compile=True`, as zoo's recipes compile; Keras's `"auto"` leaves XLA off on
CPU-only TensorFlow) or under JAX, `tied_logits` computes the gradient that way and keeps
both transposes from being folded back with an XLA optimisation barrier (Keras has no op
for one, hence the backend calls below). Values and gradients are the same products
either way. With a GPU or TPU present, in inference (so exported models hold no custom
gradient), in TensorFlow graphs run without XLA (there the two transposes are real
copies, and a GPT training step took 1,253 ms against 1,229 ms for the plain product)
and under other backends it is the plain product.

The same layout for the weight gradient of the feed-forward's narrowing `(4096, 1024) ->
(4096, 256)` projection ran 1.4x faster on its own, but a whole BERT training step
measured no faster (+1.5% and -0.7% in two runs of 12 rounds), so projections keep the
plain product.
"""

import keras
from keras import ops

from zoo import _compat

__all__ = ["tied_logits"]

# Tests switch this off to compare with the plain product.
_ENABLED = True


def tied_logits(hidden, matrix, training=None):
    """`hidden @ matrix^T`: `(tokens, hidden)` by a `(vocabulary, hidden)` matrix as stored."""
    if training and _ENABLED and _cpu_only_compiled():
        return _tied_logits(hidden, matrix)
    return ops.einsum("nh,vh->nv", hidden, matrix)


@ops.custom_gradient
def _tied_logits(hidden, matrix):
    def grad(*args, upstream=None):
        upstream = args[0] if upstream is None else upstream  # (tokens, vocabulary)
        hidden_gradient = ops.matmul(upstream, matrix)
        transposed = _optimization_barrier(ops.transpose(hidden))  # (hidden, tokens)
        matrix_gradient = ops.transpose(_optimization_barrier(ops.matmul(transposed, upstream)))
        return hidden_gradient, matrix_gradient

    return ops.einsum("nh,vh->nv", hidden, matrix), grad


def _optimization_barrier(x):
    if keras.backend.backend() == "jax":
        import jax

        return jax.lax.optimization_barrier(x)
    return _compat.xla_optimization_barrier(x)


def _cpu_only_compiled():
    """Whether the layers run compiled with XLA on CPU only, under TensorFlow or JAX."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.default_backend() == "cpu"
    if backend != "tensorflow":
        return False
    import tensorflow as tf

    if not _compat.in_xla_function():
        return False  # eager, or a graph run without XLA
    return not (tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))
