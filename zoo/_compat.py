"""Every non-public TensorFlow, tensorflow-text and Keras API Zoo uses, behind one door.

Each internal below is imported in one small loader function, with what it is, why no
public API does the job and the public fallback taken when it is missing. `_load` runs a
loader once, on first use: importing `zoo._compat` imports neither TensorFlow nor Keras,
so `import zoo` stays cheap and `zoo.layers` still imports under JAX without TensorFlow.

When an upgrade moves or renames an internal (`ImportError` or `AttributeError`), Zoo
warns once (`RuntimeWarning`) and takes the fallback; `tests/test_compat.py` imports
each internal from its private location, so the same upgrade fails that test, naming the
module path.

- `tensorflow.compiler.tf2xla.python.xla.optimization_barrier` (`zoo.layers.cpu_matmul`);
  fallback: none (identity): the same values, XLA may fold the transposes back.
- `tensorflow.python.ops.control_flow_util.GraphOrParentsInXlaContext`
  (`zoo.layers.cpu_matmul`); fallback: "not compiled with XLA", the plain product.
- `keras.src.backend.common.symbolic_scope.in_symbolic_scope`
  (`zoo.layers.efficient_attention`); fallback: "not symbolic", so an unknown sequence
  length raises.
- `tensorflow_text.python.ops.regex_split_ops.gen_regex_split_ops` (`zoo.text.preprocessing`);
  fallback: `tensorflow_text.regex_split`, slower to trace.
- `tensorflow_text.python.ops.sentencepiece_tokenizer.gen_sentencepiece_tokenizer` and
  `tensorflow_text.SentencepieceTokenizer._model_resource` (`zoo.text.tokenizers`);
  fallback: the public `tensorflow_text.SentencepieceTokenizer` (kernel-owned resource).
- `tensorflow.python.tools.saved_model_cli.main` (`zoo.saved_model_cli`); fallback: the
  `saved_model_cli` console-script entry point.

Private attributes of Keras and keras-hub objects go through here too (`tests/test_compat.py`
checks each is still there):

- `keras.layers.Layer._flatten_layers` (LoRA in `zoo.models.backbone`); fallback: a walk
  over the layer's attributes.
- `keras.layers.Layer._untrack_variable` (`zoo.models.backbone.merge_lora`); fallback:
  `delattr` (the same result, slower).
- keras-hub `TransformerEncoder` / `TransformerDecoder` sublayers `_self_attention_layer`,
  `_self_attention_layer_norm`, `_feedforward_intermediate_dense`,
  `_feedforward_output_dense`, `_feedforward_layer_norm` (`zoo.models.interop`); fallback:
  the sublayers found by their layer names.
- `keras.Model._default_save_signature` (`zoo.export.common.save`); fallback: none needed
  (a renamed attribute is simply not overridden; an efficient-attention export then fails
  with the layer's "needs a static sequence length" error, and tests say so).
"""

import functools
import warnings

__all__ = [
    "drop_variable",
    "in_symbolic_scope",
    "in_xla_function",
    "keras_hub_block_layers",
    "keras_model_class_without_save_signature",
    "regex_split",
    "saved_model_cli_main",
    "sentencepiece_tokenizer",
    "sublayers",
    "xla_optimization_barrier",
]

# loader -> what it returned, or None where the internal is missing.
_loaded = {}


def _load(loader, fallback):
    """`loader()`, run once; None, with one `RuntimeWarning`, when its internal moved."""
    try:
        return _loaded[loader]
    except KeyError:
        pass
    try:
        value = loader()
    except (ImportError, AttributeError) as error:
        what = "".join(line.strip() for line in (loader.__doc__ or loader.__name__).splitlines())
        warnings.warn(
            f"zoo._compat: {what} is missing from the installed version ({error}); "
            f"Zoo falls back to {fallback}. Please report this together with your "
            "TensorFlow, tensorflow-text and Keras versions.",
            RuntimeWarning,
            stacklevel=3,
        )
        value = None
    _loaded[loader] = value
    return value


# ---------------------------------------------------------------------------------------
# XLA optimisation barrier (zoo.layers.cpu_matmul).
#
# What: the `XlaOptimizationBarrier` op, which keeps XLA from moving computation across
# it; `cpu_matmul` wraps two transposes in it so that XLA does not fold them back into a
# slow matmul layout on CPU.
# Why internal: TensorFlow exports the op neither as `tf.*` nor in `tf.raw_ops` (JAX has
# the public `jax.lax.optimization_barrier`; Keras has no op for one).
# Fallback: identity. Values and gradients are the same; only the CPU speed-up is lost.


def _xla_optimization_barrier_op():
    """tensorflow.compiler.tf2xla.python.xla.optimization_barrier"""
    from tensorflow.compiler.tf2xla.python import xla

    return xla.optimization_barrier


def xla_optimization_barrier(x):
    """`x` behind an XLA optimisation barrier (TensorFlow); `x` itself if the op moved."""
    barrier = _load(_xla_optimization_barrier_op, "no barrier (the same values, maybe slower)")
    if barrier is None:
        return x
    return barrier(x)[0]


# ---------------------------------------------------------------------------------------
# XLA trace query (zoo.layers.cpu_matmul).
#
# What: `control_flow_util.GraphOrParentsInXlaContext(graph)`, true while TensorFlow
# traces a function that XLA compiles (`tf.function(jit_compile=True)`), which marks the
# trace with an XLA control-flow context.
# Why internal: no public API tells whether the current trace is compiled with XLA.
# Fallback: False ("not compiled"), so `cpu_matmul.tied_logits` takes the plain product:
# the same values, without the CPU layout.


def _xla_context_query():
    """tensorflow.python.ops.control_flow_util.GraphOrParentsInXlaContext"""
    from tensorflow.python.ops import control_flow_util

    return control_flow_util.GraphOrParentsInXlaContext


def in_xla_function():
    """Whether TensorFlow is tracing a function that XLA compiles (`jit_compile=True`)."""
    query = _load(_xla_context_query, "'not compiled with XLA' (the plain product)")
    if query is None:
        return False
    import tensorflow as tf

    return bool(query(tf.compat.v1.get_default_graph()))


# ---------------------------------------------------------------------------------------
# Keras symbolic scope (zoo.layers.efficient_attention).
#
# What: `in_symbolic_scope()`, true while Keras runs a layer's `call` only to infer its
# output shape (a functional model being built from `keras.Input`s).
# Why internal: Keras exports no way for a layer to tell shape inference from a real call;
# there an unknown sequence length is fine, in a real call it must be static (TPU rule).
# Fallback: False, so an efficient attention layer given an unknown sequence length
# raises its "needs a static sequence length" ValueError even while a functional model is
# built: give `keras.Input` a fixed length.


def _symbolic_scope_query():
    """keras.src.backend.common.symbolic_scope.in_symbolic_scope"""
    from keras.src.backend.common.symbolic_scope import in_symbolic_scope as query

    return query


def in_symbolic_scope():
    """Whether Keras is inferring output shapes (building a functional model)."""
    query = _load(_symbolic_scope_query, "'not symbolic' (unknown lengths raise)")
    if query is None:
        return False
    return bool(query())


# ---------------------------------------------------------------------------------------
# RegexSplitWithOffsets op (zoo.text.preprocessing).
#
# What: the generated Python wrapper of tensorflow-text's RegexSplitWithOffsets kernel,
# the op behind `tensorflow_text.regex_split`.
# Why internal: `tensorflow_text.regex_split` builds its `RaggedTensor` with validation
# asserts that make tracing the preprocessing layers several times slower; the op itself
# is not exported. The graph holds the same op either way, so SavedModels still need only
# `import tensorflow_text`.
# Fallback: `tensorflow_text.regex_split` (the same result, slower to trace).


def _regex_split_op():
    """tensorflow_text.python.ops.regex_split_ops
    .gen_regex_split_ops.regex_split_with_offsets"""
    from tensorflow_text.python.ops.regex_split_ops import gen_regex_split_ops

    return gen_regex_split_ops.regex_split_with_offsets


def regex_split(texts, delim_pattern, keep_delim_pattern=""):
    """`tensorflow_text.regex_split` of 1-D `texts`, without its validation asserts."""
    import tensorflow as tf

    split = _load(_regex_split_op, "tensorflow_text.regex_split (slower to trace)")
    if split is None:
        import tensorflow_text as tf_text

        return tf_text.regex_split(texts, delim_pattern, keep_delim_pattern)
    tokens, _, _, row_splits = split(texts, f"({delim_pattern})", f"({keep_delim_pattern})")
    return tf.RaggedTensor.from_row_splits(tokens, row_splits, validate=False)


# ---------------------------------------------------------------------------------------
# SentencePiece model resource (zoo.text.tokenizers: SentencePieceTokenizer and
# BytePairTokenizer).
#
# What: tensorflow-text's generated `sentencepiece_op`, which creates the resource holding
# a SentencePiece model, and `SentencepieceTokenizer._model_resource`, the attribute its
# `tokenize` / `detokenize` read that resource from.
# Why internal: the public `tensorflow_text.SentencepieceTokenizer` creates a kernel-owned
# resource whose eager name is the same for every model ("_0_SentencepieceOp"); when one
# such kernel is destroyed the resource of the others disappears ("Resource ... does not
# exist"). The op's `shared_name` argument fixes that, and only the generated op takes it.
# Fallback: the public `tensorflow_text.SentencepieceTokenizer(model, out_type=tf.int32)`:
# the same ids, but tokenizers destroyed in the same process can break the others.


def _sentencepiece_model_op():
    """tensorflow_text.python.ops.sentencepiece_tokenizer
    .gen_sentencepiece_tokenizer.sentencepiece_op"""
    import tensorflow_text as tf_text
    from tensorflow_text.python.ops.sentencepiece_tokenizer import gen_sentencepiece_tokenizer

    for method in (
        tf_text.SentencepieceTokenizer.tokenize,
        tf_text.SentencepieceTokenizer.detokenize,
    ):
        if "_model_resource" not in method.__code__.co_names:
            raise AttributeError(
                f"tensorflow_text.SentencepieceTokenizer.{method.__name__} no longer reads "
                "self._model_resource"
            )
    return gen_sentencepiece_tokenizer.sentencepiece_op


@functools.cache
def _shared_sentencepiece_tokenizer_class(op):
    """`tensorflow_text.SentencepieceTokenizer` on a model resource shared by name.

    Defined on first use, so that importing `zoo._compat` imports no TensorFlow.
    """
    import hashlib

    import tensorflow as tf
    import tensorflow_text as tf_text

    class _SharedSentencepieceModel(tf.saved_model.experimental.TrackableResource):
        """The SentencePiece model resource, shared by name between equal models.

        A `shared_name` derived from the model bytes gives each model its own resource,
        kept for the life of the process and re-created on SavedModel load.
        """

        def __init__(self, model):
            super().__init__()
            self._model = model
            self._shared_name = "zoo_sentencepiece_" + hashlib.sha256(model).hexdigest()[:32]
            _ = self.resource_handle  # creates the resource

        def _create_resource(self):
            return op(model=self._model, shared_name=self._shared_name)

    class _SentencepieceOp(tf_text.SentencepieceTokenizer):
        """`tensorflow_text.SentencepieceTokenizer` (int32 ids) on a `_SharedSentencepieceModel`."""

        def __init__(self, model):
            # Skip the parent constructor, which would create a kernel-owned resource, and
            # set the attributes it sets (tests/test_compat.py checks they are the same).
            super(tf_text.SentencepieceTokenizer, self).__init__()
            self.nbest_size = 0
            self.alpha = 1.0
            self.out_type = tf.int32
            self.reverse = False
            self.add_bos = False
            self.add_eos = False
            self.return_nbest = False
            self._model_resource = _SharedSentencepieceModel(model)

    return _SentencepieceOp


def sentencepiece_tokenizer(model):
    """`tensorflow_text.SentencepieceTokenizer` (int32 ids) of the serialized `model`.

    Its resource is shared by a name derived from the model bytes; call it inside
    `tf.init_scope()` so that the resource outlives any function being traced.
    """
    op = _load(
        _sentencepiece_model_op,
        "tensorflow_text.SentencepieceTokenizer (tokenizers destroyed in the same process "
        "may break the others)",
    )
    if op is None:
        import tensorflow as tf
        import tensorflow_text as tf_text

        return tf_text.SentencepieceTokenizer(model=model, out_type=tf.int32)
    return _shared_sentencepiece_tokenizer_class(op)(model)


# ---------------------------------------------------------------------------------------
# saved_model_cli (zoo.saved_model_cli).
#
# What: the `main()` of TensorFlow's `saved_model_cli` command.
# Why internal: the tool is shipped as a console script, not as a Python API, and the
# script does not import `tensorflow_text`, so it cannot run Zoo's exports; Zoo calls its
# `main()` after registering the ops. Imported only when the command runs (it is not
# needed by `import zoo`).
# Fallback: the `saved_model_cli` console-script entry point of the installed TensorFlow
# (package metadata, wherever the module moved); an ImportError saying so where neither
# exists.


def _saved_model_cli_main():
    """tensorflow.python.tools.saved_model_cli.main"""
    from tensorflow.python.tools import saved_model_cli

    return saved_model_cli.main


def saved_model_cli_main():
    """The `main()` of TensorFlow's `saved_model_cli` (it reads `sys.argv`)."""
    main = _load(_saved_model_cli_main, "the 'saved_model_cli' console-script entry point")
    if main is not None:
        return main
    from importlib.metadata import entry_points

    for entry_point in entry_points(group="console_scripts", name="saved_model_cli"):
        return entry_point.load()
    raise ImportError(
        "zoo.saved_model_cli found neither tensorflow.python.tools.saved_model_cli nor a "
        "'saved_model_cli' console script in the installed TensorFlow. Install a "
        "TensorFlow that ships saved_model_cli, or load the export with "
        "tf.saved_model.load after `import tensorflow_text`."
    )


# ---------------------------------------------------------------------------------------
# Keras sublayer walk (LoRA in zoo.models.backbone).
#
# What: `Layer._flatten_layers(include_self=False)`, every sublayer of a layer or model,
# recursively, each once, in tracking order.
# Why internal: Keras lists sublayers publicly only one level down and only on models
# (`Model.layers`); keras-hub's own `enable_lora` walks `_flatten_layers` too.
# Fallback: a depth-first walk over the layers held in attributes, lists and dicts (the
# same layers for Zoo's models; the order of attribute assignment).


def _flatten_layers_method():
    """keras.layers.Layer._flatten_layers"""
    import keras

    return keras.layers.Layer._flatten_layers


def _walk_sublayers(layer):
    import keras

    found, seen = [], {id(layer)}

    def visit(value):
        if isinstance(value, keras.layers.Layer):
            if id(value) not in seen:
                seen.add(id(value))
                found.append(value)
                for item in vars(value).values():
                    visit(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    for value in vars(layer).values():
        visit(value)
    return found


def sublayers(layer):
    """Every sublayer of `layer` (a Keras layer or model), recursively, each once."""
    flatten = _load(_flatten_layers_method, "a walk over the layer's attributes")
    if flatten is None:
        return _walk_sublayers(layer)
    return list(flatten(layer, include_self=False))


# ---------------------------------------------------------------------------------------
# Dropping a variable attribute (zoo.models.backbone: merge_lora).
#
# What: `Layer._untrack_variable(variable)`, which removes a variable from the weights a
# layer tracks, the step of Keras's `Layer.__delattr__` that matters.
# Why internal: the public way, `del layer.name`, also runs a full `gc.collect()` per
# variable (about 0.7 s each with TensorFlow loaded: 9 s to merge a 2-layer GPT).
# Fallback: `delattr(layer, name)`, the same result, slower.


def _untrack_variable_method():
    """keras.layers.Layer._untrack_variable"""
    import keras

    return keras.layers.Layer._untrack_variable


def drop_variable(layer, name):
    """`del layer.<name>` for a variable attribute: untracked, as Keras's `__delattr__`."""
    untrack = _load(_untrack_variable_method, "delattr (the same result, slower)")
    if untrack is None:
        delattr(layer, name)
        return
    import keras

    untrack(layer, getattr(layer, name))
    super(keras.layers.Layer, layer).__delattr__(name)


# ---------------------------------------------------------------------------------------
# keras-hub Transformer block sublayers (zoo.models.interop).
#
# What: the attributes where keras-hub's `TransformerEncoder` / `TransformerDecoder` keep
# their self-attention, its LayerNorm, the two feed-forward Dense layers and their
# LayerNorm (`_self_attention_layer`, ...), read to copy their weights into Zoo's blocks.
# Why internal: keras-hub exposes them under no public name.
# Fallback: the sublayers found by their layer names ("self_attention_layer", or the
# decoder's "self_attention", ...), which keras-hub gives them in `build`.

KERAS_HUB_BLOCK_LAYERS = (
    "self_attention_layer",
    "self_attention_layer_norm",
    "feedforward_intermediate_dense",
    "feedforward_output_dense",
    "feedforward_layer_norm",
)


def _keras_hub_block_attributes():
    """keras_hub.layers.TransformerEncoder/TransformerDecoder._self_attention_layer
    (and _self_attention_layer_norm, _feedforward_*)"""
    import keras_hub

    attributes = {name: "_" + name for name in KERAS_HUB_BLOCK_LAYERS}
    for cls in (keras_hub.layers.TransformerEncoder, keras_hub.layers.TransformerDecoder):
        missing = [a for a in attributes.values() if a not in cls.build.__code__.co_names]
        if missing:
            raise AttributeError(f"keras_hub.layers.{cls.__name__}.build no longer sets {missing}")
    return attributes


def keras_hub_block_layers(block):
    """`{name: sublayer}` of a built keras-hub `TransformerEncoder` / `TransformerDecoder`,
    for the names of `KERAS_HUB_BLOCK_LAYERS`."""
    attributes = _load(_keras_hub_block_attributes, "the sublayers found by their names")
    if attributes is not None:
        return {name: getattr(block, attribute) for name, attribute in attributes.items()}
    named = {layer.name: layer for layer in sublayers(block)}
    found = {}
    for name in KERAS_HUB_BLOCK_LAYERS:
        # The decoder names its self-attention "self_attention".
        aliases = [a for a in (name, name.removesuffix("_layer")) if a in named]
        if not aliases:
            raise ValueError(
                f"The keras-hub {type(block).__name__} has no sublayer named {name!r}. "
                "Install the keras-hub version Zoo supports (0.32) to import its weights."
            )
        found[name] = named[aliases[0]]
    return found


# ---------------------------------------------------------------------------------------
# A Keras model's own save signature (zoo.export.common.save).
#
# What: `Model._default_save_signature`, the forward pass Keras' TensorFlow backend has
# `tf.saved_model.save` trace on the model's declared inputs (`(None, None)` token ids).
# Why internal: Keras has no public switch to leave it out of a SavedModel. The exports
# serve their own signatures, and a model with an efficient attention cannot trace this
# one (its sequence length must be static).
# Fallback: none: if Keras renames it, the override does nothing, and the export of an
# efficient-attention model fails again with the layer's own error.

DEFAULT_SAVE_SIGNATURE = "_default_save_signature"


@functools.cache
def keras_model_class_without_save_signature(cls):
    """`cls` (a `keras.Model` subclass) with no default save signature, one subclass per
    class, with the same name and module (what Keras answers for a plain layer)."""
    attributes = {
        DEFAULT_SAVE_SIGNATURE: None,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
    }
    return type(cls.__name__, (cls,), attributes)
