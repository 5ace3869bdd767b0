"""Language-model data: documents -> one token stream -> next-token windows -> step batches.

- `token_stream`: every document's ids in one int32 stream, `[EOS]` after each document.
- `language_model_windows`: the stream, started with `[EOS]` (the document separator, so
  the first document is predicted from the same context as the others), cut into
  windows of `sequence_length + 1` ids with stride `sequence_length`: inputs
  `window[:-1]`, labels `window[1:]`; every token after the first is a label exactly once
  and no position is padding. The tail shorter than a window is dropped.
- `language_model_dataset`: those windows as step-indexed batches (`step_dataset`).

Text is tokenized once, in one call (in-graph tokenizers are fast on whole batches);
invalid UTF-8 is replaced by U+FFFD first.

Example:

```python
tokenizer = zoo.text.SentencePieceTokenizer.train(texts, vocabulary_size=3000)
features, labels = language_model_windows(texts, tokenizer, sequence_length=64)
# features["token_ids"]: (windows, 64) int32; labels: the same windows shifted by one
dataset = language_model_dataset(texts, tokenizer, sequence_length=64, batch_size=32)
```
"""

import numpy as np
import tensorflow as tf

from zoo.data.pipelines import _all_strings, _check_sizes, _clean, _special_token_id, _tokenize
from zoo.data.steps import step_dataset

__all__ = ["language_model_dataset", "language_model_windows", "token_stream"]


def token_stream(texts, tokenizer, *, preprocessor=None):
    """All documents' ids in one int32 stream, `eos_token_id` after each document.

    Args:
        texts: a list of documents (str or bytes) or a `tf.data.Dataset` of `tf.string`
            scalars.
        tokenizer: a tokenizer with `tokenize(strings)` and `eos_token_id`.
        preprocessor: optional string -> string layer or callable applied before tokenizing.

    Returns:
        int32 numpy array `(tokens,)`; a document with no tokens contributes its `[EOS]`.

    Example:

    >>> stream = token_stream(["a b", "c"], tokenizer)  # [a, b, EOS, c, EOS]
    """
    eos_token_id = _special_token_id(tokenizer, "eos_token_id")
    texts = _all_strings(texts, "texts")
    ids = _tokenize(tokenizer, _clean(texts, preprocessor))
    eos = tf.fill([tf.shape(texts)[0], 1], tf.constant(eos_token_id, tf.int32))
    joined = tf.concat([ids, tf.RaggedTensor.from_tensor(eos)], axis=1)
    return joined.flat_values.numpy()


def language_model_windows(texts, tokenizer, sequence_length, *, preprocessor=None):
    """Next-token windows over the documents' token stream, as numpy arrays.

    The stream is `[EOS]` followed by `token_stream(texts)`; window `k` is
    `stream[k * L : k * L + L + 1]` for `L = sequence_length`, so consecutive windows share
    one id and every token after the first is a label exactly once.

    Args:
        texts: documents, as in `token_stream`.
        tokenizer: a tokenizer with `tokenize(strings)` and `eos_token_id`.
        sequence_length: length of inputs and labels.
        preprocessor: optional string -> string layer or callable applied before tokenizing.

    Returns:
        `({"token_ids": int32 (windows, L), "padding_mask": int32 ones (windows, L)},
        labels int32 (windows, L))`, the inputs of `zoo.models.GPT` and its targets.

    Example:

    >>> features, labels = language_model_windows(texts, tokenizer, sequence_length=64)
    >>> bool((features["token_ids"][:, 1:] == labels[:, :-1]).all())
    True
    """
    _check_sizes(sequence_length=sequence_length)
    eos_token_id = _special_token_id(tokenizer, "eos_token_id")
    stream = token_stream(texts, tokenizer, preprocessor=preprocessor)
    stream = np.concatenate([[eos_token_id], stream])
    length = sequence_length
    count = (len(stream) - 1) // length
    if count < 1:
        raise ValueError(
            f"The text gives {len(stream)} tokens, fewer than one window of {length + 1}. "
            "Add text or lower sequence_length (--sequence-length)."
        )
    starts = np.arange(count) * length
    windows = stream[starts[:, None] + np.arange(length + 1)[None, :]].astype("int32")
    features = {"token_ids": windows[:, :-1], "padding_mask": np.ones((count, length), "int32")}
    return features, windows[:, 1:]


def language_model_dataset(
    texts,
    tokenizer,
    sequence_length,
    batch_size,
    *,
    seed=0,
    start_step=0,
    total_steps=None,
    shard=None,
    preprocessor=None,
):
    """Next-token prediction batches for a decoder-only (GPT) model.

    `language_model_windows` cut into the step-indexed batches of `step_dataset`: the
    batch of step `s` is a function of `(seed, s)`, every epoch a new seeded order of the
    windows; the last `windows % batch_size` windows of an epoch's order are left out.

    Args:
        texts: documents, as in `token_stream`.
        tokenizer: a tokenizer with `tokenize(strings)` and `eos_token_id`.
        sequence_length: static length of inputs and labels.
        batch_size: static (global) batch size.
        seed: the order of every epoch derives from it.
        start_step: the first step (a resumed run starts where it stopped).
        total_steps: one past the last step; default: one epoch.
        shard: `(process index, process count)`, as in `step_dataset`.
        preprocessor: optional string -> string layer or callable applied before tokenizing.

    Returns:
        A dataset of `({"token_ids": int32 (b, L), "padding_mask": int32 (b, L)},
        labels int32 (b, L))` with static shapes.

    Example:

    >>> dataset = language_model_dataset(texts, tokenizer, 64, 32, seed=0, total_steps=1000)
    >>> model.fit(dataset, steps_per_epoch=1000)
    """
    _check_sizes(sequence_length=sequence_length, batch_size=batch_size)
    arrays = language_model_windows(texts, tokenizer, sequence_length, preprocessor=preprocessor)
    if total_steps is None:
        total_steps = len(arrays[1]) // batch_size
    return step_dataset(arrays, batch_size, seed, start_step, total_steps, shard=shard)
