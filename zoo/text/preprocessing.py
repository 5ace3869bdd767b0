"""Text preprocessing as Keras layers: strings in, strings out, pure TensorFlow at call time.

The lecture's classic preprocessing steps (normalization, lowercasing, removing digits and
punctuation, typo correction, lemmatization or stemming, stop-word removal) as layers that
run in `tf.data.Dataset.map`, inside a Keras model and inside an exported SavedModel that is
served by a process importing only `tensorflow` and `tensorflow_text`.

- `TextNormalizer`: NFKC, lowercase (Cyrillic included), digits, punctuation, symbols,
  whitespace; one flag per step.
- `StopWordFilter`: drops stop words (stopwordsiso lists plus your own words).
- `Stemmer`, `Lemmatizer`, `SpellCorrector`: run their Python library (PyStemmer, simplemma
  or pymorphy3, pyspellchecker) once per distinct word at `adapt()` time and keep the result
  as a word -> word `tf.lookup.StaticHashTable`.
- `Preprocessor`: chains the chosen steps for one language from one config.

Words and case. The three table layers split text into words (`WORD_PATTERN`: runs of
Unicode letters and combining marks; "don't" is "don", "'", "t") and everything else
(spaces, punctuation, digits, emoji), which is kept byte for byte. The table is keyed by
the Unicode-lowercased word and built from lowercased words, so lookups ignore case; the
word's case pattern carries over to its replacement ("Изучаю" -> "Изучать", "RUNNING" ->
"RUN", "running" -> "run"). Words not in the table pass through unchanged.

Bad text never raises: every layer first replaces invalid UTF-8 and NUL characters with
U+FFFD.
"""

import collections

import keras
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

# `tensorflow_text.regex_split` of 1-D texts without its validation asserts (several times
# faster to trace), on the same op, so SavedModels need only `import tensorflow_text`.
from zoo._compat import regex_split as _regex_split

__all__ = [
    "WORD_PATTERN",
    "Lemmatizer",
    "Preprocessor",
    "SpellCorrector",
    "Stemmer",
    "StopWordFilter",
    "TextNormalizer",
]

# A word: a run of letters and combining marks. ("don't" is "don", "'", "t": allowing inner
# apostrophes makes RE2 three times slower, and punctuation is usually removed first.)
WORD_PATTERN = r"[\p{L}\p{M}]+"
# Whitespace in the Unicode sense, plus control characters and zero-width space / BOM.
_SPACE_PATTERN = r"[\s\p{Z}\p{Cc}\x{200B}\x{FEFF}]+"
# Symbols (currency, math, emoji) with the emoji glue: variation selectors, keycap, and a
# zero-width joiner followed by another symbol ("👨‍💻").
_SYMBOL_PATTERN = r"(?:[\p{S}\x{FE0E}\x{FE0F}\x{20E3}]|\x{200D}[\p{S}\x{FE0F}])+"

_ADAPT_BATCH_SIZE = 1024
# pyspellchecker's distance-2 search grows with the square of the word length.
_MAX_SPELL_WORD_LENGTH = 30

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
    """Base of the string -> string layers: input conversion, shapes, no weights."""

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


@keras.saving.register_keras_serializable(package="zoo")
class TextNormalizer(_StringLayer):
    """Normalize raw text: Unicode NFKC, lowercase, digits, punctuation, whitespace.

    Every step is a flag and they run in this order: invalid UTF-8 and NUL characters are
    replaced with U+FFFD (always, never an error); NFKC (`tensorflow_text.normalize_utf8`:
    "ﬁ" -> "fi", full-width "Ａ" -> "A", "²" -> "2"); Unicode lowercase ("Ё" -> "ё", "Ä" ->
    "ä"); digits (`\\p{N}`: any script's digits, fractions, Roman numerals) deleted;
    punctuation (`\\p{P}`: ASCII punctuation and also «», „“, —, …, ¿) replaced by a space,
    so "слово,слово" keeps two words and "don't" becomes "don t"; symbols (`\\p{S}`: $ + < =
    > ^ | ~ €, ©, emoji together with their variation selectors and zero-width joiners)
    replaced by a space; whitespace (Unicode spaces, control characters, zero-width space)
    collapsed to one space and stripped at both ends.

    The layer has no weights and no state; its output has the shape of its input (a
    scalar, a dense batch of any rank or a ragged tensor).

    Args:
        nfkc: bool. Apply Unicode NFKC normalization.
        lowercase: bool. Lowercase every script (Latin, Cyrillic, Greek, ...).
        remove_digits: bool. Delete Unicode numbers (`\\p{N}`).
        remove_punctuation: bool. Replace Unicode punctuation (`\\p{P}`) with a space.
        remove_symbols: bool. Replace Unicode symbols (`\\p{S}`, emoji included) with a
            space. `Preprocessor(remove_punctuation=True)` turns on both.
        collapse_whitespace: bool. Collapse runs of whitespace and control characters to
            one space and strip the ends.
        **kwargs: `keras.layers.Layer` arguments (`name`, ...).

    Call arguments:
        inputs: tf.string tensor (scalar, dense batch or ragged), or Python strings.

    Example:

    >>> normalizer = TextNormalizer(remove_digits=True, remove_punctuation=True)
    >>> normalizer(["Я изучаю Машинное Обучение, 2024!"]).numpy()[0].decode()
    'я изучаю машинное обучение'
    """

    def __init__(
        self,
        nfkc=True,
        lowercase=True,
        remove_digits=False,
        remove_punctuation=False,
        remove_symbols=False,
        collapse_whitespace=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for argument, value in (
            ("nfkc", nfkc),
            ("lowercase", lowercase),
            ("remove_digits", remove_digits),
            ("remove_punctuation", remove_punctuation),
            ("remove_symbols", remove_symbols),
            ("collapse_whitespace", collapse_whitespace),
        ):
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(
                    f"TextNormalizer received {argument}={value!r}; expected True or False. "
                    f"Pass {argument}=True to turn the step on or False to turn it off."
                )
        self.nfkc = bool(nfkc)
        self.lowercase = bool(lowercase)
        self.remove_digits = bool(remove_digits)
        self.remove_punctuation = bool(remove_punctuation)
        self.remove_symbols = bool(remove_symbols)
        self.collapse_whitespace = bool(collapse_whitespace)

    def _transform(self, texts):
        texts = _sanitize(texts)
        if self.nfkc:
            texts = tf_text.normalize_utf8(texts, "NFKC")
        if self.lowercase:
            texts = _lowercase(texts)
        if self.remove_digits:
            texts = tf.strings.regex_replace(texts, r"\p{N}+", "")
        if self.remove_punctuation:
            texts = tf.strings.regex_replace(texts, r"\p{P}+", " ")
        if self.remove_symbols:
            texts = tf.strings.regex_replace(texts, _SYMBOL_PATTERN, " ")
        if self.collapse_whitespace:
            texts = tf.strings.regex_replace(texts, _SPACE_PATTERN, " ")
            texts = tf.strings.regex_replace(texts, r"^ | $", "")
        return texts

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "nfkc": self.nfkc,
                "lowercase": self.lowercase,
                "remove_digits": self.remove_digits,
                "remove_punctuation": self.remove_punctuation,
                "remove_symbols": self.remove_symbols,
                "collapse_whitespace": self.collapse_whitespace,
            }
        )
        return config


def _string_list(value, owner, argument):
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    value = list(value)
    for item in value:
        if not isinstance(item, str):
            raise ValueError(
                f"{owner} received {argument} containing {item!r} "
                f"({type(item).__name__}); expected strings. Pass a list of str."
            )
    return value


@keras.saving.register_keras_serializable(package="zoo")
class StopWordFilter(_StringLayer):
    """Remove stop words ("и", "в", "the", "is", ...) from whitespace-separated text.

    The text is split on Unicode whitespace, each token is looked up, case-insensitively,
    in a `tf.lookup.StaticHashTable` of stop words, stop words are dropped and the rest is
    joined with single spaces. Tokens are matched whole: "и," (with its comma) is not "и",
    so run `TextNormalizer(remove_punctuation=True)` first (`Preprocessor` does).

    The lists come from the installed `stopwordsiso` package (ISO 639-1 codes; "ru" has 559
    words, "en" 1298, which is aggressive: it includes "text", "new", "information").

    Args:
        language: a language code ("ru", "en", ...), a list of codes (["ru", "en"]) whose
            lists are merged, or None for only `extra_words`.
        extra_words: list of str, or None. Your own stop words, added to the lists.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: tf.string tensor (scalar, dense batch or ragged), or Python strings.

    Example:

    >>> layer = StopWordFilter(language=["ru", "en"], extra_words=["ну"])
    >>> layer(["ну я и он изучаем the машинное обучение"]).numpy()[0].decode()
    'изучаем машинное обучение'
    """

    def __init__(self, language="ru", extra_words=None, **kwargs):
        super().__init__(**kwargs)
        if language is None:
            languages = []
        elif isinstance(language, str):
            languages = [language]
        elif isinstance(language, (list, tuple)):
            languages = list(language)
        else:
            raise ValueError(
                f"StopWordFilter received language={language!r}; expected a language code "
                "such as 'ru', a list of codes such as ['ru', 'en'], or None. Pass your own "
                "words with extra_words=[...]."
            )
        supported = stop_word_languages()
        for code in languages:
            if not isinstance(code, str) or code not in supported:
                raise ValueError(
                    f"StopWordFilter received language {code!r}, which has no stopwordsiso "
                    f"list. Supported language codes: {supported}. To remove your own words, "
                    "pass them as extra_words=[...] (with language=None for only those)."
                )
        extra = _string_list(extra_words, "StopWordFilter", "extra_words")
        if not languages and not extra:
            raise ValueError(
                "StopWordFilter received language=None and no extra_words, so it has no stop "
                "words to remove. Pass language='ru' (or 'en', or a list) and/or "
                "extra_words=[...]."
            )
        self.language = language if not isinstance(language, tuple) else list(language)
        self.extra_words = extra if extra_words is not None else None

        import stopwordsiso

        words = set(extra)
        for code in languages:
            words.update(stopwordsiso.stopwords(code))
        words = sorted(set(_lowercase_words(sorted(words))) - {""})
        self._num_stop_words = len(words)
        self._stop_word_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(words, tf.string), tf.ones([len(words)], tf.int32)
            ),
            default_value=0,
        )

    @property
    def num_stop_words(self):
        return self._num_stop_words

    def _transform(self, texts):
        tokens = _regex_split(_sanitize(texts), _SPACE_PATTERN)
        is_stop = self._stop_word_table.lookup(_lowercase(tokens.flat_values)) > 0
        keep = tf.logical_not(is_stop)
        row_lengths = tf.reduce_sum(tokens.with_flat_values(tf.cast(keep, tf.int64)), axis=1)
        kept = tf.RaggedTensor.from_row_lengths(
            tf.boolean_mask(tokens.flat_values, keep), row_lengths, validate=False
        )
        return tf.strings.reduce_join(kept, axis=-1, separator=" ")

    def get_config(self):
        config = super().get_config()
        config.update({"language": self.language, "extra_words": self.extra_words})
        return config


class _WordMapper(_StringLayer):
    """Base of the word -> word table layers (Stemmer, Lemmatizer, SpellCorrector).

    Subclasses implement `_map_words(words, verbose)`, which gets lowercase words not seen
    before and returns {word: replacement} for the words that change.
    """

    def __init__(self, vocabulary=None, **kwargs):
        super().__init__(**kwargs)
        self._seen_words = set()
        self._set_mapping(None if vocabulary is None else self._parse_vocabulary(vocabulary))

    def _parse_vocabulary(self, vocabulary):
        owner = type(self).__name__
        if isinstance(vocabulary, dict):
            pairs = list(vocabulary.items())
        elif isinstance(vocabulary, (list, tuple)):
            pairs = list(vocabulary)
        else:
            raise ValueError(
                f"{owner} received vocabulary of type {type(vocabulary).__name__}; expected "
                "a dict {word: replacement} or a list of [word, replacement] pairs. Example: "
                "vocabulary={'running': 'run'}."
            )
        for pair in pairs:
            if (
                not isinstance(pair, (list, tuple))
                or len(pair) != 2
                or not all(isinstance(item, str) for item in pair)
                or not pair[0]
                or not pair[1]
            ):
                raise ValueError(
                    f"{owner} received the vocabulary entry {pair!r}; expected a pair of "
                    "non-empty strings (word, replacement). Fix or drop that entry; to "
                    "delete words use StopWordFilter."
                )
        keys = _lowercase_words([word for word, _ in pairs])
        mapping = {}
        for key, (_, replacement) in zip(keys, pairs):
            if key != replacement:
                mapping.setdefault(key, replacement)
        return mapping

    def _set_mapping(self, mapping):
        self._mapping = None if mapping is None else dict(sorted(mapping.items()))
        entries = dict(self._mapping or {})
        # A StaticHashTable cannot be empty; "" is never a word, so this entry never matches.
        entries[""] = ""
        self._word_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(list(entries.keys()), tf.string),
                tf.constant(list(entries.values()), tf.string),
            ),
            default_value="",
        )

    @property
    def is_adapted(self):
        """Whether the layer has a table (from `adapt()` or `vocabulary=`)."""
        return self._mapping is not None

    @property
    def vocabulary(self):
        """The word -> replacement table as a dict (only words that change), or None."""
        return None if self._mapping is None else dict(self._mapping)

    def adapt(self, data, verbose=True):
        """Build (or extend) the table from the distinct words of a corpus.

        Args:
            data: text: a list or numpy array of strings, a tf.string tensor (dense or
                ragged), or a `tf.data.Dataset` of strings, batched or not.
            verbose: bool. Show a tqdm progress bar over the distinct words.

        Words already in the table, or already looked at by an earlier `adapt()` call
        of this layer object, are not processed again.
        """
        self._adapt_batches(_iter_text_batches(data, type(self).__name__), verbose)

    def _adapt_batches(self, batches, verbose):
        counter = _count_words(batches, type(self).__name__)
        mapping = dict(self._mapping or {})
        words = [
            word
            for word, _ in sorted(counter.items(), key=lambda item: (-item[1], item[0]))
            if word not in mapping and word not in self._seen_words
        ]
        words = self._select_words(words)
        changes = self._map_words(words, verbose) if words else {}
        self._seen_words.update(words)
        for word, replacement in changes.items():
            if replacement and replacement != word:
                mapping[word] = replacement
        self._set_mapping(mapping)

    def _select_words(self, words):
        return words

    def _map_words(self, words, verbose):
        raise NotImplementedError

    def _transform(self, texts):
        if self._mapping is None:
            name = type(self).__name__
            raise ValueError(
                f"{name} '{self.name}' was called before it has a table: received text, "
                f"expected the layer to be adapted first. Call `{name.lower()}.adapt(texts)` "
                "on a corpus (list of str or tf.data.Dataset of strings) or pass "
                "vocabulary={word: replacement} to the constructor."
            )
        return _replace_words(_sanitize(texts), self._word_table)

    def get_config(self):
        config = super().get_config()
        config["vocabulary"] = (
            None
            if self._mapping is None
            else [[key, value] for key, value in self._mapping.items()]
        )
        return config


def _replace_words(texts, table):
    """Replace each word of `texts` (1-D) found in `table` (keyed by lowercase word).

    The word's case pattern carries over to its replacement: lowercase -> as in the table,
    UPPERCASE (two letters or more) -> uppercase, Capitalized -> capitalized, anything else
    ("iPhone") -> as in the table.
    """
    pieces = _regex_split(texts, WORD_PATTERN, WORD_PATTERN)  # (batch, pieces)
    values = pieces.flat_values  # (pieces,): words and what lies between them
    # Non-word pieces never match: keys are words ("" is the not-found value).
    found = table.lookup(_lowercase(values))
    hits = tf.where(tf.not_equal(found, ""))[:, 0]  # (hits,)
    words = tf.gather(values, hits)
    replacements = tf.gather(found, hits)
    lower = _lowercase(words)
    upper = tf.strings.upper(words, encoding="utf-8")
    first = tf.strings.substr(words, 0, 1, unit="UTF8_CHAR")
    is_lower = tf.equal(words, lower)
    is_upper = tf.equal(words, upper) & (tf.strings.length(words, unit="UTF8_CHAR") > 1)
    is_capitalized = tf.not_equal(first, _lowercase(first))
    lengths = tf.strings.length(replacements, unit="UTF8_CHAR")
    head = tf.strings.substr(replacements, 0, 1, unit="UTF8_CHAR")
    tail = tf.strings.substr(replacements, tf.ones_like(lengths), lengths - 1, unit="UTF8_CHAR")
    capitalized = tf.strings.join([tf.strings.upper(head, encoding="utf-8"), tail])
    replacements = tf.where(
        is_lower,
        replacements,
        tf.where(
            is_upper,
            tf.strings.upper(replacements, encoding="utf-8"),
            tf.where(is_capitalized, capitalized, replacements),
        ),
    )
    values = tf.tensor_scatter_nd_update(values, hits[:, None], replacements)
    return tf.strings.reduce_join(pieces.with_flat_values(values), axis=-1)


@keras.saving.register_keras_serializable(package="zoo")
class Stemmer(_WordMapper):
    """Snowball stemming ("изучаю" -> "изуча", "running" -> "run") as a lookup table.

    `adapt(texts)` runs PyStemmer's Snowball stemmer for `language` once over the distinct words
    of a corpus and keeps a `tf.lookup.StaticHashTable` of the words whose stem differs;
    calling the layer is pure TensorFlow. Text is split into words (`WORD_PATTERN`) and the
    pieces between them (spaces, punctuation, digits, emoji), which are kept as they are.
    Lookup ignores case and the word's case carries over to its stem ("Running" -> "Run");
    words not seen by `adapt()` pass through unchanged. The table is part of the config, so
    it survives `get_config`/`from_config`, `.keras` files and SavedModel export.

    Reference: M. Porter, "Snowball: A language for stemming algorithms" (2001).

    Args:
        language: ISO 639-1 code with a Snowball stemmer ("ru", "en", "de", ...).
        vocabulary: optional prebuilt table, a dict {word: stem} or a list of
            [word, stem] pairs; `adapt()` extends it. Without it, call `adapt()` before
            calling the layer (a call before raises a ValueError).
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: tf.string tensor (scalar, dense batch or ragged), or Python strings.

    Example:

    >>> stemmer = Stemmer("en")
    >>> stemmer.adapt(["running dogs"], verbose=False)
    >>> stemmer(["Running dogs, fast!"]).numpy()[0].decode()
    'Run dog, fast!'
    """

    def __init__(self, language="ru", vocabulary=None, **kwargs):
        _check_language(language, stemmer_languages(), "Stemmer")
        self.language = language
        super().__init__(vocabulary=vocabulary, **kwargs)

    def _map_words(self, words, verbose):
        import Stemmer as pystemmer

        stemmer = pystemmer.Stemmer(_SNOWBALL_NAMES[self.language])
        mapping = {}
        chunk_size = 4096
        with _progress(None, len(words), "stemming", verbose) as bar:
            for start in range(0, len(words), chunk_size):
                chunk = words[start : start + chunk_size]
                for word, stem in zip(chunk, stemmer.stemWords(chunk)):
                    if stem != word:
                        mapping[word] = stem
                bar.update(len(chunk))
        return mapping

    def get_config(self):
        config = super().get_config()
        config["language"] = self.language
        return config


@keras.saving.register_keras_serializable(package="zoo")
class Lemmatizer(_WordMapper):
    """Lemmatization ("изучаю" -> "изучать", "studies" -> "study") as a lookup table.

    `adapt(texts)` runs the lemmatizer once over the distinct words of a corpus and keeps a
    `tf.lookup.StaticHashTable` of the words whose lemma differs; calling the layer is pure
    TensorFlow. Backends: "simplemma" (dictionary lookups, about 50 languages) or, for
    Russian, "pymorphy3" (OpenCorpora morphology, the most probable parse; an optional
    dependency: `pip install pymorphy3` or `zoo[russian]`, needed only for `adapt()`).
    Words are looked up one at a time, without context, so homographs get one lemma
    ("стали" -> one of "стать"/"сталь").

    Text is split into words (`WORD_PATTERN`) and the pieces between them, which are kept as
    they are. Lookup ignores case and the word's case carries over to its lemma ("Изучаю" ->
    "Изучать"); words not seen by `adapt()` pass through unchanged. The table is part of the
    config, so it survives `get_config`/`from_config`, `.keras` files and SavedModel export.

    Args:
        language: ISO 639-1 code ("ru", "en", ...) the backend supports.
        backend: "simplemma" or "pymorphy3" (Russian only).
        vocabulary: optional prebuilt table, a dict {word: lemma} or a list of
            [word, lemma] pairs; `adapt()` extends it. Without it, call `adapt()` before
            calling the layer (a call before raises a ValueError).
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: tf.string tensor (scalar, dense batch or ragged), or Python strings.

    Example:

    >>> lemmatizer = Lemmatizer("ru")
    >>> lemmatizer.adapt(["я изучаю машинное обучение"], verbose=False)
    >>> lemmatizer(["Я изучаю машинное обучение!"]).numpy()[0].decode()
    'Я изучать машинный обучение!'
    """

    _BACKENDS = ("simplemma", "pymorphy3")

    def __init__(self, language="ru", backend="simplemma", vocabulary=None, **kwargs):
        if backend not in self._BACKENDS:
            raise ValueError(
                f"Lemmatizer received backend={backend!r}; expected one of "
                f"{list(self._BACKENDS)}. Use backend='simplemma' (any supported language) "
                "or backend='pymorphy3' (Russian)."
            )
        _check_language(language, lemmatizer_languages(backend), f"Lemmatizer({backend!r})")
        self.language = language
        self.backend = backend
        super().__init__(vocabulary=vocabulary, **kwargs)

    def _lemma_function(self):
        if self.backend == "pymorphy3":
            try:
                import pymorphy3
            except ImportError:
                raise ImportError(
                    "Lemmatizer(backend='pymorphy3') needs the optional package pymorphy3, "
                    "which is not installed. Install it with `pip install pymorphy3` (or "
                    "`pip install zoo[russian]`), or use backend='simplemma'."
                ) from None
            analyzer = pymorphy3.MorphAnalyzer(lang=self.language)

            def lemma(word):
                parses = analyzer.parse(word)
                return parses[0].normal_form if parses else word

            return lemma
        import simplemma

        language = self.language
        return lambda word: simplemma.lemmatize(word, lang=language)

    def _map_words(self, words, verbose):
        lemma = self._lemma_function()
        lemmas = [
            lemma(word) or word for word in _progress(words, len(words), "lemmatizing", verbose)
        ]
        lemmas = _lowercase_words(lemmas)  # simplemma capitalizes some ("Москва")
        return {word: lemma for word, lemma in zip(words, lemmas) if lemma != word}

    def get_config(self):
        config = super().get_config()
        config.update({"language": self.language, "backend": self.backend})
        return config


@keras.saving.register_keras_serializable(package="zoo")
class SpellCorrector(_WordMapper):
    """Typo correction ("машинноее" -> "машинное", "speling" -> "spelling") as a table.

    `adapt(texts)` checks the distinct words of a corpus with pyspellchecker (Norvig's
    method: the most frequent dictionary word within `max_distance` edits) and keeps a
    `tf.lookup.StaticHashTable` of the corrections; calling the layer is pure TensorFlow.

    A word is left alone when it is known, when its letters are not all in the
    dictionary's alphabet (a Latin word in Russian text is not "corrected" into Cyrillic),
    when it is shorter than 2 or longer than 30 characters, or when nothing is within
    `max_distance`. Known
    means in pyspellchecker's frequency dictionary or, for languages simplemma has, in
    simplemma's lexicon of inflected forms: pyspellchecker's Russian dictionary has only
    about 20,000 forms (it knows "изучаю", "машинное", "обучение" but not "изучаем" or
    "обучения"), and would otherwise "correct" valid rare forms. Ties between candidates
    are broken by frequency, then alphabetically, so `adapt()` is deterministic.

    pyspellchecker is slow at distance 2 (tens of milliseconds to a second per unknown
    word), so it only ever sees distinct words, each once per layer object, and
    `max_words` caps how many (the most frequent first) one `adapt()` call checks.

    Text is split into words (`WORD_PATTERN`) and the pieces between them, which are kept
    as they are. Lookup ignores case and the word's case carries over to its correction
    ("Speling" -> "Spelling"); words not seen by `adapt()` pass through unchanged. The table
    is part of the config.

    Args:
        language: ISO 639-1 code with a pyspellchecker dictionary ("ru", "en", "de", ...).
        max_distance: 1 or 2, the largest edit distance of a correction.
        max_words: int or None. Check at most this many distinct words per `adapt()` call,
            the most frequent first; None checks all.
        vocabulary: optional prebuilt table, a dict {typo: correction} or a list of
            [typo, correction] pairs; `adapt()` extends it. Without it, call `adapt()`
            before calling the layer (a call before raises a ValueError).
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: tf.string tensor (scalar, dense batch or ragged), or Python strings.

    Example:

    >>> corrector = SpellCorrector("en")
    >>> corrector.adapt(["a speling mistake"], verbose=False)
    >>> corrector(["A speling mistake."]).numpy()[0].decode()
    'A spelling mistake.'
    """

    def __init__(self, language="ru", max_distance=2, max_words=None, vocabulary=None, **kwargs):
        _check_language(language, spelling_languages(), "SpellCorrector")
        if isinstance(max_distance, bool) or max_distance not in (1, 2):
            raise ValueError(
                f"SpellCorrector received max_distance={max_distance!r}; expected 1 or 2 "
                "(larger distances are too slow and too loose). Pass max_distance=2."
            )
        if max_words is not None and (
            isinstance(max_words, bool)
            or not isinstance(max_words, (int, np.integer))
            or max_words < 1
        ):
            raise ValueError(
                f"SpellCorrector received max_words={max_words!r}; expected a positive int "
                "or None (check every distinct word). Pass e.g. max_words=50000."
            )
        self.language = language
        self.max_distance = int(max_distance)
        self.max_words = None if max_words is None else int(max_words)
        super().__init__(vocabulary=vocabulary, **kwargs)

    def _select_words(self, words):
        return words if self.max_words is None else words[: self.max_words]

    def _map_words(self, words, verbose):
        from spellchecker import SpellChecker

        checker = SpellChecker(language=self.language, distance=self.max_distance)
        frequencies = checker.word_frequency
        alphabet = set(frequencies.letters)
        in_lexicon = _simplemma_lexicon(self.language)
        mapping = {}
        for word in _progress(words, len(words), "spell checking", verbose):
            if (
                len(word) < 2
                or len(word) > _MAX_SPELL_WORD_LENGTH
                or not set(word) <= alphabet
                or word in frequencies
                or in_lexicon(word)
            ):
                continue
            candidates = checker.candidates(word)
            if not candidates:
                continue
            best = min(candidates, key=lambda candidate: (-frequencies[candidate], candidate))
            if best != word:
                mapping[word] = best
        return mapping

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "language": self.language,
                "max_distance": self.max_distance,
                "max_words": self.max_words,
            }
        )
        return config


def _chain(steps, texts):
    for step in steps:
        texts = step._transform(texts)
    return texts


def _simplemma_lexicon(language):
    """`word -> bool`: whether simplemma's dictionary for `language` has the word form."""
    if language not in lemmatizer_languages("simplemma"):
        return lambda word: False
    import simplemma

    return lambda word: simplemma.is_known(word, lang=language)


@keras.saving.register_keras_serializable(package="zoo")
class Preprocessor(_StringLayer):
    """The chosen preprocessing steps for one language, in one layer and one config.

    Order: `TextNormalizer` (invalid UTF-8 replaced, NFKC and whitespace collapsing if
    `normalize`, then lowercase, digits, punctuation and symbols) -> `SpellCorrector` ->
    `StopWordFilter` -> `Lemmatizer` or `Stemmer`. Stop words go before stemming because
    stems no longer match the stop-word lists ("которые" -> "котор"), and after spelling
    so that a corrected typo of a stop word is dropped too.

    Spelling, lemmas and stems need `adapt(texts)`, which adapts those steps in order,
    each on the corpus as the previous steps leave it. Their tables are part of the config
    (`vocabularies`), so `get_config`/`from_config`, `.keras` files and SavedModel export
    keep them. Calling a Preprocessor that needs tables before `adapt()` raises a
    ValueError.

    Args:
        language: ISO 639-1 code ("ru", "en", ...) every chosen step supports.
        normalize: bool. Unicode NFKC and collapsing/stripping whitespace.
        lowercase: bool. Unicode lowercase.
        remove_digits: bool. Delete digits (`\\p{N}`).
        remove_punctuation: bool. Replace punctuation and symbols (`\\p{P}`, `\\p{S}`,
            emoji included) with spaces.
        remove_stop_words: bool. Drop the stopwordsiso stop words of `language`.
        stem: bool. Snowball stems (PyStemmer); exclusive with `lemmatize`.
        lemmatize: bool. Lemmas (simplemma, or pymorphy3 with
            `lemmatizer_backend="pymorphy3"`); exclusive with `stem`.
        correct_spelling: bool. pyspellchecker corrections within edit distance 2.
        lemmatizer_backend: "simplemma" or "pymorphy3".
        vocabularies: dict of adapted tables by step ("spell_corrector", "lemmatizer",
            "stemmer"), each a list of [word, replacement] pairs; written by `get_config`.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: tf.string tensor (scalar, dense batch or ragged), or Python strings.

    Example:

    >>> preprocessor = Preprocessor("ru", remove_stop_words=True, lemmatize=True)
    >>> preprocessor.adapt(["Я изучаю Машинное Обучение, 2024!"], verbose=False)
    >>> preprocessor(["Я изучаю Машинное Обучение, 2024!"]).numpy()[0].decode()
    'изучать машинный обучение'
    """

    _ADAPTED_STEPS = ("spell_corrector", "lemmatizer", "stemmer")

    def __init__(
        self,
        language="ru",
        normalize=True,
        lowercase=True,
        remove_digits=True,
        remove_punctuation=True,
        remove_stop_words=False,
        stem=False,
        lemmatize=False,
        correct_spelling=False,
        lemmatizer_backend="simplemma",
        vocabularies=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        flags = {
            "normalize": normalize,
            "lowercase": lowercase,
            "remove_digits": remove_digits,
            "remove_punctuation": remove_punctuation,
            "remove_stop_words": remove_stop_words,
            "stem": stem,
            "lemmatize": lemmatize,
            "correct_spelling": correct_spelling,
        }
        for argument, value in flags.items():
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(
                    f"Preprocessor received {argument}={value!r}; expected True or False."
                )
        if stem and lemmatize:
            raise ValueError(
                "Preprocessor received stem=True and lemmatize=True; expected at most one: "
                "both reduce a word to a base form. Choose one (lemmas are real words, stems "
                "are faster and cover unseen inflections)."
            )
        if lemmatizer_backend not in Lemmatizer._BACKENDS:
            raise ValueError(
                f"Preprocessor received lemmatizer_backend={lemmatizer_backend!r}; expected "
                f"one of {list(Lemmatizer._BACKENDS)}."
            )
        supported = None
        for enabled, languages in (
            (correct_spelling, spelling_languages),
            (remove_stop_words, stop_word_languages),
            (lemmatize, lambda: lemmatizer_languages(lemmatizer_backend)),
            (stem, stemmer_languages),
        ):
            if enabled:
                codes = set(languages())
                supported = codes if supported is None else supported & codes
        if supported is not None:
            _check_language(language, sorted(supported), "Preprocessor (with these steps)")
        elif not isinstance(language, str):
            raise ValueError(
                f"Preprocessor received language={language!r}; expected a language code "
                "string such as 'ru' or 'en'."
            )
        vocabularies = dict(vocabularies or {})
        unknown = sorted(set(vocabularies) - set(self._ADAPTED_STEPS))
        if unknown:
            raise ValueError(
                f"Preprocessor received vocabularies for {unknown}; expected keys among "
                f"{list(self._ADAPTED_STEPS)}, each a list of [word, replacement] pairs."
            )
        self.language = language
        self.normalize = bool(normalize)
        self.lowercase = bool(lowercase)
        self.remove_digits = bool(remove_digits)
        self.remove_punctuation = bool(remove_punctuation)
        self.remove_stop_words = bool(remove_stop_words)
        self.stem = bool(stem)
        self.lemmatize = bool(lemmatize)
        self.correct_spelling = bool(correct_spelling)
        self.lemmatizer_backend = lemmatizer_backend

        # Layers, in the order they run.
        self.normalizer = TextNormalizer(
            nfkc=self.normalize,
            lowercase=self.lowercase,
            remove_digits=self.remove_digits,
            remove_punctuation=self.remove_punctuation,
            remove_symbols=self.remove_punctuation,
            collapse_whitespace=self.normalize,
            dtype=self.dtype_policy,
            name="normalizer",
        )
        self.spell_corrector = None
        self.stop_word_filter = None
        self.lemmatizer = None
        self.stemmer = None
        if self.correct_spelling:
            self.spell_corrector = SpellCorrector(
                language,
                vocabulary=vocabularies.get("spell_corrector"),
                dtype=self.dtype_policy,
                name="spell_corrector",
            )
        if self.remove_stop_words:
            self.stop_word_filter = StopWordFilter(
                language, dtype=self.dtype_policy, name="stop_word_filter"
            )
        if self.lemmatize:
            self.lemmatizer = Lemmatizer(
                language,
                backend=lemmatizer_backend,
                vocabulary=vocabularies.get("lemmatizer"),
                dtype=self.dtype_policy,
                name="lemmatizer",
            )
        if self.stem:
            self.stemmer = Stemmer(
                language,
                vocabulary=vocabularies.get("stemmer"),
                dtype=self.dtype_policy,
                name="stemmer",
            )

    def _steps(self):
        steps = [self.normalizer, self.spell_corrector, self.stop_word_filter]
        steps += [self.lemmatizer, self.stemmer]
        return [step for step in steps if step is not None]

    @property
    def is_adapted(self):
        """Whether every step that needs a table has one."""
        return all(getattr(step, "is_adapted", True) for step in self._steps())

    def adapt(self, data, verbose=True):
        """Adapt the spelling, lemma or stem steps on a corpus, each on the text the
        previous steps give (see `Stemmer.adapt` for `data` and `verbose`)."""
        done = []
        for step in self._steps():
            if isinstance(step, _WordMapper):
                chain = tf.function(
                    lambda texts, steps=tuple(done): _chain(steps, texts),
                    input_signature=[tf.TensorSpec([None], tf.string)],
                    autograph=False,
                )
                batches = (chain(batch) for batch in _iter_text_batches(data, "Preprocessor"))
                step._adapt_batches(batches, verbose)
            done.append(step)

    def _transform(self, texts):
        return _chain(self._steps(), texts)

    def get_config(self):
        config = super().get_config()
        vocabularies = {}
        for name in self._ADAPTED_STEPS:
            step = getattr(self, name)
            if step is not None and step.is_adapted:
                vocabularies[name] = step.get_config()["vocabulary"]
        config.update(
            {
                "language": self.language,
                "normalize": self.normalize,
                "lowercase": self.lowercase,
                "remove_digits": self.remove_digits,
                "remove_punctuation": self.remove_punctuation,
                "remove_stop_words": self.remove_stop_words,
                "stem": self.stem,
                "lemmatize": self.lemmatize,
                "correct_spelling": self.correct_spelling,
                "lemmatizer_backend": self.lemmatizer_backend,
                "vocabularies": vocabularies or None,
            }
        )
        return config
