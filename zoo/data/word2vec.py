"""Word2Vec training data: a tokenized corpus -> static-shape, step-indexed batches.

Made with TensorFlow ops only:

1. the text is tokenized once with any zoo tokenizer (words or subwords) into one flat
   stream of ids plus document boundaries (`tokenize_corpus`), and token frequencies
   are counted in one pass (`np.bincount`);
2. each epoch, frequent tokens are dropped with Mikolov's subsampling probability
   (`keep_probabilities`), and reserved tokens ([PAD], [UNK], ...) and tokens seen
   fewer than `min_count` times are dropped (as gensim does, the window then reaches
   past them);
3. the kept stream is cut into steps of `batch_size` centers (`tf.signal.frame`, with
   `window` tokens of context on each side);
4. per step (a parallel `map` over groups of 32 steps, then `unbatch`): each center's
   context ids `(batch_size, 2 * window)`,
   their validity weights (same document, inside the center's random window b in
   [1, window]) and `num_negatives` noise ids per center drawn from the unigram^0.75
   distribution through a sampling table (`negative_sampling_table`).

Every random draw is stateless, seeded by `(seed, epoch, step)`, so the batch of a step
is a function of the step alone: `Word2VecData.dataset(start_step)` resumes a run
exactly where it stopped, as `recipes/training.py`'s step datasets do.

References: Mikolov et al. 2013, arXiv:1301.3781 and arXiv:1310.4546 (subsampling,
negative sampling).
"""

import functools
import os

import numpy as np
import tensorflow as tf

from zoo._checks import check_float, check_int

__all__ = [
    "Word2VecData",
    "keep_probabilities",
    "negative_sampling_table",
    "tokenize_corpus",
    "window_offsets",
    "word2vec_dataset",
]

TABLE_POWER = 0.75
_GROUP = 32  # steps made by one call of the pipeline's map (then unbatched)
_PARALLEL_GROUPS = max(1, min(8, os.cpu_count() or 1))  # groups the map builds at once


# ---------------------------------------------------------------------- tokenization
def _read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as file:
        return [line.strip() for line in file if line.strip()]


def _is_id_sequences(data):
    if isinstance(data, tf.RaggedTensor):
        return data.dtype.is_integer
    if isinstance(data, (list, tuple)) and data and not isinstance(data[0], str):
        first = data[0]
        return isinstance(first, (list, tuple, np.ndarray)) and all(
            isinstance(x, (int, np.integer)) for x in first
        )
    return False


def tokenize_corpus(data, tokenizer=None, batch_size=1024):
    """Tokenize a corpus once into a flat id stream and document boundaries.

    Args:
        data: a list of texts (one document each), a path to a UTF-8 text file (one
            document a line), a `tf.data.Dataset` of `tf.string` (scalars or batches),
            or already tokenized ids (a list of int lists or an int `tf.RaggedTensor`).
        tokenizer: a zoo tokenizer (`tokenizer(strings)` -> int ids); not needed for ids.
        batch_size: documents per tokenizer call.

    Returns:
        `(token_ids, row_splits)`: int32 `(num_tokens,)` and int64 `(num_documents + 1,)`
        numpy arrays; document d is `token_ids[row_splits[d]:row_splits[d + 1]]`.

    Example:

    >>> ids, splits = tokenize_corpus([[7, 8, 9], [8]])
    >>> ids.tolist(), splits.tolist()
    ([7, 8, 9, 8], [0, 3, 4])
    """
    if _is_id_sequences(data):
        if not isinstance(data, tf.RaggedTensor):
            data = tf.ragged.constant([list(d) for d in data], dtype=tf.int64, ragged_rank=1)
        return (
            data.flat_values.numpy().astype(np.int32),
            data.row_splits.numpy().astype(np.int64),
        )
    if isinstance(data, str):
        if not os.path.isfile(data):
            raise ValueError(
                f"tokenize_corpus() received the string {data[:80]!r}, which is not a file. "
                "Pass a path to a text file, or a list of texts (wrap one text in a list)."
            )
        data = _read_lines(data)
    if isinstance(data, (list, tuple)):
        bad = [type(d).__name__ for d in data if not isinstance(d, (str, bytes))]
        if bad:
            raise ValueError(
                f"tokenize_corpus() received a list with {bad[0]} items. Expected a list of "
                "texts (str), or a list of int id lists."
            )
        dataset = tf.data.Dataset.from_tensor_slices(tf.constant(list(data) or [""], tf.string))
        if not data:
            dataset = dataset.take(0)
        dataset = dataset.batch(batch_size)
    elif isinstance(data, tf.data.Dataset):
        if data.element_spec.dtype != tf.string:
            raise ValueError(
                f"tokenize_corpus() received a dataset of {data.element_spec}. Expected "
                "tf.string elements (texts); tokenize-free ids go in as a list of id lists."
            )
        dataset = data if data.element_spec.shape.rank == 1 else data.batch(batch_size)
    else:
        raise ValueError(
            f"tokenize_corpus() received {type(data).__name__}. Expected a list of texts, a "
            "text file path, a tf.data.Dataset of strings, or a list of int id lists."
        )
    if tokenizer is None:
        raise ValueError(
            "tokenize_corpus() received text but no tokenizer. Pass a zoo tokenizer, e.g. "
            "zoo.text.tokenizers.WordTokenizer.train(texts, vocabulary_size=10000)."
        )
    pad = getattr(tokenizer, "pad_token_id", None)

    def tokenize(text):
        ids = tokenizer(text)
        if not isinstance(ids, tf.RaggedTensor):  # a tokenizer with a sequence_length
            ids = tf.RaggedTensor.from_tensor(ids, padding=0 if pad is None else pad)
        return ids.flat_values, ids.row_lengths()

    dataset = dataset.map(tokenize, num_parallel_calls=tf.data.AUTOTUNE)
    flat, lengths = [], []
    for values, row_lengths in dataset.prefetch(tf.data.AUTOTUNE):
        flat.append(values.numpy())
        lengths.append(row_lengths.numpy())
    flat = np.concatenate(flat).astype(np.int32) if flat else np.zeros([0], np.int32)
    lengths = np.concatenate(lengths) if lengths else np.zeros([0], np.int64)
    return flat, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


# ------------------------------------------------------------------------ the tables
def keep_probabilities(counts, sample, trainable):
    """Mikolov's subsampling: probability of keeping each token id in the stream.

    `keep = (sqrt(f / (sample * total)) + 1) * (sample * total) / f`, clipped to 1, with
    f the token's count and total the number of trainable tokens (word2vec's formula);
    ids that are not `trainable` are never kept. `sample=0` keeps every trainable token.
    """
    counts = np.asarray(counts, np.float64)
    trainable = np.asarray(trainable, bool) & (counts > 0)
    keep = trainable.astype(np.float64)
    if sample > 0:
        threshold = sample * counts[trainable].sum()
        f = counts[trainable]
        keep[trainable] = np.minimum(1.0, (np.sqrt(f / threshold) + 1.0) * threshold / f)
    return keep.astype(np.float32)


def negative_sampling_table(counts, trainable, table_size=None, power=TABLE_POWER):
    """A table of ids, each repeated in proportion to count**0.75 (word2vec's noise).

    A uniform index into the table is a draw from the unigram^0.75 distribution.
    """
    weights = np.where(trainable, np.asarray(counts, np.float64), 0.0) ** power
    if weights.sum() <= 0:
        raise ValueError(
            "word2vec_dataset() found no trainable token to draw negatives from: every token "
            "is reserved or below min_count. Lower min_count or pass more text."
        )
    table_size = table_size or max(1_000_000, 100 * int(np.count_nonzero(weights)))
    cumulative = np.cumsum(weights / weights.sum())
    positions = (np.arange(table_size) + 0.5) / table_size
    table = np.searchsorted(cumulative, positions, side="right")
    return np.minimum(table, len(weights) - 1).astype(np.int32)


def window_offsets(window):
    """Context offsets -window..-1, 1..window: column j of the context matrix."""
    return [o for o in range(-window, window + 1) if o != 0]


# -------------------------------------------------------------------------- pipeline
# The pipeline's functions take the corpus as arguments and are traced once per static
# configuration (window, batch size, negatives), for every Word2VecData of the process:
# a new model, corpus or seed traces nothing (tracing them took 0.14 s a run).
def _kept(stream_ids, keep, seed, epoch):
    """Which stream positions epoch `epoch` keeps (its subsampling draw)."""
    seed = tf.stack([tf.cast(seed, tf.int32), epoch * 2 + 1])
    draw = tf.random.stateless_uniform(tf.shape(stream_ids), seed=seed)
    return draw < tf.gather(keep, stream_ids)


def _epoch_frames(stream_ids, stream_documents, keep, seed, epoch, window, batch_size):
    """One epoch's steps: `(steps, batch_size + 2 * window)` token ids and document
    numbers, `batch_size` centers with `window` tokens on each side."""
    kept = _kept(stream_ids, keep, seed, epoch)
    ids = tf.boolean_mask(stream_ids, kept)
    docs = tf.boolean_mask(stream_documents, kept)
    num_steps = tf.maximum((tf.shape(ids)[0] + batch_size - 1) // batch_size, 1)
    tail = num_steps * batch_size - tf.shape(ids)[0] + window
    ids = tf.concat([tf.zeros([window], tf.int32), ids, tf.zeros([tail], tf.int32)], 0)
    docs = tf.concat([-tf.ones([window], tf.int32), docs, -tf.ones([tail], tf.int32)], 0)
    span = batch_size + 2 * window
    return {
        "token_ids": tf.signal.frame(ids, span, batch_size),
        "documents": tf.signal.frame(docs, span, batch_size),
    }


def _make_group(element, table, seed, window, batch_size, num_negatives, dynamic_window):
    """The batches of a group of steps, `(steps, batch_size, ...)`, from its frames."""
    offsets = window_offsets(window)
    ids, docs = element["token_ids"], element["documents"]  # (steps, span)
    num_steps = tf.shape(ids)[0]
    center_docs = docs[:, window : window + batch_size]
    context_ids = tf.stack([ids[:, window + o : window + o + batch_size] for o in offsets], 2)
    context_docs = tf.stack([docs[:, window + o : window + o + batch_size] for o in offsets], 2)
    valid = tf.logical_and(
        tf.equal(context_docs, center_docs[:, :, None]), center_docs[:, :, None] >= 0
    )
    group_seed = tf.stack([seed, element["epoch"] * 2 + 2])
    group_seed = tf.random.experimental.stateless_fold_in(group_seed, element["group"])
    if dynamic_window:
        reach = tf.random.stateless_uniform(
            [num_steps, batch_size], seed=group_seed, minval=1, maxval=window + 1, dtype=tf.int32
        )
        distance = tf.constant([abs(o) for o in offsets], tf.int32)
        valid = tf.logical_and(valid, distance <= reach[:, :, None])
    draws = tf.random.stateless_uniform(
        [num_steps, batch_size, num_negatives],
        seed=tf.random.experimental.stateless_fold_in(group_seed, 1),
        minval=0,
        maxval=tf.shape(table)[0],
        dtype=tf.int32,
    )
    return {
        "center_ids": ids[:, window : window + batch_size],
        "context_ids": context_ids,
        "context_weights": tf.cast(valid, tf.float32),
        "negative_ids": tf.gather(table, draws),
    }


_SCALAR = tf.TensorSpec([], tf.int32)
# The pipeline's functions have no Python control flow on tensors: autograph, whose
# first conversion in a process took 0.6 s of the first dataset() call, is left out.
_plain = tf.autograph.experimental.do_not_convert


def _pad_steps(element, steps):
    """Up to `steps` stacked steps, zero-padded to `steps`, and "steps": how many are real."""
    count = tf.shape(element["center_ids"])[0]

    def pad(value):
        padded = tf.pad(value, [[0, steps - count]] + [[0, 0]] * (value.shape.rank - 1))
        return tf.ensure_shape(padded, [steps, *value.shape[1:]])

    return {**{key: pad(value) for key, value in element.items()}, "steps": count}


@functools.cache
def _frames_function(window, batch_size):
    vector = [tf.TensorSpec([None], dtype) for dtype in (tf.int32, tf.int32, tf.float32)]
    return tf.function(
        functools.partial(_epoch_frames, window=window, batch_size=batch_size),
        autograph=False,
        input_signature=[*vector, _SCALAR, _SCALAR],
    )


@functools.cache
def _group_function(window, batch_size, num_negatives, dynamic_window):
    frames = tf.TensorSpec([None, batch_size + 2 * window], tf.int32)
    element = {"token_ids": frames, "documents": frames, "epoch": _SCALAR, "group": _SCALAR}
    return tf.function(
        functools.partial(
            _make_group,
            window=window,
            batch_size=batch_size,
            num_negatives=num_negatives,
            dynamic_window=dynamic_window,
        ),
        input_signature=[element, tf.TensorSpec([None], tf.int32), _SCALAR],
        autograph=False,
    )


class Word2VecData:
    """A tokenized corpus as step-indexed Word2Vec training batches.

    Counts the tokens once, builds the subsampling and negative-sampling tables, and
    draws each epoch's subsampling up front, so the number of steps of every epoch is
    known (`epoch_steps`, `total_steps`) before training starts. `dataset(start_step)`
    gives the batches of steps `start_step, start_step + 1, ...`: the same batches
    whatever step it starts at, which is what an exactly resumed run needs.

    Args:
        token_ids, row_splits: the corpus as `tokenize_corpus` returns it.
        vocabulary_size: ids must be below it.
        window: maximum distance between a center and a context token.
        num_negatives: noise tokens per center.
        batch_size: centers per step (one SGD update), the global batch.
        epochs: passes over the corpus, each with its own subsampling.
        sample: subsampling threshold (word2vec's `-sample`); 0 disables subsampling.
        min_count: tokens seen fewer times are dropped from the stream.
        excluded_ids: ids never trained (the tokenizer's reserved tokens).
        dynamic_window: draw the window b in [1, window] per center (word2vec); False
            uses the full window.
        seed: int; the same seed gives the same batches.

    Attributes:
        counts: int64 `(vocabulary_size,)` token counts of the corpus.
        keep_probabilities: float32 `(vocabulary_size,)`, 0 for ids never trained.
        num_tokens, num_trainable_tokens: corpus tokens, and those that can be trained.
        epoch_steps: steps of each epoch (its kept tokens / batch_size, rounded up).
        total_steps: steps of the run.

    Each batch is a dict of
    - "center_ids": `(batch_size,)` int32;
    - "context_ids": `(batch_size, 2 * window)` int32; column j holds the token at
      offset `window_offsets(window)[j]` from the center;
    - "context_weights": `(batch_size, 2 * window)` float32, 1 for a real
      (center, context) pair and 0 for padding, other documents or outside the
      center's window (a center that pads the last step of an epoch has none);
    - "negative_ids": `(batch_size, num_negatives)` int32, the center's noise tokens.
    """

    def __init__(
        self,
        token_ids,
        row_splits,
        vocabulary_size,
        window=5,
        num_negatives=5,
        batch_size=256,
        epochs=1,
        sample=1e-3,
        min_count=1,
        excluded_ids=(),
        dynamic_window=True,
        seed=0,
    ):
        owner = "word2vec_dataset()"
        self.vocabulary_size = check_int(vocabulary_size, "vocabulary_size", owner)
        self.window = check_int(window, "window", owner)
        self.num_negatives = check_int(num_negatives, "num_negatives", owner)
        self.batch_size = check_int(batch_size, "batch_size", owner)
        self.epochs = check_int(epochs, "epochs", owner)
        self.min_count = check_int(min_count, "min_count", owner)
        self.sample = check_float(sample, "sample", owner)
        self.dynamic_window = bool(dynamic_window)
        self.seed = 0 if seed is None else check_int(seed, "seed", owner, minimum=0)
        token_ids = np.asarray(token_ids, np.int32)
        row_splits = np.asarray(row_splits, np.int64)
        if len(token_ids) and (token_ids.min() < 0 or token_ids.max() >= vocabulary_size):
            raise ValueError(
                f"{owner} received token ids in [{token_ids.min()}, {token_ids.max()}], "
                f"outside [0, vocabulary_size={vocabulary_size}). Build the model with the "
                "tokenizer's vocabulary_size()."
            )
        if len(row_splits) < 1 or row_splits[0] != 0 or row_splits[-1] != len(token_ids):
            raise ValueError(
                f"{owner} received row_splits that do not cover the {len(token_ids)} token "
                "ids. Use the pair that tokenize_corpus() returns."
            )

        # One pass: counts of every id; what is trained; subsampling and negative tables.
        counts = np.bincount(token_ids, minlength=vocabulary_size).astype(np.int64)
        trainable = counts >= self.min_count
        excluded = [i for i in excluded_ids if 0 <= i < vocabulary_size]
        trainable[excluded] = False
        self.counts = counts
        self.keep_probabilities = keep_probabilities(counts, self.sample, trainable)
        self.num_tokens = len(token_ids)
        self.num_trainable_tokens = int(counts[trainable].sum())
        if self.num_trainable_tokens == 0:
            raise ValueError(
                f"{owner} found nothing to train on: {len(token_ids)} tokens, none of them "
                f"outside the reserved tokens with count >= min_count={self.min_count}. "
                "Pass more text or lower min_count."
            )
        self._table = tf.constant(negative_sampling_table(counts, trainable), tf.int32)
        documents = np.repeat(np.arange(len(row_splits) - 1, dtype=np.int32), np.diff(row_splits))
        self._stream_ids = tf.constant(token_ids, tf.int32)
        self._stream_documents = tf.constant(documents, tf.int32)
        self._keep = tf.constant(self.keep_probabilities, tf.float32)
        kept = [int(tf.reduce_sum(tf.cast(self._kept(e), tf.int32))) for e in range(self.epochs)]
        self.epoch_steps = [max(1, -(-k // self.batch_size)) for k in kept]
        self.total_steps = int(sum(self.epoch_steps))

    def _kept(self, epoch):
        """Which stream positions epoch `epoch` keeps (its subsampling draw)."""
        return _kept(self._stream_ids, self._keep, self.seed, tf.cast(epoch, tf.int32))

    def _epoch_groups(self, epoch, first_group):
        """One epoch's steps in groups of `_GROUP`, from group `first_group` on."""
        epoch = tf.cast(epoch, tf.int32)
        frames = _frames_function(self.window, self.batch_size)
        groups = tf.data.Dataset.from_tensor_slices(
            frames(self._stream_ids, self._stream_documents, self._keep, self.seed, epoch)
        )
        groups = groups.batch(_GROUP).enumerate().skip(tf.cast(first_group, tf.int64))
        return groups.map(
            _plain(
                lambda group, element: {
                    **element,
                    "epoch": epoch,
                    "group": tf.cast(group, tf.int32),
                }
            )
        )

    def _batches(self, element):
        """The batches of a group of steps, `(steps, batch_size, ...)`, from its frames."""
        make = _group_function(
            self.window, self.batch_size, self.num_negatives, self.dynamic_window
        )
        return make(element, self._table, self.seed)

    def dataset(self, start_step=0, end_step=None, shard=None, steps_per_element=1):
        """The batches of steps `start_step` .. `end_step - 1` (default: to the end).

        Args:
            start_step: the first step (0, or the step a run resumes at).
            end_step: one past the last step; default `total_steps`.
            shard: `(process index, process count)`: give only that process's rows of
                each global batch (the `index`-th of `count` equal slices), as a
                multi-host run feeds it. Default: the whole batch.
            steps_per_element: 1 gives one step per element. k > 1 gives k steps per
                element, each value stacked `(k, batch_size, ...)` and zero-padded past
                the last step, with "steps" (int32) the number of real ones: one element
                per execution of a model compiled with `steps_per_execution=k` whose
                train function takes whole executions (`Word2Vec.fit_dataset` picks).
                Pulling an element costs tens of microseconds of TensorFlow runtime,
                as much as a third of a step. Its cardinality is left unknown, so that
                Keras counts steps, not elements.

        Returns:
            A `tf.data.Dataset` of the dicts described in the class docstring.
        """
        owner = "Word2VecData.dataset()"
        end_step = self.total_steps if end_step is None else end_step
        start_step = check_int(start_step, "start_step", owner, minimum=0)
        end_step = check_int(end_step, "end_step", owner, minimum=0)
        steps_per_element = check_int(steps_per_element, "steps_per_element", owner)
        if not start_step <= end_step <= self.total_steps:
            raise ValueError(
                f"{owner} received steps {start_step} .. {end_step}. Expected "
                f"0 <= start_step <= end_step <= total_steps={self.total_steps}."
            )
        index, count = (0, 1) if shard is None else shard
        if self.batch_size % count:
            raise ValueError(
                f"{owner} received a batch_size of {self.batch_size}, which cannot be split "
                f"evenly between {count} processes. Pass a multiple of {count}."
            )
        first, rows = index * self.batch_size // count, self.batch_size // count
        starts = np.concatenate([[0], np.cumsum(self.epoch_steps)])
        epoch = min(int(np.searchsorted(starts, start_step, side="right") - 1), self.epochs - 1)
        offset = start_step - int(starts[epoch])  # the first step within its epoch
        dataset = tf.data.Dataset.range(epoch, self.epochs).flat_map(
            _plain(lambda e: self._epoch_groups(e, tf.where(e == epoch, offset // _GROUP, 0)))
        )
        dataset = (
            dataset.map(_plain(self._batches), num_parallel_calls=_PARALLEL_GROUPS)
            .unbatch()
            .skip(offset % _GROUP)
            .take(end_step - start_step)
        )
        if count > 1:
            dataset = dataset.map(
                _plain(lambda batch: {k: v[first : first + rows] for k, v in batch.items()})
            )
        if steps_per_element > 1:
            dataset = (
                dataset.batch(steps_per_element)
                .map(_plain(functools.partial(_pad_steps, steps=steps_per_element)))
                .filter(_plain(lambda element: True))  # unknown cardinality: Keras counts steps
            )
        # No autotuning: with TensorFlow 2.21, deleting an exhausted iterator of this
        # pipeline (the end of every `Word2Vec.train`) waited for the autotuner's thread to
        # wake, up to half the iterator's life (2.3 s of a 3 s run, in 6 of 8 runs
        # measured). The map builds up to one group of steps per core (8 at most).
        options = tf.data.Options()
        options.autotune.enabled = False
        return dataset.prefetch(2 * _GROUP).with_options(options)

    @property
    def trained_counts(self):
        """The counts of the ids that training sees (0 for reserved and rare ids)."""
        return np.where(self.keep_probabilities > 0, self.counts, 0)

    def epoch_of(self, step):
        """The epoch that step `step` belongs to."""
        return int(np.searchsorted(np.cumsum(self.epoch_steps), step, side="right"))

    def info(self):
        """The counts and step numbers as a dict (what `word2vec_dataset` returns)."""
        return {
            "counts": self.counts,
            "keep_probabilities": self.keep_probabilities,
            "num_tokens": self.num_tokens,
            "num_trainable_tokens": self.num_trainable_tokens,
            "epoch_steps": list(self.epoch_steps),
            "total_steps": self.total_steps,
        }


def word2vec_dataset(token_ids, row_splits, vocabulary_size, start_step=0, **kwargs):
    """tf.data pipeline of static-shape Word2Vec training batches (`Word2VecData`).

    Args:
        token_ids, row_splits: the corpus as `tokenize_corpus` returns it.
        vocabulary_size: ids must be below it.
        start_step: the first step to give (a resumed run's step).
        **kwargs: the other `Word2VecData` arguments: window, num_negatives,
            batch_size, epochs, sample, min_count, excluded_ids, dynamic_window, seed.

    Returns:
        `(dataset, info)`: the batches (dicts of "center_ids", "context_ids",
        "context_weights", "negative_ids", see `Word2VecData`), and a dict of
        "counts", "keep_probabilities", "num_tokens", "num_trainable_tokens",
        "epoch_steps" and "total_steps".

    Example:

    >>> ids, splits = tokenize_corpus([[7, 8, 9, 10]])
    >>> dataset, info = word2vec_dataset(ids, splits, 11, window=1, batch_size=4,
    ...                                  sample=0, dynamic_window=False)
    >>> batch = next(iter(dataset))
    >>> batch["context_ids"].numpy().tolist()
    [[0, 8], [7, 9], [8, 10], [9, 0]]
    >>> batch["context_weights"].numpy().tolist()
    [[0.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 0.0]]
    """
    data = Word2VecData(token_ids, row_splits, vocabulary_size, **kwargs)
    return data.dataset(start_step), data.info()
