"""Shared pieces of the preprocessing layers: patterns, supported languages, string
tensor helpers, adapt-time word counting and `_StringLayer`, the base of every layer."""

import collections

import keras
import numpy as np
import tensorflow as tf

# `tensorflow_text.regex_split` of 1-D texts without its validation asserts (several times
# faster to trace), on the same op, so SavedModels need only `import tensorflow_text`.
from zoo._compat import regex_split as _regex_split

# A word: a run of letters and combining marks. ("don't" is "don", "'", "t": allowing inner
# apostrophes makes RE2 three times slower, and punctuation is usually removed first.)
WORD_PATTERN = r"[\p{L}\p{M}]+"
# Whitespace in the Unicode sense, plus control characters and zero-width space / BOM.
_SPACE_PATTERN = r"[\s\p{Z}\p{Cc}\x{200B}\x{FEFF}]+"
# Symbols (currency, math, emoji) with the emoji glue: variation selectors, keycap, and a
# zero-width joiner followed by another symbol ("👨‍💻").
_SYMBOL_PATTERN = r"(?:[\p{S}\x{FE0E}\x{FE0F}\x{20E3}]|\x{200D}[\p{S}\x{FE0F}])+"

_ADAPT_BATCH_SIZE = 1024

# ISO 639-1 code -> Snowball algorithm name in PyStemmer.
_SNOWBALL_NAMES = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "eo": "esperanto",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "nl": "dutch",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "st": "sesotho",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}


# ---------------------------------------------------------------------------------------
# Languages each library supports (read from the installed packages, no network).


def stop_word_languages():
    """Language codes with a stopwordsiso stop-word list."""
    import stopwordsiso

    return sorted(stopwordsiso.langs())


def stemmer_languages():
    """Language codes with a Snowball stemmer in PyStemmer."""
    import Stemmer as pystemmer

    algorithms = set(pystemmer.algorithms())
    return sorted(code for code, name in _SNOWBALL_NAMES.items() if name in algorithms)


def lemmatizer_languages(backend="simplemma"):
    """Language codes the lemmatizer `backend` supports."""
    if backend == "pymorphy3":
        return ["ru"]
    from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

    return sorted(SUPPORTED_LANGUAGES)


def spelling_languages():
    """Language codes with a pyspellchecker dictionary."""
    from spellchecker import SpellChecker

    return sorted(SpellChecker.languages())


def _set_flags(layer, flags):
    """Keep each `(argument, value)` of `flags` as the bool attribute of that name, after
    checking every value is True or False."""
    flags = list(flags)
    for argument, value in flags:
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(
                f"{type(layer).__name__} received {argument}={value!r}; expected True or "
                f"False. Pass {argument}=True to turn the step on or False to turn it off."
            )
    for argument, value in flags:
        setattr(layer, argument, bool(value))


def _check_language(language, supported, owner, argument="language"):
    if not isinstance(language, str) or language not in supported:
        raise ValueError(
            f"{owner} received {argument}={language!r}, which is not supported. Expected one "
            f"of the language codes {supported}. Pass one of them, e.g. {argument}='ru' or "
            f"{argument}='en'."
        )


# ---------------------------------------------------------------------------------------
# String tensor helpers.


def _sanitize(texts):
    """Replace invalid UTF-8 and NUL characters with U+FFFD; never raises.

    NUL goes too because several TensorFlow string ops (`tf.strings.lower` with an
    encoding, `tensorflow_text.regex_split`) silently drop everything after it.
    """
    texts = tf.strings.unicode_transcode(
        texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
    )
    return tf.strings.regex_replace(texts, r"\x00", "\ufffd")


def _lowercase(texts):
    """Unicode lowercase of sanitized strings (no NUL characters)."""
    return tf.strings.lower(texts, encoding="utf-8")


def _to_string_tensor(inputs, owner):
    """`inputs` (str, bytes, list, numpy array, tensor, ragged tensor) as a tf.string tensor."""
    if isinstance(inputs, tf.RaggedTensor) or tf.is_tensor(inputs):
        tensor = inputs
    else:
        try:
            tensor = tf.convert_to_tensor(inputs)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{owner} expects text (a string, a list or array of strings, or a tf.string "
                f"tensor); received {type(inputs).__name__} that could not be converted to a "
                f"tensor ({error}). Pass strings, e.g. tf.constant(['some text'])."
            ) from None
    if tensor.dtype != tf.string:
        raise ValueError(
            f"{owner} expects tf.string inputs; received dtype {tensor.dtype.name}. "
            "Preprocessing layers work on raw text: pass strings, e.g. "
            "tf.constant(['some text']), and apply them before any tokenizer."
        )
    return tensor


def _map_strings(fn, inputs):
    """Apply `fn` (1-D string tensor -> 1-D string tensor) to every string in `inputs`.

    `inputs` is a scalar, a dense tensor of any rank or a ragged tensor; the output has the
    same shape (and row partitions).
    """
    if isinstance(inputs, tf.RaggedTensor):
        return tf.ragged.map_flat_values(lambda values: _map_strings(fn, values), inputs)
    flat = tf.reshape(inputs, [-1])
    outputs = tf.reshape(fn(flat), tf.shape(inputs))
    outputs.set_shape(inputs.shape)
    return outputs


def _flat_strings(batch):
    if isinstance(batch, tf.RaggedTensor):
        batch = batch.flat_values
    return tf.reshape(batch, [-1])


def _iter_text_batches(data, owner):
    """Yield 1-D tf.string tensors from a corpus: str, list/array of str, tensor, or dataset."""
    if isinstance(data, tf.data.Dataset):
        spec = data.element_spec
        if not isinstance(spec, (tf.TensorSpec, tf.RaggedTensorSpec)) or spec.dtype != tf.string:
            raise ValueError(
                f"{owner}.adapt() expects a dataset of strings (batched or not); received a "
                f"dataset with element_spec {spec}. Map it to text first, e.g. "
                "dataset.map(lambda text, label: text)."
            )
        if spec.shape.rank == 0:
            data = data.batch(_ADAPT_BATCH_SIZE)
        for batch in data:
            yield _flat_strings(batch)
        return
    if isinstance(data, (str, bytes)):
        data = [data]
    if isinstance(data, tf.RaggedTensor) or tf.is_tensor(data):
        yield _flat_strings(_to_string_tensor(data, f"{owner}.adapt()"))
        return
    if isinstance(data, np.ndarray):
        data = data.reshape(-1)
    elif not isinstance(data, (list, tuple)):
        try:
            data = list(data)
        except TypeError:
            raise ValueError(
                f"{owner}.adapt() expects a corpus of text (a list or array of strings, a "
                f"tensor or a tf.data.Dataset of strings); received {type(data).__name__}."
            ) from None
    for start in range(0, len(data), _ADAPT_BATCH_SIZE):
        chunk = data[start : start + _ADAPT_BATCH_SIZE]
        yield _flat_strings(_to_string_tensor(chunk, f"{owner}.adapt()"))


@tf.function(
    input_signature=[tf.TensorSpec([None], tf.string)], reduce_retracing=True, autograph=False
)
def _distinct_words(texts):
    """The distinct lowercase words of a batch of texts, with their counts."""
    pieces = _regex_split(_sanitize(texts), WORD_PATTERN, WORD_PATTERN).flat_values
    words = tf.boolean_mask(pieces, tf.strings.regex_full_match(pieces, WORD_PATTERN))
    words, _, counts = tf.unique_with_counts(_lowercase(words))
    return words, counts


def _count_words(batches, owner):
    """Count the lowercase words of an iterable of 1-D tf.string batches."""
    counter = collections.Counter()
    num_texts = 0
    for batch in batches:
        num_texts += int(tf.size(batch))
        words, counts = _distinct_words(batch)
        for word, count in zip(words.numpy(), counts.numpy()):
            counter[word.decode("utf-8")] += int(count)
    if not counter:
        raise ValueError(
            f"{owner}.adapt() found no words in the corpus: received {num_texts} texts "
            f"without any word (a word matches {WORD_PATTERN!r}). Pass a non-empty corpus of "
            "text, e.g. layer.adapt(['Я изучаю машинное обучение'])."
        )
    return counter


def _lowercase_words(words):
    """Lowercase Python strings exactly as the in-graph lookup does."""
    if not words:
        return []
    with tf.init_scope():
        lowered = _lowercase(tf.constant(list(words), dtype=tf.string)).numpy()
    return [word.decode("utf-8") for word in lowered]


def _progress(iterable, total, description, verbose):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=description, disable=not verbose, unit="word")


# ---------------------------------------------------------------------------------------
# Layers.


class _StringLayer(keras.layers.Layer):
    """Base of the string -> string layers: input conversion, shapes, no weights.

    `get_config` adds the constructor arguments named in `_CONFIG_ATTRIBUTES`, read from
    the attributes of the same name; a subclass adds what it keeps otherwise.
    """

    _CONFIG_ATTRIBUTES = ()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.supports_jit = False
        self.built = True

    def build(self, input_shape=None):
        self.built = True

    def call(self, inputs):
        inputs = _to_string_tensor(inputs, type(self).__name__)
        return _map_strings(self._transform, inputs)

    def _transform(self, texts):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(
            inputs.shape, dtype="string", ragged=getattr(inputs, "ragged", False)
        )

    def get_config(self):
        config = super().get_config()
        for name in self._CONFIG_ATTRIBUTES:
            config[name] = getattr(self, name)
        return config
