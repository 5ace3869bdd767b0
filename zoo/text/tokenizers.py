"""Trainable tokenizers that run as TensorFlow ops (in tf.data and in SavedModels).

Five granularities share one interface (`Tokenizer`):

- `CharacterTokenizer`: characters with UTF-8 byte fallback; counted with
  `collections.Counter`; in-graph `unicode_decode` + a code point -> id hash table.
- `WordTokenizer`: words and punctuation; `collections.Counter`;
  `tensorflow_text.regex_split` + a word -> id hash table.
- `WordPieceTokenizer`: BERT WordPiece; HF `tokenizers` WordPieceTrainer;
  `tensorflow_text.FastWordpieceTokenizer`.
- `BytePairTokenizer`: byte-level BPE (GPT-2 style); HF `tokenizers` BpeTrainer;
  `tensorflow_text.SentencepieceTokenizer` over a BPE model built from the merges.
- `SentencePieceTokenizer`: SentencePiece BPE / unigram; `sentencepiece`;
  `tensorflow_text.SentencepieceTokenizer`.

Every trained vocabulary starts with the reserved tokens (`SPECIAL_TOKENS` by
default, ids 0..6). Reserved tokens are never produced from text: typing "[CLS]" in
the input gives the ids of its characters, not `cls_token_id`.

`tokenize` takes a `tf.string` scalar, batch or ragged batch and returns int32 ids:
ragged `(batch, None)`, or dense `(batch, sequence_length)` padded with
`pad_token_id` when a `sequence_length` is set. Invalid UTF-8 is replaced with
U+FFFD, never an error. `detokenize` maps ids back to text; an id outside the
vocabulary is an error unless `errors="replace"` (then it is dropped).
"""

import base64
import collections
import hashlib
import json
import os

import keras
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.python.ops.sentencepiece_tokenizer import gen_sentencepiece_tokenizer

from zoo.text import _bytes
from zoo.text._corpus import read_corpus

__all__ = [
    "SPECIAL_TOKENS",
    "BytePairTokenizer",
    "CharacterTokenizer",
    "SentencePieceTokenizer",
    "Tokenizer",
    "WordPieceTokenizer",
    "WordTokenizer",
    "load_tokenizer",
]

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[BOS]", "[EOS]")

_NORMALIZATION_FORMS = (None, "NFC", "NFD", "NFKC", "NFKD")
_CONFIG_FILE = "config.json"

# Whitespace as RE2 sees it: `\s` is ASCII only, so add Unicode separators.
_RE2_SPACE = r"\s\x0b\x{85}\p{Z}"

# Pre-tokenization of byte-level BPE training (Oniguruma, HF `tokenizers`): a run of
# letters, of digits or of other symbols, each with at most one leading space; a run
# of whitespace other than " "; a single " ". No learned piece can then span two of
# these pieces, which is what lets `BytePairTokenizer` run the merges over whole
# strings in one SentencePiece op, with no in-graph regex (see `BytePairTokenizer`).
BYTE_LEVEL_SPLIT_PATTERN = r" ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{M}\p{N}]+|[^\S ]+| "


def _check_reserved_tokens(reserved_tokens):
    if isinstance(reserved_tokens, str) or not isinstance(reserved_tokens, (list, tuple)):
        raise ValueError(
            f"Received reserved_tokens={reserved_tokens!r}. Expected a list or tuple of "
            "strings, e.g. zoo.text.tokenizers.SPECIAL_TOKENS or ['[PAD]', '[UNK]']."
        )
    bad = [t for t in reserved_tokens if not isinstance(t, str) or not t or t != t.strip()]
    if bad:
        raise ValueError(
            f"Received reserved_tokens with invalid entries {bad!r}. Each reserved token must "
            "be a non-empty string without leading or trailing whitespace, e.g. '[CLS]'."
        )
    duplicates = sorted({t for t in reserved_tokens if reserved_tokens.count(t) > 1})
    if duplicates:
        raise ValueError(
            f"Received reserved_tokens with duplicates {duplicates!r}. Each reserved token "
            "must appear once; remove the repeated entries."
        )
    return list(reserved_tokens)


def _check_vocabulary_size(cls, vocabulary_size, minimum, what):
    if isinstance(vocabulary_size, bool) or not isinstance(vocabulary_size, (int, np.integer)):
        raise ValueError(
            f"{cls.__name__}.train() received vocabulary_size={vocabulary_size!r}. "
            "Expected a positive integer such as 8000."
        )
    if vocabulary_size < minimum:
        raise ValueError(
            f"{cls.__name__}.train() received vocabulary_size={vocabulary_size}, smaller "
            f"than the {minimum} entries it needs at least ({what}). Pass "
            f"vocabulary_size >= {minimum}, or fewer reserved_tokens."
        )


def _check_vocabulary(cls, vocabulary):
    if isinstance(vocabulary, np.ndarray):
        vocabulary = vocabulary.tolist()
    if isinstance(vocabulary, str) or not isinstance(vocabulary, (list, tuple)):
        raise ValueError(
            f"{cls.__name__} received vocabulary of type {type(vocabulary).__name__}. "
            f"Expected a list of token strings, e.g. from {cls.__name__}.train(...)."
        )
    vocabulary = [t.decode("utf-8") if isinstance(t, bytes) else t for t in vocabulary]
    if not vocabulary or any(not isinstance(t, str) or not t for t in vocabulary):
        raise ValueError(
            f"{cls.__name__} received a vocabulary of {len(vocabulary)} entries with empty "
            "or non-string tokens. Expected a non-empty list of non-empty strings."
        )
    if len(set(vocabulary)) != len(vocabulary):
        seen, duplicates = set(), []
        for token in vocabulary:
            if token in seen:
                duplicates.append(token)
            seen.add(token)
        raise ValueError(
            f"{cls.__name__} received a vocabulary with duplicate tokens {duplicates[:10]!r}. "
            "Each token must appear once."
        )
    return vocabulary


def _resolve_reserved(cls, reserved_tokens, vocabulary):
    if reserved_tokens is None:
        return [t for t in vocabulary if t in SPECIAL_TOKENS]
    reserved_tokens = _check_reserved_tokens(reserved_tokens)
    vocabulary_set = set(vocabulary)
    missing = [t for t in reserved_tokens if t not in vocabulary_set]
    if missing:
        raise ValueError(
            f"{cls.__name__} received reserved_tokens {missing!r} that are not in the "
            "vocabulary. Add them to the vocabulary or leave them out of reserved_tokens."
        )
    return reserved_tokens


def _check_unknown_token(cls, vocabulary, unit):
    """Word-level and WordPiece vocabularies map what they do not know to '[UNK]'."""
    if "[UNK]" not in vocabulary:
        raise ValueError(
            f"{cls.__name__} received a vocabulary of {len(vocabulary)} tokens without "
            f"'[UNK]'. {unit} tokenization maps unknown words to '[UNK]'; add it."
        )


def _check_options(cls, lowercase, normalization_form, sequence_length):
    if not isinstance(lowercase, bool):
        raise ValueError(
            f"{cls.__name__} received lowercase={lowercase!r}. Expected True or False."
        )
    if normalization_form not in _NORMALIZATION_FORMS:
        raise ValueError(
            f"{cls.__name__} received normalization_form={normalization_form!r}. Expected "
            f"one of {_NORMALIZATION_FORMS}."
        )
    _check_sequence_length(cls, sequence_length)


def _check_sequence_length(cls, sequence_length):
    if sequence_length is not None and (
        isinstance(sequence_length, bool)
        or not isinstance(sequence_length, (int, np.integer))
        or sequence_length < 1
    ):
        raise ValueError(
            f"{cls.__name__} received sequence_length={sequence_length!r}. Expected None "
            "(ragged output) or a positive integer (dense output padded to that length)."
        )


def _normalize_fn(lowercase, normalization_form, replace_invalid=True):
    """The text normalization of `tokenize`, as a function on a batch of strings.

    `replace_invalid=False` leaves invalid UTF-8 to the tokenizer op when that op
    replaces it by U+FFFD itself exactly as a repair first would
    (`unicode_decode(errors="replace")`), which saves a pass over the text. (Not
    SentencePiece: its op repairs after normalizing, see `SentencePieceTokenizer`.)
    """

    def normalize(text):
        if replace_invalid:
            text = tf.strings.unicode_transcode(
                text, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
            )
        if lowercase:
            # NFKC case folding: lowercases any script (Cyrillic included). Unlike
            # tf.strings.lower it keeps text after a NUL character.
            text = tf_text.case_fold_utf8(text)
        elif normalization_form is not None:
            text = tf_text.normalize_utf8(text, normalization_form)
        return text

    return normalize


class _SharedSentencepieceModel(tf.saved_model.experimental.TrackableResource):
    """The SentencePiece model resource, shared by name between equal models.

    tensorflow-text creates a kernel-owned resource whose eager name is the same for
    every model ("_0_SentencepieceOp"); when one such kernel is destroyed the
    resource of the others disappears ("Resource ... does not exist"). A
    `shared_name` derived from the model bytes gives each model its own resource,
    kept for the life of the process and re-created on SavedModel load.
    """

    def __init__(self, model):
        super().__init__()
        self._model = model
        self._shared_name = "zoo_sentencepiece_" + hashlib.sha256(model).hexdigest()[:32]
        _ = self.resource_handle  # creates the resource

    def _create_resource(self):
        return gen_sentencepiece_tokenizer.sentencepiece_op(
            model=self._model, shared_name=self._shared_name
        )


class _SentencepieceOp(tf_text.SentencepieceTokenizer):
    """`tensorflow_text.SentencepieceTokenizer` (int32 ids) on a `_SharedSentencepieceModel`."""

    def __init__(self, model):
        # Skip the parent constructor, which would create a kernel-owned resource.
        super(tf_text.SentencepieceTokenizer, self).__init__()
        self.nbest_size = 0
        self.alpha = 1.0
        self.out_type = tf.int32
        self.reverse = False
        self.add_bos = False
        self.add_eos = False
        self.return_nbest = False
        self._model_resource = _SharedSentencepieceModel(model)


def _b64(data):
    return base64.b64encode(data).decode("ascii")


class Tokenizer(keras.layers.Layer):
    """Base class of the zoo tokenizers: `tf.string` in, int32 ids out, as TF ops.

    Subclasses implement `_tokenize_batch` (a 1-D batch of strings -> ragged ids),
    `_detokenize_batch` (ragged ids -> a 1-D batch of strings), `get_vocabulary` and
    `train`. The base class handles input ranks, padding to `sequence_length`,
    special tokens, config and directory saving.

    Args:
        sequence_length: None for ragged output, or an int: dense output truncated and
            padded with `pad_token_id` (0 when there is no "[PAD]") to that length.
        **kwargs: `keras.layers.Layer` arguments (`name`, ...).

    Call arguments:
        inputs: `tf.string` scalar, `(batch,)` tensor or ragged tensor.

    Example:

    >>> tokenizer = CharacterTokenizer.train(["abc", "abd"], vocabulary_size=300)
    >>> tokenizer.detokenize(tokenizer("abba")).numpy().decode()
    'abba'
    """

    # Fields of `get_config()` written to their own files by `save()`:
    # ((config key, file name, "json" | "lines" | "binary"), ...).
    _ASSETS = ()

    def __init__(self, sequence_length=None, **kwargs):
        kwargs.setdefault("dtype", "int32")
        kwargs.pop("trainable", None)
        super().__init__(trainable=False, **kwargs)
        _check_sequence_length(type(self), sequence_length)
        self.sequence_length = None if sequence_length is None else int(sequence_length)
        # Keep tf tensors as they are (strings), accept Python strings.
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.built = True

    # ----------------------------------------------------------------- subclass hooks
    def _tokenize_batch(self, text):
        raise NotImplementedError

    def _detokenize_batch(self, ids):
        raise NotImplementedError

    def get_vocabulary(self):
        """The tokens, index = id."""
        raise NotImplementedError

    @property
    def reserved_tokens(self):
        """The reserved (special) tokens of the vocabulary."""
        return list(self._reserved_tokens)

    # --------------------------------------------------------------------- tokenize
    def call(self, inputs):
        return self.tokenize(inputs)

    def tokenize(self, text, sequence_length=None):
        """Strings -> int32 ids.

        Args:
            text: `tf.string` scalar, `(batch,)` tensor, ragged tensor, or Python
                str / list of str.
            sequence_length: overrides the constructor's `sequence_length`.

        Returns:
            For a `(batch,)` input: a ragged `(batch, None)` int32 tensor, or a dense
            `(batch, sequence_length)` one padded with `pad_token_id`. One dimension
            less for a scalar input; one more for a ragged input.
        """
        _check_sequence_length(type(self), sequence_length)
        sequence_length = sequence_length or self.sequence_length
        if not isinstance(text, tf.RaggedTensor):
            text = tf.convert_to_tensor(text)
        if text.dtype != tf.string:
            raise ValueError(
                f"{type(self).__name__}.tokenize() received a {text.dtype.name} tensor. "
                "Expected tf.string text; to map ids back to text use detokenize()."
            )
        if isinstance(text, tf.RaggedTensor):
            return text.with_flat_values(self.tokenize(text.flat_values, sequence_length))
        rank = text.shape.rank
        if rank == 0:
            return self.tokenize(text[tf.newaxis], sequence_length)[0]
        if rank is None:
            text = tf.reshape(text, [-1])
        elif rank > 1:
            return self.tokenize(tf.RaggedTensor.from_tensor(text), sequence_length)
        ids = self._tokenize_batch(text).with_row_splits_dtype(tf.int64)
        if sequence_length is not None:
            pad = self.pad_token_id if self.pad_token_id is not None else 0
            ids = ids.to_tensor(default_value=pad, shape=[None, sequence_length])
        return ids

    def compute_output_spec(self, inputs):
        shape = (*tuple(inputs.shape), self.sequence_length)
        return keras.KerasTensor(shape, dtype="int32", ragged=self.sequence_length is None)

    # ------------------------------------------------------------------- detokenize
    def detokenize(self, ids, skip_special_tokens=True, errors="strict"):
        """Ids -> `tf.string`.

        Args:
            ids: int ids, dense (padded) or ragged, `(length,)` or `(batch, length)`.
            skip_special_tokens: drop reserved tokens other than padding too (padding
                is always dropped).
            errors: what an id outside `[0, vocabulary_size())` does. `"strict"`
                (default): an error that names the id and the vocabulary size, a
                `ValueError` in eager code and a `tf.errors.InvalidArgumentError` from
                a `tf.debugging.Assert` inside a `tf.function` / SavedModel.
                `"replace"`: such ids are dropped from the text like padding (the
                lenient behaviour of earlier versions; use it for ids sampled from a
                model whose vocabulary is padded beyond the tokenizer's).

        Returns:
            A `tf.string` scalar for 1-D ids, `(batch,)` for 2-D ids.

        Example:

        >>> tokenizer = CharacterTokenizer.train(["abc"], vocabulary_size=300)
        >>> ids = [tokenizer.token_to_id("a"), 9999]
        >>> tokenizer.detokenize(ids, errors="replace").numpy()
        b'a'
        >>> # tokenizer.detokenize(ids) raises ValueError: ... received id 9999 outside
        >>> # the vocabulary [0, 266) ...
        """
        if errors not in ("strict", "replace"):
            raise ValueError(
                f"{type(self).__name__}.detokenize() received errors={errors!r}. Expected "
                "'strict' (out-of-vocabulary ids are an error) or 'replace' (they are dropped)."
            )
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.convert_to_tensor(ids)
        if ids.dtype not in (tf.int32, tf.int64):
            raise ValueError(
                f"{type(self).__name__}.detokenize() received a {ids.dtype.name} tensor. "
                "Expected integer token ids, as tokenize() returns."
            )
        ids = tf.cast(ids, tf.int32)
        rank = ids.shape.rank
        if rank == 1 and not isinstance(ids, tf.RaggedTensor):
            return self.detokenize(ids[tf.newaxis], skip_special_tokens, errors)[0]
        if not isinstance(ids, tf.RaggedTensor):
            if rank != 2:
                raise ValueError(
                    f"{type(self).__name__}.detokenize() received ids of rank {rank}. "
                    "Expected 1-D or 2-D ids (or a ragged tensor)."
                )
            ids = tf.RaggedTensor.from_tensor(ids)
        if ids.ragged_rank > 1:
            return tf.RaggedTensor.from_row_splits(
                self.detokenize(ids.values, skip_special_tokens, errors), ids.row_splits
            )
        drop = [self.pad_token_id] if self.pad_token_id is not None else []
        if skip_special_tokens:
            drop = [self.token_to_id(t) for t in self._reserved_tokens]
        values = ids.flat_values
        size = self.vocabulary_size()
        keep = tf.logical_and(values >= 0, values < size)
        if errors == "strict":
            values = self._check_ids(values, keep, size)
            ids = ids.with_flat_values(values)
        if drop:
            dropped = tf.reduce_any(
                tf.equal(values[:, tf.newaxis], tf.constant(drop, tf.int32)[tf.newaxis, :]),
                axis=-1,
            )
            keep = tf.logical_and(keep, tf.logical_not(dropped))
        ids = tf.ragged.boolean_mask(ids, ids.with_flat_values(keep))
        return self._detokenize_batch(ids)

    def _check_ids(self, values, in_range, size):
        """`values`, after an error for the first id outside `[0, size)`."""
        hint = "Pass ids below vocabulary_size(), or errors='replace' to drop them."
        if tf.executing_eagerly():
            bad = values.numpy()[~in_range.numpy()]
            if bad.size:
                raise ValueError(
                    f"{type(self).__name__}.detokenize() received id {int(bad[0])} outside the "
                    f"vocabulary [0, {size}) ({bad.size} such id{'s' * (bad.size > 1)}). {hint}"
                )
            return values
        bad = tf.boolean_mask(values, tf.logical_not(in_range))
        check = tf.debugging.Assert(
            tf.size(bad) == 0,
            [
                f"{type(self).__name__}.detokenize() received ids outside the vocabulary "
                f"[0, {size}): first ones",
                bad[:3],
                hint,
            ],
            summarize=3,
        )
        with tf.control_dependencies([check]):
            return tf.identity(values)

    # ------------------------------------------------------------------- vocabulary
    def vocabulary_size(self):
        """Number of tokens (the height of an embedding matrix for these ids)."""
        return len(self.get_vocabulary())

    def _token_index(self):
        if getattr(self, "_token_index_cache", None) is None:
            self._token_index_cache = {t: i for i, t in enumerate(self.get_vocabulary())}
        return self._token_index_cache

    def id_to_token(self, id):
        """The token string of an id."""
        vocabulary = self.get_vocabulary()
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)):
            raise ValueError(
                f"{type(self).__name__}.id_to_token() received {id!r}. Expected an int id."
            )
        if not 0 <= id < len(vocabulary):
            raise ValueError(
                f"{type(self).__name__}.id_to_token() received id={id}, outside the "
                f"vocabulary [0, {len(vocabulary)}). Pass an id below vocabulary_size()."
            )
        return vocabulary[int(id)]

    def token_to_id(self, token):
        """The id of a token string (as `get_vocabulary()` writes it)."""
        index = self._token_index()
        if token not in index:
            raise ValueError(
                f"{type(self).__name__}.token_to_id() received {token!r}, which is not in "
                f"the vocabulary of {len(index)} tokens. Check get_vocabulary() for the "
                "spelling (byte-level BPE writes a leading space as 'Ġ')."
            )
        return index[token]

    def _special_id(self, token):
        return self.token_to_id(token) if token in self._reserved_tokens else None

    @property
    def pad_token_id(self):
        return self._special_id("[PAD]")

    @property
    def unk_token_id(self):
        return self._special_id("[UNK]")

    @property
    def cls_token_id(self):
        return self._special_id("[CLS]")

    @property
    def sep_token_id(self):
        return self._special_id("[SEP]")

    @property
    def mask_token_id(self):
        return self._special_id("[MASK]")

    @property
    def bos_token_id(self):
        return self._special_id("[BOS]")

    @property
    def eos_token_id(self):
        return self._special_id("[EOS]")

    # ----------------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.pop("trainable", None)
        config["sequence_length"] = self.sequence_length
        return config

    # ---------------------------------------------------------------- save and load
    def save(self, path):
        """Write the tokenizer to directory `path` (config.json plus vocabulary files)."""
        os.makedirs(path, exist_ok=True)
        config = self.get_config()
        for key, file_name, kind in self._ASSETS:
            value = config.pop(key)
            file_path = os.path.join(path, file_name)
            if kind == "binary":
                with open(file_path, "wb") as f:
                    f.write(base64.b64decode(value))
            elif kind == "lines":
                with open(file_path, "w", encoding="utf-8", newline="\n") as f:
                    f.write("".join(f"{line}\n" for line in value))
            else:
                with open(file_path, "w", encoding="utf-8") as f:
                    json.dump(value, f, ensure_ascii=False, indent=0)
            config[key] = {"file": file_name}
        with open(os.path.join(path, _CONFIG_FILE), "w", encoding="utf-8") as f:
            json.dump(
                {"class_name": type(self).__name__, "config": config},
                f,
                ensure_ascii=False,
                indent=2,
            )

    @classmethod
    def load(cls, path):
        """Restore a tokenizer written by `save(path)`, as its own subclass."""
        config_path = os.path.join(path, _CONFIG_FILE)
        if not os.path.isfile(config_path):
            raise ValueError(
                f"{cls.__name__}.load() received path={path!r}, which has no {_CONFIG_FILE}. "
                "Expected a directory written by tokenizer.save(path)."
            )
        with open(config_path, encoding="utf-8") as f:
            saved = json.load(f)
        class_name = saved.get("class_name")
        subclass = _TOKENIZER_CLASSES.get(class_name)
        if subclass is None or not issubclass(subclass, cls):
            raise ValueError(
                f"{cls.__name__}.load() found class_name={class_name!r} in {config_path}. "
                f"Expected one of {sorted(_TOKENIZER_CLASSES)}; load it with "
                "zoo.text.tokenizers.load_tokenizer(path)."
            )
        config = saved["config"]
        for key, file_name, kind in subclass._ASSETS:
            file_path = os.path.join(path, config[key]["file"] if key in config else file_name)
            if kind == "binary":
                with open(file_path, "rb") as f:
                    config[key] = _b64(f.read())
            elif kind == "lines":
                with open(file_path, encoding="utf-8", newline="\n") as f:
                    config[key] = f.read().split("\n")[:-1]
            else:
                with open(file_path, encoding="utf-8") as f:
                    config[key] = json.load(f)
        return subclass.from_config(config)

    # ------------------------------------------------------------------------ train
    @classmethod
    def train(cls, data, vocabulary_size, reserved_tokens=SPECIAL_TOKENS, **options):
        """Learn a vocabulary from `data`; returns a tokenizer. See the subclasses."""
        raise NotImplementedError(
            f"{cls.__name__} has no trainer; use one of {sorted(_TOKENIZER_CLASSES)}."
        )


def load_tokenizer(path):
    """Restore any zoo tokenizer saved with `tokenizer.save(path)`.

    Example:

    >>> import tempfile
    >>> tokenizer = WordTokenizer.train(["a b c", "a b"], vocabulary_size=10)
    >>> directory = tempfile.mkdtemp()
    >>> tokenizer.save(directory)
    >>> type(load_tokenizer(directory)).__name__
    'WordTokenizer'
    """
    return Tokenizer.load(path)


# ====================================================================== characters
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
        cls = type(self)
        _check_options(cls, lowercase, normalization_form, sequence_length)
        vocabulary = _check_vocabulary(cls, vocabulary)
        self._reserved_tokens = _resolve_reserved(cls, reserved_tokens, vocabulary)
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
        self.vocabulary = vocabulary
        self.byte_fallback = bool(byte_fallback)
        self.lowercase = lowercase
        self.normalization_form = normalization_form
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

    def get_vocabulary(self):
        return list(self.vocabulary)

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

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "byte_fallback": self.byte_fallback,
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
        byte_fallback=True,
        lowercase=False,
        normalization_form=None,
        sequence_length=None,
        verbose=True,
    ):
        """Learn the most frequent characters of `data`.

        Args:
            data: list of texts, path to a text file (one document a line), list of
                paths, or a `tf.data.Dataset` of `tf.string`.
            vocabulary_size: total size, reserved and byte tokens included.
            reserved_tokens: special tokens at ids 0..n-1.
            byte_fallback, lowercase, normalization_form, sequence_length: see the class.
            verbose: progress bar for corpora of more than 10k documents.
        """
        reserved_tokens = _check_reserved_tokens(reserved_tokens)
        _check_options(cls, lowercase, normalization_form, sequence_length)
        alphabet = 256 if byte_fallback else 1
        what = f"{len(reserved_tokens)} reserved tokens + " + (
            "256 byte tokens" if byte_fallback else "1 character"
        )
        _check_vocabulary_size(cls, vocabulary_size, len(reserved_tokens) + alphabet, what)
        texts = read_corpus(data, _normalize_fn(lowercase, normalization_form), verbose)
        counts = collections.Counter()
        for text in texts:
            counts.update(text)
        fixed = list(reserved_tokens) + (list(_bytes.BYTE_TOKENS) if byte_fallback else [])
        taken = set(fixed)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        chars = [c for c, _ in ranked if c not in taken]
        vocabulary = fixed + chars[: vocabulary_size - len(fixed)]
        return cls(
            vocabulary,
            byte_fallback=byte_fallback,
            lowercase=lowercase,
            normalization_form=normalization_form,
            reserved_tokens=reserved_tokens,
            sequence_length=sequence_length,
        )


# =========================================================================== words
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
        _check_unknown_token(cls, vocabulary, "Word-level")
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self.normalization_form = normalization_form
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

    def get_vocabulary(self):
        return list(self.vocabulary)

    def _tokenize_batch(self, text):
        words = _split_words(self._normalize(text))
        return words.with_flat_values(tf.cast(self._word_table.lookup(words.flat_values), tf.int32))

    def _detokenize_batch(self, ids):
        return tf.strings.reduce_join(tf.gather(self._decode_table, ids), axis=-1, separator=" ")

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
        verbose=True,
    ):
        """Learn the most frequent words of `data` (ties broken alphabetically).

        Args:
            data: list of texts, path to a text file (one document a line), list of
                paths, or a `tf.data.Dataset` of `tf.string`.
            vocabulary_size: total size, reserved tokens included.
            reserved_tokens: special tokens at ids 0..n-1; "[UNK]" is added at the end
                of them when missing.
            lowercase, normalization_form, sequence_length: see the class.
            verbose: progress bar for corpora of more than 10k documents.
        """
        reserved_tokens = _check_reserved_tokens(reserved_tokens)
        if "[UNK]" not in reserved_tokens:
            reserved_tokens = [*reserved_tokens, "[UNK]"]
        _check_options(cls, lowercase, normalization_form, sequence_length)
        _check_vocabulary_size(
            cls,
            vocabulary_size,
            len(reserved_tokens) + 1,
            f"{len(reserved_tokens)} reserved tokens + 1 word",
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
        return cls(
            vocabulary,
            lowercase=lowercase,
            normalization_form=normalization_form,
            reserved_tokens=reserved_tokens,
            sequence_length=sequence_length,
        )


# ======================================================================= WordPiece
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


# ================================================================= byte-level BPE
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
        # SentencePiece needs an unknown piece; byte-level BPE never emits it.
        piece = proto.pieces.add()
        piece.piece = "\ue000<unk>"
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

    Args:
        vocabulary: list of byte-level tokens, index = id (all 256 single bytes plus
            merged pieces, plus reserved tokens).
        merges: list of "left right" merge rules in the order they were learned.
        lowercase: NFKC case folding before tokenizing.
        normalization_form: None, "NFC", "NFD", "NFKC" or "NFKD".
        reserved_tokens: which vocabulary entries are special; default: those of
            `SPECIAL_TOKENS` found in `vocabulary`.
        sequence_length: None (ragged ids) or an int (dense, padded ids).

    Example:

    >>> tokenizer = BytePairTokenizer.train(["привет, world! 🙂"] * 4, 300)
    >>> tokenizer.detokenize(tokenizer("мир 🙂 hello")).numpy().decode()
    'мир 🙂 hello'
    """

    _ASSETS = (
        ("vocabulary", "vocabulary.json", "json"),
        ("merges", "merges.txt", "lines"),
    )

    def __init__(
        self,
        vocabulary,
        merges,
        lowercase=False,
        normalization_form=None,
        reserved_tokens=None,
        sequence_length=None,
        **kwargs,
    ):
        super().__init__(sequence_length=sequence_length, **kwargs)
        cls = type(self)
        _check_options(cls, lowercase, normalization_form, sequence_length)
        vocabulary = _check_vocabulary(cls, vocabulary)
        self._reserved_tokens = _resolve_reserved(cls, reserved_tokens, vocabulary)
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
        self.vocabulary = vocabulary
        self.merges = merges
        self.lowercase = lowercase
        self.normalization_form = normalization_form
        self._normalize = _normalize_fn(lowercase, normalization_form)
        decoded = [
            t.encode("utf-8") if t in reserved else _bytes.byte_level_to_bytes(t)
            for t in vocabulary
        ]
        model = _byte_level_model_proto(vocabulary, merges, self._reserved_tokens)
        with tf.init_scope():
            self._sentencepiece = _SentencepieceOp(model)
            self._decode_table = tf.constant(decoded, tf.string)

    def get_vocabulary(self):
        return list(self.vocabulary)

    def _tokenize_batch(self, text):
        text = self._normalize(text)
        # One character per byte: byte b becomes code point b (Latin-1).
        latin1 = tf.strings.unicode_transcode(text, "ISO-8859-1", "UTF-8")
        return self._sentencepiece.tokenize(latin1)

    def _detokenize_batch(self, ids):
        text = tf.strings.reduce_join(tf.gather(self._decode_table, ids), axis=-1)
        return tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "merges": list(self.merges),
                "lowercase": self.lowercase,
                "normalization_form": self.normalization_form,
                "reserved_tokens": list(self._reserved_tokens),
            }
        )
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
        """Learn byte-level BPE merges with HF `tokenizers` (deterministic).

        Args:
            data: list of texts, path to a text file (one document a line), list of
                paths, or a `tf.data.Dataset` of `tf.string`.
            vocabulary_size: total size: reserved tokens + 256 bytes + merges.
            reserved_tokens: special tokens at ids 0..n-1.
            lowercase, normalization_form, sequence_length: see the class.
            min_frequency: pairs seen fewer times are not merged.
            verbose: progress bar for corpora of more than 10k documents.
        """
        from tokenizers import Regex, models, pre_tokenizers, trainers
        from tokenizers import Tokenizer as HFTokenizer

        reserved_tokens = _check_reserved_tokens(reserved_tokens)
        _check_options(cls, lowercase, normalization_form, sequence_length)
        _check_vocabulary_size(
            cls,
            vocabulary_size,
            len(reserved_tokens) + 256,
            f"{len(reserved_tokens)} reserved tokens + 256 byte tokens",
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
        return cls(
            vocabulary,
            merges,
            lowercase=lowercase,
            normalization_form=normalization_form,
            reserved_tokens=reserved_tokens,
            sequence_length=sequence_length,
        )


# =================================================================== SentencePiece
_MODEL_TYPES = ("bpe", "unigram")


@keras.saving.register_keras_serializable(package="zoo")
class SentencePieceTokenizer(Tokenizer):
    """SentencePiece tokenizer (BPE or unigram) with byte fallback.

    Trained with `sentencepiece` (Kudo & Richardson 2018, arXiv:1808.06226), run
    in-graph with `tensorflow_text.SentencepieceTokenizer`. Spaces are part of the
    pieces ("▁"), so `detokenize(tokenize(x))` gives back the normalized text (NFKC
    by default); characters outside the vocabulary become UTF-8 byte pieces, so any
    Unicode text round-trips. Reserved tokens are control pieces at ids 0..n-1.

    Args:
        proto: the serialized SentencePiece `ModelProto` (bytes, or base64 str as in
            `get_config()`).
        lowercase: NFKC case folding before tokenizing.
        sequence_length: None (ragged ids) or an int (dense, padded ids).

    Example:

    >>> tokenizer = SentencePieceTokenizer.train(["привет мир", "hello world"] * 3, 300)
    >>> tokenizer.detokenize(tokenizer("привет world 🙂")).numpy().decode()
    'привет world 🙂'
    """

    _ASSETS = (("proto", "sentencepiece.model", "binary"),)

    def __init__(self, proto, lowercase=False, sequence_length=None, **kwargs):
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
        self._vocabulary = [p.piece for p in model.pieces]
        self._reserved_tokens = [
            p.piece for p in model.pieces if p.type in (piece_type.CONTROL, piece_type.UNKNOWN)
        ]
        # Repair invalid UTF-8 before the op: SentencePiece's own repair emits U+FFFD after
        # its normalization (as three byte pieces), while "nmt_nfkc" maps a U+FFFD in the
        # text to a space, so raw bytes gave other ids than the repaired text (and than
        # training, which sees repaired text).
        self._normalize = _normalize_fn(lowercase, None)
        with tf.init_scope():
            self._sentencepiece = _SentencepieceOp(self.proto)

    def get_vocabulary(self):
        return list(self._vocabulary)

    def _tokenize_batch(self, text):
        return self._sentencepiece.tokenize(self._normalize(text))

    def _detokenize_batch(self, ids):
        text = self._sentencepiece.detokenize(ids)
        return tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")

    def get_config(self):
        config = super().get_config()
        config.update({"proto": _b64(self.proto), "lowercase": self.lowercase})
        return config

    @classmethod
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
        """Train a SentencePiece model (deterministic: one thread, no sampling).

        Args:
            data: list of texts, path to a text file (one document a line), list of
                paths, or a `tf.data.Dataset` of `tf.string`.
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
            verbose: progress bar for corpora of more than 10k documents.
        """
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


_TOKENIZER_CLASSES = {
    cls.__name__: cls
    for cls in (
        CharacterTokenizer,
        WordTokenizer,
        WordPieceTokenizer,
        BytePairTokenizer,
        SentencePieceTokenizer,
    )
}
