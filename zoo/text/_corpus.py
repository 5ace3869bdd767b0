"""Reading a training corpus for `Tokenizer.train` (private).

`data` may be a list/tuple/array of texts, a path to a text file (one document a
line), a list of paths, or a `tf.data.Dataset` of `tf.string` (scalar or batched
elements). Texts come back as a list of Python `str`, optionally normalized by a
TensorFlow function (the same one `tokenize` runs, so training and inference see
the same text).
"""

import os

import numpy as np
import tensorflow as tf

__all__ = ["read_corpus"]

# A progress bar appears once this many documents have been read.
PROGRESS_THRESHOLD = 10_000
_CHUNK = 4096


class _Progress:
    """A tqdm bar that only shows up once the corpus turns out to be large."""

    def __init__(self, verbose, total=None, description="reading corpus"):
        self.verbose = verbose
        self.total = total
        self.description = description
        self.count = 0
        self.bar = None

    def update(self, n):
        self.count += n
        if self.bar is None and self.verbose and self.count > PROGRESS_THRESHOLD:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.total, initial=self.count, desc=self.description, unit=" lines"
            )
        elif self.bar is not None:
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _decode(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    raise ValueError(
        f"Tokenizer.train() received a corpus element of type {type(value).__name__} "
        f"({value!r:.80}). Expected str or bytes texts. Pass a list of strings, a file "
        "path, a list of file paths or a tf.data.Dataset of tf.string."
    )


def _is_path(value):
    return (
        isinstance(value, (str, os.PathLike)) and len(str(value)) < 4096 and (os.path.isfile(value))
    )


def _count_lines(path):
    count = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            count += block.count(b"\n")
    return count


def _chunks_from_files(paths):
    chunk = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
            for line in f:
                chunk.append(line.rstrip("\r\n"))
                if len(chunk) == _CHUNK:
                    yield chunk
                    chunk = []
    if chunk:
        yield chunk


def _chunks_from_dataset(dataset):
    spec = dataset.element_spec
    if not isinstance(spec, tf.TensorSpec) or spec.dtype != tf.string:
        raise ValueError(
            f"Tokenizer.train() received a tf.data.Dataset with element_spec={spec}. "
            "Expected a dataset of tf.string tensors (scalars or batches). Map it to the "
            "text feature first, e.g. `dataset.map(lambda x: x['text'])`."
        )
    if spec.shape.rank == 0:
        dataset = dataset.batch(_CHUNK)
    for element in dataset.as_numpy_iterator():
        values = np.asarray(element, dtype=object).reshape(-1)
        yield [_decode(v) for v in values]


def _chunks_from_list(texts):
    for start in range(0, len(texts), _CHUNK):
        yield [_decode(v) for v in texts[start : start + _CHUNK]]


def _source(data):
    """(chunk iterator, total number of documents or None)."""
    if isinstance(data, tf.data.Dataset):
        cardinality = int(data.cardinality())
        total = cardinality if data.element_spec.shape.rank == 0 and cardinality >= 0 else None
        return _chunks_from_dataset(data), total
    if isinstance(data, (str, os.PathLike)):
        if not _is_path(data):
            raise ValueError(
                f"Tokenizer.train() received the string {str(data)!r:.100}, which is not a "
                "path to an existing file. Pass a path to a text file (one document a line), "
                "or a list of texts such as `['first text', 'second text']`."
            )
        return _chunks_from_files([data]), _count_lines(data)
    if isinstance(data, np.ndarray):
        data = data.reshape(-1).tolist()
    if isinstance(data, (list, tuple)):
        if data and all(_is_path(v) for v in data):
            return _chunks_from_files(data), sum(_count_lines(p) for p in data)
        return _chunks_from_list(list(data)), len(data)
    raise ValueError(
        f"Tokenizer.train() received data of type {type(data).__name__}. Expected a list of "
        "texts, a path to a text file, a list of paths, or a tf.data.Dataset of tf.string."
    )


def read_corpus(data, normalize=None, verbose=True):
    """All documents of `data` as a list of `str`, normalized by `normalize` if given.

    Args:
        data: see the module docstring.
        normalize: None or a function `tf.string (batch,) -> tf.string (batch,)`.
        verbose: show a progress bar for corpora of more than 10k documents.

    Raises:
        ValueError: for unsupported `data` or a corpus without any text.
    """
    chunks, total = _source(data)
    progress = _Progress(verbose, total)
    texts = []
    try:
        for chunk in chunks:
            if normalize is not None and chunk:
                # Eager: a few ops per 4096 texts, no tracing.
                values = normalize(tf.constant(chunk, dtype=tf.string)).numpy()
                chunk = [v.decode("utf-8", errors="replace") for v in values]
            texts.extend(chunk)
            progress.update(len(chunk))
    finally:
        progress.close()
    if not any(text.strip() for text in texts):
        raise ValueError(
            f"Tokenizer.train() received an empty corpus ({len(texts)} documents, none with "
            "non-whitespace text). Pass texts to learn the vocabulary from, e.g. a list of "
            "sentences or a path to a non-empty text file."
        )
    return texts
