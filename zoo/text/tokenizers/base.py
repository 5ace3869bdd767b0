"""The `Tokenizer` base layer, shared argument checks and normalization, `load_tokenizer`.

The subclasses, one module per family, import from here; the package `__init__` fills
`_TOKENIZER_CLASSES` once they are all imported.
"""

import base64
import json
import os
import textwrap

import keras
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from zoo._checks import check_int

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[BOS]", "[EOS]")
# The roles of special tokens, in the order of `SPECIAL_TOKENS` (role "pad" is "[PAD]" by
# default); `special_tokens_map` gives them other tokens ("<pad>", "<|endoftext|>", ...).
SPECIAL_TOKEN_ROLES = ("pad", "unk", "cls", "sep", "mask", "bos", "eos")
_DEFAULT_SPECIAL_TOKENS_MAP = dict(zip(SPECIAL_TOKEN_ROLES, SPECIAL_TOKENS))

_NORMALIZATION_FORMS = (None, "NFC", "NFD", "NFKC", "NFKD")
_CONFIG_FILE = "config.json"

# Class name -> tokenizer class, for `Tokenizer.load` and `load_tokenizer`. The package
# `__init__` fills it once every subclass module is imported (importing them here would
# be an import cycle).
_TOKENIZER_CLASSES = {}
# The config entries of what `Tokenizer._set_vocabulary` keeps (see `_CONFIG_ATTRIBUTES`).
_VOCABULARY_CONFIG = ("vocabulary", "lowercase", "normalization_form", "reserved_tokens")
# "from_preset" -> `zoo.text.tokenizers.pretrained.from_preset`, which `Tokenizer.from_preset`
# and `load_tokenizer` call. The package `__init__` sets it after importing `pretrained`
# (which imports the subclasses, so importing it here would be an import cycle too).
_PRESET_LOADERS = {}


def _from_preset(preset, side=None, sequence_length=None):
    """`zoo.text.tokenizers.from_preset`, through the loader the package registered."""
    return _PRESET_LOADERS["from_preset"](preset, side=side, sequence_length=sequence_length)


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


def _check_special_tokens_map(cls, special_tokens_map):
    if special_tokens_map is None:
        return None
    if not isinstance(special_tokens_map, dict):
        raise ValueError(
            f"{cls.__name__} received special_tokens_map={special_tokens_map!r}. Expected None "
            f"or a dict from roles {SPECIAL_TOKEN_ROLES} to reserved tokens, e.g. "
            "{'bos': '<s>', 'eos': '</s>', 'pad': '<pad>'}."
        )
    unknown = sorted(set(special_tokens_map) - set(SPECIAL_TOKEN_ROLES), key=str)
    if unknown:
        raise ValueError(
            f"{cls.__name__} received special_tokens_map with roles {unknown!r}. Expected "
            f"roles among {SPECIAL_TOKEN_ROLES}."
        )
    bad = {k: v for k, v in special_tokens_map.items() if v is not None and not isinstance(v, str)}
    if bad:
        raise ValueError(
            f"{cls.__name__} received special_tokens_map with non-string tokens {bad!r}. "
            "Expected a token string (or None: the role has no token) for each role."
        )
    return {
        role: special_tokens_map[role] for role in SPECIAL_TOKEN_ROLES if role in special_tokens_map
    }


def _check_sequence_length(cls, sequence_length):
    if sequence_length is not None:
        hint = "Pass None for ragged output, or the length to pad dense output to."
        check_int(sequence_length, "sequence_length", cls.__name__, hint=hint)


def _check_training(cls, vocabulary_size, reserved_tokens, options, unit, add_unknown=False):
    """The argument checks a subclass's `train` starts with; returns the reserved tokens.

    `options` is `(lowercase, normalization_form, sequence_length)`; `unit` says what the
    vocabulary needs beyond the reserved tokens, count first ("1 word", "256 byte
    tokens"); `add_unknown` appends "[UNK]" to the reserved tokens when they lack it.
    """
    reserved_tokens = _check_reserved_tokens(reserved_tokens)
    if add_unknown and "[UNK]" not in reserved_tokens:
        reserved_tokens = [*reserved_tokens, "[UNK]"]
    _check_options(cls, *options)
    count = len(reserved_tokens)
    minimum = count + int(unit.split()[0])
    _check_vocabulary_size(cls, vocabulary_size, minimum, f"{count} reserved tokens + {unit}")
    return reserved_tokens


# The `Args` entries every subclass's `train` documents alike (see `_train_doc`).
_TRAIN_DATA_DOC = """data: list of texts, path to a text file (one document a line), list of
    paths, or a `tf.data.Dataset` of `tf.string`."""
_TRAIN_VERBOSE_DOC = "verbose: progress bar for corpora of more than 10k documents."


def _train_doc(summary, arguments):
    """Decorator giving a subclass's `train` its docstring: `summary`, then `Args:` with
    `data`, the subclass's own `arguments` (docstring `Args` entries, in a string of
    their own, indentation removed) and `verbose`, laid out as an inline docstring."""
    entries = "\n".join(
        [_TRAIN_DATA_DOC, textwrap.dedent(arguments).strip("\n"), _TRAIN_VERBOSE_DOC]
    )
    doc = f"{summary}\n\n        Args:\n{textwrap.indent(entries, ' ' * 12)}\n        "

    def document(train):
        train.__doc__ = doc
        return train

    return document


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


def _b64(data):
    return base64.b64encode(data).decode("ascii")


class Tokenizer(keras.layers.Layer):
    """Base class of the zoo tokenizers: `tf.string` in, int32 ids out, as TF ops.

    Subclasses implement `_tokenize_batch` (a 1-D batch of strings -> ragged ids),
    `_detokenize_batch` (ragged ids -> a 1-D batch of strings), `get_vocabulary` (unless
    they keep their tokens with `_set_vocabulary`) and
    `train`. The base class handles input ranks, padding to `sequence_length`,
    special tokens, config and directory saving.

    Args:
        sequence_length: None for ragged output, or an int: dense output truncated and
            padded with `pad_token_id` (0 when there is no "[PAD]") to that length.
        special_tokens_map: None (role "pad" is "[PAD]", "unk" is "[UNK]", ... as in
            `SPECIAL_TOKENS`), or a dict from roles (`SPECIAL_TOKEN_ROLES`: "pad", "unk",
            "cls", "sep", "mask", "bos", "eos") to reserved tokens, for vocabularies
            that name them otherwise (RoBERTa's "<s>", GPT-2's "<|endoftext|>"); a role
            left out has no token (its `*_token_id` is None).
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

    def __init__(self, sequence_length=None, special_tokens_map=None, **kwargs):
        kwargs.setdefault("dtype", "int32")
        kwargs.pop("trainable", None)
        super().__init__(trainable=False, **kwargs)
        _check_sequence_length(type(self), sequence_length)
        self.sequence_length = None if sequence_length is None else int(sequence_length)
        self.special_tokens_map = _check_special_tokens_map(type(self), special_tokens_map)
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
        if not hasattr(self, "vocabulary"):  # kept by `_set_vocabulary`
            raise NotImplementedError
        return list(self.vocabulary)

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

    def special_token(self, role):
        """The token of a role ("pad", "unk", "cls", "sep", "mask", "bos", "eos"), or None."""
        if role not in SPECIAL_TOKEN_ROLES:
            raise ValueError(
                f"{type(self).__name__}.special_token() received role={role!r}. Expected one "
                f"of {SPECIAL_TOKEN_ROLES}."
            )
        if self.special_tokens_map is None:
            token = _DEFAULT_SPECIAL_TOKENS_MAP[role]
            return token if token in self._reserved_tokens else None
        return self.special_tokens_map.get(role)

    def _check_special_tokens(self):
        """Subclasses call this once `_reserved_tokens` is set: mapped tokens must be reserved."""
        if self.special_tokens_map is None:
            return
        reserved = set(self._reserved_tokens)
        missing = {
            r: t for r, t in self.special_tokens_map.items() if t is not None and t not in reserved
        }
        if missing:
            raise ValueError(
                f"{type(self).__name__} received special_tokens_map entries {missing!r} whose "
                f"tokens are not reserved tokens (reserved: {sorted(reserved)[:10]!r}). Map "
                "roles to reserved tokens, or add the tokens to reserved_tokens."
            )

    def _special_id(self, role):
        token = self.special_token(role)
        return None if token is None else self.token_to_id(token)

    # `pad_token_id` ... `eos_token_id`: the id of each role's token, or None.
    pad_token_id = property(lambda self: self._special_id("pad"))
    unk_token_id = property(lambda self: self._special_id("unk"))
    cls_token_id = property(lambda self: self._special_id("cls"))
    sep_token_id = property(lambda self: self._special_id("sep"))
    mask_token_id = property(lambda self: self._special_id("mask"))
    bos_token_id = property(lambda self: self._special_id("bos"))
    eos_token_id = property(lambda self: self._special_id("eos"))

    # ------------------------------------------------------- shared by the subclasses
    def _set_vocabulary(self, vocabulary, reserved_tokens, lowercase, normalization_form):
        """Check and keep what every vocabulary-based subclass holds: `vocabulary`, its
        reserved tokens, `lowercase` and `normalization_form`. Returns the checked
        vocabulary (a list of strings). Called by `__init__` after `super().__init__`."""
        cls = type(self)
        _check_options(cls, lowercase, normalization_form, self.sequence_length)
        vocabulary = _check_vocabulary(cls, vocabulary)
        self._reserved_tokens = _resolve_reserved(cls, reserved_tokens, vocabulary)
        self._check_special_tokens()
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self.normalization_form = normalization_form
        return vocabulary

    @classmethod
    def _trained(cls, vocabulary, reserved_tokens, options, *args, **kwargs):
        """The tokenizer a subclass's `train` returns, from what it learned and the
        `options` it checked, `(lowercase, normalization_form, sequence_length)`; `args`
        and `kwargs` are the subclass's own constructor arguments."""
        lowercase, normalization_form, sequence_length = options
        return cls(
            vocabulary,
            *args,
            lowercase=lowercase,
            normalization_form=normalization_form,
            reserved_tokens=reserved_tokens,
            sequence_length=sequence_length,
            **kwargs,
        )

    # ----------------------------------------------------------------------- config
    # The constructor arguments `get_config` reads from the attributes of the same name
    # (lists copied); a subclass lists its own, `_VOCABULARY_CONFIG` first where it calls
    # `_set_vocabulary`, and adds what depends on other settings in its `get_config`.
    _CONFIG_ATTRIBUTES = ()

    def get_config(self):
        config = super().get_config()
        config.pop("trainable", None)
        config["sequence_length"] = self.sequence_length
        if self.special_tokens_map is not None:
            config["special_tokens_map"] = dict(self.special_tokens_map)
        for name in self._CONFIG_ATTRIBUTES:
            value = getattr(self, name)
            config[name] = list(value) if isinstance(value, (list, tuple)) else value
        return config

    # ---------------------------------------------------------------- save and load
    def save(self, path):
        """Write the tokenizer to directory `path` (config.json plus vocabulary files)."""
        os.makedirs(path, exist_ok=True)
        config = self.get_config()
        for key, file_name, kind in self._ASSETS:
            value = config.pop(key, None)
            if value is None:  # an optional asset this tokenizer does not have
                continue
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
            if key not in config and not os.path.exists(file_path):
                continue  # an optional asset this tokenizer does not have
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

    @classmethod
    def from_preset(cls, preset, side=None, sequence_length=None):
        """A pretrained tokenizer as a zoo tokenizer of this class.

        `preset` is a directory (a zoo tokenizer saved with `save`, a keras-hub preset
        written by `save_to_preset`, or a Hugging Face checkpoint of model_type "bert",
        "roberta", "gpt2" or "marian"), a Hugging Face id "hf://org/name" or a keras-hub
        preset name (both downloaded only then). See `zoo.text.tokenizers.from_preset`.

        Raises:
            ValueError: the preset loads as another tokenizer class than this one (e.g.
                `WordPieceTokenizer.from_preset` on a GPT-2 checkpoint).

        Example:

        >>> tokenizer = WordPieceTokenizer.from_preset("path/to/bert")  # doctest: +SKIP
        """
        tokenizer = _from_preset(preset, side=side, sequence_length=sequence_length)
        if not isinstance(tokenizer, cls):
            raise ValueError(
                f"{cls.__name__}.from_preset() received preset={preset!r}, which loads as a "
                f"{type(tokenizer).__name__}, not a {cls.__name__}. Call "
                f"{type(tokenizer).__name__}.from_preset(...) or "
                "zoo.text.load_tokenizer(...), which returns whichever class fits."
            )
        return tokenizer

    # ------------------------------------------------------------------------ train
    @classmethod
    def train(cls, data, vocabulary_size, reserved_tokens=SPECIAL_TOKENS, **options):
        """Learn a vocabulary from `data`; returns a tokenizer. See the subclasses."""
        raise NotImplementedError(
            f"{cls.__name__} has no trainer; use one of {sorted(_TOKENIZER_CLASSES)}."
        )


def _is_saved_tokenizer(path):
    """Whether directory `path` holds a zoo tokenizer written by `Tokenizer.save`."""
    config_path = os.path.join(path, _CONFIG_FILE)
    if not os.path.isfile(config_path):
        return False
    try:
        with open(config_path, encoding="utf-8") as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and saved.get("class_name") in _TOKENIZER_CLASSES


def load_tokenizer(path, side=None, sequence_length=None):
    """Restore any zoo tokenizer saved with `tokenizer.save(path)`, or load a pretrained one.

    Args:
        path: a directory written by `tokenizer.save(path)`; or a preset for
            `zoo.text.tokenizers.from_preset`: a keras-hub preset directory or name, a
            Hugging Face checkpoint directory or "hf://org/name".
        side: "source" or "target" for translation checkpoints (Marian); else None.
        sequence_length: overrides the saved `sequence_length` (presets: None = ragged).

    Example:

    >>> import tempfile
    >>> tokenizer = WordTokenizer.train(["a b c", "a b"], vocabulary_size=10)
    >>> directory = tempfile.mkdtemp()
    >>> tokenizer.save(directory)
    >>> type(load_tokenizer(directory)).__name__
    'WordTokenizer'
    """
    return _from_preset(path, side=side, sequence_length=sequence_length)
