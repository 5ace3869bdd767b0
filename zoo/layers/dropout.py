"""Dropout whose random mask comes from a counter-based integer hash (fast under XLA on CPU)."""

import keras
import numpy as np
from keras import ops

from zoo._checks import check_rate

__all__ = ["Dropout", "dropout_mask"]

_MULTIPLIERS = (0x7FEB352D, 0x846CA68B)  # "lowbias32" (C. Wellons, hash-prospector)
_GOLDEN = 0x9E3779B9


def _u32(value):
    return ops.convert_to_tensor(np.uint32(value), dtype="uint32")


def _mix(x):
    """A bijective 32-bit integer hash with full avalanche (lowbias32)."""
    x = ops.bitwise_xor(x, ops.right_shift(x, _u32(16)))
    x = ops.multiply(x, _u32(_MULTIPLIERS[0]))
    x = ops.bitwise_xor(x, ops.right_shift(x, _u32(15)))
    x = ops.multiply(x, _u32(_MULTIPLIERS[1]))
    return ops.bitwise_xor(x, ops.right_shift(x, _u32(16)))


def dropout_mask(shape, rate, seed):
    """Boolean keep-mask of `shape`: each entry is True with probability `1 - rate`.

    Entry `i` (in row-major order) is kept when `hash(i, seed) >= rate * 2^32`, where the
    hash is two rounds of a full-avalanche 32-bit integer mix keyed by the two words of
    `seed`. It is a counter-based generator (like Philox, with fewer and cheaper
    rounds): stateless, the same for the same seed and shape, and a single fused
    elementwise pass under XLA.

    Args:
        shape: the mask shape (ints or scalar tensors); at most 2^32 entries.
        rate: drop probability in [0, 1).
        seed: an integer tensor of two words, e.g. from `keras.random.SeedGenerator.next()`.

    Example:

    >>> import numpy as np
    >>> mask = dropout_mask((1000, 100), 0.1, np.array([1, 2]))
    >>> round(float(np.mean(mask)), 2)
    0.9
    """
    seed = ops.cast(ops.mod(ops.convert_to_tensor(seed), 2**31 - 1), "int32")
    seed = ops.cast(seed, "uint32")
    key = _mix(ops.add(_mix(ops.add(seed[0], _u32(_GOLDEN))), seed[1]))
    size = 1
    for dim in shape:
        size = size * dim
    counter = ops.cast(ops.reshape(ops.arange(size, dtype="int32"), shape), "uint32")
    bits = _mix(ops.add(_mix(ops.bitwise_xor(counter, key)), key))
    threshold = min(round(rate * 2**32), 2**32 - 1)
    return ops.greater_equal(bits, _u32(threshold))


@keras.saving.register_keras_serializable(package="zoo")
class Dropout(keras.layers.Layer):
    """Inverted dropout, as `keras.layers.Dropout`, with a cheap counter-based mask.

    In training, every entry is zeroed with probability `rate` and the others are
    scaled by `1 / (1 - rate)`; at inference the layer is the identity. The result is
    the same in distribution as `keras.layers.Dropout`; only the random-bit generator
    differs: `dropout_mask` hashes each entry's index with a per-call seed drawn from a
    `keras.random.SeedGenerator` (two rounds of a 32-bit integer mix), one fused
    elementwise pass, where Keras's TensorFlow backend runs Philox through
    `tf.random.stateless_uniform`. Under XLA on CPU that is the cheaper part of a
    Transformer's dropout: in the GPT of `benchmarks/training.py` (batch 8, 2 cores),
    dropout took about 0.12 s of keras-hub's 0.93 s step and about 0.06 s of zoo's 0.83 s.

    Reference: Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from
    Overfitting", JMLR 2014.

    Args:
        rate: drop probability in [0, 1).
        seed: int seed of the layer's `SeedGenerator` (`None`: drawn at random).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: any float tensor (static shape under XLA).
        training: whether to drop.

    Example:

    >>> import numpy as np
    >>> layer = Dropout(0.5, seed=1)
    >>> y = layer(np.ones((4, 1000), "float32"), training=True)
    >>> sorted(np.unique(np.asarray(y)).tolist())
    [0.0, 2.0]
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_rate(rate, "rate", type(self).__name__)
        self.rate = rate
        self.seed = seed
        self.seed_generator = None
        if rate > 0:
            self.seed_generator = keras.random.SeedGenerator(seed, name="dropout_seed")
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        keep = dropout_mask(ops.shape(inputs), self.rate, self.seed_generator.next())
        scale = ops.cast(1.0 / (1.0 - self.rate), inputs.dtype)
        return ops.where(keep, inputs * scale, ops.zeros_like(inputs))

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
