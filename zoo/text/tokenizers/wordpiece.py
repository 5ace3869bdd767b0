"""`WordPieceTokenizer`: BERT WordPiece; HF `tokenizers` trainer, `FastWordpieceTokenizer` op."""

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from zoo.text._corpus import read_corpus
from zoo.text.tokenizers.base import (
    SPECIAL_TOKENS,
    Tokenizer,
    _check_options,
    _check_reserved_tokens,
    _check_unknown_token,
    _check_vocabulary,
    _check_vocabulary_size,
    _resolve_reserved,
)


@keras.saving.register_keras_serializable(package="zoo")
class WordPieceTokenizer(Tokenizer):
    """WordPiece tokenizer (BERT): whole words, or a word start plus "##" suffixes.

    Tokenizes with `tensorflow_text.FastWordpieceTokenizer` in end-to-end mode
    (whitespace and punctuation split, BERT rules, linear-time matching; Song et al.
    2021, "Fast WordPiece Tokenization", arXiv:2012.15524) after NFKC case folding.
    Trained with HF `tokenizers`' WordPieceTrainer over the same normalized text and
    BERT pre-tokenization. A word with no matching pieces becomes "[UNK]".
    `detokenize` gives the normalized text up to whitespace around punctuation.

    Args:
        vocabulary: list of tokens, index = id; suffix pieces start with "##"; must
            contain "[UNK]".
        lowercase: NFKC case folding before tokenizing (Cyrillic included).
        normalization_form: None, "NFC", "NFD", "NFKC" or "NFKD" (used when
            `lowercase=False`).
        reserved_tokens: which vocabulary entries are special; default: those of
            `SPECIAL_TOKENS` found in `vocabulary`.
        sequence_length: None (ragged ids) or an int (dense, padded ids).

    Example:

    >>> tokenizer = WordPieceTokenizer.train(["the cat sat on the mat."] * 3, 60)
    >>> tokenizer.detokenize(tokenizer("The cat sat.")).numpy().decode()
    'the cat sat .'
    """

    _ASSETS = (("vocabulary", "vocabulary.txt", "lines"),)

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
        cls = type(self)
        _check_options(cls, lowercase, normalization_form, sequence_length)
        vocabulary = _check_vocabulary(cls, vocabulary)
        self._reserved_tokens = _resolve_reserved(cls, reserved_tokens, vocabulary)
        _check_unknown_token(cls, vocabulary, "WordPiece")
        bad = [t for t in vocabulary if any(c.isspace() for c in t)]
        if bad:
            raise ValueError(
                f"WordPieceTokenizer received tokens with whitespace {bad[:5]!r}. WordPiece "
                "pieces never contain whitespace; remove them."
            )
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self.normalization_form = normalization_form
        with tf.init_scope():
            self._wordpiece = tf_text.FastWordpieceTokenizer(
                vocab=vocabulary,
                suffix_indicator="##",
                max_bytes_per_word=100,
                token_out_type=tf.int32,
                unknown_token="[UNK]",
                no_pretokenization=False,
                support_detokenization=True,
            )

    def get_vocabulary(self):
        return list(self.vocabulary)

    def _normalize(self, text):
        # FastWordpieceTokenizer maps invalid UTF-8 to "[UNK]" by itself, so the
        # per-batch graph is one normalization op plus the tokenizer op.
        if self.lowercase:
            return tf_text.case_fold_utf8(text)
        if self.normalization_form is not None:
            return tf_text.normalize_utf8(text, self.normalization_form)
        return text

    def _tokenize_batch(self, text):
        return self._wordpiece.tokenize(self._normalize(text))

    def _detokenize_batch(self, ids):
        return self._wordpiece.detokenize(ids)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "lowercase": self.lowercase,
                "normalization_form": self.normalization_form,
                "reserved_tokens": list(self._reserved_tokens),
            }
        )
        return config

    @classmethod
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
        """Learn a WordPiece vocabulary with HF `tokenizers` (deterministic).

        Args:
            data: list of texts, path to a text file (one document a line), list of
                paths, or a `tf.data.Dataset` of `tf.string`.
            vocabulary_size: total size, reserved tokens included. It must hold the
                alphabet: every character seen, as a word start and as a "##" suffix.
            reserved_tokens: special tokens at ids 0..n-1; "[UNK]" is added at the end
                of them when missing.
            lowercase, normalization_form, sequence_length: see the class.
            min_frequency: pairs seen fewer times are not merged.
            verbose: progress bar for corpora of more than 10k documents.
        """
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import models, pre_tokenizers, trainers

        reserved_tokens = _check_reserved_tokens(reserved_tokens)
        if "[UNK]" not in reserved_tokens:
            reserved_tokens = [*reserved_tokens, "[UNK]"]
        _check_options(cls, lowercase, normalization_form, sequence_length)
        _check_vocabulary_size(
            cls,
            vocabulary_size,
            len(reserved_tokens) + 1,
            f"{len(reserved_tokens)} reserved tokens + 1 character",
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
        return cls(
            vocabulary,
            lowercase=lowercase,
            normalization_form=normalization_form,
            reserved_tokens=reserved_tokens,
            sequence_length=sequence_length,
        )
