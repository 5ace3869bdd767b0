"""Word2Vec: skip-gram and CBOW with negative sampling, trained from a tf.data pipeline.

The lecture's point: a Word2Vec model *is* an embedding matrix (vocabulary_size x
hidden_dim). Its rows are learned by predicting the words around each word; words used
in the same contexts end with nearby vectors, and differences of vectors carry meaning
("king - man + woman ~ queen", a "gender direction").

Training data (`word2vec_dataset`) is made with TensorFlow ops only:

1. the text is tokenized once with any zoo tokenizer (words or subwords) into one flat
   stream of ids plus document boundaries, and token frequencies are counted in the
   same pass (`np.bincount`);
2. each epoch, frequent tokens are dropped with Mikolov's subsampling probability, and
   reserved tokens ([PAD], [UNK], ...) and tokens seen fewer than `min_count` times are
   dropped (as gensim does, the window then reaches past them);
3. the kept stream is cut into static-shape chunks of `batch_size` centers plus
   `window` tokens of context on each side (`tf.signal.frame`);
4. per chunk (parallel `map`): the (batch_size, 2 * window) context matrix, its
   validity weights (same document, inside the center's random window b in
   [1, window]) and a pool of negatives drawn from the unigram^0.75 distribution
   through a sampling table.

The training step (one `jit_compile=True` call per chunk) never expands the chunk into
a list of (center, context) pairs: it walks the chunk in tiles of 256 centers,
one after the other (a tile's temporaries stay in the CPU cache, and a frequent
token's gradients are summed over one tile only, which keeps plain SGD stable). A tile
gathers its rows of the two matrices once, scores every (center, slot) through a
constant index matrix into those rows, and sends the gradients back with one
scatter-add per matrix. Negatives are shared by the contexts of one center: each
center has its own `num_negatives` draws, weighted by its number of contexts, so the
expected gradient equals word2vec's per-pair negatives; center i uses pool entries
i .. i + num_negatives - 1. Plain SGD with word2vec's linearly decaying learning rate
(0.025 -> 0.0001 over the run).

Under KERAS_BACKEND=jax the same pipeline feeds the same SGD written in jax.numpy (a
jitted step per chunk, the matrices donated, tiles strided over the chunk); with a
`keras.distribution` set (e.g. `DataParallel` over a TPU's 8 cores) each chunk's
centers are sharded over the mesh's batch axis and the matrices replicated, with the
same results as on one device (see "JAX train step" below).

References:
- Mikolov et al. 2013, "Efficient Estimation of Word Representations in Vector
  Space", arXiv:1301.3781 (skip-gram, CBOW).
- Mikolov et al. 2013, "Distributed Representations of Words and Phrases and their
  Compositionality", arXiv:1310.4546 (negative sampling, subsampling, analogies).
- Bolukbasi et al. 2016, "Man is to Computer Programmer as Woman is to Homemaker?",
  arXiv:1607.06520 (directions such as gender, projections onto them).
"""

import os
import time

import keras
import numpy as np
import tensorflow as tf

from zoo._checks import check_float, check_int

__all__ = [
    "Word2Vec",
    "keep_probabilities",
    "negative_sampling_table",
    "tokenize_corpus",
    "window_offsets",
    "word2vec_dataset",
]

MODES = ("skipgram", "cbow")
_TABLE_POWER = 0.75


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


# -------------------------------------------------------------------------- pipeline
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


def negative_sampling_table(counts, trainable, table_size=None, power=_TABLE_POWER):
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


def word2vec_dataset(
    token_ids,
    row_splits,
    vocabulary_size,
    window=5,
    num_negatives=5,
    batch_size=4096,
    epochs=1,
    sample=1e-3,
    min_count=1,
    excluded_ids=(),
    dynamic_window=True,
    seed=0,
):
    """tf.data pipeline of static-shape Word2Vec training chunks.

    Args:
        token_ids, row_splits: the corpus as `tokenize_corpus` returns it.
        vocabulary_size: ids must be below it.
        window: maximum distance between a center and a context token.
        num_negatives: negatives per center.
        batch_size: centers per chunk (one training step).
        epochs: passes over the corpus, each with its own subsampling.
        sample: subsampling threshold (word2vec's `-sample`); 0 disables subsampling.
        min_count: tokens seen fewer times are dropped from the stream.
        excluded_ids: ids never trained (the tokenizer's reserved tokens).
        dynamic_window: draw the window b in [1, window] per center (word2vec); False
            uses the full window.
        seed: int; the same seed gives the same stream of chunks.

    Returns:
        `(dataset, info)`. Each dataset element is a dict:
        - "token_ids": `(batch_size + 2 * window,)` int32, the centers with `window`
          tokens of context on each side; centers are `token_ids[window:-window]`;
        - "context_ids": `(batch_size, 2 * window)` int32; column j holds the token at
          offset `window_offsets(window)[j]` from the center;
        - "context_weights": `(batch_size, 2 * window)` float32, 1 for a real
          (center, context) pair and 0 for padding, other documents or outside the
          center's window;
        - "negative_ids": `(batch_size + num_negatives,)` int32; center i uses
          `negative_ids[i : i + num_negatives]`;
        - "epoch", "progress": int32 epoch and the float32 share of the run done
          (for the learning-rate decay).
        `info` is a dict: "counts" (token counts), "keep_probabilities",
        "num_tokens", "num_trainable_tokens", "steps_per_epoch" (expected).

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
    owner = "word2vec_dataset()"
    vocabulary_size = check_int(vocabulary_size, "vocabulary_size", owner)
    window = check_int(window, "window", owner)
    num_negatives = check_int(num_negatives, "num_negatives", owner)
    batch_size = check_int(batch_size, "batch_size", owner)
    epochs = check_int(epochs, "epochs", owner)
    min_count = check_int(min_count, "min_count", owner)
    sample = check_float(sample, "sample", owner)
    seed = 0 if seed is None else check_int(seed, "seed", owner, minimum=0)
    token_ids = np.asarray(token_ids, np.int32)
    row_splits = np.asarray(row_splits, np.int64)
    if len(token_ids) and (token_ids.min() < 0 or token_ids.max() >= vocabulary_size):
        raise ValueError(
            f"{owner} received token ids in [{token_ids.min()}, {token_ids.max()}], outside "
            f"[0, vocabulary_size={vocabulary_size}). Build the model with the tokenizer's "
            "vocabulary_size()."
        )
    if len(row_splits) < 1 or row_splits[0] != 0 or row_splits[-1] != len(token_ids):
        raise ValueError(
            f"{owner} received row_splits that do not cover the {len(token_ids)} token ids. "
            "Use the pair that tokenize_corpus() returns."
        )

    # One pass: counts of every id; what is trained; subsampling and negative tables.
    counts = np.bincount(token_ids, minlength=vocabulary_size).astype(np.int64)
    trainable = counts >= min_count
    excluded = [i for i in excluded_ids if 0 <= i < vocabulary_size]
    trainable[excluded] = False
    keep = keep_probabilities(counts, sample, trainable)
    num_trainable = int(counts[trainable].sum())
    if num_trainable == 0:
        raise ValueError(
            f"{owner} found nothing to train on: {len(token_ids)} tokens, none of them "
            f"outside the reserved tokens with count >= min_count={min_count}. Pass more "
            "text or lower min_count."
        )
    table = negative_sampling_table(counts, trainable)
    expected_kept = float((counts * keep).sum())
    steps_per_epoch = max(1, int(np.ceil(expected_kept / batch_size)))

    lengths = np.diff(row_splits)
    documents = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    stream_ids = tf.constant(token_ids, tf.int32)
    stream_documents = tf.constant(documents, tf.int32)
    keep_table = tf.constant(keep, tf.float32)
    noise_table = tf.constant(table, tf.int32)
    offsets = window_offsets(window)
    span = batch_size + 2 * window

    def epoch_chunks(epoch):
        epoch = tf.cast(epoch, tf.int32)
        draw = tf.random.stateless_uniform(
            tf.shape(stream_ids), seed=tf.stack([seed, epoch * 2 + 1]), dtype=tf.float32
        )
        kept = draw < tf.gather(keep_table, stream_ids)
        ids = tf.boolean_mask(stream_ids, kept)
        docs = tf.boolean_mask(stream_documents, kept)
        size = tf.shape(ids)[0]
        num_chunks = (size + batch_size - 1) // batch_size
        tail = num_chunks * batch_size - size + window
        ids = tf.concat([tf.zeros([window], tf.int32), ids, tf.zeros([tail], tf.int32)], 0)
        docs = tf.concat([-tf.ones([window], tf.int32), docs, -tf.ones([tail], tf.int32)], 0)
        chunk = tf.range(num_chunks, dtype=tf.int32)
        progress = (
            tf.cast(epoch, tf.float32)
            + tf.cast(chunk, tf.float32) / tf.cast(tf.maximum(num_chunks, 1), tf.float32)
        ) / epochs
        return tf.data.Dataset.from_tensor_slices(
            {
                "token_ids": tf.signal.frame(ids, span, batch_size),
                "documents": tf.signal.frame(docs, span, batch_size),
                "epoch": tf.fill([num_chunks], epoch),
                "chunk": chunk,
                "progress": progress,
            }
        )

    def make_batch(element):
        ids, docs = element["token_ids"], element["documents"]
        ids = tf.ensure_shape(ids, [span])
        docs = tf.ensure_shape(docs, [span])
        center_docs = docs[window : window + batch_size]
        context_ids = tf.stack([ids[window + o : window + o + batch_size] for o in offsets], 1)
        context_docs = tf.stack([docs[window + o : window + o + batch_size] for o in offsets], 1)
        valid = tf.logical_and(
            tf.equal(context_docs, center_docs[:, None]), center_docs[:, None] >= 0
        )
        step_seed = tf.stack([seed, element["epoch"] * 2 + 2, element["chunk"]])
        step_seed = tf.random.experimental.stateless_fold_in(step_seed[:2], step_seed[2])
        if dynamic_window:
            reach = tf.random.stateless_uniform(
                [batch_size], seed=step_seed, minval=1, maxval=window + 1, dtype=tf.int32
            )
            distance = tf.constant([abs(o) for o in offsets], tf.int32)
            valid = tf.logical_and(valid, distance[None, :] <= reach[:, None])
        draws = tf.random.stateless_uniform(
            [batch_size + num_negatives],
            seed=tf.random.experimental.stateless_fold_in(step_seed, 1),
            minval=0,
            maxval=len(table),
            dtype=tf.int32,
        )
        return {
            "token_ids": ids,
            "context_ids": context_ids,
            "context_weights": tf.cast(valid, tf.float32),
            "negative_ids": tf.gather(noise_table, draws),
            "epoch": element["epoch"],
            "progress": element["progress"],
        }

    dataset = (
        tf.data.Dataset.range(epochs)
        .flat_map(epoch_chunks)
        .map(make_batch, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    info = {
        "counts": counts,
        "keep_probabilities": keep,
        "num_tokens": len(token_ids),
        "num_trainable_tokens": num_trainable,
        "steps_per_epoch": steps_per_epoch,
    }
    return dataset, info


# ------------------------------------------------------------------------ train step
# One training step (one XLA call) runs over a chunk of `batch_size` centers in tiles of
# `_TILE` centers, one after the other: a tile's temporaries stay in the CPU cache
# (2-3x faster than whole-chunk tensors), and a frequent token's gradients are summed
# over one tile only (whole-chunk sums of gradients taken at the same point overshoot
# and diverge where word2vec's sequential updates saturate). A tile gathers its rows of
# the two matrices once; each (center, slot) pair indexes those local rows through a
# constant index matrix, and gradients go back through gathers of an inverted index and one
# scatter-add per matrix.
_TILE = 256
_STEP_KEYS = ("token_ids", "context_weights", "negative_ids", "progress")


def _tile_size(batch_size):
    """The largest divisor of batch_size up to _TILE (batch_size itself if none is big)."""
    if batch_size <= _TILE:
        return batch_size
    for size in range(_TILE, _TILE // 4 - 1, -1):
        if batch_size % size == 0:
            return size
    return batch_size


def _local_index(tile, window, num_negatives, mode):
    """Constant index matrices from (center, slot) to a tile's gathered rows.

    Skip-gram gathers context-matrix rows [the tile's tokens with halo (tile + 2w),
    negatives (tile + k)]; slot j < 2w is the context at offset
    `window_offsets(window)[j]`, slot 2w + k the k-th negative. CBOW gathers the input
    rows of the tokens with halo (`context`, (tile, 2w)) and output rows [centers
    (tile), negatives (tile + k)] (`output`, (tile, 1 + k): the center, then negatives).
    """
    centers = np.arange(tile)[:, None]
    offsets = np.array(window_offsets(window))[None, :]
    negatives = np.arange(num_negatives)[None, :]
    context = centers + window + offsets
    if mode == "skipgram":
        return np.concatenate([context, tile + 2 * window + centers + negatives], 1)
    return context, np.concatenate([centers, tile + centers + negatives], 1)


def _inverse_index(index, num_rows):
    """For each local row, the (center, flat slot) pairs that point at it.

    Returns int32 arrays `(num_rows, width)`: `centers` into the tile's centers (value
    `tile` = none) and `slots` into the flattened (tile * slots) scores (value
    `tile * slots` = none). Gathers through them add up a row's gradient with no
    scatter (cheaper for XLA on CPU to compile and to run).
    """
    tile, slots = index.shape
    sources = [[] for _ in range(num_rows)]
    for center in range(tile):
        for slot in range(slots):
            sources[index[center, slot]].append((center, center * slots + slot))
    width = max(len(s) for s in sources)
    centers = np.full((num_rows, width), tile, np.int32)
    flat = np.full((num_rows, width), tile * slots, np.int32)
    for row, pairs in enumerate(sources):
        for j, (center, slot) in enumerate(pairs):
            centers[row, j], flat[row, j] = center, slot
    return centers, flat


def _sum_to_rows(scale, vectors, inverse):
    """rows[r] = sum of scale[i, s] * vectors[i] over the (i, s) that point at row r."""
    centers, flat = inverse
    scale = tf.concat([tf.reshape(scale, [-1]), tf.zeros([1], scale.dtype)], 0)
    vectors = tf.concat([vectors, tf.zeros([1, vectors.shape[1]], vectors.dtype)], 0)
    return tf.reduce_sum(tf.gather(scale, flat)[:, :, None] * tf.gather(vectors, centers), 1)


def _sgns(inputs, rows, index, inverse, weights, signs, lr):
    """Negative-sampling loss and SGD steps of one tile.

    Args:
        inputs: (tile, dim) vectors that predict (center vectors, or CBOW's mean).
        rows: (num_rows, dim) gathered output vectors.
        index: (tile, slots) the row of each slot; `inverse`: its `_inverse_index`.
        weights: (tile, slots) pair weights (0 = no pair).
        signs: (slots,) +1 for true pairs, -1 for negatives.
        lr: learning rate.

    Returns:
        (loss, step of inputs (tile, dim), step of rows (num_rows, dim)).
    """
    targets = tf.gather(rows, index)  # (tile, slots, dim)
    scores = tf.reduce_sum(inputs[:, None, :] * targets, -1)  # (tile, slots)
    loss = -tf.reduce_sum(weights * tf.math.log_sigmoid(signs * scores))
    scale = lr * weights * signs * tf.sigmoid(-signs * scores)  # lr * dlog-likelihood/dscore
    step_inputs = tf.reduce_sum(scale[:, :, None] * targets, 1)
    return loss, step_inputs, _sum_to_rows(scale, inputs, inverse)


def _skipgram_tile(ids, weights, negatives, embeddings, context_vectors, lr, index, signs):
    tile, slots = weights.shape
    window, num_negatives = slots // 2, negatives.shape[0] - tile
    centers = ids[window : window + tile]
    output_ids = tf.concat([ids, negatives], 0)  # (2 * tile + 2w + k,)
    pairs = tf.reduce_sum(weights, -1, keepdims=True)  # (tile, 1) contexts per center
    # A center's negatives stand in for each of its pairs' negatives: weight = pairs.
    slot_weights = tf.concat([weights, tf.tile(pairs, [1, num_negatives])], 1)
    loss, step_centers, step_rows = _sgns(
        tf.gather(embeddings, centers),
        tf.gather(context_vectors, output_ids),
        index[0],
        index[1],
        slot_weights,
        signs,
        lr,
    )
    embeddings.scatter_add(tf.IndexedSlices(step_centers, centers))
    context_vectors.scatter_add(tf.IndexedSlices(step_rows, output_ids))
    return loss, tf.reduce_sum(pairs)


def _cbow_tile(ids, weights, negatives, embeddings, context_vectors, lr, index, signs):
    tile, slots = weights.shape
    window, num_negatives = slots // 2, negatives.shape[0] - tile
    context_index, context_inverse, output_index, output_inverse = index
    centers = ids[window : window + tile]
    inputs = tf.gather(embeddings, ids)  # (tile + 2w, dim)
    pairs = tf.reduce_sum(weights, -1, keepdims=True)
    contexts = tf.gather(inputs, context_index)  # (tile, 2w, dim)
    hidden = tf.reduce_sum(weights[:, :, None] * contexts, 1) / tf.maximum(pairs, 1.0)
    active = tf.cast(pairs > 0, lr.dtype)  # (tile, 1) centers with a context
    output_ids = tf.concat([centers, negatives], 0)  # (2 * tile + k,)
    loss, step_hidden, step_rows = _sgns(
        hidden,
        tf.gather(context_vectors, output_ids),
        output_index,
        output_inverse,
        tf.tile(active, [1, 1 + num_negatives]),
        signs,
        lr,
    )
    # Every context token gets the whole hidden-layer step (as word2vec.c does).
    step_inputs = _sum_to_rows(weights, step_hidden, context_inverse)
    embeddings.scatter_add(tf.IndexedSlices(step_inputs, ids))
    context_vectors.scatter_add(tf.IndexedSlices(step_rows, output_ids))
    return loss, tf.reduce_sum(active)


def _train_step(inputs, embeddings, context_vectors, learning_rate, min_learning_rate, mode):
    """SGD over one chunk, tile after tile; returns (summed loss, number of terms)."""
    weights = inputs["context_weights"]  # (batch, 2w)
    batch, slots = weights.shape
    window = slots // 2
    num_negatives = inputs["negative_ids"].shape[0] - batch
    progress = tf.clip_by_value(inputs["progress"], 0.0, 1.0)
    lr = learning_rate + (min_learning_rate - learning_rate) * progress
    tile = _tile_size(batch)
    index = _local_index(tile, window, num_negatives, mode)
    if mode == "skipgram":
        signs = tf.constant([1.0] * slots + [-1.0] * num_negatives)
        rows = 2 * tile + 2 * window + num_negatives
        index = (index, *_inverse_index(index, rows))
        index = (index[0], index[1:])
        run_tile = _skipgram_tile
    else:
        signs = tf.constant([1.0] + [-1.0] * num_negatives)
        context, output = index
        index = (
            context,
            _inverse_index(context, tile + 2 * window),
            output,
            _inverse_index(output, 2 * tile + num_negatives),
        )
        run_tile = _cbow_tile
    index = tf.nest.map_structure(lambda i: tf.constant(i, tf.int32), index)
    loss = tf.zeros([])
    count = tf.zeros([])
    for t in tf.range(batch // tile):
        start = t * tile
        tile_loss, tile_count = run_tile(
            tf.slice(inputs["token_ids"], [start], [tile + 2 * window]),
            tf.slice(weights, [start, 0], [tile, slots]),
            tf.slice(inputs["negative_ids"], [start], [tile + num_negatives]),
            embeddings,
            context_vectors,
            lr,
            index,
            signs,
        )
        loss += tile_loss
        count += tile_count
    return loss, count


# Compiled steps, shared by all models: (mode, jit_compile) -> tf.function. XLA reuses a
# compiled step for every model and run with the same shapes.
_COMPILED_STEPS = {}


def _compiled_step(mode, jit_compile):
    key = (mode, bool(jit_compile))
    if key not in _COMPILED_STEPS:

        def step(inputs, embeddings, context_vectors, learning_rate, min_learning_rate):
            return _train_step(
                inputs, embeddings, context_vectors, learning_rate, min_learning_rate, mode
            )

        _COMPILED_STEPS[key] = tf.function(step, jit_compile=jit_compile)
    return _COMPILED_STEPS[key]


# -------------------------------------------------------------------- JAX train step
# Under KERAS_BACKEND=jax the same SGD runs as a jitted JAX function (jax.numpy, `.at[].add`)
# over the same tf.data chunks (as numpy). Its tiles are strided rather than contiguous: a
# chunk of `batch` centers is read as `tile` rows of `batch // tile` consecutive centers,
# and tile t takes center t of every row (centers t, t + steps, t + 2 steps, ...). Each
# center brings its own context and negative ids, so a tile needs no halo. Under a
# `keras.distribution` the centers are sharded over the mesh's batch axis in contiguous
# blocks, which are whole groups of rows: every device works on its share of every tile,
# and the tile's sparse updates (row ids and row steps, not the dense matrices) are
# gathered onto every device, which adds them to its replicated copy of the matrices. The
# tiles do not depend on the number of devices, so 1 and 8 devices compute the same
# updates (up to the order of float additions).
_JAX_KEYS = ("center_ids", "context_ids", "context_weights", "negative_ids")


def _jax_tile_size(batch_size, shards=1):
    """Centers per JAX tile: the largest divisor of batch_size in [_TILE // 4, _TILE] that
    is a multiple of `shards` (the devices of the batch axis), else the whole chunk."""
    if batch_size <= _TILE:
        return batch_size
    for size in range(_TILE, _TILE // 4 - 1, -1):
        if batch_size % size == 0 and size % shards == 0:
            return size
    return batch_size


def _jax_chunk(batch, window, num_negatives):
    """Per-center numpy arrays of one pipeline element (leading axis: the chunk's centers)."""
    weights = batch["context_weights"]
    size = weights.shape[0]
    negatives = np.lib.stride_tricks.sliding_window_view(batch["negative_ids"], num_negatives)
    return {
        "center_ids": batch["token_ids"][window : window + size],  # (batch,)
        "context_ids": batch["context_ids"],  # (batch, 2w)
        "context_weights": weights,  # (batch, 2w)
        "negative_ids": np.ascontiguousarray(negatives[:size]),  # (batch, k)
    }


def _jax_sgns(inputs, targets, weights, signs, lr):
    """`_sgns` in jax.numpy, per center: loss, SGD scale of each slot, step of the inputs.

    inputs (tile, dim), targets (tile, slots, dim), weights (tile, slots), signs (slots,).
    Returns loss (tile,), scale (tile, slots) (lr * dlog-likelihood/dscore; the step of
    slot s's row is `scale[:, s] * inputs`) and the step of the inputs (tile, dim).
    Products are multiply-and-sum (float32 on any device), not matmuls.
    """
    import jax

    scores = (inputs[:, None, :] * targets).sum(-1)  # (tile, slots)
    loss = -(weights * jax.nn.log_sigmoid(signs * scores)).sum(-1)
    scale = lr * weights * signs * jax.nn.sigmoid(-signs * scores)
    return loss, scale, (scale[:, :, None] * targets).sum(1)


# A tile returns its loss and number of terms per center, and its updates of the two
# matrices in factored form `(ids, scales, vectors)`: row `ids[i, s]` gets
# `scales[i, s] * vectors[i]`. Under a mesh only these small factors travel between
# devices; every device forms the (tile, slots, dim) rows itself.
def _jax_skipgram_tile(embeddings, context_vectors, x, lr, signs):
    import jax.numpy as jnp

    weights, centers = x["context_weights"], x["center_ids"]
    tile, num_negatives = weights.shape[0], x["negative_ids"].shape[1]
    pairs = weights.sum(-1, keepdims=True)  # (tile, 1) contexts per center
    # A center's negatives stand in for each of its pairs' negatives: weight = pairs.
    slot_weights = jnp.concatenate([weights, jnp.broadcast_to(pairs, (tile, num_negatives))], 1)
    output_ids = jnp.concatenate([x["context_ids"], x["negative_ids"]], 1)  # (tile, slots)
    inputs = embeddings[centers]  # (tile, dim)
    loss, scale, step_inputs = _jax_sgns(
        inputs, context_vectors[output_ids], slot_weights, signs, lr
    )
    ones = jnp.ones((tile, 1), scale.dtype)
    return loss, pairs[:, 0], (centers[:, None], ones, step_inputs), (output_ids, scale, inputs)


def _jax_cbow_tile(embeddings, context_vectors, x, lr, signs):
    import jax.numpy as jnp

    weights, context_ids = x["context_weights"], x["context_ids"]
    tile, num_negatives = weights.shape[0], x["negative_ids"].shape[1]
    pairs = weights.sum(-1, keepdims=True)
    hidden = (weights[:, :, None] * embeddings[context_ids]).sum(1) / jnp.maximum(pairs, 1.0)
    active = (pairs > 0).astype(hidden.dtype)  # (tile, 1) centers with a context
    output_ids = jnp.concatenate([x["center_ids"][:, None], x["negative_ids"]], 1)
    loss, scale, step_hidden = _jax_sgns(
        hidden,
        context_vectors[output_ids],
        jnp.broadcast_to(active, (tile, 1 + num_negatives)),
        signs,
        lr,
    )
    # Every context token gets the whole hidden-layer step (as word2vec.c does).
    return loss, active[:, 0], (context_ids, weights, step_hidden), (output_ids, scale, hidden)


# (mode, tile, mesh, batch axis) -> jitted step, shared by all models.
_JAX_STEPS = {}


def _jax_train_step(mode, tile, mesh=None, axis=None):
    """The jitted JAX step: `(embeddings, context_vectors, chunk, progress, learning_rate,
    min_learning_rate) -> (embeddings, context_vectors, summed loss, number of terms)`.

    The two matrices are donated (updated in place). `chunk` holds the `_JAX_KEYS` arrays
    of `_jax_chunk`; with a `mesh` (a `jax.sharding.Mesh`) they are sharded over `axis`
    and the matrices are replicated.
    """
    key = (mode, tile, mesh, axis)
    if key in _JAX_STEPS:
        return _JAX_STEPS[key]
    import jax
    import jax.numpy as jnp

    run_tile = _jax_skipgram_tile if mode == "skipgram" else _jax_cbow_tile
    if mesh is not None:
        spec = jax.sharding.PartitionSpec
        replicated = jax.sharding.NamedSharding(mesh, spec())
        by_tile = jax.sharding.NamedSharding(mesh, spec(None, axis))

    def add(matrix, update):  # matrix[ids[i, s]] += scales[i, s] * vectors[i]
        if mesh is not None:  # the tile's factors, gathered onto every device
            update = jax.lax.with_sharding_constraint(update, replicated)
        ids, scales, vectors = update
        return matrix.at[ids].add(scales[:, :, None] * vectors[:, None, :])

    def step(embeddings, context_vectors, chunk, progress, learning_rate, min_learning_rate):
        weights = chunk["context_weights"]  # (batch, 2w)
        batch, slots = weights.shape
        num_negatives = chunk["negative_ids"].shape[1]
        steps = batch // tile
        lr = learning_rate + (min_learning_rate - learning_rate) * jnp.clip(progress, 0.0, 1.0)
        if mode == "skipgram":
            signs = jnp.array([1.0] * slots + [-1.0] * num_negatives, weights.dtype)
        else:
            signs = jnp.array([1.0] + [-1.0] * num_negatives, weights.dtype)

        def tiles(x):  # (batch, ...) -> (steps, tile, ...): tile t = centers t + i * steps
            x = jnp.swapaxes(x.reshape((tile, steps) + x.shape[1:]), 0, 1)
            return x if mesh is None else jax.lax.with_sharding_constraint(x, by_tile)

        def body(matrices, x):
            embeddings, context_vectors = matrices
            loss, count, input_update, output_update = run_tile(
                embeddings, context_vectors, x, lr, signs
            )
            matrices = add(embeddings, input_update), add(context_vectors, output_update)
            return matrices, (loss, count)

        xs = {key: tiles(chunk[key]) for key in _JAX_KEYS}
        (embeddings, context_vectors), (loss, count) = jax.lax.scan(
            body, (embeddings, context_vectors), xs
        )
        return embeddings, context_vectors, loss.sum(), count.sum()

    options = {"donate_argnums": (0, 1)}
    if mesh is not None:
        options["out_shardings"] = (replicated, replicated, replicated, replicated)
    _JAX_STEPS[key] = jax.jit(step, **options)
    return _JAX_STEPS[key]


def _jax_batch_axis(batch_size):
    """(jax mesh, batch axis name, devices on it) of the current `keras.distribution`,
    (None, None, 1) when none is set. Raises when batch_size does not split evenly."""
    distribution = keras.distribution.distribution()
    if distribution is None:
        return None, None, 1
    device_mesh = distribution.device_mesh
    axis = getattr(distribution, "batch_dim_name", None) or device_mesh.axis_names[0]
    shards = int(device_mesh.shape[list(device_mesh.axis_names).index(axis)])
    if batch_size % shards:
        lower = batch_size - batch_size % shards
        options = [str(size) for size in (lower, lower + shards) if size > 0]
        raise ValueError(
            f"Word2Vec.train() received batch_size={batch_size}, which cannot be split over "
            f"the {shards} devices of the distribution's {axis!r} axis. Pass a multiple of "
            f"{shards}, e.g. batch_size={' or '.join(options)}."
        )
    return device_mesh.backend_mesh, axis, shards


# ----------------------------------------------------------------------------- model
@keras.saving.register_keras_serializable(package="zoo")
class Word2Vec(keras.Model):
    """Word2Vec: skip-gram or CBOW word vectors with negative sampling.

    The model holds two matrices of shape (vocabulary_size, hidden_dim): the word
    vectors (`token_embedding`, what `embeddings` returns) and the context vectors
    (`context_embedding`, word2vec's `syn1neg`). `train()` fits them on text with the
    tf.data pipeline of `word2vec_dataset` and an XLA-compiled SGD step (a jitted JAX
    step under KERAS_BACKEND=jax, data-parallel under a `keras.distribution`); calling the
    model on token ids returns their word vectors, so a trained Word2Vec drops into
    other Keras models as a (frozen or fine-tuned) embedding.

    Skip-gram predicts each context token from the center token; CBOW predicts the
    center token from the mean of its context vectors. Both use `num_negatives` noise
    tokens from the unigram^0.75 distribution (Mikolov et al. 2013, arXiv:1301.3781
    and arXiv:1310.4546). `direction()` and `project()` follow Bolukbasi et al. 2016
    (arXiv:1607.06520).

    Args:
        vocabulary_size: number of token ids; taken from `tokenizer` when omitted.
        hidden_dim: size of the word vectors.
        window: largest distance between a center and a context token.
        num_negatives: noise tokens per center token.
        mode: "skipgram" or "cbow".
        tokenizer: optional zoo tokenizer (saved with the model); needed to look
            words up by their text and to train on raw text.
        **kwargs: `keras.Model` arguments (`name`, `dtype`).

    Call arguments:
        token_ids: int ids of any shape; returns their word vectors, shape
            `token_ids.shape + (hidden_dim,)`.

    Example:

    >>> from zoo.text.tokenizers import WordTokenizer
    >>> texts = ["the king rules the land", "the queen rules the land"] * 50
    >>> tokenizer = WordTokenizer.train(texts, vocabulary_size=20, verbose=False)
    >>> model = Word2Vec(hidden_dim=16, window=2, tokenizer=tokenizer)
    >>> history = model.train(texts, epochs=2, batch_size=64, seed=0, verbose=0)
    >>> model.embeddings.shape
    (12, 16)
    >>> [word for word, _ in model.most_similar("king", k=3)]  # doctest: +SKIP
    ['queen', 'land', 'rules']
    """

    def __init__(
        self,
        vocabulary_size=None,
        hidden_dim=100,
        window=5,
        num_negatives=5,
        mode="skipgram",
        tokenizer=None,
        **kwargs,
    ):
        owner = "Word2Vec"
        if tokenizer is not None and not callable(getattr(tokenizer, "get_vocabulary", None)):
            raise ValueError(
                f"{owner} received tokenizer={tokenizer!r}. Expected a zoo tokenizer "
                "(zoo.text.tokenizers), or None."
            )
        if vocabulary_size is None:
            if tokenizer is None:
                raise ValueError(
                    f"{owner} received neither vocabulary_size nor tokenizer. Pass "
                    "tokenizer=... (vocabulary_size is then tokenizer.vocabulary_size()) "
                    "or vocabulary_size=... for training on ids."
                )
            vocabulary_size = tokenizer.vocabulary_size()
        vocabulary_size = check_int(vocabulary_size, "vocabulary_size", owner)
        if tokenizer is not None and tokenizer.vocabulary_size() != vocabulary_size:
            raise ValueError(
                f"{owner} received vocabulary_size={vocabulary_size} and a tokenizer of "
                f"{tokenizer.vocabulary_size()} tokens. They must match; leave out "
                "vocabulary_size to take the tokenizer's."
            )
        hidden_dim = check_int(hidden_dim, "hidden_dim", owner)
        window = check_int(window, "window", owner)
        num_negatives = check_int(num_negatives, "num_negatives", owner)
        if mode not in MODES:
            raise ValueError(f"{owner} received mode={mode!r}. Expected one of {MODES}.")
        super().__init__(**kwargs)

        # Layers
        scale = 0.5 / hidden_dim  # word2vec's initialization
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer=keras.initializers.RandomUniform(-scale, scale),
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.context_embedding = keras.layers.Embedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer="zeros",
            dtype=self.dtype_policy,
            name="context_embedding",
        )
        self.token_embedding.build((None,))
        self.context_embedding.build((None,))
        # Training counts of each id (0 for ids never trained): frequency weights for
        # sentence vectors, and which ids similarity searches consider.
        self.token_counts = self.add_weight(
            shape=(vocabulary_size,),
            initializer="zeros",
            trainable=False,
            dtype="float32",
            name="token_counts",
        )
        self.tokenizer = tokenizer
        self.built = True

        # Config
        self.vocabulary_size = vocabulary_size
        self.hidden_dim = hidden_dim
        self.window = window
        self.num_negatives = num_negatives
        self.mode = mode

    # ------------------------------------------------------------------------- model
    def call(self, token_ids):
        return self.token_embedding(token_ids)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.hidden_dim)

    def get_config(self):
        config = {
            "name": self.name,
            "vocabulary_size": self.vocabulary_size,
            "hidden_dim": self.hidden_dim,
            "window": self.window,
            "num_negatives": self.num_negatives,
            "mode": self.mode,
            "tokenizer": None
            if self.tokenizer is None
            else keras.saving.serialize_keras_object(self.tokenizer),
        }
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("tokenizer"), dict):
            import zoo.text.tokenizers  # noqa: F401  registers the tokenizer classes

            config["tokenizer"] = keras.saving.deserialize_keras_object(config["tokenizer"])
        return cls(**config)

    @staticmethod
    def load(path):
        """Load a Word2Vec saved with `model.save(path)` (`.keras`, tokenizer included)."""
        model = keras.saving.load_model(path)
        if not isinstance(model, Word2Vec):
            raise ValueError(
                f"Word2Vec.load() found a {type(model).__name__} in {path!r}. Expected a file "
                "written by Word2Vec.save()."
            )
        return model

    @property
    def embeddings(self):
        """The word vectors, numpy `(vocabulary_size, hidden_dim)`."""
        return keras.ops.convert_to_numpy(self.token_embedding.embeddings)

    # ------------------------------------------------------------------------- train
    def train(
        self,
        data,
        tokenizer=None,
        epochs=5,
        batch_size=8192,
        learning_rate=0.025,
        min_learning_rate=1e-4,
        sample=1e-3,
        min_count=1,
        dynamic_window=True,
        seed=None,
        jit_compile=True,
        verbose=1,
    ):
        """Fit the vectors on text (or token ids) with negative-sampling SGD.

        Args:
            data: texts (list of str, one document each), a path to a text file (one
                document a line), a `tf.data.Dataset` of strings, or token ids (a list
                of int lists or an int `tf.RaggedTensor`). Context never crosses a
                document boundary.
            tokenizer: a zoo tokenizer; defaults to the model's. When the model has
                none, this one is attached (and saved with the model).
            epochs: passes over the corpus.
            batch_size: center tokens per SGD step. Under JAX with a
                `keras.distribution`, a multiple of the devices on its batch axis.
            learning_rate, min_learning_rate: the SGD step size decays linearly from
                the first to the second over the run (word2vec's schedule).
            sample: subsampling threshold for frequent tokens (0 disables it).
            min_count: tokens seen fewer times are left out (and not trained).
            dynamic_window: draw each center's window in [1, window] (word2vec).
            seed: int seed of the data pipeline (subsampling, windows, negatives).
            jit_compile: compile the SGD step with XLA (TensorFlow backend; under JAX
                the step is always jitted).
            verbose: 0 silent, 1 one line per epoch.

        Returns:
            A dict: "loss" (mean loss per center or pair, per epoch), "num_tokens"
            (corpus tokens per epoch), "seconds" (training time),
            "words_per_second" (corpus tokens x epochs / seconds),
            "tokenize_seconds".
        """
        owner = "Word2Vec.train()"
        epochs = check_int(epochs, "epochs", owner)
        learning_rate = check_float(learning_rate, "learning_rate", owner, strict=True)
        min_learning_rate = check_float(min_learning_rate, "min_learning_rate", owner)
        if tokenizer is not None and not callable(getattr(tokenizer, "get_vocabulary", None)):
            raise ValueError(
                f"{owner} received tokenizer={tokenizer!r}. Expected a zoo tokenizer or None."
            )
        if tokenizer is not None and tokenizer.vocabulary_size() != self.vocabulary_size:
            raise ValueError(
                f"{owner} received a tokenizer of {tokenizer.vocabulary_size()} tokens for a "
                f"model of vocabulary_size={self.vocabulary_size}. Build the model with "
                "Word2Vec(tokenizer=tokenizer) so the sizes match."
            )
        jax_batch_axis = None  # (mesh, axis, devices) under the JAX backend
        if keras.backend.backend() == "jax":
            batch_size = check_int(batch_size, "batch_size", owner)
            jax_batch_axis = _jax_batch_axis(batch_size)
        if tokenizer is not None and self.tokenizer is None:
            self.tokenizer = tokenizer
        tokenizer = tokenizer or self.tokenizer
        start = time.perf_counter()
        token_ids, row_splits = tokenize_corpus(data, tokenizer)
        tokenize_seconds = time.perf_counter() - start
        excluded = self._reserved_ids(tokenizer)
        dataset, info = word2vec_dataset(
            token_ids,
            row_splits,
            self.vocabulary_size,
            window=self.window,
            num_negatives=self.num_negatives,
            batch_size=batch_size,
            epochs=epochs,
            sample=sample,
            min_count=min_count,
            excluded_ids=excluded,
            dynamic_window=dynamic_window,
            seed=seed,
        )
        if jax_batch_axis is not None:
            losses, seconds = self._train_jax(
                dataset,
                epochs,
                batch_size,
                jax_batch_axis,
                learning_rate,
                min_learning_rate,
                verbose,
            )
        else:
            step = self._make_train_step(learning_rate, min_learning_rate, jit_compile)
            losses = [[] for _ in range(epochs)]
            start = time.perf_counter()
            epoch_start, current = start, 0
            for batch in dataset:
                epoch = int(batch["epoch"])
                if epoch != current:
                    self._log_epoch(verbose, current, epochs, losses, epoch_start)
                    current, epoch_start = epoch, time.perf_counter()
                losses[epoch].append(step(batch))
            self._log_epoch(verbose, current, epochs, losses, epoch_start)
            seconds = time.perf_counter() - start
        counts = np.where(info["keep_probabilities"] > 0, info["counts"], 0)
        self.token_counts.assign(self.token_counts + counts.astype(np.float32))
        return {
            "loss": [self._mean_loss(epoch_losses) for epoch_losses in losses],
            "num_tokens": info["num_tokens"],
            "num_trainable_tokens": info["num_trainable_tokens"],
            "seconds": seconds,
            "tokenize_seconds": tokenize_seconds,
            "words_per_second": info["num_tokens"] * epochs / max(seconds, 1e-9),
        }

    def _train_jax(
        self, dataset, epochs, batch_size, batch_axis, learning_rate, min_learning_rate, verbose
    ):
        """The JAX backend's loop: the chunks as numpy, one jitted step each (donating
        the matrices); the vectors go back into the Keras variables at the end, also when
        training stops early (an exception, Ctrl-C). Returns (losses, seconds)."""
        import jax
        import jax.numpy as jnp

        mesh, axis, shards = batch_axis
        step = _jax_train_step(self.mode, _jax_tile_size(batch_size, shards), mesh, axis)
        variables = (self.token_embedding.embeddings, self.context_embedding.embeddings)
        if mesh is None:
            place = None
            matrices = [jnp.array(variable.value, copy=True) for variable in variables]
        else:
            spec = jax.sharding.PartitionSpec
            by_center = jax.sharding.NamedSharding(mesh, spec(axis))
            copy = jax.jit(jnp.copy, out_shardings=jax.sharding.NamedSharding(mesh, spec()))
            matrices = [copy(variable.value) for variable in variables]

            def place(array):  # every process holds the whole chunk and places its shards
                return jax.make_array_from_callback(
                    array.shape, by_center, lambda index: array[index]
                )

        rates = (np.float32(learning_rate), np.float32(min_learning_rate))
        losses = [[] for _ in range(epochs)]
        start = time.perf_counter()
        epoch_start, current = start, 0
        try:
            for batch in dataset.as_numpy_iterator():
                epoch = int(batch["epoch"])
                if epoch != current:
                    self._log_epoch(verbose, current, epochs, losses, epoch_start)
                    current, epoch_start = epoch, time.perf_counter()
                chunk = _jax_chunk(batch, self.window, self.num_negatives)
                if place is not None:
                    chunk = {key: place(value) for key, value in chunk.items()}
                *matrices, loss, count = step(*matrices, chunk, batch["progress"], *rates)
                losses[epoch].append((loss, count))
            jax.block_until_ready(matrices)
            self._log_epoch(verbose, current, epochs, losses, epoch_start)
            seconds = time.perf_counter() - start
        finally:  # (not when a failed step consumed the donated matrices)
            if not any(value.is_deleted() for value in matrices):
                for variable, value in zip(variables, matrices):
                    variable.assign(value)
        return losses, seconds

    def _make_train_step(self, learning_rate, min_learning_rate, jit_compile):
        compiled = _compiled_step(self.mode, jit_compile)
        embeddings = self.token_embedding.embeddings.value
        context_vectors = self.context_embedding.embeddings.value
        rates = (tf.constant(learning_rate, tf.float32), tf.constant(min_learning_rate, tf.float32))

        def step(batch):
            inputs = {key: batch[key] for key in _STEP_KEYS}
            return compiled(inputs, embeddings, context_vectors, *rates)

        return step

    @staticmethod
    def _mean_loss(epoch_losses):
        if not epoch_losses:
            return float("nan")
        loss = float(np.sum([float(loss) for loss, _ in epoch_losses]))
        count = float(np.sum([float(count) for _, count in epoch_losses]))
        return loss / max(count, 1.0)

    def _log_epoch(self, verbose, epoch, epochs, losses, start):
        if verbose:
            print(
                f"Word2Vec epoch {epoch + 1}/{epochs}: loss {self._mean_loss(losses[epoch]):.4f}, "
                f"{time.perf_counter() - start:.1f}s",
                flush=True,
            )

    @staticmethod
    def _reserved_ids(tokenizer):
        if tokenizer is None:
            return []
        reserved = getattr(tokenizer, "reserved_tokens", None) or []
        return [tokenizer.token_to_id(token) for token in reserved]

    # -------------------------------------------------------------------- similarity
    def _vocabulary(self):
        if self.tokenizer is None:
            return [str(i) for i in range(self.vocabulary_size)]
        return self.tokenizer.get_vocabulary()

    def _require_tokenizer(self, word):
        if self.tokenizer is None:
            raise ValueError(
                f"Word2Vec received the word {word!r} but has no tokenizer. Pass token ids "
                "(ints), or build the model with Word2Vec(tokenizer=...)."
            )

    def _ids_of(self, word):
        """The ids whose mean vector stands for `word` (one id, or its subword pieces)."""
        if isinstance(word, (int, np.integer)) and not isinstance(word, bool):
            if not 0 <= word < self.vocabulary_size:
                raise ValueError(
                    f"Word2Vec received token id {word}, outside [0, {self.vocabulary_size})."
                )
            return [int(word)]
        if not isinstance(word, str):
            raise ValueError(
                f"Word2Vec received {word!r}. Expected a word (str) or a token id (int)."
            )
        self._require_tokenizer(word)
        index = self.tokenizer._token_index()
        if word in index and word not in self.tokenizer.reserved_tokens:
            ids = [index[word]]
        else:
            ids = [int(i) for i in np.asarray(self.tokenizer(word)).reshape(-1)]
        unknown = self.tokenizer.unk_token_id
        reserved = set(self._reserved_ids(self.tokenizer))
        counts = keras.ops.convert_to_numpy(self.token_counts)
        trained = counts.sum() == 0 or all(counts[i] > 0 for i in ids)
        if not ids or unknown in ids or reserved.intersection(ids) or not trained:
            raise ValueError(
                f"Word2Vec does not know the word {word!r}: it is "
                + ("outside the tokenizer's vocabulary" if trained else "not a trained token")
                + f" (tokens {[self.tokenizer.id_to_token(i) for i in ids]}). Check the "
                "spelling, or train with a lower min_count or a larger vocabulary."
            )
        return ids

    def vector(self, word):
        """The vector of a word (mean of its subword pieces) or of a token id, numpy."""
        return self.embeddings[self._ids_of(word)].mean(axis=0)

    def _unit_embeddings(self):
        matrix = self.embeddings.astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.maximum(norms, 1e-12)

    def _unit_vector(self, word):
        vector = self._unit_embeddings()[self._ids_of(word)].mean(axis=0)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def _search(self, query, exclude, k):
        k = check_int(k, "k", "Word2Vec")
        query = np.asarray(query, np.float32).reshape(-1)
        if query.shape[0] != self.hidden_dim:
            raise ValueError(
                f"Word2Vec received a query vector of size {query.shape[0]}. Expected "
                f"hidden_dim={self.hidden_dim}."
            )
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        scores = self._unit_embeddings() @ query
        allowed = np.ones(self.vocabulary_size, bool)
        allowed[self._reserved_ids(self.tokenizer)] = False
        counts = keras.ops.convert_to_numpy(self.token_counts)
        if counts.sum() > 0:
            allowed &= counts > 0
        allowed[list(exclude)] = False
        candidates = np.flatnonzero(allowed)
        order = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
        vocabulary = self._vocabulary()
        return [(vocabulary[i], float(scores[i])) for i in order]

    def most_similar(self, word_or_vector, k=10):
        """The k tokens of highest cosine similarity, as `[(token, cosine), ...]`.

        Args:
            word_or_vector: a word (str), a token id (int) or a vector `(hidden_dim,)`.
                A word itself is left out of the answer; so are reserved tokens and
                tokens that were not trained.
            k: how many.
        """
        if isinstance(word_or_vector, (str, int, np.integer)):
            ids = self._ids_of(word_or_vector)
            return self._search(self._unit_vector(word_or_vector), ids, k)
        return self._search(word_or_vector, [], k)

    def analogy(self, a, b, c, k=10):
        """Words nearest to `a - b + c` (unit vectors; a, b, c left out).

        `analogy("king", "man", "woman")` asks "king is to man as ? is to woman"
        and should answer "queen".
        """
        query = self._unit_vector(a) - self._unit_vector(b) + self._unit_vector(c)
        exclude = self._ids_of(a) + self._ids_of(b) + self._ids_of(c)
        return self._search(query, exclude, k)

    def direction(self, pairs):
        """The mean difference of (unit) word vectors over word pairs, numpy `(hidden_dim,)`.

        `direction([("he", "she"), ("king", "queen")])` is a "gender" direction.
        """
        if isinstance(pairs, (str, bytes)) or not pairs:
            raise ValueError(
                f"Word2Vec.direction() received {pairs!r}. Expected a non-empty list of word "
                'pairs, e.g. [("he", "she"), ("king", "queen")].'
            )
        differences = []
        for pair in pairs:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ValueError(
                    f"Word2Vec.direction() received the item {pair!r}. Expected pairs of two "
                    'words, e.g. ("he", "she").'
                )
            differences.append(self._unit_vector(pair[0]) - self._unit_vector(pair[1]))
        return np.mean(differences, axis=0)

    def project(self, words, direction):
        """Scalar projections of (unit) word vectors onto `direction`, numpy `(len(words),)`.

        Positive values lean to the first words of the pairs that made the direction.
        """
        direction = np.asarray(direction, np.float32).reshape(-1)
        if direction.shape[0] != self.hidden_dim or not np.linalg.norm(direction) > 0:
            raise ValueError(
                f"Word2Vec.project() received a direction of shape {direction.shape}. "
                f"Expected a non-zero vector of size hidden_dim={self.hidden_dim}, as "
                "direction() returns."
            )
        if isinstance(words, (str, int)):
            words = [words]
        unit = direction / np.linalg.norm(direction)
        return np.array([float(self._unit_vector(w) @ unit) for w in words], np.float32)

    # -------------------------------------------------------------- sentence vectors
    def sentence_embedding(self, frequency_weighting=False, smoothing=1e-3):
        """A `zoo.layers.SentenceEmbedding` over these word vectors (token ids in).

        With `frequency_weighting`, tokens are weighted `a / (a + p(token))` with the
        training frequencies p (SIF, Arora et al. 2017).
        """
        from zoo.layers.sentence_embedding import SentenceEmbedding

        counts = keras.ops.convert_to_numpy(self.token_counts)
        return SentenceEmbedding(
            embeddings=self.embeddings,
            token_frequencies=counts if frequency_weighting else None,
            smoothing=smoothing,
            trainable=False,
        )

    def encode(self, texts, frequency_weighting=False, batch_size=256):
        """Sentence vectors of texts: the (weighted) mean of their token vectors.

        Reserved tokens (padding, [UNK]) are left out of the mean; a text with no known
        token gets a zero vector. Returns numpy `(len(texts), hidden_dim)`.
        """
        if isinstance(texts, str):
            texts = [texts]
        self._require_tokenizer(texts[0] if texts else "")
        layer = self.sentence_embedding(frequency_weighting)
        reserved = np.array(self._reserved_ids(self.tokenizer) or [-1], np.int32)
        outputs = []
        for start in range(0, len(texts), batch_size):
            ids = self.tokenizer(tf.constant(texts[start : start + batch_size], tf.string))
            if isinstance(ids, tf.RaggedTensor):
                ids = ids.to_tensor(default_value=0)
            ids = tf.cast(ids, tf.int32)
            mask = tf.logical_not(tf.reduce_any(ids[..., None] == reserved, axis=-1))
            outputs.append(keras.ops.convert_to_numpy(layer(ids, padding_mask=mask)))
        if not outputs:
            return np.zeros((0, self.hidden_dim), np.float32)
        return np.concatenate(outputs).astype(np.float32)
