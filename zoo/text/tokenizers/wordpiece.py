"""`WordPieceTokenizer`: BERT WordPiece; HF `tokenizers` trainer, `FastWordpieceTokenizer` op."""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from zoo._checks import check_int
from zoo.text._corpus import read_corpus
from zoo.text.tokenizers import _unicode_tables as tables
from zoo.text.tokenizers.base import (
    _VOCABULARY_CONFIG,
    SPECIAL_TOKENS,
    Tokenizer,
    _check_training,
    _train_doc,
)

_RULES = ("zoo", "bert", "keras_hub")
_DEFAULT_MAX_WORD_LENGTH = 100

# rules="bert": Hugging Face `BertNormalizer` + `BertPreTokenizer` (the tables come from
# `tokenizers` itself, see `_unicode_tables`).
_BERT_REMOVED = tables.char_class(tables.BERT_REMOVED)
_BERT_CLEAN_WHITESPACE = tables.char_class(tables.BERT_CLEAN_WHITESPACE)
_BERT_CJK = tables.char_class(tables.BERT_CJK)
_BERT_NONSPACING_MARKS = tables.char_class(tables.BERT_NONSPACING_MARKS)
_BERT_PUNCTUATION = tables.char_class(tables.BERT_PUNCTUATION)
_BERT_SPLIT = tables.char_class(tables.BERT_WHITESPACE) + "|" + _BERT_PUNCTUATION
# Characters whose HF lowercase ICU lacks, and characters HF's NFD keeps whole, which are
# swapped for private-use placeholders (cleaning removed every private-use character)
# around TensorFlow's NFD.
_BERT_LOWERCASE_FROM = [a for a, _ in tables.BERT_LOWERCASE_BEYOND_ICU]
_BERT_LOWERCASE_TO = [b for _, b in tables.BERT_LOWERCASE_BEYOND_ICU]
_BERT_LOWERCASE_CLASS = tables.char_class([(a, a) for a in _BERT_LOWERCASE_FROM])
_BERT_NFD_KEPT = [c for a, b in tables.BERT_NFD_KEPT for c in range(a, b + 1)]
_BERT_NFD_KEPT_CLASS = tables.char_class(tables.BERT_NFD_KEPT)
_PLACEHOLDERS = [0xF0000 + index for index in range(len(_BERT_NFD_KEPT))]
_PLACEHOLDER_CLASS = tables.char_class([(_PLACEHOLDERS[0], _PLACEHOLDERS[-1])])
# Replaces a word longer than `max_word_length`: cleaning removed every NUL, and the
# vocabulary has no token starting with one (checked), so it becomes the unknown token.
_TOO_LONG = "\x00"

# rules="keras_hub": the patterns of `keras_hub.tokenizers.WordPieceTokenizer`, verbatim
# (RE2 `\s` is ASCII whitespace only).
_KH_WHITESPACE = r"\s|\p{Cc}|\p{Cf}"
_KH_PUNCTUATION = r"[!-/]|[:-@]|[\[-`]|[{-~]|[\p{P}]"
_KH_CJK = (
    r"[\x{4E00}-\x{9FFF}]|[\x{3400}-\x{4DBF}]|[\x{20000}-\x{2A6DF}]|[\x{2A700}-\x{2B73F}]|"
    r"[\x{2B740}-\x{2B81F}]|[\x{2B820}-\x{2CEAF}]|[\x{F900}-\x{FAFF}]|[\x{2F800}-\x{2FA1F}]"
)
_KH_MAX_BYTES_PER_WORD = 100


def _map_code_points(text, present, keys, values):
    """Replace code points `keys[i]` by `values[i]` in a `(batch,)` string tensor.

    Decodes only when some string contains one (`present`: an RE2 class of the keys).
    """
    order = sorted(range(len(keys)), key=keys.__getitem__)
    keys = tf.constant([keys[i] for i in order], tf.int32)
    values = tf.constant([values[i] for i in order], tf.int32)

    def replace():
        code_points = tf.strings.unicode_decode(text, "UTF-8")  # (batch, chars)
        flat = code_points.flat_values
        index = tf.minimum(tf.searchsorted(keys, flat), tf.size(keys) - 1)
        found = tf.gather(keys, index) == flat
        flat = tf.where(found, tf.gather(values, index), flat)
        return tf.strings.unicode_encode(code_points.with_flat_values(flat), "UTF-8")

    has = tf.reduce_any(tf.strings.regex_full_match(text, f"(?s).*{present}.*"))
    return tf.cond(has, replace, lambda: tf.identity(text))


def _check_rules(
    lowercase, normalization_form, rules, strip_accents, split_on_cjk, max_word_length
):
    """Checks the rule options; returns (strip_accents, split_on_cjk, max_word_length) resolved."""
    if rules not in _RULES:
        raise ValueError(
            f"WordPieceTokenizer received rules={rules!r}. Expected one of {_RULES}: 'zoo' "
            "(NFKC case folding, tensorflow-text's BERT split), 'bert' (Hugging Face / original "
            "BERT normalization and split) or 'keras_hub' (keras-hub's WordPieceTokenizer)."
        )
    for name, value in (("strip_accents", strip_accents), ("split_on_cjk", split_on_cjk)):
        if value is not None and not isinstance(value, (bool, np.bool_)):
            raise ValueError(
                f"WordPieceTokenizer received {name}={value!r}. Expected None (the default of "
                "the rules) or a bool."
            )
    if max_word_length is not None:
        hint = f"Pass None ({_DEFAULT_MAX_WORD_LENGTH}) or e.g. max_word_length=50."
        check_int(max_word_length, "max_word_length", "WordPieceTokenizer", hint=hint)
    if rules == "zoo":
        if strip_accents or split_on_cjk is not None:
            raise ValueError(
                f"WordPieceTokenizer received strip_accents={strip_accents!r}, split_on_cjk="
                f"{split_on_cjk!r} with rules='zoo'. These options belong to rules='bert' and "
                "rules='keras_hub'; rules='zoo' splits CJK characters itself and keeps accents. "
                "Leave them out or pick those rules."
            )
        return False, None, int(max_word_length or _DEFAULT_MAX_WORD_LENGTH)
    if normalization_form is not None:
        raise ValueError(
            f"WordPieceTokenizer received normalization_form={normalization_form!r} with "
            f"rules={rules!r}, which normalize text their own way. normalization_form belongs "
            "to rules='zoo'; pass normalization_form=None."
        )
    if rules == "keras_hub" and max_word_length not in (None, _KH_MAX_BYTES_PER_WORD):
        raise ValueError(
            f"WordPieceTokenizer received max_word_length={max_word_length} with "
            f"rules='keras_hub', whose words are limited to {_KH_MAX_BYTES_PER_WORD} bytes. "
            "Leave max_word_length out."
        )
    if strip_accents is None:
        strip_accents = bool(lowercase) if rules == "bert" else False
    split_on_cjk = True if split_on_cjk is None else bool(split_on_cjk)
    return bool(strip_accents), split_on_cjk, int(max_word_length or _DEFAULT_MAX_WORD_LENGTH)


@keras.saving.register_keras_serializable(package="zoo")
class WordPieceTokenizer(Tokenizer):
    """WordPiece tokenizer (BERT): whole words, or a word start plus "##" suffixes.

    Tokenizes with `tensorflow_text.FastWordpieceTokenizer` in end-to-end mode
    (whitespace and punctuation split, BERT rules, linear-time matching; Song et al.
    2021, "Fast WordPiece Tokenization", arXiv:2012.15524) after NFKC case folding.
    Trained with HF `tokenizers`' WordPieceTrainer over the same normalized text and
    BERT pre-tokenization. A word with no matching pieces becomes "[UNK]".
    `detokenize` gives the normalized text up to whitespace around punctuation.

    `rules` picks whose normalization and word split run before the WordPiece match,
    so that pretrained vocabularies give the ids of the tokenizer they came with
    (`from_preset` sets it):

    - "zoo" (default): NFKC case folding (`lowercase`) or `normalization_form`, then
      `FastWordpieceTokenizer`'s own split on whitespace, punctuation and CJK
      characters; words over `max_word_length` bytes become "[UNK]".
    - "bert": Hugging Face `BertNormalizer` + `BertPreTokenizer` + `WordPiece` (the
      original BERT rules): control characters removed, spaces around CJK characters
      (`split_on_cjk`), accents stripped (NFD, nonspacing marks removed;
      `strip_accents`, default: as `lowercase`), per-character lowercasing, a split on
      Unicode whitespace and BERT punctuation (ASCII symbols count); words over
      `max_word_length` characters become the unknown token. The character classes,
      case mappings and decompositions are those of HF `tokenizers` 0.23, for every
      code point (where TensorFlow's Unicode tables differ, Zoo corrects them).
    - "keras_hub": keras-hub's `WordPieceTokenizer` (`BertTokenizer`) in graph mode:
      spaces around CJK characters, optional accent stripping, a split on ASCII
      whitespace, control characters and punctuation, NFKC case folding per word;
      words over 100 bytes become the unknown token.

    Text that spells a reserved token ("[CLS]") is tokenized as text, never as the
    reserved token, under every rule set (Hugging Face and keras-hub with
    `special_tokens_in_strings=True` would give the reserved id).

    Args:
        vocabulary: list of tokens, index = id; suffix pieces start with "##"; must
            contain "[UNK]".
        lowercase: NFKC case folding before tokenizing (Cyrillic included).
        normalization_form: None, "NFC", "NFD", "NFKC" or "NFKD" (used when
            `lowercase=False`).
        reserved_tokens: which vocabulary entries are special; default: those of
            `SPECIAL_TOKENS` found in `vocabulary`.
        sequence_length: None (ragged ids) or an int (dense, padded ids).
        rules: "zoo", "bert" or "keras_hub" (see above).
        strip_accents: rules "bert" / "keras_hub": remove accents; None: the rules'
            default (bert: as `lowercase`; keras_hub: False).
        split_on_cjk: rules "bert" / "keras_hub": a word per CJK character; None: True.
        max_word_length: longer words become the unknown token: characters with
            rules "bert", bytes otherwise; None: 100.
        special_tokens_map: roles of reserved tokens (see `Tokenizer`); the unknown
            token is the "unk" role's ("[UNK]" by default).

    Example:

    >>> tokenizer = WordPieceTokenizer.train(["the cat sat on the mat."] * 3, 60)
    >>> tokenizer.detokenize(tokenizer("The cat sat.")).numpy().decode()
    'the cat sat .'
    """

    _ASSETS = (("vocabulary", "vocabulary.txt", "lines"),)
    _CONFIG_ATTRIBUTES = _VOCABULARY_CONFIG

    def __init__(
        self,
        vocabulary,
        lowercase=True,
        normalization_form="NFKC",
        reserved_tokens=None,
        sequence_length=None,
        rules="zoo",
        strip_accents=None,
        split_on_cjk=None,
        max_word_length=None,
        **kwargs,
    ):
        super().__init__(sequence_length=sequence_length, **kwargs)
        vocabulary = self._set_vocabulary(
            vocabulary, reserved_tokens, lowercase, normalization_form
        )
        resolved = _check_rules(
            lowercase, normalization_form, rules, strip_accents, split_on_cjk, max_word_length
        )
        unknown = self.special_token("unk") if self.special_tokens_map is not None else "[UNK]"
        if unknown is None or unknown not in vocabulary:
            raise ValueError(
                f"WordPieceTokenizer received a vocabulary of {len(vocabulary)} tokens without "
                f"{unknown or '[UNK]'!r}, the unknown token. WordPiece tokenization maps unknown "
                "words to it; add it (and map the 'unk' role to it in special_tokens_map)."
            )
        # Rules other than "zoo" split words on whitespace themselves; "zoo" lets the op
        # split, and the op refuses whitespace in tokens.
        bad = [t for t in vocabulary if any(c.isspace() for c in t)] if rules == "zoo" else []
        if bad:
            raise ValueError(
                f"WordPieceTokenizer received tokens with whitespace {bad[:5]!r}. WordPiece "
                "pieces never contain whitespace; remove them."
            )
        if rules == "bert" and any(t.startswith(_TOO_LONG) for t in vocabulary):
            raise ValueError(
                "WordPieceTokenizer received a vocabulary with tokens starting with NUL, which "
                "rules='bert' removes from text. Remove those tokens."
            )
        self.rules = rules
        self.strip_accents, self.split_on_cjk, self.max_word_length = resolved
        if rules == "bert":
            # Every word of at most max_word_length characters reaches the matcher.
            max_bytes_per_word = 4 * self.max_word_length
        elif rules == "keras_hub":
            max_bytes_per_word = _KH_MAX_BYTES_PER_WORD
        else:
            max_bytes_per_word = self.max_word_length
        with tf.init_scope():
            self._wordpiece = tf_text.FastWordpieceTokenizer(
                vocab=vocabulary,
                suffix_indicator="##",
                max_bytes_per_word=max_bytes_per_word,
                token_out_type=tf.int32,
                unknown_token=unknown,
                no_pretokenization=rules != "zoo",
                support_detokenization=True,
            )

    def _normalize(self, text):
        # FastWordpieceTokenizer maps invalid UTF-8 to "[UNK]" by itself, so the
        # per-batch graph is one normalization op plus the tokenizer op.
        if self.lowercase:
            return tf_text.case_fold_utf8(text)
        if self.normalization_form is not None:
            return tf_text.normalize_utf8(text, self.normalization_form)
        return text

    def _tokenize_batch(self, text):
        if self.rules == "zoo":
            return self._wordpiece.tokenize(self._normalize(text))
        words = self._words(text)  # (batch, words)
        ids = self._wordpiece.tokenize(words.flat_values)  # (words, pieces)
        return words.with_flat_values(ids).merge_dims(1, 2)

    def _words(self, text):
        """rules "bert" / "keras_hub": a `(batch,)` string tensor -> ragged `(batch, words)`."""
        text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
        if self.rules == "keras_hub":
            return self._keras_hub_words(text)
        # BertNormalizer: clean_text, handle_chinese_chars, strip_accents, lowercase.
        text = tf.strings.regex_replace(text, _BERT_REMOVED, "")
        text = tf.strings.regex_replace(text, _BERT_CLEAN_WHITESPACE, " ")
        if self.split_on_cjk:
            text = tf.strings.regex_replace(text, _BERT_CJK, r" \0 ")
        if self.strip_accents:
            text = _map_code_points(text, _BERT_NFD_KEPT_CLASS, _BERT_NFD_KEPT, _PLACEHOLDERS)
            text = tf_text.normalize_utf8(text, "NFD")
            text = tf.strings.regex_replace(text, _BERT_NONSPACING_MARKS, "")
            text = _map_code_points(text, _PLACEHOLDER_CLASS, _PLACEHOLDERS, _BERT_NFD_KEPT)
        if self.lowercase:
            # HF lowercases character by character: a final capital sigma becomes "σ",
            # where ICU's context-aware lowercasing would give "ς".
            text = tf.strings.regex_replace(text, "Σ", "σ")
            text = _map_code_points(
                text, _BERT_LOWERCASE_CLASS, _BERT_LOWERCASE_FROM, _BERT_LOWERCASE_TO
            )
            text = tf.strings.lower(text, encoding="utf-8")
        # BertPreTokenizer: split on whitespace (dropped) and punctuation (kept).
        words = tf_text.regex_split(text, _BERT_SPLIT, _BERT_PUNCTUATION)
        flat = words.flat_values
        too_long = tf.strings.length(flat, unit="UTF8_CHAR") > self.max_word_length
        return words.with_flat_values(tf.where(too_long, tf.constant(_TOO_LONG), flat))

    def _keras_hub_words(self, text):
        # keras_hub.tokenizers.WordPieceTokenizer's `pretokenize`, op for op.
        if self.split_on_cjk:
            text = tf.strings.regex_replace(text, _KH_CJK, r" \0 ")
        if self.strip_accents:
            text = tf_text.normalize_utf8(text, "NFD")
            text = tf.strings.regex_replace(text, r"\p{Mn}", "")
        split = "|".join([_KH_WHITESPACE, _KH_PUNCTUATION])
        keep = _KH_PUNCTUATION
        if self.split_on_cjk:
            split, keep = f"{split}|{_KH_CJK}", f"{keep}|{_KH_CJK}"
        # The op stops at a NUL character (keras-hub's graph path loses the text after
        # one); NUL is a delimiter (\p{Cc}) like " ", so Zoo splits on a space instead,
        # as keras-hub's eager (Python) path does.
        text = tf.strings.regex_replace(text, r"\x00", " ")
        words = tf_text.regex_split(text, delim_regex_pattern=split, keep_delim_regex_pattern=keep)
        if self.lowercase:
            words = words.with_flat_values(tf_text.case_fold_utf8(words.flat_values))
        return words

    def _detokenize_batch(self, ids):
        return self._wordpiece.detokenize(ids)

    def get_config(self):
        config = super().get_config()
        if self.rules != "zoo":
            config.update(
                {
                    "rules": self.rules,
                    "strip_accents": self.strip_accents,
                    "split_on_cjk": self.split_on_cjk,
                }
            )
        if self.max_word_length != _DEFAULT_MAX_WORD_LENGTH:
            config["max_word_length"] = self.max_word_length
        return config

    @classmethod
    @_train_doc(
        "Learn a WordPiece vocabulary with HF `tokenizers` (deterministic).",
        """
        vocabulary_size: total size, reserved tokens included. It must hold the
            alphabet: every character seen, as a word start and as a "##" suffix.
        reserved_tokens: special tokens at ids 0..n-1; "[UNK]" is added at the end
            of them when missing.
        lowercase, normalization_form, sequence_length: see the class.
        min_frequency: pairs seen fewer times are not merged.
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
        min_frequency=0,
        verbose=True,
    ):
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import models, pre_tokenizers, trainers

        options = (lowercase, normalization_form, sequence_length)
        reserved_tokens = _check_training(
            cls, vocabulary_size, reserved_tokens, options, "1 character", add_unknown=True
        )

        def normalize(text):
            text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
            if lowercase:
                return tf_text.case_fold_utf8(text)
            if normalization_form is not None:
                return tf_text.normalize_utf8(text, normalization_form)
            return text

        texts = read_corpus(data, normalize, verbose)
        # HF gives "##c" suffix symbols ids in hash-map order, and ties between equally
        # frequent pairs are broken by id, so the learned vocabulary would vary from run
        # to run. Fixing their ids (as leading special tokens, sorted) makes training
        # deterministic; the extra suffix symbols cost a few entries at most.
        characters = sorted(c for c in set().union(*texts) if not c.isspace())
        suffixes = [f"##{c}" for c in characters if f"##{c}" not in reserved_tokens]
        hf = HFTokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
        hf.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        trainer = trainers.WordPieceTrainer(
            vocab_size=vocabulary_size,
            min_frequency=min_frequency,
            special_tokens=[*reserved_tokens, *suffixes],
            continuing_subword_prefix="##",
            show_progress=False,
        )
        hf.train_from_iterator(texts, trainer=trainer, length=len(texts))
        vocab = hf.get_vocab(with_added_tokens=True)
        vocabulary = sorted(vocab, key=vocab.get)
        if len(vocabulary) > vocabulary_size:
            alphabet = len(vocabulary) - len(reserved_tokens)
            raise ValueError(
                f"WordPieceTokenizer.train() received vocabulary_size={vocabulary_size}, "
                f"but the corpus alphabet alone needs {len(vocabulary)} entries "
                f"({len(reserved_tokens)} reserved tokens + {alphabet} characters as word "
                f"starts and '##' suffixes). Pass vocabulary_size > {len(vocabulary)}, or "
                "train on text with fewer distinct characters."
            )
        return cls._trained(vocabulary, reserved_tokens, options)
