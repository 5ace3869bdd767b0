"""`TextNormalizer`: NFKC, lowercase, digits, punctuation, symbols, whitespace."""

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from zoo.text.preprocessing.base import (
    _SPACE_PATTERN,
    _SYMBOL_PATTERN,
    _lowercase,
    _sanitize,
    _set_flags,
    _StringLayer,
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

    # Every argument is the flag of one step, and a config entry.
    _CONFIG_ATTRIBUTES = (
        "nfkc",
        "lowercase",
        "remove_digits",
        "remove_punctuation",
        "remove_symbols",
        "collapse_whitespace",
    )

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
        flags = (
            nfkc,
            lowercase,
            remove_digits,
            remove_punctuation,
            remove_symbols,
            collapse_whitespace,
        )
        _set_flags(self, zip(self._CONFIG_ATTRIBUTES, flags))

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
