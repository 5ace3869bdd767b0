"""Word -> word lookup-table layers: `_WordMapper`, the base, and `Stemmer`, `Lemmatizer`."""

import keras
import tensorflow as tf

# `tensorflow_text.regex_split` of 1-D texts without its validation asserts (several times
# faster to trace), on the same op, so SavedModels need only `import tensorflow_text`.
from zoo._compat import regex_split as _regex_split
from zoo.text.preprocessing.base import (
    _SNOWBALL_NAMES,
    WORD_PATTERN,
    _check_language,
    _count_words,
    _iter_text_batches,
    _lowercase,
    _lowercase_words,
    _progress,
    _sanitize,
    _StringLayer,
    lemmatizer_languages,
    stemmer_languages,
)


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


def _table_layer_doc(key, value):
    """The docstring text Stemmer, Lemmatizer and SpellCorrector share: the end of "Args:"
    (`vocabulary`, `**kwargs`), the call arguments and the "Example:" heading. `key` and
    `value` name a table entry's two sides ("word", "stem")."""
    return f"""        vocabulary: optional prebuilt table, a dict {{{key}: {value}}} or a list of
            [{key}, {value}] pairs; `adapt()` extends it. Without it, call `adapt()`
            before calling the layer (a call before raises a ValueError).
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: tf.string tensor (scalar, dense batch or ragged), or Python strings.

    Example:

"""


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
    __doc__ = (
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
"""
        + _table_layer_doc("word", "stem")
        + """    >>> stemmer = Stemmer("en")
    >>> stemmer.adapt(["running dogs"], verbose=False)
    >>> stemmer(["Running dogs, fast!"]).numpy()[0].decode()
    'Run dog, fast!'
    """
    )

    _CONFIG_ATTRIBUTES = ("language",)

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


@keras.saving.register_keras_serializable(package="zoo")
class Lemmatizer(_WordMapper):
    __doc__ = (
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
"""
        + _table_layer_doc("word", "lemma")
        + """    >>> lemmatizer = Lemmatizer("ru")
    >>> lemmatizer.adapt(["я изучаю машинное обучение"], verbose=False)
    >>> lemmatizer(["Я изучаю машинное обучение!"]).numpy()[0].decode()
    'Я изучать машинный обучение!'
    """
    )

    _BACKENDS = ("simplemma", "pymorphy3")
    _CONFIG_ATTRIBUTES = ("language", "backend")

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
