"""What every export shares: input checks, blank strings, the tokenizer/model vocabulary
check, LoRA merging, the text-in serving signatures (`text_signature`), and saving a
module so TF1-session loaders (TensorFlow Serving) restore it."""

import contextlib

import keras
import tensorflow as tf

from zoo._compat import keras_model_class_without_save_signature

# What a string may hold and still say nothing: whitespace (RE2's `\s` is ASCII only),
# control and format characters, and U+FFFD (what invalid UTF-8 was repaired to).
BLANK_CHARACTERS = r"[\s\x{0B}\x{85}\p{Z}\p{Cc}\p{Cf}\x{FFFD}]+"
ANY_STRING = tf.TensorSpec(None, tf.string)


def with_merged_lora(model):
    """`model` itself, or a copy with its LoRA adapters merged when it has some.

    A model fine-tuned with `enable_lora` computes with `kernel + a @ b * scale`; the
    export serves the merged kernels, as plain `Dense` / `EinsumDense` layers (no
    adapter variables, one matmul per projection). The copy is rebuilt from the
    model's config and weights, so the caller's model keeps its adapters and can
    train on; it holds the weights twice while the export is built.
    """
    if getattr(model, "lora_rank", None) is None:
        return model
    merged = type(model).from_config(model.get_config())
    merged.set_weights(model.get_weights())
    merged.merge_lora()
    return merged


def runtime_rank(tensor):
    """The rank of the tensor actually fed, as a tensor.

    `tf.rank` is folded into a constant wherever the graph declares a rank, and the
    named signatures declare `[None]` but pass any fed tensor through unchecked: the
    count of the runtime shape's entries is what was really received.
    """
    return tf.reduce_sum(tf.cast(tf.shape(tensor) >= 0, tf.int32))


def check_rank(tensor, signature, what, ranks):
    """`tensor`, after an InvalidArgumentError unless its runtime rank is in `ranks`."""
    rank = runtime_rank(tensor)
    check = tf.debugging.Assert(
        tf.reduce_any(tf.equal(rank, ranks)),
        [f"{signature}() expected {what}; received shape", tf.shape(tensor)],
        summarize=8,
    )
    with tf.control_dependencies([check]):
        return tf.identity(tensor)


BATCH = "a [batch] tensor of strings (rank 1)"


def as_batch(text, signature):
    """A string scalar or `(batch,)` tensor (traced with an unknown rank) -> `(batch,)`."""
    text = check_rank(text, signature, f"{BATCH} or a scalar string", [0, 1])
    return tf.reshape(text, [-1])


def like_input(values, text, trailing=()):
    """`(batch, *trailing)` answers back to the input's rank (a scalar in, one answer out)."""
    return tf.reshape(values, tf.concat([tf.shape(text), list(trailing)], axis=0))


def is_blank(text):
    """`(batch,)` bool: nothing but whitespace, controls, format characters and U+FFFD."""
    return tf.equal(tf.strings.length(tf.strings.regex_replace(text, BLANK_CHARACTERS, "")), 0)


def readable_rows(text, ids, tokenizer):
    """`(batch,)` bool: not blank and with a token other than `[UNK]` in the ragged `ids`."""
    unk = -1 if tokenizer.unk_token_id is None else tokenizer.unk_token_id
    ids = ids.merge_dims(1, -1) if ids.ragged_rank > 1 else ids
    known = tf.reduce_any(tf.not_equal(ids, unk), axis=1)  # False for no tokens
    return tf.logical_and(known, tf.logical_not(is_blank(text)))


def vocabulary_size(model, *names):
    for name in names:
        value = getattr(model, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def check_vocabulary(owner, model_size, tokenizer, side=""):
    """The model must have a row for every tokenizer id; returns the tokenizer's size."""
    size = int(tokenizer.vocabulary_size())
    if model_size is not None and model_size < size:
        raise ValueError(
            f"{owner} received a model with a {side}vocabulary of {model_size} ids and a "
            f"tokenizer of {size} tokens: tokenizer ids >= {model_size} have no embedding. "
            "Build the model with vocabulary_size=tokenizer.vocabulary_size() (or more)."
        )
    return size


class TokenizerLogits:
    """Forwards to a generation model, with the logits of ids the tokenizer lacks masked.

    A model built with a vocabulary padded beyond its tokenizer's (a multiple of the
    mesh's model axis) must not emit those ids: the tokenizer cannot detokenize them.
    """

    def __init__(self, model, size):
        self._model = model
        self._size = size

    def __getattr__(self, name):
        return getattr(self._model, name)

    def _mask(self, logits):
        logits = tf.cast(logits, tf.float32)
        allowed = tf.range(tf.shape(logits)[-1]) < self._size
        return tf.where(allowed, logits, -1e9)

    def __call__(self, *args, **kwargs):
        return self._mask(self._model(*args, **kwargs))

    def call_with_cache(self, *args, **kwargs):
        logits, hidden, cache = self._model.call_with_cache(*args, **kwargs)
        return self._mask(logits), hidden, cache


def generation_model(model, model_size, tokenizer_size):
    if model_size is not None and model_size > tokenizer_size:
        return TokenizerLogits(model, tokenizer_size)
    return model


def save(module, path, signatures):
    """`tf.saved_model.save` of the module's `signatures`, loadable by TF1-style loaders too.

    TensorFlow Serving and `saved_model_cli run` load a SavedModel into a TF1 session,
    which restores only the variables the module tracks directly. Keras 3 variables wrap
    a `tf.Variable` that the object graph reaches through the Keras layer, not as a
    variable, so without this list those loaders fail with "Could not find variable".

    The Keras models the module holds are saved without their own default signature
    (see `without_keras_signatures`): the export serves `signatures`, not the model.
    """
    module._serving_variables = [
        getattr(variable, "value", variable) for variable in keras_variables(module)
    ]
    with without_keras_signatures(module):
        tf.saved_model.save(module, path, signatures=signatures)


def text_signature(module, name, shapes, method=None):
    """The serving signature `name`: `text: string (batch,) -> {output: tensor}`.

    It checks that `text` is a batch (an error naming `name` otherwise), calls
    `module.<method>` (default: `name`) on it and gives each output named in `shapes`
    its static shape there. A method that returns one tensor gives the one output of
    `shapes`.
    """

    def serve(text):
        answer = getattr(module, method or name)(check_rank(text, name, BATCH, [1]))
        if not isinstance(answer, dict):
            (key,) = shapes
            answer = {key: answer}
        return {key: tf.ensure_shape(answer[key], shape) for key, shape in shapes.items()}

    return tf.function(serve, input_signature=[tf.TensorSpec([None], tf.string, name="text")])


@contextlib.contextmanager
def without_keras_signatures(module):
    """Within the block, every Keras model reachable from `module` has no default signature.

    `tf.saved_model.save` traces every `tf.function` attribute of every object it
    saves, and a Keras 3 model's `_default_save_signature` is one: a forward pass traced
    on the model's declared inputs, `(None, None)` token ids for our models. A model with
    an efficient attention (`attention="sparse"`, `"longformer"`, `"performer"`, ...)
    needs a static sequence length, so that trace raises and the whole export fails;
    for other models it only adds an unused function to the SavedModel. Each model's
    class is swapped, for the block only, for a subclass whose `_default_save_signature`
    is `None` (what Keras itself answers for a layer that is not a model), and restored
    afterwards; the models' variables and layers are saved as before.
    """
    models = [
        node
        for node in tf.train.TrackableView(module).descendants()
        if isinstance(node, keras.Model)
    ]
    classes = [type(model) for model in models]
    for model, cls in zip(models, classes):
        object.__setattr__(model, "__class__", keras_model_class_without_save_signature(cls))
    try:
        yield
    finally:
        for model, cls in zip(models, classes):
            object.__setattr__(model, "__class__", cls)


def keras_variables(module):
    seen, variables = set(), []
    for value in vars(module).values():
        for variable in getattr(value, "variables", None) or ():
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables


def clean_text(text, preprocessor):
    """Invalid UTF-8 -> U+FFFD, then the optional string -> string preprocessor."""
    text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
    return preprocessor(text) if preprocessor is not None else text


def required_id(tokenizer, name, owner):
    value = getattr(tokenizer, name, None)
    if value is None:
        token = name[: -len("_token_id")].upper()
        raise ValueError(
            f"{owner} needs a tokenizer with a [{token}] token; this one has none. Train it "
            "with the default reserved tokens (zoo.text.SPECIAL_TOKENS)."
        )
    return int(value)


def strip_wordpiece_prefix(words):
    return tf.strings.regex_replace(words, r"^##", "")
