"""`StopWordFilter`: drops stopwordsiso stop words and your own words."""

import keras
import tensorflow as tf

# `tensorflow_text.regex_split` of 1-D texts without its validation asserts (several times
# faster to trace), on the same op, so SavedModels need only `import tensorflow_text`.
from zoo._compat import regex_split as _regex_split
from zoo.text.preprocessing.base import (
    _SPACE_PATTERN,
    _lowercase,
    _lowercase_words,
    _sanitize,
    _StringLayer,
    stop_word_languages,
)


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

    _CONFIG_ATTRIBUTES = ("language", "extra_words")

    def __init__(self, language="ru", extra_words=None, **kwargs):
        super().__init__(**kwargs)
        if language is not None and not isinstance(language, (str, list, tuple)):
            raise ValueError(
                f"StopWordFilter received language={language!r}; expected a language code "
                "such as 'ru', a list of codes such as ['ru', 'en'], or None. Pass your own "
                "words with extra_words=[...]."
            )
        languages = _string_list(language, "StopWordFilter", "language")
        supported = stop_word_languages()
        for code in languages:
            if code not in supported:
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
