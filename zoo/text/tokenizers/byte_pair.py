"""`BytePairTokenizer`: byte-level BPE (GPT-2 style), trained with HF `tokenizers`.

In-graph the merges run in the shared SentencePiece op over a model proto built from
the vocabulary (`_byte_level_model_proto`).
"""

import json

import keras
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from zoo._compat import sentencepiece_tokenizer
from zoo.text import _bytes
from zoo.text._corpus import read_corpus
from zoo.text.tokenizers import _unicode_tables as tables
from zoo.text.tokenizers.base import (
    _VOCABULARY_CONFIG,
    SPECIAL_TOKENS,
    Tokenizer,
    _check_training,
    _normalize_fn,
    _train_doc,
)

# Pre-tokenization of byte-level BPE training (Oniguruma, HF `tokenizers`): a run of
# letters, of digits or of other symbols, each with at most one leading space; a run
# of whitespace other than " "; a single " ". No learned piece can then span two of
# these pieces, which is what lets `BytePairTokenizer` run the merges over whole
# strings in one SentencePiece op, with no in-graph regex (see `BytePairTokenizer`).
BYTE_LEVEL_SPLIT_PATTERN = r" ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{M}\p{N}]+|[^\S ]+| "

_RULES = ("zoo", "gpt2")

# rules="gpt2": GPT-2's split pattern (HF `tokenizers` ByteLevel(use_regex=True)),
#   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
# with HF's (Oniguruma's) classes. RE2 has no lookahead, so it runs in two passes (see
# `_gpt2_split`): pass 1 cuts the text into runs " ?non-space+" and the whitespace between
# them; pass 2 splits each run with the pattern's first six alternatives.
_GPT2_WHITESPACE = tables.char_class(tables.GPT2_WHITESPACE)
_GPT2_LETTER = tables.char_class(tables.GPT2_LETTERS_BEYOND_RE2, extra="\\p{L}")
_GPT2_NUMBER = tables.char_class(tables.GPT2_NUMBERS_BEYOND_RE2, extra="\\p{N}")
_GPT2_WHITESPACE_ITEMS = _GPT2_WHITESPACE[1:-1]
_GPT2_OTHER = "[^" + _GPT2_WHITESPACE_ITEMS + _GPT2_LETTER[1:-1] + _GPT2_NUMBER[1:-1] + "]"
_GPT2_RUN = f" ?[^{_GPT2_WHITESPACE_ITEMS}]+"
_GPT2_SPACES = f"{_GPT2_WHITESPACE}+"
_GPT2_WORD = f"'s|'t|'re|'ve|'m|'ll|'d| ?{_GPT2_LETTER}+| ?{_GPT2_NUMBER}+| ?{_GPT2_OTHER}+"


def _regex_split(text, pattern):
    """`tensorflow_text.regex_split(text, pattern, pattern)` that reads past a NUL.

    The op stops at the first NUL character; it splits a copy with NUL replaced by U+0001
    (the same class in GPT-2's pattern, the same length), and the pieces are cut from the
    text itself. `text`: `(n,)` strings -> ragged `(n, pieces)`.
    """
    safe = tf.strings.regex_replace(text, r"\x00", "\x01")
    _, starts, ends = tf_text.regex_split_with_offsets(safe, pattern, pattern)
    rows = tf.gather(text, starts.value_rowids())
    pieces = tf.strings.substr(rows, starts.flat_values, ends.flat_values - starts.flat_values)
    return starts.with_flat_values(pieces)


def _gpt2_split(text):
    r"""GPT-2's pre-tokenization of a `(batch,)` string tensor: ragged `(batch, words)`.

    The pattern's whitespace rules: a whitespace run followed by non-space gives the run
    minus its last character, then that character, glued to the next word when it is
    " " (" ?\p{L}+" etc.) and a word of its own otherwise; a run at the end stays whole.
    Pass 1 ("` ?non-space+`", kept) leaves exactly the runs as unmatched pieces, already
    without a last " " that starts the next piece; a run not at the end that still ends
    in another whitespace character loses that character to a piece of its own.
    """
    runs = _regex_split(text, _GPT2_RUN)  # (batch, runs)
    flat = runs.flat_values
    length = tf.strings.length(flat, unit="UTF8_CHAR")
    position = tf.range(tf.size(flat, out_type=tf.int64)) - tf.gather(
        runs.row_splits, runs.value_rowids()
    )
    last_in_row = position == tf.gather(runs.row_lengths(), runs.value_rowids()) - 1
    last_char = tf.strings.substr(
        flat, tf.maximum(length - 1, 0), tf.ones_like(length), unit="UTF8_CHAR"
    )
    cut = (
        tf.strings.regex_full_match(flat, _GPT2_SPACES)
        & tf.logical_not(last_in_row)
        & (last_char != " ")
        & (length > 1)
    )
    head = tf.where(
        cut, tf.strings.substr(flat, tf.zeros_like(length), length - 1, unit="UTF8_CHAR"), flat
    )
    tail = tf.where(cut, last_char, "")
    pieces = tf.stack([head, tail], axis=1)  # (runs, 2)
    pieces = tf.ragged.boolean_mask(pieces, pieces != "")  # (runs, 1 or 2)
    runs = runs.with_flat_values(pieces).merge_dims(1, 2)  # (batch, runs)
    words = _regex_split(runs.flat_values, _GPT2_WORD)  # (runs, words)
    return runs.with_flat_values(words).merge_dims(1, 2)


def _byte_level_model_proto(vocabulary, merges, reserved_tokens):
    """A SentencePiece BPE ModelProto that encodes like HF's byte-level BPE.

    Text reaches SentencePiece as "one character per byte" (Latin-1 code points), so
    each byte-level token becomes the Latin-1 string of its bytes. SentencePiece's
    BPE encoder merges the adjacent pair whose concatenation has the highest score;
    with score = -(rank of the merge that creates the piece) that is HF's "lowest
    merge rank first" rule. Reserved tokens become CONTROL pieces (never matched in
    text) behind a private-use prefix so they cannot collide with text pieces.
    """
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    piece_type = model_pb2.ModelProto.SentencePiece
    rank = {}
    for index, merge in enumerate(merges):
        left, right = merge.split(" ")
        rank.setdefault(left + right, index)
    reserved = set(reserved_tokens)
    proto = model_pb2.ModelProto()
    proto.trainer_spec.model_type = model_pb2.TrainerSpec.BPE
    proto.trainer_spec.vocab_size = len(vocabulary)
    proto.trainer_spec.bos_id = -1
    proto.trainer_spec.eos_id = -1
    proto.trainer_spec.pad_id = -1
    normalizer = proto.normalizer_spec
    normalizer.name = "identity"
    normalizer.add_dummy_prefix = False
    normalizer.remove_extra_whitespaces = False
    normalizer.escape_whitespaces = False
    unk_id = None
    for index, token in enumerate(vocabulary):
        piece = proto.pieces.add()
        if token in reserved:
            piece.piece = "\ue000" + token
            piece.score = 0.0
            if unk_id is None and token == "[UNK]":
                piece.type = piece_type.UNKNOWN
                unk_id = index
            else:
                piece.type = piece_type.CONTROL
            continue
        piece.piece = _bytes.byte_level_to_bytes(token).decode("latin-1")
        piece.type = piece_type.NORMAL
        # Single bytes are the initial symbols; longer pieces are ranked by their merge,
        # and a piece no merge creates can only be matched after all merges.
        if len(token) == 1:
            piece.score = 0.0
        else:
            piece.score = -float(rank.get(token, len(merges)) + 1)
    if unk_id is None:
        # SentencePiece needs an unknown piece; byte-level BPE never emits it. Its name must
        # differ from the reserved pieces (RoBERTa reserves "<unk>").
        name = "\ue000<unk>"
        while any(p.piece == name for p in proto.pieces):
            name += "_"
        piece = proto.pieces.add()
        piece.piece = name
        piece.type = piece_type.UNKNOWN
        unk_id = len(vocabulary)
    proto.trainer_spec.unk_id = unk_id
    return proto.SerializeToString()


@keras.saving.register_keras_serializable(package="zoo")
class BytePairTokenizer(Tokenizer):
    """Byte-level BPE tokenizer (GPT-2 style): any text, no unknown tokens.

    Text is read as UTF-8 bytes; the vocabulary starts from all 256 bytes (written in
    GPT-2's printable byte alphabet, a space is "Ġ") and adds the merges learned by
    HF `tokenizers`' BpeTrainer (Sennrich et al. 2016, arXiv:1508.07909; Radford et
    al. 2019). `detokenize(tokenize(x)) == x` for any Unicode text.

    In-graph design (faster than HF's own `encode_batch`): the bytes of each string
    become Latin-1 characters with one `unicode_transcode`, and the merges run in
    `tensorflow_text.SentencepieceTokenizer` over a SentencePiece BPE model built
    from the vocabulary (piece score = -merge rank). There is no in-graph regex: the
    training pre-tokenization (`BYTE_LEVEL_SPLIT_PATTERN`) is chosen so that no learned
    piece can span two pre-tokens, so merging over the whole string gives the same
    ids as HF's per-word BPE.

    Pretrained GPT-2 / RoBERTa merges were learned over GPT-2's split pattern instead;
    `rules="gpt2"` (set by `from_preset`) splits the text with that pattern first (in
    graph, HF `tokenizers`' character classes) and merges within each word, for ids
    identical to HF's `ByteLevel(use_regex=True)` + `BPE`. `add_prefix_space` adds a
    space before text that does not start with one, as HF's `ByteLevel` does. Text
    that spells a reserved token ("<|endoftext|>") is tokenized as text, never as the
    reserved token (HF and keras-hub give the reserved id).

    Args:
        vocabulary: list of byte-level tokens, index = id (all 256 single bytes plus
            merged pieces, plus reserved tokens).
        merges: list of "left right" merge rules in the order they were learned.
        lowercase: NFKC case folding before tokenizing.
        normalization_form: None, "NFC", "NFD", "NFKC" or "NFKD".
        reserved_tokens: which vocabulary entries are special; default: those of
            `SPECIAL_TOKENS` found in `vocabulary`.
        sequence_length: None (ragged ids) or an int (dense, padded ids).
        rules: "zoo" (merges over the whole text; vocabularies from `train`) or "gpt2"
            (GPT-2's split pattern first; GPT-2 / RoBERTa vocabularies).
        add_prefix_space: prepend " " to text that does not start with one.
        special_tokens_map: roles of reserved tokens (see `Tokenizer`).

    Example:

    >>> tokenizer = BytePairTokenizer.train(["привет, world! 🙂"] * 4, 300)
    >>> tokenizer.detokenize(tokenizer("мир 🙂 hello")).numpy().decode()
    'мир 🙂 hello'
    """

    _ASSETS = (
        ("vocabulary", "vocabulary.json", "json"),
        ("merges", "merges.txt", "lines"),
    )
    _CONFIG_ATTRIBUTES = (*_VOCABULARY_CONFIG, "merges")

    def __init__(
        self,
        vocabulary,
        merges,
        lowercase=False,
        normalization_form=None,
        reserved_tokens=None,
        sequence_length=None,
        rules="zoo",
        add_prefix_space=False,
        **kwargs,
    ):
        super().__init__(sequence_length=sequence_length, **kwargs)
        vocabulary = self._set_vocabulary(
            vocabulary, reserved_tokens, lowercase, normalization_form
        )
        if rules not in _RULES:
            raise ValueError(
                f"BytePairTokenizer received rules={rules!r}. Expected 'zoo' (merges over the "
                "whole text, for vocabularies from BytePairTokenizer.train) or 'gpt2' (GPT-2's "
                "split pattern first, for GPT-2 / RoBERTa vocabularies)."
            )
        if not isinstance(add_prefix_space, (bool, np.bool_)):
            raise ValueError(
                f"BytePairTokenizer received add_prefix_space={add_prefix_space!r}. Expected "
                "True or False."
            )
        reserved = set(self._reserved_tokens)
        bad = [t for t in vocabulary if t not in reserved and _bytes.byte_level_to_bytes(t) is None]
        if bad:
            raise ValueError(
                f"BytePairTokenizer received tokens {bad[:5]!r} outside the byte-level "
                "alphabet. Expected GPT-2 byte-level tokens (e.g. 'Ġthe'); list special "
                "tokens in reserved_tokens."
            )
        missing = [c for c in _bytes.BYTE_TO_CHAR.values() if c not in set(vocabulary)]
        if missing:
            raise ValueError(
                f"BytePairTokenizer received a vocabulary without {len(missing)} of the 256 "
                f"single-byte tokens (e.g. {missing[:3]!r}). Byte-level BPE needs every byte; "
                "train with BytePairTokenizer.train() or add them."
            )
        if isinstance(merges, np.ndarray):
            merges = merges.tolist()
        if isinstance(merges, str) or not isinstance(merges, (list, tuple)):
            raise ValueError(
                f"BytePairTokenizer received merges of type {type(merges).__name__}. "
                "Expected a list of 'left right' strings."
            )
        merges = [" ".join(m) if isinstance(m, (list, tuple)) else m for m in merges]
        vocabulary_set = set(vocabulary)
        bad_merges = [
            m
            for m in merges
            if not isinstance(m, str)
            or len(m.split(" ")) != 2
            or "".join(m.split(" ")) not in vocabulary_set
        ]
        if bad_merges:
            raise ValueError(
                f"BytePairTokenizer received merges {bad_merges[:5]!r} that are not "
                "'left right' pairs whose concatenation is in the vocabulary. Pass the "
                "merges learned together with this vocabulary."
            )
        self.merges = merges
        self.rules = rules
        self.add_prefix_space = bool(add_prefix_space)
        self._normalize = _normalize_fn(lowercase, normalization_form)
        decoded = [
            t.encode("utf-8") if t in reserved else _bytes.byte_level_to_bytes(t)
            for t in vocabulary
        ]
        model = _byte_level_model_proto(vocabulary, merges, self._reserved_tokens)
        with tf.init_scope():
            self._sentencepiece = sentencepiece_tokenizer(model)
            self._decode_table = tf.constant(decoded, tf.string)

    def _tokenize_batch(self, text):
        text = self._normalize(text)
        if self.add_prefix_space:
            # As HF's ByteLevel: not before empty text, nor before a leading " ".
            first = tf.strings.substr(text, 0, 1)
            text = tf.where((first == " ") | (first == ""), text, tf.strings.join([" ", text]))
        if self.rules == "gpt2":
            words = _gpt2_split(text)  # (batch, words)
            latin1 = tf.strings.unicode_transcode(words.flat_values, "ISO-8859-1", "UTF-8")
            ids = self._sentencepiece.tokenize(latin1)  # (words, pieces)
            return words.with_flat_values(ids).merge_dims(1, 2)
        # One character per byte: byte b becomes code point b (Latin-1).
        latin1 = tf.strings.unicode_transcode(text, "ISO-8859-1", "UTF-8")
        return self._sentencepiece.tokenize(latin1)

    def _detokenize_batch(self, ids):
        text = tf.strings.reduce_join(tf.gather(self._decode_table, ids), axis=-1)
        return tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")

    def get_config(self):
        config = super().get_config()
        if self.rules != "zoo" or self.add_prefix_space:
            config.update({"rules": self.rules, "add_prefix_space": self.add_prefix_space})
        return config

    @staticmethod
    def hf_tokenizer(vocabulary, merges, reserved_tokens=()):
        """The equivalent HF `tokenizers.Tokenizer` (the parity reference)."""
        from tokenizers import Regex, decoders, models, pre_tokenizers
        from tokenizers import Tokenizer as HFTokenizer

        vocab = {token: index for index, token in enumerate(vocabulary)}
        pairs = [tuple(m.split(" ")) for m in merges]
        hf = HFTokenizer(models.BPE(vocab=vocab, merges=pairs))
        hf.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(BYTE_LEVEL_SPLIT_PATTERN), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
        hf.decoder = decoders.ByteLevel()
        if reserved_tokens:
            hf.add_special_tokens(list(reserved_tokens))
        return hf

    @classmethod
    @_train_doc(
        "Learn byte-level BPE merges with HF `tokenizers` (deterministic).",
        """
        vocabulary_size: total size: reserved tokens + 256 bytes + merges.
        reserved_tokens: special tokens at ids 0..n-1.
        lowercase, normalization_form, sequence_length: see the class.
        min_frequency: pairs seen fewer times are not merged.
        """,
    )
    def train(
        cls,
        data,
        vocabulary_size,
        reserved_tokens=SPECIAL_TOKENS,
        lowercase=False,
        normalization_form=None,
        sequence_length=None,
        min_frequency=0,
        verbose=True,
    ):
        from tokenizers import Regex, models, pre_tokenizers, trainers
        from tokenizers import Tokenizer as HFTokenizer

        options = (lowercase, normalization_form, sequence_length)
        reserved_tokens = _check_training(
            cls, vocabulary_size, reserved_tokens, options, "256 byte tokens"
        )
        normalize = (
            _normalize_fn(lowercase, normalization_form)
            if lowercase or normalization_form
            else None
        )
        texts = read_corpus(data, normalize, verbose)
        hf = HFTokenizer(models.BPE())
        hf.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(BYTE_LEVEL_SPLIT_PATTERN), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
        trainer = trainers.BpeTrainer(
            vocab_size=vocabulary_size,
            min_frequency=min_frequency,
            special_tokens=list(reserved_tokens),
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        hf.train_from_iterator(texts, trainer=trainer, length=len(texts))
        model = json.loads(hf.to_str())["model"]
        vocab = model["vocab"]
        vocabulary = sorted(vocab, key=vocab.get)
        merges = [" ".join(m) if isinstance(m, list) else m for m in model["merges"]]
        return cls._trained(vocabulary, reserved_tokens, options, merges)
