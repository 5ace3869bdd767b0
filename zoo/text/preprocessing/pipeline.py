"""`Preprocessor`: the chosen steps for one language in one layer and one config."""

import keras
import tensorflow as tf

from zoo.text.preprocessing.base import (
    _check_language,
    _iter_text_batches,
    _set_flags,
    _StringLayer,
    lemmatizer_languages,
    spelling_languages,
    stemmer_languages,
    stop_word_languages,
)
from zoo.text.preprocessing.normalize import TextNormalizer
from zoo.text.preprocessing.spelling import SpellCorrector
from zoo.text.preprocessing.stop_words import StopWordFilter
from zoo.text.preprocessing.words import Lemmatizer, Stemmer, _WordMapper


def _chain(steps, texts):
    for step in steps:
        texts = step._transform(texts)
    return texts


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
    # The config holds these attributes (the arguments of the same names), then
    # `vocabularies`, the tables of the adapted steps.
    _CONFIG_ATTRIBUTES = (
        "language",
        "normalize",
        "lowercase",
        "remove_digits",
        "remove_punctuation",
        "remove_stop_words",
        "stem",
        "lemmatize",
        "correct_spelling",
        "lemmatizer_backend",
    )

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
        _set_flags(self, flags.items())
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

        def table_step(layer_class, name, **options):
            # A step that adapts a table: the saved one (if any) comes from `vocabularies`.
            vocabulary = vocabularies.get(name)
            return layer_class(
                language, vocabulary=vocabulary, dtype=self.dtype_policy, name=name, **options
            )

        if self.correct_spelling:
            self.spell_corrector = table_step(SpellCorrector, "spell_corrector")
        if self.remove_stop_words:
            self.stop_word_filter = StopWordFilter(
                language, dtype=self.dtype_policy, name="stop_word_filter"
            )
        if self.lemmatize:
            self.lemmatizer = table_step(Lemmatizer, "lemmatizer", backend=lemmatizer_backend)
        if self.stem:
            self.stemmer = table_step(Stemmer, "stemmer")

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
        config["vocabularies"] = vocabularies or None
        return config
