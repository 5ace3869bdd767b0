"""`CharacterTokenizer`: characters with UTF-8 byte fallback, counted in Python."""

import collections

import keras
import tensorflow as tf

from zoo.text import _bytes
from zoo.text._corpus import read_corpus
from zoo.text.tokenizers.base import (
    _VOCABULARY_CONFIG,
    SPECIAL_TOKENS,
    Tokenizer,
    _check_training,
    _normalize_fn,
    _train_doc,
)


@keras.saving.register_keras_serializable(package="zoo")
class CharacterTokenizer(Tokenizer):
    """Character tokenizer with UTF-8 byte fallback.

    The vocabulary holds the reserved tokens, the 256 byte tokens `<0x00>`..`<0xFF>`
    (with `byte_fallback=True`) and the most frequent characters of the training
    corpus. A character outside the vocabulary becomes its UTF-8 bytes (or `[UNK]`
    without byte fallback), so `detokenize(tokenize(x)) == x` for any Unicode text.
    In-graph: `tf.strings.unicode_decode` and a code point -> id hash table.

    Args:
        vocabulary: list of tokens, index = id: reserved tokens, byte tokens
            `<0xNN>` and single characters.
        byte_fallback: encode unknown characters as UTF-8 byte tokens (the 256 byte
            tokens must be in `vocabulary`).
        lowercase: NFKC case folding before tokenizing.
        normalization_form: None, "NFC", "NFD", "NFKC" or "NFKD".
        reserved_tokens: which vocabulary entries are special; default: those of
            `SPECIAL_TOKENS` found in `vocabulary`.
        sequence_length: None (ragged ids) or an int (dense, padded ids).

    Example:

    >>> tokenizer = CharacterTokenizer.train(["привет мир", "hello"], 300)
    >>> ids = tokenizer(["мир 🙂"])
    >>> tokenizer.detokenize(ids).numpy()[0].decode()
    'мир 🙂'
    """

    _ASSETS = (("vocabulary", "vocabulary.json", "json"),)
    _CONFIG_ATTRIBUTES = (*_VOCABULARY_CONFIG, "byte_fallback")

    def __init__(
        self,
        vocabulary,
        byte_fallback=True,
        lowercase=False,
        normalization_form=None,
        reserved_tokens=None,
        sequence_length=None,
        **kwargs,
    ):
        super().__init__(sequence_length=sequence_length, **kwargs)
        vocabulary = self._set_vocabulary(
            vocabulary, reserved_tokens, lowercase, normalization_form
        )
        reserved = set(self._reserved_tokens)
        byte_set = set(_bytes.BYTE_TOKENS)
        if byte_fallback and not byte_set.issubset(vocabulary):
            missing = [t for t in _bytes.BYTE_TOKENS if t not in set(vocabulary)]
            raise ValueError(
                f"CharacterTokenizer received byte_fallback=True with a vocabulary that lacks "
                f"{len(missing)} byte tokens (e.g. {missing[:3]!r}). Include all 256 tokens "
                "'<0x00>'..'<0xFF>' or pass byte_fallback=False."
            )
        bad = [t for t in vocabulary if len(t) != 1 and t not in reserved and t not in byte_set]
        if bad:
            raise ValueError(
                f"CharacterTokenizer received multi-character tokens {bad[:5]!r} that are "
                "neither reserved tokens nor byte tokens. Expected single characters; list "
                "special tokens in reserved_tokens."
            )
        self.byte_fallback = bool(byte_fallback)
        # unicode_decode(errors='replace') below replaces invalid UTF-8.
        self._normalize = _normalize_fn(lowercase, normalization_form, replace_invalid=False)

        char_ids = [(ord(t), i) for i, t in enumerate(vocabulary) if len(t) == 1]
        self._byte_offset = vocabulary.index(_bytes.BYTE_TOKENS[0]) if byte_fallback else -1
        if byte_fallback:
            offsets = [vocabulary.index(t) - i for i, t in enumerate(_bytes.BYTE_TOKENS)]
            if len(set(offsets)) != 1:
                raise ValueError(
                    "CharacterTokenizer received byte tokens that are not consecutive in "
                    "'<0x00>'..'<0xFF>' order. Keep the 256 byte tokens together, in order."
                )
        decoded = []
        for token in vocabulary:
            if token in reserved:
                decoded.append(token.encode("utf-8"))
            elif token in byte_set and len(token) != 1:
                decoded.append(bytes([int(token[3:5], 16)]))
            else:
                decoded.append(token.encode("utf-8"))
        with tf.init_scope():
            keys = tf.constant([c for c, _ in char_ids] or [-1], tf.int64)
            values = tf.constant([i for _, i in char_ids] or [-1], tf.int64)
            self._char_table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(keys, values), default_value=-1
            )
            self._decode_table = tf.constant(decoded, tf.string)

    def _tokenize_batch(self, text):
        text = self._normalize(text)
        code_points = tf.strings.unicode_decode(
            text, "UTF-8", errors="replace", replacement_char=0xFFFD
        )  # (batch, chars)
        flat = code_points.flat_values
        ids = tf.cast(self._char_table.lookup(tf.cast(flat, tf.int64)), tf.int32)
        if not self.byte_fallback:
            unk = self.unk_token_id if self.unk_token_id is not None else 0
            ids = tf.where(ids < 0, unk, ids)
            return code_points.with_flat_values(ids)
        # Unknown characters become 1-4 byte tokens.
        utf8, length = _bytes.utf8_byte_matrix(flat)  # (chars, 4), (chars,)
        known = ids >= 0
        length = tf.where(known, 1, length)
        candidates = utf8 + self._byte_offset
        first = tf.where(known, ids, candidates[:, 0])
        candidates = tf.concat([first[:, tf.newaxis], candidates[:, 1:]], axis=1)
        mask = tf.range(4)[tf.newaxis, :] < length[:, tf.newaxis]
        values = tf.boolean_mask(candidates, mask)
        row_lengths = tf.reduce_sum(code_points.with_flat_values(length), axis=1)
        return tf.RaggedTensor.from_row_lengths(values, row_lengths, validate=False)

    def _detokenize_batch(self, ids):
        pieces = tf.gather(self._decode_table, ids)
        text = tf.strings.reduce_join(pieces, axis=-1)
        return tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")

    @classmethod
    @_train_doc(
        "Learn the most frequent characters of `data`.",
        """
        vocabulary_size: total size, reserved and byte tokens included.
        reserved_tokens: special tokens at ids 0..n-1.
        byte_fallback, lowercase, normalization_form, sequence_length: see the class.
        """,
    )
    def train(
        cls,
        data,
        vocabulary_size,
        reserved_tokens=SPECIAL_TOKENS,
        byte_fallback=True,
        lowercase=False,
        normalization_form=None,
        sequence_length=None,
        verbose=True,
    ):
        options = (lowercase, normalization_form, sequence_length)
        unit = "256 byte tokens" if byte_fallback else "1 character"
        reserved_tokens = _check_training(cls, vocabulary_size, reserved_tokens, options, unit)
        texts = read_corpus(data, _normalize_fn(lowercase, normalization_form), verbose)
        counts = collections.Counter()
        for text in texts:
            counts.update(text)
        fixed = list(reserved_tokens) + (list(_bytes.BYTE_TOKENS) if byte_fallback else [])
        taken = set(fixed)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        chars = [c for c, _ in ranked if c not in taken]
        vocabulary = fixed + chars[: vocabulary_size - len(fixed)]
        return cls._trained(vocabulary, reserved_tokens, options, byte_fallback=byte_fallback)


# =========================================================================== words
