"""The functional model base and the helpers every zoo model shares.

Used by `zoo.models.transformer`, `zoo.models.bert` and `zoo.models.gpt`; these names are
public within `zoo.models` (not re-exported from it):

- `FunctionalModel`: a functional `keras.Model` subclass rebuilt from its constructor
  arguments (keras-hub's `Backbone` pattern), that checks the ids of concrete inputs
  and fills optional inputs with `None`.
- `check_model_arguments`: the argument checks every model shares.
- `check_stack_arguments`: those of `Bert` and `GPT` (a stack of blocks of one kind), with
  their attention options.
- `block_stack`: the blocks of such a stack, named and initialized as BERT and GPT-2 do.
- `check_preset`: a copy of a named preset's arguments, or a ValueError naming the presets.
- `truncated_normal_initializer`: BERT's and GPT-2's truncated normal (0.02).
- `learned_embeddings`: BERT's and GPT-2's token + learned position embeddings.
- `int_input`: a `(batch, sequence)` int32 `keras.Input`.
- `float32_logits`: logits cast to float32 (softmax / loss precision under mixed precision).
- `LORA_TARGETS`: the kernels `FunctionalModel.enable_lora` adapts by default.
"""

import copy
import math

import keras
import numpy as np
from keras import ops

from zoo._arguments import arguments_config, keep_arguments
from zoo._checks import check_float, check_int, check_rate
from zoo._compat import drop_variable, sublayers
from zoo.layers.attention import MultiHeadAttention
from zoo.layers.efficient_attention import check_attention_options
from zoo.layers.embeddings import TokenAndPositionEmbedding
from zoo.layers.feed_forward import ACTIVATIONS, FeedForward

__all__ = [
    "BACKBONE_ARGUMENTS",
    "LORA_TARGETS",
    "FunctionalModel",
    "block_stack",
    "check_model_arguments",
    "check_preset",
    "check_stack_arguments",
    "float32_logits",
    "int_input",
    "learned_embeddings",
    "truncated_normal_initializer",
]

# The constructor arguments `Bert`, `GPT` and `Transformer` share, first in their configs.
BACKBONE_ARGUMENTS = (
    "vocabulary_size",
    "num_layers",
    "num_heads",
    "hidden_dim",
    "intermediate_dim",
    "dropout",
    "max_sequence_length",
)


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


# Checked by `check_model_arguments` with their own rules, not as counts.
_MODEL_SIZES = ("num_heads", "hidden_dim", "dropout")


def check_stack_arguments(owner, arguments, **counts):
    """`check_model_arguments` for a `Bert` / `GPT` built from `arguments` (its
    constructor's locals), `counts` checked beside the shared sizes; returns its
    attention options, checked against its `attention` (a new dict)."""
    check_model_arguments(
        owner,
        arguments["num_heads"],
        arguments["hidden_dim"],
        arguments["dropout"],
        arguments["activation"],
        **{name: arguments[name] for name in BACKBONE_ARGUMENTS if name not in _MODEL_SIZES},
        **counts,
    )
    return check_attention_options(arguments["attention"], arguments["attention_options"], owner)


# The block arguments `block_stack` takes from a `Bert` / `GPT` constructor's.
_BLOCK_ARGUMENTS = (
    "num_heads",
    "intermediate_dim",
    "dropout",
    "activation",
    "layer_norm_epsilon",
    "attention",
    "dtype",
)


def block_stack(block_class, arguments, **options):
    """The blocks of a `Bert` / `GPT` built from `arguments` (its constructor's locals):
    `arguments["num_layers"]` of `block_class`, each with the model's `_BLOCK_ARGUMENTS`
    and `options`, named `transformer_layer_<i>` (the names the layout map and the weight
    import expect), with BERT's and GPT-2's truncated-normal kernels."""
    shared = {name: arguments[name] for name in _BLOCK_ARGUMENTS}
    return [
        block_class(
            kernel_initializer=truncated_normal_initializer(),
            name=f"transformer_layer_{i}",
            **shared,
            **options,
        )
        for i in range(arguments["num_layers"])
    ]


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


def learned_embeddings(vocabulary_size, max_sequence_length, hidden_dim, dropout, dtype, **options):
    """BERT's and GPT-2's `TokenAndPositionEmbedding`, named `embeddings` (the name the
    layout map and the weight import expect): learned positions, truncated-normal (0.02)
    tables; `options` add BERT's segments and LayerNorm."""
    return TokenAndPositionEmbedding(
        vocabulary_size,
        max_sequence_length=max_sequence_length,
        hidden_dim=hidden_dim,
        position="learned",
        dropout=dropout,
        embeddings_initializer=truncated_normal_initializer(),
        dtype=dtype,
        name="embeddings",
        **options,
    )


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


# === LoRA ===

# The kernels LoRA can adapt: target name -> (owning zoo layer, attribute of its dense layer).
_LORA_KERNELS = {
    "query": (MultiHeadAttention, "_query_dense"),
    "key": (MultiHeadAttention, "_key_dense"),
    "value": (MultiHeadAttention, "_value_dense"),
    "attention_output": (MultiHeadAttention, "_output_dense"),
    "ffn_intermediate": (FeedForward, "_intermediate_dense"),
    "ffn_output": (FeedForward, "_output_dense"),
}
LORA_TARGETS = tuple(_LORA_KERNELS)
_LORA_GROUPS = {"attention": LORA_TARGETS[:4], "ffn": LORA_TARGETS[4:]}
_LORA_CONFIG_KEYS = ("lora_rank", "lora_alpha", "lora_targets")


def _lora_targets(targets, owner):
    """`targets` (names and group names) as a tuple of `LORA_TARGETS` names, in that order."""
    if isinstance(targets, str):
        targets = (targets,)
    try:
        names = list(targets)
    except TypeError:
        names = None
    known = set(LORA_TARGETS) | set(_LORA_GROUPS)
    if not names or any(not isinstance(n, str) or n not in known for n in names):
        raise ValueError(
            f"{owner} received targets={targets!r}. Expected a non-empty list of names from "
            f"{list(LORA_TARGETS)}, or the groups 'attention' (query, key, value, "
            "attention_output) and 'ffn' (ffn_intermediate, ffn_output)."
        )
    chosen = set()
    for name in names:
        chosen.update(_LORA_GROUPS.get(name, (name,)))
    return tuple(name for name in LORA_TARGETS if name in chosen)


def _adapted_layers(model, targets):
    """The `Dense` / `EinsumDense` layers of `targets` inside `model`, in a fixed order."""
    found, seen = [], set()
    # Keras has no public recursive listing of sublayers: `zoo._compat` walks them.
    for layer in sublayers(model):
        for target in targets:
            owner_type, attribute = _LORA_KERNELS[target]
            dense = getattr(layer, attribute, None) if isinstance(layer, owner_type) else None
            if dense is not None and id(dense) not in seen:
                seen.add(id(dense))
                found.append(dense)
    return found


def _kernel_variable(dense):
    """The stored kernel variable (the `kernel` property adds the adapters to it)."""
    return next(v for v in dense.weights if v.name == "kernel")


def _lora_delta(dense, a=None, b=None):
    """`lora_kernel_a @ lora_kernel_b * (alpha / rank)` in float32, as a NumPy array."""
    a = np.asarray(keras.ops.convert_to_numpy(dense.lora_kernel_a) if a is None else a)
    b = np.asarray(keras.ops.convert_to_numpy(dense.lora_kernel_b) if b is None else b)
    scale = dense.lora_alpha / dense.lora_rank
    return (np.matmul(a.astype("float32"), b.astype("float32")) * scale).astype("float32")


class _LoraAdapters(keras.layers.Layer):
    """Saves a LoRA model's adapters beside its kernels and restores them on load.

    Keras's LoRA layers save `kernel + a @ b * scale` as their kernel and no adapters,
    and zero both adapters when they load (a reloaded model would then compute the
    right outputs but could not train on: with `a = b = 0` neither gets a gradient).
    This object holds the adapters in its own weights entry; the saving code visits it
    after every layer of the model (a functional model's layers come first, private
    attributes last), so on load it finds the merged kernels and puts back
    `kernel - a @ b * scale` and the saved `a`, `b`: the model as it was saved.

    It is attached with `object.__setattr__`, so Keras does not track it as a layer of
    the model (no weights, not in `model.layers`), while the saving code still sees it.
    """

    def __init__(self, layers):
        super().__init__(name="lora_adapters", trainable=False)
        object.__setattr__(self, "_adapted", tuple(layers))
        self.built = True

    def save_own_variables(self, store):
        for index, dense in enumerate(self._adapted):
            store[str(2 * index)] = dense.lora_kernel_a
            store[str(2 * index + 1)] = dense.lora_kernel_b

    def load_own_variables(self, store):
        if len(store.keys()) != 2 * len(self._adapted):
            raise ValueError(
                f"The saved LoRA adapters hold {len(store.keys())} arrays; this model has "
                f"{len(self._adapted)} adapted kernels ({2 * len(self._adapted)} arrays). Load "
                "into a model built and LoRA-enabled with the saved configuration."
            )
        for index, dense in enumerate(self._adapted):
            a, b = np.asarray(store[str(2 * index)]), np.asarray(store[str(2 * index + 1)])
            kernel = _kernel_variable(dense)
            merged = np.asarray(keras.ops.convert_to_numpy(kernel), "float32")
            kernel.assign(merged - _lora_delta(dense, a, b))
            dense.lora_kernel_a.assign(a)
            dense.lora_kernel_b.assign(b)


def _make_trainable(model):
    """Every variable Keras created trainable made trainable again, sublayers included.

    Set through False: with the TensorFlow backend, assigning the value a layer already
    has does not reach Keras's setter, which is what walks the variables and sublayers.
    """
    model.trainable = False
    model.trainable = True


def _count(variables):
    return int(sum(math.prod(variable.shape) for variable in variables))


class FunctionalModel(keras.Model):
    """A functional model subclass rebuilt from its constructor arguments.

    `get_config` does not chain to the functional config (a graph description that cannot
    be passed to `__init__`); it returns `name`, `trainable`, `dtype` and the subclass's
    arguments, and `from_config` calls the constructor (as keras-hub's `Backbone`).

    A subclass builds its layers and the functional graph in `__init__`, then calls
    `super().__init__(inputs=..., outputs=..., dtype=dtype, **kwargs)`. It may set
    `_optional_inputs` (input names that may be left out of the input dict; they are
    fed as `None`) and override `_id_limits` (the id inputs checked in `__call__`). It
    names its constructor arguments in `_config_arguments` and keeps them with
    `self._keep_arguments(locals())` at the end of `__init__`; `get_config` returns
    `self._base_config()` and those arguments.

    LoRA (`enable_lora`, `merge_lora`, `lora_rank`) lives here, so every zoo model gets
    it: the backbones (`Bert`, `GPT`, `Transformer`) and the task models around a
    `backbone` (`BertClassifier`, `BertTokenClassifier`, `BertPretrainer`).
    """

    # Input names that may be left out of the input dict (they are fed as `None`).
    _optional_inputs = ()
    # The constructor arguments `get_config` returns after `_base_config()`, in that order
    # (`BACKBONE_ARGUMENTS` first for a backbone); `_keep_arguments` sets their attributes.
    _config_arguments = ()

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
        config = {"name": self.name, "trainable": self.trainable, "dtype": _serialize_dtype(self)}
        if self._lora_settings is not None:
            rank, alpha, targets = self._lora_settings
            config.update(lora_rank=rank, lora_alpha=alpha, lora_targets=list(targets))
        return config

    def _keep_arguments(self, arguments):
        """Keep each of `_config_arguments` in the attribute of the same name, read from
        `arguments`: the constructor's `locals()` once its checks are done."""
        keep_arguments(self, arguments, self._config_arguments)

    def get_config(self):
        return {**self._base_config(), **arguments_config(self, self._config_arguments)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.get(config["dtype"])
        lora = {key: config.pop(key) for key in _LORA_CONFIG_KEYS if key in config}
        model = cls(**config)
        if lora.get("lora_rank") is not None:
            model.enable_lora(
                lora["lora_rank"],
                alpha=lora.get("lora_alpha"),
                targets=lora.get("lora_targets", LORA_TARGETS),
            )
        return model

    # === LoRA ===

    # `(rank, alpha, targets)` on the model whose layers carry the adapters; None without.
    _lora_settings = None

    def _lora_body(self):
        """The model whose kernels get adapters: the `backbone` of a task model, else self."""
        backbone = getattr(self, "backbone", None)
        return backbone if isinstance(backbone, FunctionalModel) else self

    @property
    def lora_rank(self):
        """The rank of the LoRA adapters (`enable_lora`), or None without adapters."""
        settings = self._lora_body()._lora_settings
        return None if settings is None else settings[0]

    def enable_lora(self, rank, alpha=None, targets=LORA_TARGETS):
        """Low-rank adapters on the attention and feed-forward kernels; the rest frozen.

        Each targeted kernel `W` (a `Dense` / `EinsumDense` kernel) is frozen and gets
        two trainable float32 matrices in Keras's LoRA layout (`layer.enable_lora`, as
        keras-hub uses it): `a` shaped like `W` with its last axis replaced by `rank`
        (He-uniform) and `b` `(rank, W's last axis)` (zeros). The layer computes with
        `W + a @ b * (alpha / rank)`, so the outputs do not change until training moves
        `b`. For the per-head query / key / value kernels `(hidden, heads, head_dim)`,
        `a` is `(hidden, heads, rank)`: a rank-`rank` update per head.

        Every other weight of the backbone is frozen: embeddings and position tables,
        LayerNorms, biases, the pooler, other attention weights (Linformer's
        projections). A task model around a
        `backbone` (`BertClassifier`, `BertTokenClassifier`, `BertPretrainer`) puts the
        adapters in its backbone and keeps its own head trainable (the classifier's
        `logits` dense, the masked-LM transform and bias, the next-sentence dense); the
        tied token embedding stays frozen.

        Call it before `compile()` (the compiled step captures the trainable weights).
        `merge_lora()` folds the adapters into the kernels; the `zoo.export` modules
        export a merged copy. A `.keras` file keeps the adapters: `lora_rank`,
        `lora_alpha` and `lora_targets` go into the config, and loading gives back the
        same kernels and adapters.

        Reference: Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models",
        2021, https://arxiv.org/abs/2106.09685.

        Args:
            rank: the adapters' rank, a positive int (keras-hub's examples use 4-16).
            alpha: the scale numerator, a positive number; defaults to `rank` (scale 1).
            targets: which kernels: names from `LORA_TARGETS` (`"query"`, `"key"`,
                `"value"`, `"attention_output"`, `"ffn_intermediate"`, `"ffn_output"`)
                or the groups `"attention"` and `"ffn"`; default all six.

        Returns:
            `{"lora_parameters", "trainable_parameters", "total_parameters"}`: parameter
            counts of the whole model after the change (the total includes the adapters).

        Example:

        >>> from zoo.models.gpt import GPT
        >>> gpt = GPT(vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=16,
        ...           intermediate_dim=32, max_sequence_length=16)
        >>> gpt.enable_lora(4)
        {'lora_parameters': 1984, 'trainable_parameters': 1984, 'total_parameters': 8320}
        """
        owner = f"{type(self).__name__}.enable_lora"
        rank = check_int(rank, "rank", owner, hint="Pass e.g. rank=8.")
        if alpha is not None:
            alpha = check_float(alpha, "alpha", owner, strict=True, hint="Or leave alpha=None.")
        targets = _lora_targets(targets, owner)
        body = self._lora_body()
        if body._lora_settings is not None:
            raise ValueError(
                f"{owner} received rank={rank}, but LoRA is already enabled on "
                f"{type(body).__name__} (rank {body._lora_settings[0]}). Call merge_lora() "
                "first to fold the adapters into the kernels, then enable_lora again."
            )
        layers = _adapted_layers(body, targets)
        if not layers:
            raise ValueError(
                f"{owner} found no kernels for targets={list(targets)} in "
                f"{type(body).__name__}: it has no zoo MultiHeadAttention / FeedForward layers "
                "with those projections. Pick other targets."
            )
        _make_trainable(self)  # a task model's head stays trainable
        for variable in body.weights:
            variable.trainable = False
        for dense in layers:
            dense.enable_lora(rank, lora_alpha=alpha)  # freezes the kernel, adds a and b
        # Set past Keras's attribute tracking, like the adapters' saver below.
        object.__setattr__(
            body, "_lora_settings", (rank, rank if alpha is None else alpha, targets)
        )
        object.__setattr__(body, "_lora_adapters", _LoraAdapters(layers))
        return {
            "lora_parameters": _count(
                v for layer in layers for v in (layer.lora_kernel_a, layer.lora_kernel_b)
            ),
            "trainable_parameters": _count(self.trainable_weights),
            "total_parameters": _count(self.weights),
        }

    def merge_lora(self):
        """Fold the LoRA adapters into their kernels and remove them.

        Each adapted kernel becomes `kernel + a @ b * (alpha / rank)` (computed in
        float32) and its layer a plain `Dense` / `EinsumDense` again: the model has the
        variables it had before `enable_lora`, all trainable again, and computes the
        same outputs (to float rounding). Recompile before training on.

        Raises:
            ValueError: the model has no adapters.
        """
        body = self._lora_body()
        if body._lora_settings is None:
            raise ValueError(
                f"{type(self).__name__}.merge_lora found no LoRA adapters: call "
                "enable_lora(rank) first (and train) before merging."
            )
        for dense in body._lora_adapters._adapted:
            kernel = _kernel_variable(dense)
            merged = np.asarray(keras.ops.convert_to_numpy(kernel), "float32")
            kernel.assign(merged + _lora_delta(dense))
            # `del dense.lora_kernel_a` without Keras's `gc.collect()` per variable.
            drop_variable(dense, "lora_kernel_a")
            drop_variable(dense, "lora_kernel_b")
            dense.lora_enabled = False
            dense.lora_rank = dense.lora_alpha = None
        object.__delattr__(body, "_lora_adapters")
        object.__delattr__(body, "_lora_settings")  # back to the class's None
        _make_trainable(self)
