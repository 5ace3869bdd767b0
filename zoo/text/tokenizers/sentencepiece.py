"""`SentencePieceTokenizer`: SentencePiece BPE or unigram, trained with `sentencepiece`.

In-graph it and `BytePairTokenizer` run on `zoo._compat.sentencepiece_tokenizer`: the
`tensorflow_text.SentencepieceTokenizer` on a model resource shared by name.
"""

import base64

import keras
import tensorflow as tf

from zoo._compat import sentencepiece_tokenizer
from zoo.text._corpus import read_corpus
from zoo.text.tokenizers.base import (
    SPECIAL_TOKENS,
    Tokenizer,
    _b64,
    _check_options,
    _check_reserved_tokens,
    _check_vocabulary,
    _check_vocabulary_size,
    _normalize_fn,
    _resolve_reserved,
    _train_doc,
)

_MODEL_TYPES = ("bpe", "unigram")


@keras.saving.register_keras_serializable(package="zoo")
class SentencePieceTokenizer(Tokenizer):
    """SentencePiece tokenizer (BPE or unigram) with byte fallback.

    Trained with `sentencepiece` (Kudo & Richardson 2018, arXiv:1808.06226), run
    in-graph with `tensorflow_text.SentencepieceTokenizer`. Spaces are part of the
    pieces ("▁"), so `detokenize(tokenize(x))` gives back the normalized text (NFKC
    by default); characters outside the vocabulary become UTF-8 byte pieces, so any
    Unicode text round-trips. Reserved tokens are control pieces at ids 0..n-1.

    With a `vocabulary` (Marian / opus-mt checkpoints, whose `vocab.json` numbers the
    pieces otherwise than the SentencePiece model does), the ids index `vocabulary`:
    each piece the model produces maps to its position there, and a piece that is not
    there (or the text of an unknown character) to the unknown token, as Hugging Face's
    `MarianTokenizer` does.

    Args:
        proto: the serialized SentencePiece `ModelProto` (bytes, or base64 str as in
            `get_config()`).
        lowercase: NFKC case folding before tokenizing.
        sequence_length: None (ragged ids) or an int (dense, padded ids).
        vocabulary: None (ids are the model's piece ids), or the list of tokens the ids
            index (index = id).
        reserved_tokens: with `vocabulary`: which of its tokens are special (default:
            those that are control or unknown pieces of the model); without: the
            model's control and unknown pieces, always.
        special_tokens_map: roles of reserved tokens (see `Tokenizer`); with a
            `vocabulary`, the "unk" role's token is the unknown token ("[UNK]" by
            default).
        add_eos: append the "eos" role's id to every text's ids, as Hugging Face's
            `MarianTokenizer` does to a source text (`load_tokenizer(marian_dir,
            side="source")` sets it). Off by default. `detokenize` drops it (it is a
            reserved token). With a dense `sequence_length`, a text of more ids than
            that is cut at the end, so it loses its eos; `zoo.data`'s translation rows
            (`translation_dataset`, `translation_arrays`) instead cut a longer source
            before its eos and keep the eos last, as Hugging Face's truncation does.

    Example:

    >>> tokenizer = SentencePieceTokenizer.train(["привет мир", "hello world"] * 3, 300)
    >>> tokenizer.detokenize(tokenizer("привет world 🙂")).numpy().decode()
    'привет world 🙂'
    """

    _ASSETS = (
        ("proto", "sentencepiece.model", "binary"),
        ("vocabulary", "vocabulary.json", "json"),
    )

    def __init__(
        self,
        proto,
        lowercase=False,
        sequence_length=None,
        vocabulary=None,
        reserved_tokens=None,
        add_eos=False,
        **kwargs,
    ):
        super().__init__(sequence_length=sequence_length, **kwargs)
        cls = type(self)
        _check_options(cls, lowercase, None, sequence_length)
        from sentencepiece import sentencepiece_model_pb2 as model_pb2

        if isinstance(proto, str):
            try:
                proto = base64.b64decode(proto, validate=True)
            except ValueError as error:
                raise ValueError(
                    "SentencePieceTokenizer received proto as a str that is not base64. "
                    "Expected the serialized ModelProto bytes (e.g. the contents of a "
                    "'.model' file) or their base64 encoding."
                ) from error
        if not isinstance(proto, (bytes, bytearray)):
            raise ValueError(
                f"SentencePieceTokenizer received proto of type {type(proto).__name__}. "
                "Expected the serialized ModelProto bytes (e.g. the contents of a '.model' "
                "file)."
            )
        model = model_pb2.ModelProto()
        try:
            model.ParseFromString(bytes(proto))
        except Exception as error:
            raise ValueError(
                "SentencePieceTokenizer received bytes that are not a SentencePiece "
                f"ModelProto ({len(proto)} bytes). Pass the contents of a '.model' file."
            ) from error
        if not model.pieces:
            raise ValueError(
                "SentencePieceTokenizer received a ModelProto without pieces. Pass a "
                "trained model, e.g. from SentencePieceTokenizer.train()."
            )
        self.proto = bytes(proto)
        self.lowercase = lowercase
        piece_type = model_pb2.ModelProto.SentencePiece
        pieces = [p.piece for p in model.pieces]
        special_pieces = [
            p.piece for p in model.pieces if p.type in (piece_type.CONTROL, piece_type.UNKNOWN)
        ]
        self.vocabulary = None
        if vocabulary is None:
            if reserved_tokens is not None and list(reserved_tokens) != special_pieces:
                raise ValueError(
                    f"SentencePieceTokenizer received reserved_tokens={reserved_tokens!r} "
                    "without a vocabulary. Its reserved tokens are the model's control and "
                    f"unknown pieces {special_pieces!r}; leave reserved_tokens out."
                )
            self._vocabulary = pieces
            self._reserved_tokens = special_pieces
        else:
            vocabulary = _check_vocabulary(cls, vocabulary)
            if reserved_tokens is None:
                reserved_tokens = [t for t in vocabulary if t in set(special_pieces)]
            self._reserved_tokens = _resolve_reserved(cls, reserved_tokens, vocabulary)
            self.vocabulary = vocabulary
            self._vocabulary = vocabulary
        self._check_special_tokens()
        if not isinstance(add_eos, bool):
            raise ValueError(
                f"SentencePieceTokenizer received add_eos={add_eos!r}. Expected True or False."
            )
        if add_eos and self.eos_token_id is None:
            raise ValueError(
                "SentencePieceTokenizer received add_eos=True but has no token with the "
                "'eos' role. Map it in special_tokens_map, e.g. {'eos': '</s>'}."
            )
        self.add_eos = add_eos
        # Repair invalid UTF-8 before the op: SentencePiece's own repair emits U+FFFD after
        # its normalization (as three byte pieces), while "nmt_nfkc" maps a U+FFFD in the
        # text to a space, so raw bytes gave other ids than the repaired text (and than
        # training, which sees repaired text).
        self._normalize = _normalize_fn(lowercase, None)
        with tf.init_scope():
            self._sentencepiece = sentencepiece_tokenizer(self.proto)
            if self.vocabulary is not None:
                self._build_vocabulary_tables(pieces, model.trainer_spec.unk_id)

    def _build_vocabulary_tables(self, pieces, model_unk_id):
        """piece -> id in `vocabulary` (unknown: the unk token's), id -> model piece id."""
        unknown = self.special_token("unk") if self.special_tokens_map is not None else "[UNK]"
        if unknown is None or unknown not in self.vocabulary:
            raise ValueError(
                f"SentencePieceTokenizer received a vocabulary of {len(self.vocabulary)} tokens "
                f"without the unknown token {unknown or '[UNK]'!r}, which pieces outside the "
                "vocabulary map to. Add it, or map the 'unk' role to the vocabulary's unknown "
                "token in special_tokens_map."
            )
        self._piece_strings = sentencepiece_tokenizer(self.proto)
        self._piece_strings.out_type = tf.string  # pieces (unknown text as it is)
        reserved = set(self._reserved_tokens)
        pairs = [(t, i) for i, t in enumerate(self.vocabulary) if t not in reserved]
        self._piece_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant([t for t, _ in pairs] or [""], tf.string),
                tf.constant([i for _, i in pairs] or [-1], tf.int32),
            ),
            default_value=self.vocabulary.index(unknown),
        )
        model_ids = {piece: index for index, piece in enumerate(pieces)}
        unk = model_unk_id if 0 <= model_unk_id < len(pieces) else 0
        self._model_ids = tf.constant([model_ids.get(t, unk) for t in self.vocabulary], tf.int32)

    def get_vocabulary(self):
        return list(self._vocabulary)

    def _tokenize_batch(self, text):
        text = self._normalize(text)
        if self.vocabulary is None:
            ids = self._sentencepiece.tokenize(text)
        else:
            pieces = self._piece_strings.tokenize(text)  # (batch, pieces) strings
            ids = pieces.with_flat_values(self._piece_table.lookup(pieces.flat_values))
        if self.add_eos:
            ids = ids.with_row_splits_dtype(tf.int64)
            eos = tf.fill([ids.nrows(), 1], tf.constant(self.eos_token_id, ids.dtype))
            ids = tf.concat([ids, tf.RaggedTensor.from_tensor(eos)], axis=1)
        return ids

    def _detokenize_batch(self, ids):
        if self.vocabulary is not None:
            ids = ids.with_flat_values(tf.gather(self._model_ids, ids.flat_values))
        text = self._sentencepiece.detokenize(ids)
        return tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")

    def get_config(self):
        config = super().get_config()
        config.update({"proto": _b64(self.proto), "lowercase": self.lowercase})
        if self.add_eos:  # only when set: configs of other tokenizers stay as they were
            config["add_eos"] = True
        if self.vocabulary is not None:
            config.update(
                {
                    "vocabulary": list(self.vocabulary),
                    "reserved_tokens": list(self._reserved_tokens),
                }
            )
        return config

    @classmethod
    @_train_doc(
        "Train a SentencePiece model (deterministic: one thread, no sampling).",
        """
        vocabulary_size: total size: reserved tokens + 256 byte pieces + the
            characters kept by `character_coverage` + learned pieces. A tiny corpus
            may give fewer pieces (the size is an upper bound).
        reserved_tokens: special tokens at ids 0..n-1 (control pieces).
        model_type: "unigram" (SentencePiece's default) or "bpe".
        character_coverage: share of characters kept as pieces; the rest fall back
            to bytes.
        normalization_rule_name: SentencePiece rule, "nmt_nfkc" (default),
            "nfkc", "identity", ...
        lowercase, sequence_length: see the class.
        """,
    )
    def train(
        cls,
        data,
        vocabulary_size,
        reserved_tokens=SPECIAL_TOKENS,
        model_type="unigram",
        character_coverage=0.9995,
        normalization_rule_name="nmt_nfkc",
        lowercase=False,
        sequence_length=None,
        verbose=True,
    ):
        import io

        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2 as model_pb2

        reserved_tokens = _check_reserved_tokens(reserved_tokens)
        _check_options(cls, lowercase, None, sequence_length)
        if model_type not in _MODEL_TYPES:
            raise ValueError(
                f"SentencePieceTokenizer.train() received model_type={model_type!r}. "
                f"Expected one of {_MODEL_TYPES}."
            )
        if not 0.0 < character_coverage <= 1.0:
            raise ValueError(
                f"SentencePieceTokenizer.train() received character_coverage="
                f"{character_coverage!r}. Expected a value in (0, 1], e.g. 0.9995."
            )
        unk = "[UNK]" if "[UNK]" in reserved_tokens else "\ue000<unk>"
        extra = 0 if unk in reserved_tokens else 1
        minimum = len(reserved_tokens) + extra + 256 + 1
        _check_vocabulary_size(
            cls,
            vocabulary_size,
            minimum,
            f"{len(reserved_tokens) + extra} reserved tokens + 256 byte pieces + 1 piece",
        )
        texts = read_corpus(data, _normalize_fn(lowercase, None), verbose)
        writer = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(texts),
                model_writer=writer,
                vocab_size=vocabulary_size,
                model_type=model_type,
                character_coverage=character_coverage,
                normalization_rule_name=normalization_rule_name,
                byte_fallback=True,
                unk_id=0,
                unk_piece=unk,
                bos_id=-1,
                eos_id=-1,
                pad_id=-1,
                control_symbols=[t for t in reserved_tokens if t != unk],
                hard_vocab_limit=False,
                num_threads=1,
                input_sentence_size=0,
                shuffle_input_sentence=False,
                max_sentence_length=1 << 16,
                train_extremely_large_corpus=False,
                minloglevel=2,
            )
        except RuntimeError as error:
            raise ValueError(
                f"SentencePieceTokenizer.train() could not train with vocabulary_size="
                f"{vocabulary_size}, model_type={model_type!r}, character_coverage="
                f"{character_coverage}: {error}. The vocabulary must hold "
                f"{len(reserved_tokens) + extra} reserved tokens + 256 byte pieces + the "
                "characters kept by character_coverage; raise vocabulary_size or lower "
                "character_coverage."
            ) from error
        model = model_pb2.ModelProto()
        model.ParseFromString(writer.getvalue())
        # Reorder: reserved tokens at 0..n-1 in the given order, then the rest.
        pieces = [p.piece for p in model.pieces]
        head = [pieces.index(t) for t in reserved_tokens]
        order = head + [i for i in range(len(pieces)) if i not in set(head)]
        reordered = model_pb2.ModelProto()
        reordered.CopyFrom(model)
        del reordered.pieces[:]
        for index in order:
            reordered.pieces.add().CopyFrom(model.pieces[index])
        reordered.trainer_spec.unk_id = [pieces[i] for i in order].index(unk)
        return cls(
            reordered.SerializeToString(), lowercase=lowercase, sequence_length=sequence_length
        )
