"""tf.data pipelines: strings in, static-shape int32 batches out (TPU-ready).

Every pipeline runs the same steps, on the host, inside tf.data:

    shuffle (seeded) -> batch(drop_remainder=True) -> repair UTF-8 -> preprocess -> tokenize
    -> truncate / add special tokens / pad to a static length -> prefetch

Tokenization runs on whole batches (one op call per batch, not per line), which is what makes
in-graph tokenizers fast. Outputs are `int32` ids and `bool` masks whose shapes are fully
static (`[batch_size, sequence_length]`), so the model compiles once under XLA / on TPU.
With a `seed` the order is deterministic; `reshuffle_each_iteration=False` also repeats the
same order every epoch.

`translation_arrays` and `classification_arrays` tokenize and pack every example at once into
numpy arrays instead, for the step-indexed batches of `zoo.data.steps` (the recipes' path;
language-model windows and BERT pretraining arrays live in `zoo.data.language_model` and
`zoo.data.pretraining`).

A tokenizer is anything with `tokenize(strings)` (or callable) returning int32 ids, ragged or
padded, and the special-token properties the pipeline needs (`pad_token_id`, `bos_token_id`,
`eos_token_id`, `cls_token_id`, `sep_token_id`), e.g. `zoo.text.tokenizers.WordPieceTokenizer`.
A preprocessor is any string -> string Keras layer or callable (e.g. `zoo.text.TextNormalizer`).

Example:

```python
pairs = zoo.data.load_translation_pairs("bundled", split="train", direction="ru-en")
dataset = translation_dataset(pairs, tokenizer, source_length=32, target_length=32,
                              batch_size=64, seed=0)
features, labels = next(iter(dataset))  # features["decoder_token_ids"]: (64, 32) int32
```
"""

import functools

import numpy as np
import tensorflow as tf

__all__ = [
    "classification_arrays",
    "classification_dataset",
    "pack_token_ids",
    "tokenize_and_batch",
    "translation_arrays",
    "translation_dataset",
]

AUTOTUNE = tf.data.AUTOTUNE
DEFAULT_SHUFFLE_BUFFER_SIZE = 10_000


# ---------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------


def pack_token_ids(
    token_ids,
    sequence_length,
    pad_token_id,
    start_token_id=None,
    end_token_id=None,
    keep_end_token=True,
):
    """Truncate, add start/end tokens and pad a batch of ids to a static length.

    With `keep_end_token=True` the ids are truncated first so that the end token always fits:
    a row keeps at most `sequence_length - (start is set) - (end is set)` of its own ids. With
    `keep_end_token=False` the end token is appended before truncating, so a row cut short
    has none (a language model then never learns to stop where the text went on).

    Args:
        token_ids: int ids, a `tf.RaggedTensor` `(batch, None)` or a dense `(batch, n)`
            without padding.
        sequence_length: the static output length.
        pad_token_id: id written after the end of each row.
        start_token_id, end_token_id: ids put before / after each row, or `None`.
        keep_end_token: see above.

    Returns:
        `(token_ids, padding_mask)`: int32 `(batch, sequence_length)` and bool
        `(batch, sequence_length)`, `True` on real tokens (special tokens included).
    """
    if not isinstance(token_ids, tf.RaggedTensor):
        token_ids = tf.RaggedTensor.from_tensor(token_ids)
    token_ids = tf.cast(token_ids, tf.int32)
    has_start, has_end = start_token_id is not None, end_token_id is not None
    room = sequence_length - has_start - (has_end and keep_end_token)
    if room < 0:
        raise ValueError(
            f"Received sequence_length={sequence_length}, too short for the start/end tokens; "
            "use at least 2."
        )
    # Dense ops only: ragged concat/slicing costs far more to trace and to run.
    lengths = tf.minimum(tf.cast(token_ids.row_lengths(), tf.int32), room)  # (batch,)
    body = token_ids.to_tensor(default_value=pad_token_id, shape=[None, room])  # truncates
    batch = tf.shape(body)[0]
    pieces = [body]
    if has_start:
        pieces.insert(0, tf.fill([batch, 1], tf.constant(start_token_id, tf.int32)))
        lengths += 1
    width = room + has_start
    if width < sequence_length:
        pad = tf.fill([batch, sequence_length - width], tf.constant(pad_token_id, tf.int32))
        pieces.append(pad)
    dense = tf.concat(pieces, axis=1) if len(pieces) > 1 else body
    if has_end:
        positions = tf.range(sequence_length, dtype=tf.int32)[None, :]
        at_end = positions == lengths[:, None]  # all False for a full row without room
        dense = tf.where(at_end, tf.constant(end_token_id, tf.int32), dense)
        lengths = tf.minimum(lengths + 1, sequence_length)
    mask = tf.sequence_mask(lengths, sequence_length)
    return dense, mask


def tokenize_and_batch(
    dataset,
    tokenizer,
    sequence_length,
    batch_size,
    *,
    preprocessor=None,
    start_token_id=None,
    end_token_id=None,
    shuffle=False,
    shuffle_buffer_size=DEFAULT_SHUFFLE_BUFFER_SIZE,
    seed=None,
    reshuffle_each_iteration=True,
    prefetch=True,
):
    """Batch, tokenize and pad texts: the building block of the other pipelines.

    Args:
        dataset: a `tf.data.Dataset` (or list) of `tf.string` scalars, or of tuples whose
            first element is the text; the other elements are batched and passed through.
        tokenizer: a tokenizer (see the module docstring).
        sequence_length: static length of every row (special tokens included).
        batch_size: static batch size; the last incomplete batch is dropped.
        preprocessor: optional string -> string layer or callable applied before tokenizing.
        start_token_id, end_token_id: special ids around each row, or `None`.
        shuffle: shuffle examples (before batching) with `shuffle_buffer_size` and `seed`.
        seed: shuffle seed; with a seed the order is the same on every run.
        reshuffle_each_iteration: draw a new order each epoch (still seeded).
        prefetch: end with `prefetch(AUTOTUNE)`.

    Returns:
        A dataset of `{"token_ids": int32 (b, L), "padding_mask": bool (b, L)}`, or of
        `(that dict, *other elements)` for tuple input.
    """
    dataset = _as_dataset(dataset, "dataset")
    _check_sizes(sequence_length=sequence_length, batch_size=batch_size)
    pad_token_id = _special_token_id(tokenizer, "pad_token_id", default=0)
    is_tuple = isinstance(dataset.element_spec, tuple)
    _check_strings(dataset.element_spec[0] if is_tuple else dataset.element_spec, "dataset")
    dataset = _shuffle_and_batch(
        dataset, batch_size, shuffle, shuffle_buffer_size, seed, reshuffle_each_iteration
    )

    def encode(texts):
        ids = _tokenize(tokenizer, _clean(texts, preprocessor))
        token_ids, padding_mask = pack_token_ids(
            ids, sequence_length, pad_token_id, start_token_id, end_token_id
        )
        return {
            "token_ids": _static(token_ids, batch_size, sequence_length),
            "padding_mask": _static(padding_mask, batch_size, sequence_length),
        }

    def map_fn(*elements):
        if not is_tuple:
            return encode(elements[0])
        rest = tuple(_static_batch(element, batch_size) for element in elements[1:])
        return (encode(elements[0]), *rest)

    return _finish(dataset, map_fn, prefetch)


# ---------------------------------------------------------------------------------------------
# Pipelines
# ---------------------------------------------------------------------------------------------


def translation_dataset(
    pairs,
    source_tokenizer,
    target_tokenizer=None,
    source_length=64,
    target_length=64,
    batch_size=32,
    *,
    source_preprocessor=None,
    target_preprocessor=None,
    sample_weights=False,
    shuffle=True,
    shuffle_buffer_size=DEFAULT_SHUFFLE_BUFFER_SIZE,
    seed=None,
    reshuffle_each_iteration=True,
    prefetch=True,
):
    """Encoder-decoder batches for sequence-to-sequence translation (teacher forcing).

    The source is tokenized, truncated to `source_length` and padded. The target `t` is
    truncated to `target_length - 1` ids; the decoder reads `[BOS] t` and learns to write
    `t [EOS]`, so `labels[:, i] == decoder_token_ids[:, i + 1]` on real tokens. Padding is
    `pad_token_id` in inputs and labels.

    Args:
        pairs: a `tf.data.Dataset` of `(source, target)` `tf.string` pairs (e.g. from
            `load_translation_pairs`) or a list of `(source, target)` tuples.
        source_tokenizer: tokenizer of the source side.
        target_tokenizer: tokenizer of the target side (with `bos_token_id` and
            `eos_token_id`); `None` uses `source_tokenizer` (a shared bilingual vocabulary).
        source_length, target_length: static lengths of encoder and decoder rows.
        batch_size: static batch size; incomplete batches are dropped.
        source_preprocessor, target_preprocessor: optional string -> string layers/callables.
        sample_weights: also yield float32 weights `(b, target_length)`, 0 on padding.
        shuffle, shuffle_buffer_size, seed, reshuffle_each_iteration, prefetch: as in
            `tokenize_and_batch`.

    Returns:
        A dataset of `({"encoder_token_ids", "encoder_padding_mask", "decoder_token_ids",
        "decoder_padding_mask"}, labels[, sample_weights])`: int32 ids and labels, bool masks,
        all `(batch_size, length)`.
    """
    pairs = _as_dataset(pairs, "pairs")
    _check_pair_spec(pairs.element_spec)
    _check_sizes(batch_size=batch_size)
    tokenize, pack = _translation_encoder(
        (source_tokenizer, target_tokenizer),
        (source_preprocessor, target_preprocessor),
        source_length,
        target_length,
    )
    pairs = _shuffle_and_batch(
        pairs, batch_size, shuffle, shuffle_buffer_size, seed, reshuffle_each_iteration
    )

    def encode(sources, targets):
        features, labels = pack(*tokenize(sources, targets))
        features = {
            key: _static(value, batch_size, target_length if "decoder" in key else source_length)
            for key, value in features.items()
        }
        return _with_weights(features, _static(labels, batch_size, target_length), sample_weights)

    return _finish(pairs, encode, prefetch)


def translation_arrays(
    pairs,
    source_tokenizer,
    target_tokenizer=None,
    source_length=64,
    target_length=64,
    *,
    source_preprocessor=None,
    target_preprocessor=None,
):
    """Every pair at once as the encoder-decoder arrays of `translation_dataset`, in numpy.

    The same rows as `translation_dataset` gives (source truncated to `source_length`;
    decoder `[BOS] t`, labels `t [EOS]`, `t` cut to `target_length - 1` ids), in the
    order of `pairs`, for `zoo.data.step_dataset`. Each side is tokenized in one call, or
    not at all when `pairs` is already tokenized (e.g. ids a caller kept from counting
    tokens).

    Args:
        pairs: a list of `(source, target)` strings or a `tf.data.Dataset` of them; or the
            pairs already tokenized: a tuple `(source_ids, target_ids)` of int
            `tf.RaggedTensor`s `(pairs, None)` (the preprocessors are then not used).
        source_tokenizer: tokenizer of the source side (its `pad_token_id`).
        target_tokenizer: tokenizer of the target side (with `bos_token_id` and
            `eos_token_id`); `None` uses `source_tokenizer`.
        source_length, target_length: lengths of encoder and decoder rows.
        source_preprocessor, target_preprocessor: optional string -> string layers/callables.

    Returns:
        `({"encoder_token_ids", "encoder_padding_mask", "decoder_token_ids",
        "decoder_padding_mask"}, labels)`: int32 ids and labels, bool masks, each
        `(len(pairs), length)`.

    Example:

    >>> features, labels = translation_arrays([("Привет!", "Hello!")], tokenizer, 16, 16)
    >>> features["decoder_token_ids"].shape, labels.shape
    ((1, 16), (1, 16))
    """
    tokenize, pack = _translation_encoder(
        (source_tokenizer, target_tokenizer),
        (source_preprocessor, target_preprocessor),
        source_length,
        target_length,
    )
    if isinstance(pairs, tuple) and len(pairs) == 2 and isinstance(pairs[0], tf.RaggedTensor):
        ids = tuple(tf.cast(side, tf.int32) for side in pairs)
    else:
        ids = tokenize(*_all_pairs(pairs))
    features, labels = pack(*ids)
    return {key: value.numpy() for key, value in features.items()}, labels.numpy()


def classification_dataset(
    texts_and_labels,
    tokenizer,
    sequence_length,
    batch_size,
    *,
    preprocessor=None,
    shuffle=True,
    shuffle_buffer_size=DEFAULT_SHUFFLE_BUFFER_SIZE,
    seed=None,
    reshuffle_each_iteration=True,
    prefetch=True,
):
    """Text classification batches, `[CLS] ids [SEP]` padded to a static length (BERT style).

    Args:
        texts_and_labels: a `tf.data.Dataset` of `(text, label)`, a list of `(text, label)`
            tuples, or a tuple `(texts, labels)` of two equal-length sequences. Labels may be
            integer class ids (cast to int32), floats, or fixed-size vectors (multi-label).
        tokenizer: a tokenizer with `cls_token_id`, `sep_token_id` and `pad_token_id`.
        sequence_length: static row length, [CLS] and [SEP] included.
        batch_size: static batch size; incomplete batches are dropped.
        preprocessor, shuffle, shuffle_buffer_size, seed, reshuffle_each_iteration, prefetch:
            as in `tokenize_and_batch`.

    Returns:
        A dataset of `({"token_ids": int32 (b, L), "padding_mask": bool (b, L)}, labels)`.
    """
    if (
        isinstance(texts_and_labels, tuple)
        and len(texts_and_labels) == 2
        and not isinstance(texts_and_labels[0], (str, bytes))
    ):
        texts, labels = texts_and_labels
        dataset = tf.data.Dataset.from_tensor_slices((_strings(texts, "texts"), labels))
    else:
        dataset = _as_dataset(texts_and_labels, "texts_and_labels")
    spec = dataset.element_spec
    if not (isinstance(spec, tuple) and len(spec) == 2):
        raise ValueError(
            f"Received texts_and_labels with elements {spec}; expected (text, label) pairs."
        )
    if spec[1].dtype.is_integer and spec[1].dtype != tf.int32:
        dataset = dataset.map(lambda text, label: (text, tf.cast(label, tf.int32)))
    return tokenize_and_batch(
        dataset,
        tokenizer,
        sequence_length,
        batch_size,
        preprocessor=preprocessor,
        start_token_id=_special_token_id(tokenizer, "cls_token_id"),
        end_token_id=_special_token_id(tokenizer, "sep_token_id"),
        shuffle=shuffle,
        shuffle_buffer_size=shuffle_buffer_size,
        seed=seed,
        reshuffle_each_iteration=reshuffle_each_iteration,
        prefetch=prefetch,
    )


def classification_arrays(texts, tokenizer, sequence_length, *, preprocessor=None):
    """Texts as `[CLS] ids [SEP]` rows padded to `sequence_length`, in numpy arrays.

    The inputs of `zoo.models.BertClassifier` for every text at once, tokenized in one
    call, for `zoo.data.step_dataset` (or `model.predict`). Rows that are too long are
    truncated before `[SEP]`, which always stays.

    Args:
        texts: a list of strings or a `tf.data.Dataset` of `tf.string` scalars.
        tokenizer: a tokenizer with `cls_token_id`, `sep_token_id` and `pad_token_id`.
        sequence_length: row length, `[CLS]` and `[SEP]` included.
        preprocessor: optional string -> string layer or callable applied before tokenizing.

    Returns:
        `{"token_ids", "padding_mask", "segment_ids"}`: int32 `(len(texts),
        sequence_length)` arrays; the mask is 1 on real tokens, the segment ids are 0.

    Example:

    >>> features = classification_arrays(["a short text", "another"], tokenizer, 16)
    >>> features["token_ids"].shape
    (2, 16)
    """
    _check_sizes(sequence_length=sequence_length)
    ids = _tokenize(tokenizer, _clean(_all_strings(texts, "texts"), preprocessor))
    token_ids, padding_mask = pack_token_ids(
        ids,
        sequence_length,
        _special_token_id(tokenizer, "pad_token_id", default=0),
        start_token_id=_special_token_id(tokenizer, "cls_token_id"),
        end_token_id=_special_token_id(tokenizer, "sep_token_id"),
    )
    token_ids = token_ids.numpy()
    return {
        "token_ids": token_ids,
        "padding_mask": padding_mask.numpy().astype("int32"),
        "segment_ids": np.zeros_like(token_ids),
    }


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _strings(values, name):
    try:
        tensor = tf.convert_to_tensor(values, dtype=tf.string)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"Received {name} that are not all strings ({error}); pass str or bytes."
        ) from error
    return tensor


def _as_dataset(data, name):
    """A `tf.data.Dataset` from a dataset, a list of strings, or a list of string tuples."""
    if isinstance(data, tf.data.Dataset):
        return data
    if isinstance(data, (str, bytes)):
        raise ValueError(
            f"Received a single string as {name}; pass a list of strings or a tf.data.Dataset "
            "(load files with zoo.data.load_text_dataset / load_translation_pairs)."
        )
    try:
        items = list(data)
    except TypeError as error:
        raise ValueError(
            f"Received {name} of type {type(data).__name__}; expected a tf.data.Dataset or a list."
        ) from error
    if not items:
        raise ValueError(f"Received empty {name}; pass at least batch_size examples.")
    if isinstance(items[0], (tuple, list)):
        columns = list(zip(*items))
        if any(len(item) != len(items[0]) for item in items):
            raise ValueError(f"Received {name} with tuples of different lengths.")
        tensors = [_strings(list(columns[0]), name)]
        for column in columns[1:]:
            is_text = isinstance(column[0], (str, bytes))
            tensors.append(_strings(list(column), name) if is_text else list(column))
        return tf.data.Dataset.from_tensor_slices(tuple(tensors))
    return tf.data.Dataset.from_tensor_slices(_strings(items, name))


def _all_strings(texts, name):
    """All texts as one `tf.string` vector, from a list or a dataset of scalars."""
    if isinstance(texts, tf.data.Dataset):
        _check_strings(texts.element_spec, name)
        texts = list(texts.as_numpy_iterator())
    elif isinstance(texts, (str, bytes)):
        raise ValueError(
            f"Received a single string as {name}; pass a list of strings or a "
            "tf.data.Dataset (load files with zoo.data.load_text_dataset)."
        )
    texts = list(texts)
    if not texts:
        raise ValueError(f"Received empty {name}; pass at least one text.")
    return _strings(texts, name)


def _all_pairs(pairs):
    """Both sides of every pair as two `tf.string` vectors, from a list or a dataset."""
    if isinstance(pairs, tf.data.Dataset):
        _check_pair_spec(pairs.element_spec)
        pairs = list(pairs.as_numpy_iterator())
    elif isinstance(pairs, (str, bytes)):
        raise ValueError("Received a single string as pairs; pass a list of (source, target).")
    pairs = list(pairs)
    if not pairs:
        raise ValueError("Received empty pairs; pass at least one (source, target) pair.")
    if any(not isinstance(pair, (tuple, list)) or len(pair) != 2 for pair in pairs):
        raise ValueError(
            "Received pairs that are not all (source, target) tuples; pass a list of string "
            "pairs, or (source_ids, target_ids) ragged tensors."
        )
    return (
        _strings([source for source, _ in pairs], "pairs (source side)"),
        _strings([target for _, target in pairs], "pairs (target side)"),
    )


def _source_end(tokenizer):
    """The eos id a source tokenizer ends every text with (`add_eos`, e.g. Marian's), or None."""
    if not getattr(tokenizer, "add_eos", False):
        return None
    return _special_token_id(tokenizer, "eos_token_id", required=False)


def _translation_encoder(tokenizers, preprocessors, source_length, target_length):
    """The two steps `translation_dataset` and `translation_arrays` share, after their
    checks: `tokenize(sources, targets)` -> ragged `(source_ids, target_ids)`, and
    `pack(source_ids, target_ids)` -> `(features, labels)` (see `_pack_translation`).

    `tokenizers` and `preprocessors` are `(source, target)` pairs; a `None` target
    tokenizer is the source one (a shared vocabulary).
    """
    _check_sizes(source_length=source_length, target_length=target_length)
    if target_length < 2:
        raise ValueError(
            f"Received target_length={target_length}; it must leave room for BOS/EOS (>= 2)."
        )
    source_tokenizer, target_tokenizer = tokenizers
    target_tokenizer = source_tokenizer if target_tokenizer is None else target_tokenizer
    source_preprocessor, target_preprocessor = preprocessors
    special = (
        _special_token_id(source_tokenizer, "pad_token_id", default=0),
        _special_token_id(target_tokenizer, "pad_token_id", default=0),
        _special_token_id(target_tokenizer, "bos_token_id"),
        _special_token_id(target_tokenizer, "eos_token_id"),
    )

    def tokenize(sources, targets):
        source_ids = _tokenize(source_tokenizer, _clean(sources, source_preprocessor))
        return source_ids, _tokenize(target_tokenizer, _clean(targets, target_preprocessor))

    pack = functools.partial(
        _pack_translation,
        source_length=source_length,
        target_length=target_length,
        special=special,
        source_end=_source_end(source_tokenizer),
    )
    return tokenize, pack


def _pack_translation(
    source_ids, target_ids, source_length, target_length, special, source_end=None
):
    """Encoder rows, decoder rows `[BOS] t` and labels `t [EOS]` from ragged ids.

    `special` is `(source_pad, target_pad, bos_token_id, eos_token_id)`; `t` is the
    target cut to `target_length - 1` ids. With `source_end` (the eos id an `add_eos`
    source tokenizer ends each row with), a source longer than `source_length` is cut
    before that eos and keeps it last, as Hugging Face's truncation does. Returns
    `(features, labels)` tensors.
    """
    source_pad, target_pad, bos_token_id, eos_token_id = special
    if source_end is not None:  # drop each row's final eos; pack_token_ids puts it back
        lengths = source_ids.row_lengths()
        last = tf.ragged.range(lengths).flat_values == tf.repeat(lengths - 1, lengths)
        ends = tf.logical_and(last, tf.equal(source_ids.flat_values, source_end))
        source_ids = tf.ragged.boolean_mask(
            source_ids, source_ids.with_flat_values(tf.logical_not(ends))
        )
    encoder_ids, encoder_mask = pack_token_ids(
        source_ids, source_length, source_pad, end_token_id=source_end
    )
    target_ids = target_ids[:, : target_length - 1]
    decoder_ids, decoder_mask = pack_token_ids(
        target_ids, target_length, target_pad, start_token_id=bos_token_id
    )
    labels, _ = pack_token_ids(target_ids, target_length, target_pad, end_token_id=eos_token_id)
    features = {
        "encoder_token_ids": encoder_ids,
        "encoder_padding_mask": encoder_mask,
        "decoder_token_ids": decoder_ids,
        "decoder_padding_mask": decoder_mask,
    }
    return features, labels


def _check_pair_spec(spec):
    if not (isinstance(spec, tuple) and len(spec) == 2):
        raise ValueError(
            f"Received pairs with elements {spec}; expected (source, target) string pairs, "
            "e.g. from zoo.data.load_translation_pairs()."
        )
    _check_strings(spec[0], "pairs (source side)")
    _check_strings(spec[1], "pairs (target side)")


def _check_strings(spec, name):
    if not (isinstance(spec, tf.TensorSpec) and spec.dtype == tf.string and spec.shape.rank == 0):
        raise ValueError(
            f"Received {name} with element spec {spec}; expected scalar tf.string texts (one "
            "example per element, not yet batched)."
        )


def _check_sizes(**sizes):
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"Received {name}={value!r}; expected a positive int.")


def _special_token_id(tokenizer, name, default=None, required=True):
    value = getattr(tokenizer, name, None)
    if value is None:
        if default is not None or not required:
            return default
        raise ValueError(
            f"The tokenizer {type(tokenizer).__name__} has no {name} (got None); this pipeline "
            f"needs it. Train the tokenizer with the special tokens reserved (e.g. "
            "'[BOS]', '[EOS]', '[CLS]', '[SEP]')."
        )
    return int(value)


def _shuffle_and_batch(dataset, batch_size, shuffle, buffer_size, seed, reshuffle):
    if shuffle:
        dataset = dataset.shuffle(buffer_size, seed=seed, reshuffle_each_iteration=reshuffle)
    return dataset.batch(batch_size, drop_remainder=True)


def _clean(texts, preprocessor):
    """Replace invalid UTF-8 with U+FFFD, then run the optional preprocessor."""
    texts = tf.strings.unicode_transcode(
        texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
    )
    if preprocessor is not None:
        texts = preprocessor(texts)
    return texts


def _tokenize(tokenizer, texts):
    """Ragged int32 ids `(batch, None)` from any tokenizer output."""
    tokenize = getattr(tokenizer, "tokenize", None)
    ids = tokenize(texts) if callable(tokenize) else tokenizer(texts)
    if isinstance(ids, tf.RaggedTensor):
        return tf.cast(ids, tf.int32)
    ids = tf.convert_to_tensor(ids)
    # A dense (batch, n) result is padded: drop trailing pad ids.
    pad_token_id = _special_token_id(tokenizer, "pad_token_id", default=0)
    return tf.cast(
        tf.RaggedTensor.from_tensor(ids, padding=tf.cast(pad_token_id, ids.dtype)), tf.int32
    )


def _static(tensor, *shape):
    return tf.ensure_shape(tensor, shape)


def _static_batch(tensor, batch_size):
    return tf.ensure_shape(tensor, [batch_size, *tensor.shape[1:]])


def _with_weights(features, labels, sample_weights):
    if not sample_weights:
        return features, labels
    # A label is real where the next-token position is real.
    weights = tf.cast(_label_mask(features, labels), tf.float32)
    return features, labels, weights


def _label_mask(features, labels):
    if "decoder_padding_mask" in features:
        return features["decoder_padding_mask"]
    return features["padding_mask"]


def _finish(batches, encode, prefetch):
    """`encode` mapped over the batches (in parallel, in order), then prefetched."""
    dataset = batches.map(encode, num_parallel_calls=AUTOTUNE, deterministic=True)
    options = tf.data.Options()
    options.deterministic = True
    dataset = dataset.with_options(options)
    return dataset.prefetch(AUTOTUNE) if prefetch else dataset
