"""`WordTokenizer`: words and punctuation marks, split in-graph by `_split_words`."""

import collections

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from zoo.text._corpus import read_corpus
from zoo.text.tokenizers.base import (
    _VOCABULARY_CONFIG,
    SPECIAL_TOKENS,
    Tokenizer,
    _check_training,
    _check_unknown_token,
    _normalize_fn,
    _train_doc,
)

# Whitespace as RE2 sees it: `\s` is ASCII only, so add Unicode separators.
_RE2_SPACE = r"\s\x0b\x{85}\p{Z}"

# Words: runs of letters, marks, digits and "_"; every other non-space character is
# a token of its own; whitespace separates.
_WORD_DELIMITER = rf"[{_RE2_SPACE}]+|[^{_RE2_SPACE}\p{{L}}\p{{M}}\p{{N}}_]"
_WORD_KEEP = rf"[^{_RE2_SPACE}\p{{L}}\p{{M}}\p{{N}}_]"


def _split_words(text):
    # regex_split stops at NUL characters; make them spaces first.
    text = tf.strings.regex_replace(text, "\x00", " ")
    return tf_text.regex_split(text, _WORD_DELIMITER, _WORD_KEEP)


@keras.saving.register_keras_serializable(package="zoo")
class WordTokenizer(Tokenizer):
    """Word-level tokenizer: words and punctuation marks, most frequent ones kept.

    Text is split on whitespace; each punctuation or symbol character is a token of
    its own (`tensorflow_text.regex_split`). Words outside the vocabulary become
    `[UNK]`. `detokenize` joins tokens with single spaces.

    Args:
        vocabulary: list of tokens, index = id; must contain "[UNK]".
        lowercase: NFKC case folding before splitting (Cyrillic included).
        normalization_form: None, "NFC", "NFD", "NFKC" or "NFKD" (used when
            `lowercase=False`).
        reserved_tokens: which vocabulary entries are special; default: those of
            `SPECIAL_TOKENS` found in `vocabulary`.
        sequence_length: None (ragged ids) or an int (dense, padded ids).

    Example:

    >>> tokenizer = WordTokenizer.train(["Я изучаю машинное обучение.", "I study."], 20)
    >>> tokenizer.detokenize(tokenizer("я изучаю обучение!")).numpy().decode()
    'я изучаю обучение'
    """

    _ASSETS = (("vocabulary", "vocabulary.json", "json"),)
    _CONFIG_ATTRIBUTES = _VOCABULARY_CONFIG

    def __init__(
        self,
        vocabulary,
        lowercase=True,
        normalization_form="NFKC",
        reserved_tokens=None,
        sequence_length=None,
        **kwargs,
    ):
        super().__init__(sequence_length=sequence_length, **kwargs)
        vocabulary = self._set_vocabulary(
            vocabulary, reserved_tokens, lowercase, normalization_form
        )
        _check_unknown_token(type(self), vocabulary, "Word-level")
        self._normalize = _normalize_fn(lowercase, normalization_form)
        reserved = set(self._reserved_tokens)
        with tf.init_scope():
            pairs = [(t, i) for i, t in enumerate(vocabulary) if t not in reserved]
            self._word_table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant([t for t, _ in pairs] or [""], tf.string),
                    tf.constant([i for _, i in pairs] or [-1], tf.int64),
                ),
                default_value=vocabulary.index("[UNK]"),
            )
            self._decode_table = tf.constant(vocabulary, tf.string)

    def _tokenize_batch(self, text):
        words = _split_words(self._normalize(text))
        return words.with_flat_values(tf.cast(self._word_table.lookup(words.flat_values), tf.int32))

    def _detokenize_batch(self, ids):
        return tf.strings.reduce_join(tf.gather(self._decode_table, ids), axis=-1, separator=" ")

    @classmethod
    @_train_doc(
        "Learn the most frequent words of `data` (ties broken alphabetically).",
        """
        vocabulary_size: total size, reserved tokens included.
        reserved_tokens: special tokens at ids 0..n-1; "[UNK]" is added at the end
            of them when missing.
        lowercase, normalization_form, sequence_length: see the class.
        """,
    )
    def train(
        cls,
        data,
        vocabulary_size,
        reserved_tokens=SPECIAL_TOKENS,
        lowercase=True,
        normalization_form="NFKC",
        sequence_length=None,
        verbose=True,
    ):
        options = (lowercase, normalization_form, sequence_length)
        reserved_tokens = _check_training(
            cls, vocabulary_size, reserved_tokens, options, "1 word", add_unknown=True
        )
        texts = read_corpus(
            data, lambda t: _normalize_fn(lowercase, normalization_form)(t), verbose
        )
        split = lambda t: _split_words(t).flat_values  # noqa: E731
        counts = collections.Counter()
        for start in range(0, len(texts), 4096):
            counts.update(split(tf.constant(texts[start : start + 4096], tf.string)).numpy())
        taken = set(reserved_tokens)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        words = [w.decode("utf-8") for w, _ in ranked]
        words = [w for w in words if w not in taken]
        vocabulary = list(reserved_tokens) + words[: vocabulary_size - len(reserved_tokens)]
        return cls._trained(vocabulary, reserved_tokens, options)
