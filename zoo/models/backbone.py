"""The functional model base and the helpers every zoo model shares.

Used by `zoo.models.transformer`, `zoo.models.bert` and `zoo.models.gpt`; these names are
public within `zoo.models` (not re-exported from it):

- `FunctionalModel`: a functional `keras.Model` subclass rebuilt from its constructor
  arguments (keras-hub's `Backbone` pattern), that checks the ids of concrete inputs
  and fills optional inputs with `None`.
- `check_model_arguments`: the argument checks every model shares.
- `check_preset`: a copy of a named preset's arguments, or a ValueError naming the presets.
- `truncated_normal_initializer`: BERT's and GPT-2's truncated normal (0.02).
- `int_input`: a `(batch, sequence)` int32 `keras.Input`.
- `float32_logits`: logits cast to float32 (softmax / loss precision under mixed precision).
"""

import copy

import keras
import numpy as np
from keras import ops

from zoo._checks import check_int, check_rate
from zoo.layers.feed_forward import ACTIVATIONS

__all__ = [
    "FunctionalModel",
    "check_model_arguments",
    "check_preset",
    "float32_logits",
    "int_input",
    "truncated_normal_initializer",
]


def check_model_arguments(owner, num_heads, hidden_dim, dropout, activation, **counts):
    """The checks every model shares; raises ValueError saying what and how to fix.

    Args:
        owner: the model's class name, for the messages.
        num_heads, hidden_dim: checked positive ints, `hidden_dim % num_heads == 0`.
        dropout: a rate in `[0, 1)`.
        activation: a name in `zoo.layers.feed_forward.ACTIVATIONS`.
        **counts: more positive ints by name (`num_layers=...`, `vocabulary_size=...`).
    """
    for name, value in {"num_heads": num_heads, "hidden_dim": hidden_dim, **counts}.items():
        check_int(value, name, owner)
    if hidden_dim % num_heads:
        divisors = [n for n in range(1, min(hidden_dim, 64) + 1) if hidden_dim % n == 0]
        raise ValueError(
            f"{owner} received hidden_dim={hidden_dim} and num_heads={num_heads}; hidden_dim "
            f"must be divisible by num_heads (each head gets hidden_dim // num_heads features). "
            f"Choose num_heads from {divisors}, or a hidden_dim that is a multiple of {num_heads}."
        )
    check_rate(dropout, "dropout", owner)
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"{owner} received activation={activation!r}. Expected one of {sorted(ACTIVATIONS)}."
        )


def check_preset(owner, name, presets):
    """A deep copy of `presets[name]`, or a ValueError listing the preset names."""
    if name not in presets:
        raise ValueError(
            f"Unknown preset for {owner}: {name!r}. Expected one of {sorted(presets)}; or build "
            f"the model from its arguments, {owner}(vocabulary_size=..., num_layers=...)."
        )
    return copy.deepcopy(presets[name])


def truncated_normal_initializer(stddev=0.02):
    """BERT's and GPT-2's initializer: a truncated normal with standard deviation 0.02."""
    return keras.initializers.TruncatedNormal(stddev=stddev)


def float32_logits(logits):
    """Logits in float32 (softmax / loss precision under mixed precision)."""
    return ops.cast(logits, "float32")


def int_input(name, optional=False):
    """A `(batch, sequence)` int32 `keras.Input` named `name`."""
    return keras.Input(shape=(None,), dtype="int32", name=name, optional=optional)


def _serialize_dtype(model):
    return keras.dtype_policies.serialize(model.dtype_policy)


def _concrete_values(value):
    """`value` as a NumPy array when it holds concrete numbers, else None (symbolic)."""
    if value is None or isinstance(value, keras.KerasTensor):
        return None
    if isinstance(value, (np.ndarray, np.generic, list, tuple, int)):
        array = np.asarray(value)
        return array if np.issubdtype(array.dtype, np.number) else None
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if isinstance(value, tf.Tensor) and tf.executing_eagerly():
            return value.numpy()
        return None  # traced (tf.function, fit / predict) or ragged / sparse
    if backend == "jax":
        import jax

        if isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer):
            return np.asarray(value)
    return None


def _check_ids(owner, inputs, limits):
    """ValueError for an id outside `[0, limit)` among concrete inputs.

    Only concrete values (NumPy arrays, eager tensors) can be checked: inside a traced
    or XLA-compiled function (`fit`, `predict`, generation) the values are unknown
    when the program is built, and there the embedding lookup does not check them
    either (see the model docstrings).
    """
    for name, limit in limits.items():
        values = _concrete_values(inputs.get(name))
        if values is None or limit is None or not values.size:
            continue
        bad = values[(values < 0) | (values >= limit)]
        if bad.size:
            raise ValueError(
                f"{owner} received {name} with id {bad.flat[0].item()!r} outside [0, {limit}) "
                f"({bad.size} such id{'s' * (bad.size > 1)}). Ids index the embedding matrix "
                f"of {limit} rows: tokenize with the tokenizer the model was built for, or "
                "build the model with a larger vocabulary."
            )


class FunctionalModel(keras.Model):
    """A functional model subclass rebuilt from its constructor arguments.

    `get_config` does not chain to the functional config (a graph description that cannot
    be passed to `__init__`); it returns `name`, `trainable`, `dtype` and the subclass's
    arguments, and `from_config` calls the constructor (as keras-hub's `Backbone`).

    A subclass builds its layers and the functional graph in `__init__`, then calls
    `super().__init__(inputs=..., outputs=..., dtype=dtype, **kwargs)`. It may set
    `_optional_inputs` (input names that may be left out of the input dict; they are
    fed as `None`) and override `_id_limits` (the id inputs checked in `__call__`), and
    its `get_config` starts from `self._base_config()`.
    """

    # Input names that may be left out of the input dict (they are fed as `None`).
    _optional_inputs = ()

    def _id_limits(self):
        """`{input name: exclusive upper bound}` of the id inputs checked in `__call__`."""
        return {}

    def __init__(self, *args, dtype=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The functional constructor does not keep `dtype`; the layers got it, and the
        # model reports (and serializes) the same policy.
        if dtype is not None:
            self.dtype_policy = keras.dtype_policies.get(dtype)

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, dict):
            _check_ids(type(self).__name__, inputs, self._id_limits())
        if isinstance(inputs, dict) and any(k not in inputs for k in self._optional_inputs):
            inputs = {**{key: None for key in self._optional_inputs}, **inputs}
        return super().__call__(inputs, *args, **kwargs)

    def _base_config(self):
        return {"name": self.name, "trainable": self.trainable, "dtype": _serialize_dtype(self)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.get(config["dtype"])
        return cls(**config)
