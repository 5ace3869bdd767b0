"""BERT pretraining data: masked-language-model masks and next-sentence-prediction pairs.

- `mask_tokens`: BERT's MLM corruption of a static `(batch, length)` batch: about 15% of
  the real, non-special tokens are chosen (at least 1, at most `max_predictions` per row);
  of those, 80% become `[MASK]`, 10% a random token and 10% stay unchanged. Returns the
  corrupted ids plus fixed-size `mask_positions`, `mask_ids` (the original tokens) and
  `mask_weights` (0 for unused prediction slots).
- `next_sentence_pairs`: (A, B, label) sentence pairs from documents; B is the sentence
  that follows A (label 0) or, with probability 0.5, a random sentence of another
  document (label 1).
- `pack_sentence_pairs`: `[CLS] A [SEP] B [SEP]` with segment ids 0 / 1, the longer
  segment truncated first, padded to a static length.
- `bert_pretraining_dataset`: documents -> pairs -> tokenize -> pack -> mask -> batches
  for `zoo.models.bert.BertPretrainer` (MLM + NSP).
- `masked_lm_dataset`: texts -> `[CLS] text [SEP]` -> mask (MLM only, no pairs).

Randomness is stateless: each batch is masked with the seed `(seed, batch_index)`, and
pairs are drawn by a NumPy generator seeded with `seed`, so a seed gives the same
batches on every run (and in every tf.data worker). `tensorflow_text.mask_language_model`
implements the same 80/10/10 rule, but its selector and chooser draw from stateful
random ops and return ragged tensors; here the same selection is made with stateless ops
on static shapes (TPU-ready), which also makes it reproducible.

Reference: Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for
Language Understanding", 2018, https://arxiv.org/abs/1810.04805 (section 3.1, appendix
A.1); the 80/10/10 rule and `max_predictions_per_seq` follow BERT's
`create_pretraining_data.py`.

Example:

```python
tokenizer = zoo.text.tokenizers.WordPieceTokenizer.train(texts, vocabulary_size=8000)
documents = [["First sentence.", "Second one."], ["Another document.", "Its end."]]
dataset = bert_pretraining_dataset(documents, tokenizer, sequence_length=128,
                                   batch_size=32, seed=0)
features, labels, sample_weights = next(iter(dataset))
# features: token_ids, padding_mask, segment_ids (32, 128); mask_positions (32, 20)
# labels: {"mlm_logits": (32, 20), "nsp_logits": (32,)}; sample_weights likewise
```
"""

import numpy as np
import tensorflow as tf

from zoo._checks import check_rate
from zoo.data.pipelines import (
    AUTOTUNE,
    DEFAULT_SHUFFLE_BUFFER_SIZE,
    _check_sizes,
    _clean,
    _finish,
    _special_token_id,
    _static,
    _tokenize,
    tokenize_and_batch,
)

__all__ = [
    "bert_pretraining_dataset",
    "default_max_predictions",
    "mask_tokens",
    "masked_lm_dataset",
    "next_sentence_pairs",
    "pack_sentence_pairs",
]

# [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 [BOS]=5 [EOS]=6 (zoo.text.tokenizers.SPECIAL_TOKENS)
PAD_ID, CLS_ID, SEP_ID, MASK_ID = 0, 2, 3, 4
NUM_SPECIAL_TOKENS = 7


def default_max_predictions(sequence_length, selection_rate=0.15):
    """Prediction slots per row: `ceil(selection_rate * sequence_length)` (20 for 128)."""
    return max(1, int(np.ceil(selection_rate * sequence_length)))


def mask_tokens(
    token_ids,
    padding_mask,
    seed,
    *,
    vocabulary_size,
    max_predictions,
    selection_rate=0.15,
    mask_token_rate=0.8,
    random_token_rate=0.1,
    mask_token_id=MASK_ID,
    unselectable_token_ids=(PAD_ID, CLS_ID, SEP_ID),
    random_token_min_id=NUM_SPECIAL_TOKENS,
):
    """BERT's masked-LM corruption of one static batch, with stateless randomness.

    Per row, `num_to_predict = clip(round(selection_rate * num_real_tokens), 1,
    max_predictions)` positions are chosen uniformly among the real tokens that are not
    in `unselectable_token_ids` (fewer if the row has fewer). Each chosen token is
    replaced by `mask_token_id` with probability `mask_token_rate`, by a random id in
    `[random_token_min_id, vocabulary_size)` with probability `random_token_rate`, and
    kept otherwise.

    Args:
        token_ids: int `(batch, length)` with a static shape.
        padding_mask: `(batch, length)`, truthy for real tokens.
        seed: int32 `(2,)` stateless seed (the same seed gives the same masks).
        vocabulary_size: size of the vocabulary (the range of random replacements).
        max_predictions: static number of prediction slots per row (<= length).
        selection_rate, mask_token_rate, random_token_rate: BERT's 0.15, 0.8, 0.1.
        mask_token_id: the `[MASK]` id.
        unselectable_token_ids: ids never chosen (`[PAD]`, `[CLS]`, `[SEP]`).
        random_token_min_id: smallest random replacement (skips the special tokens).

    Returns:
        A dict: `token_ids` (corrupted) int32 `(batch, length)`, `mask_positions` int32
        `(batch, max_predictions)` (ascending; unused slots are 0), `mask_ids` int32
        (the original tokens; 0 in unused slots) and `mask_weights` float32 (1 for a
        real prediction, 0 for an unused slot).
    """
    check_rate(selection_rate, "selection_rate", "mask_tokens()", include_one=True)
    check_rate(mask_token_rate, "mask_token_rate", "mask_tokens()", include_one=True)
    check_rate(random_token_rate, "random_token_rate", "mask_tokens()", include_one=True)
    if mask_token_rate + random_token_rate > 1:
        raise ValueError(
            f"Received mask_token_rate={mask_token_rate} and random_token_rate="
            f"{random_token_rate}; their sum is a probability and must be <= 1."
        )
    token_ids = tf.cast(tf.convert_to_tensor(token_ids), tf.int32)
    if token_ids.shape.rank != 2 or None in token_ids.shape.as_list():
        raise ValueError(
            f"mask_tokens needs a static (batch, length) batch. Received shape {token_ids.shape}."
            " Batch with drop_remainder=True and pad to a fixed length first."
        )
    batch_size, length = token_ids.shape.as_list()
    if not 1 <= max_predictions <= length:
        raise ValueError(
            f"Received max_predictions={max_predictions} for rows of length {length}; "
            f"expected 1 <= max_predictions <= {length} (e.g. {default_max_predictions(length)})."
        )
    if random_token_min_id >= vocabulary_size:
        raise ValueError(
            f"Received vocabulary_size={vocabulary_size} <= random_token_min_id="
            f"{random_token_min_id}: no ids are left for random replacements."
        )
    real = tf.cast(padding_mask, tf.bool)
    selectable = real
    for token_id in unselectable_token_ids:
        selectable &= token_ids != token_id
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int32), num=3)

    # Choose: the `num_to_predict` selectable positions with the smallest random scores.
    num_tokens = tf.reduce_sum(tf.cast(real, tf.float32), axis=1)
    num_to_predict = tf.cast(tf.round(num_tokens * selection_rate), tf.int32)
    num_to_predict = tf.clip_by_value(num_to_predict, 1, max_predictions)
    num_to_predict = tf.minimum(num_to_predict, tf.reduce_sum(tf.cast(selectable, tf.int32), 1))
    scores = tf.random.stateless_uniform([batch_size, length], seeds[0])
    scores = tf.where(selectable, scores, 2.0)  # never chosen before a selectable one
    _, order = tf.math.top_k(-scores, k=max_predictions)  # (batch, P), best first
    chosen = tf.range(max_predictions)[None, :] < num_to_predict[:, None]
    positions = tf.sort(tf.where(chosen, order, length), axis=1)  # chosen ones first
    valid = positions < length
    positions = tf.where(valid, positions, 0)
    original = tf.gather(token_ids, positions, batch_dims=1)  # (batch, P)
    mask_ids = tf.where(valid, original, 0)

    # Replace: 80% [MASK], 10% a random token, 10% unchanged.
    draw = tf.random.stateless_uniform([batch_size, max_predictions], seeds[1])
    random_ids = tf.random.stateless_uniform(
        [batch_size, max_predictions],
        seeds[2],
        minval=random_token_min_id,
        maxval=vocabulary_size,
        dtype=tf.int32,
    )
    replacement = tf.where(
        draw < mask_token_rate,
        mask_token_id,
        tf.where(draw < mask_token_rate + random_token_rate, random_ids, original),
    )
    one_hot = tf.one_hot(positions, length, dtype=tf.int32) * tf.cast(valid, tf.int32)[..., None]
    replaced = tf.reduce_sum(one_hot, axis=1) > 0  # (batch, length)
    new_values = tf.reduce_sum(one_hot * replacement[..., None], axis=1)
    return {
        "token_ids": tf.where(replaced, new_values, token_ids),
        "mask_positions": positions,
        "mask_ids": mask_ids,
        "mask_weights": tf.cast(valid, tf.float32),
    }


def _documents(documents):
    """A list of documents (lists of sentence strings) from lists or blank-line-split lines."""
    if isinstance(documents, (str, bytes)):
        raise ValueError(
            "Received a single string as documents; pass a list of documents (each a list of "
            "sentences) or a list of lines with an empty line between documents."
        )
    items = list(documents)
    if items and all(isinstance(item, (str, bytes)) for item in items):
        grouped, current = [], []
        for line in items:
            line = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
            if line.strip():
                current.append(line.strip())
            elif current:
                grouped.append(current)
                current = []
        if current:
            grouped.append(current)
        items = grouped
    result = []
    for document in items:
        if isinstance(document, (str, bytes)) or not hasattr(document, "__iter__"):
            raise ValueError(
                "Received documents mixing strings and lists; pass either lists of sentences "
                "or lines with empty lines between documents."
            )
        sentences = [
            s.decode("utf-8", "replace") if isinstance(s, bytes) else str(s) for s in document
        ]
        sentences = [s for s in sentences if s.strip()]
        if sentences:
            result.append(sentences)
    return result


def next_sentence_pairs(documents, random_next_rate=0.5, seed=0):
    """Sentence pairs for next-sentence prediction.

    Every sentence that has a successor in its document becomes an `A`. With
    probability `1 - random_next_rate`, `B` is that successor (label 0, "is next");
    otherwise `B` is a sentence drawn uniformly from the other documents (label 1,
    "random"), or, with a single document, from its sentences other than A and its
    successor.

    Args:
        documents: a list of documents, each a list of sentences; or a list of lines
            with an empty line between documents (BERT's input format).
        random_next_rate: probability of a random B (0.5 in BERT).
        seed: seed of the NumPy generator (same seed, same pairs).

    Returns:
        `(first, second, labels)`: two lists of strings and an int32 array.

    Example:

    >>> first, second, labels = next_sentence_pairs([["a", "b", "c"], ["d", "e"]], seed=0)
    >>> len(first), sorted(set(labels.tolist())) <= [0, 1]
    (3, True)
    """
    check_rate(random_next_rate, "random_next_rate", "next_sentence_pairs()", include_one=True)
    documents = _documents(documents)
    sentences = [sentence for document in documents for sentence in document]
    document_of = np.concatenate(
        [np.full(len(document), i) for i, document in enumerate(documents)] or [np.zeros(0)]
    ).astype(np.int64)
    starts = np.cumsum([0] + [len(document) for document in documents])
    first_index = np.array(
        [starts[d] + i for d, document in enumerate(documents) for i in range(len(document) - 1)],
        dtype=np.int64,
    )
    if len(first_index) == 0:
        raise ValueError(
            "next_sentence_pairs found no document with two or more sentences. Received "
            f"{len(documents)} documents of {len(sentences)} sentences; split the texts into "
            "sentences (one per item) so that each document has at least two."
        )
    rng = np.random.default_rng(seed)
    is_random = rng.random(len(first_index)) < random_next_rate
    second_index = first_index + 1
    total = len(sentences)
    for k in np.flatnonzero(is_random):
        a = first_index[k]
        if len(documents) > 1:
            own = starts[document_of[a]], starts[document_of[a] + 1]
            # Uniform over the sentences outside A's document.
            j = rng.integers(0, total - (own[1] - own[0]))
            second_index[k] = j if j < own[0] else j + (own[1] - own[0])
        elif total > 2:
            candidates = [j for j in range(total) if j not in (a, a + 1)]
            second_index[k] = candidates[rng.integers(0, len(candidates))]
        else:
            is_random[k] = False  # nothing else to draw: keep the true successor
    first = [sentences[i] for i in first_index]
    second = [sentences[i] for i in second_index]
    return first, second, is_random.astype(np.int32)


def pack_sentence_pairs(
    first_ids,
    second_ids,
    sequence_length,
    cls_token_id=CLS_ID,
    sep_token_id=SEP_ID,
    pad_token_id=PAD_ID,
):
    """`[CLS] A [SEP] B [SEP]`, padded to `sequence_length`, with segment ids.

    When the pair is too long, the longer segment is cut first (from its end), as BERT's
    `truncate_seq_pair`: A keeps `max(budget - len(B), budget // 2)` ids when that is
    less than its length, where `budget = sequence_length - 3`, and B fills the rest.

    Args:
        first_ids, second_ids: ragged int `(batch, None)` token ids of A and B.
        sequence_length: static row length (>= 4).
        cls_token_id, sep_token_id, pad_token_id: special ids.

    Returns:
        `(token_ids, segment_ids, padding_mask)`: int32, int32 and bool `(batch,
        sequence_length)`; segment 0 is `[CLS] A [SEP]`, segment 1 is `B [SEP]`.
    """
    if sequence_length < 4:
        raise ValueError(
            f"Received sequence_length={sequence_length}; a pair needs at least 4 positions "
            "([CLS] a [SEP] b [SEP] without b has 3 special tokens)."
        )
    first_ids = tf.cast(first_ids, tf.int32)
    second_ids = tf.cast(second_ids, tf.int32)
    budget = sequence_length - 3
    first_length = tf.cast(first_ids.row_lengths(), tf.int32)
    second_length = tf.cast(second_ids.row_lengths(), tf.int32)
    keep_first = tf.minimum(first_length, tf.maximum(budget - second_length, budget // 2))
    keep_second = tf.minimum(second_length, budget - keep_first)
    batch_size = tf.shape(first_length)[0]
    first_dense = first_ids.to_tensor(pad_token_id, shape=[batch_size, sequence_length])
    second_dense = second_ids.to_tensor(pad_token_id, shape=[batch_size, sequence_length])

    j = tf.range(sequence_length)[None, :]  # (1, length)
    a_end = keep_first[:, None] + 1  # position of the first [SEP]
    b_end = a_end + keep_second[:, None] + 1  # position of the second [SEP]
    in_a = (j >= 1) & (j < a_end)
    in_b = (j > a_end) & (j < b_end)
    a_values = tf.gather(first_dense, tf.clip_by_value(j - 1, 0, sequence_length - 1)[0], axis=1)
    b_index = tf.clip_by_value(j - a_end - 1, 0, sequence_length - 1)
    b_values = tf.gather(second_dense, b_index, batch_dims=1)
    token_ids = tf.fill(tf.shape(first_dense), pad_token_id)
    token_ids = tf.where(in_b, b_values, token_ids)
    token_ids = tf.where(in_a, a_values, token_ids)
    token_ids = tf.where((j == a_end) | (j == b_end), sep_token_id, token_ids)
    token_ids = tf.where(j == 0, cls_token_id, token_ids)
    padding_mask = j <= b_end
    segment_ids = tf.cast((j > a_end) & padding_mask, tf.int32)
    return token_ids, segment_ids, padding_mask


def _mask_batch(features, index, seed, vocabulary_size, max_predictions, mask_token_id, **rates):
    masked = mask_tokens(
        features["token_ids"],
        features["padding_mask"],
        tf.stack([tf.constant(seed, tf.int32), tf.cast(index, tf.int32)]),
        vocabulary_size=vocabulary_size,
        max_predictions=max_predictions,
        mask_token_id=mask_token_id,
        **rates,
    )
    features = {**features, "token_ids": masked["token_ids"]}
    features["mask_positions"] = masked["mask_positions"]
    return features, masked


def _vocabulary_size(tokenizer, vocabulary_size):
    if vocabulary_size is None:
        vocabulary_size = getattr(tokenizer, "vocabulary_size", None)
        vocabulary_size = vocabulary_size() if callable(vocabulary_size) else vocabulary_size
    if vocabulary_size is None:
        raise ValueError(
            "Could not read the tokenizer's vocabulary_size; pass vocabulary_size= (the range "
            "of random MLM replacements)."
        )
    return int(vocabulary_size)


def bert_pretraining_dataset(
    documents,
    tokenizer,
    sequence_length,
    batch_size,
    *,
    max_predictions=None,
    selection_rate=0.15,
    mask_token_rate=0.8,
    random_token_rate=0.1,
    random_next_rate=0.5,
    vocabulary_size=None,
    preprocessor=None,
    shuffle=True,
    shuffle_buffer_size=DEFAULT_SHUFFLE_BUFFER_SIZE,
    seed=0,
    prefetch=True,
):
    """MLM + NSP batches for `zoo.models.bert.BertPretrainer`.

    Sentence pairs come from `next_sentence_pairs` (50% random B), are tokenized in
    batches, packed as `[CLS] A [SEP] B [SEP]` (segment ids 0 / 1) to `sequence_length`,
    and masked by `mask_tokens` (15% of tokens, 80/10/10). All shapes are static.

    Args:
        documents: a list of documents (lists of sentences), or lines with an empty line
            between documents.
        tokenizer: a zoo tokenizer (with `cls_token_id`, `sep_token_id`, `mask_token_id`,
            `pad_token_id`, `vocabulary_size`).
        sequence_length: static row length (special tokens included).
        batch_size: static batch size; the last incomplete batch is dropped.
        max_predictions: MLM slots per row; default `ceil(0.15 * sequence_length)`.
        selection_rate, mask_token_rate, random_token_rate: BERT's 0.15 / 0.8 / 0.1.
        random_next_rate: probability that B is a random sentence (label 1).
        vocabulary_size: range of random replacements; default the tokenizer's.
        preprocessor: optional string -> string layer or callable applied before tokenizing.
        shuffle: shuffle the pairs (seeded).
        shuffle_buffer_size: shuffle buffer.
        seed: seed of the pairs, the shuffle and the masks.
        prefetch: end with `prefetch(AUTOTUNE)`.

    Returns:
        A dataset of `(features, labels, sample_weights)`:
        features `{"token_ids", "padding_mask", "segment_ids", "mask_positions"}`,
        labels `{"mlm_logits": mask_ids (batch, P), "nsp_logits": (batch,)}` and
        sample_weights `{"mlm_logits": mask_weights (batch, P), "nsp_logits": ones}`,
        keyed by the outputs of `BertPretrainer`.
    """
    _check_sizes(sequence_length=sequence_length, batch_size=batch_size)
    max_predictions = max_predictions or default_max_predictions(sequence_length, selection_rate)
    vocabulary_size = _vocabulary_size(tokenizer, vocabulary_size)
    cls_id = _special_token_id(tokenizer, "cls_token_id")
    sep_id = _special_token_id(tokenizer, "sep_token_id")
    pad_id = _special_token_id(tokenizer, "pad_token_id", default=0)
    mask_id = _special_token_id(tokenizer, "mask_token_id")
    first, second, labels = next_sentence_pairs(documents, random_next_rate, seed=seed)
    if len(labels) < batch_size:
        raise ValueError(
            f"The documents give {len(labels)} sentence pairs, fewer than batch_size="
            f"{batch_size}. Pass more text or a smaller batch_size."
        )
    dataset = tf.data.Dataset.from_tensor_slices((first, second, labels))
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer_size, seed=seed, reshuffle_each_iteration=False)
    dataset = dataset.batch(batch_size, drop_remainder=True).enumerate()

    def encode(index, batch):
        first_texts, second_texts, nsp_labels = batch
        token_ids, segment_ids, padding_mask = pack_sentence_pairs(
            _tokenize(tokenizer, _clean(first_texts, preprocessor)),
            _tokenize(tokenizer, _clean(second_texts, preprocessor)),
            sequence_length,
            cls_token_id=cls_id,
            sep_token_id=sep_id,
            pad_token_id=pad_id,
        )
        features = {
            "token_ids": _static(token_ids, batch_size, sequence_length),
            "padding_mask": _static(padding_mask, batch_size, sequence_length),
            "segment_ids": _static(segment_ids, batch_size, sequence_length),
        }
        features, masked = _mask_batch(
            features,
            index,
            seed,
            vocabulary_size,
            max_predictions,
            mask_id,
            selection_rate=selection_rate,
            mask_token_rate=mask_token_rate,
            random_token_rate=random_token_rate,
            unselectable_token_ids=(pad_id, cls_id, sep_id),
        )
        nsp_labels = _static(tf.cast(nsp_labels, tf.int32), batch_size)
        targets = {"mlm_logits": masked["mask_ids"], "nsp_logits": nsp_labels}
        weights = {
            "mlm_logits": masked["mask_weights"],
            "nsp_logits": tf.ones([batch_size], tf.float32),
        }
        return features, targets, weights

    dataset = dataset.map(encode, num_parallel_calls=AUTOTUNE, deterministic=True)
    return _finish(dataset, prefetch)


def masked_lm_dataset(
    texts,
    tokenizer,
    sequence_length,
    batch_size,
    *,
    max_predictions=None,
    selection_rate=0.15,
    mask_token_rate=0.8,
    random_token_rate=0.1,
    vocabulary_size=None,
    preprocessor=None,
    shuffle=True,
    shuffle_buffer_size=DEFAULT_SHUFFLE_BUFFER_SIZE,
    seed=0,
    prefetch=True,
):
    """MLM-only batches: `[CLS] text [SEP]` rows, masked as by `mask_tokens`.

    Args: as `bert_pretraining_dataset`, with `texts` a list or dataset of strings.

    Returns:
        A dataset of `(features, mask_ids, mask_weights)` with features
        `{"token_ids", "padding_mask", "segment_ids" (zeros), "mask_positions"}`; use it
        with a model whose output is the MLM logits at `mask_positions`.
    """
    _check_sizes(sequence_length=sequence_length, batch_size=batch_size)
    max_predictions = max_predictions or default_max_predictions(sequence_length, selection_rate)
    vocabulary_size = _vocabulary_size(tokenizer, vocabulary_size)
    cls_id = _special_token_id(tokenizer, "cls_token_id")
    sep_id = _special_token_id(tokenizer, "sep_token_id")
    pad_id = _special_token_id(tokenizer, "pad_token_id", default=0)
    mask_id = _special_token_id(tokenizer, "mask_token_id")
    dataset = tokenize_and_batch(
        texts,
        tokenizer,
        sequence_length,
        batch_size,
        preprocessor=preprocessor,
        start_token_id=cls_id,
        end_token_id=sep_id,
        shuffle=shuffle,
        shuffle_buffer_size=shuffle_buffer_size,
        seed=seed,
        reshuffle_each_iteration=False,
        prefetch=False,
    ).enumerate()

    def mask(index, features):
        features = {
            **features,
            "segment_ids": tf.zeros([batch_size, sequence_length], tf.int32),
        }
        features, masked = _mask_batch(
            features,
            index,
            seed,
            vocabulary_size,
            max_predictions,
            mask_id,
            selection_rate=selection_rate,
            mask_token_rate=mask_token_rate,
            random_token_rate=random_token_rate,
            unselectable_token_ids=(pad_id, cls_id, sep_id),
        )
        return features, masked["mask_ids"], masked["mask_weights"]

    dataset = dataset.map(mask, num_parallel_calls=AUTOTUNE, deterministic=True)
    return _finish(dataset, prefetch)
