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
- `pretraining_arrays`: documents -> pairs -> tokenize -> pack -> mask, once, into numpy
  arrays for `zoo.models.BertPretrainer` (MLM + NSP); `copies` draws with their own
  pairs and masks (BERT's static masking, `dupe_factor`).
- `bert_pretraining_dataset`: those arrays as step-indexed batches (`zoo.data.step_dataset`).

Randomness is seeded: pairs are drawn by a NumPy generator seeded with `seed` (and the
copy), and each chunk of rows is masked with a stateless seed `(seed, copy and chunk)`,
so a seed gives the same arrays on every run, and `step_dataset` the same batch for a
step. `tensorflow_text.mask_language_model` implements the same 80/10/10 rule, but its
selector and chooser draw from stateful random ops and return ragged tensors; here the
same selection is made with stateless ops on static shapes (TPU-ready), which also makes
it reproducible.

Reference: Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for
Language Understanding", 2018, https://arxiv.org/abs/1810.04805 (section 3.1, appendix
A.1); the 80/10/10 rule and `max_predictions_per_seq` follow BERT's
`create_pretraining_data.py`.

Example:

```python
tokenizer = zoo.text.tokenizers.WordPieceTokenizer.train(texts, vocabulary_size=8000)
documents = [["First sentence.", "Second one."], ["Another document.", "Its end."]]
features, labels, sample_weights = pretraining_arrays(documents, tokenizer, 128, copies=4)
# features: token_ids, padding_mask, segment_ids (8, 128); mask_positions (8, 20)
# labels: {"mlm_logits": (8, 20), "nsp_logits": (8,)}; sample_weights likewise
dataset = bert_pretraining_dataset(documents, tokenizer, 128, batch_size=4, copies=4)
```
"""

import numpy as np
import tensorflow as tf

from zoo._checks import check_rate
from zoo.data.pipelines import (
    _all_strings,
    _check_sizes,
    _clean,
    _special_token_id,
    _tokenize,
)
from zoo.data.steps import step_dataset

__all__ = [
    "bert_pretraining_dataset",
    "default_max_predictions",
    "mask_tokens",
    "next_sentence_pairs",
    "pack_sentence_pairs",
    "pretraining_arrays",
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


def pretraining_arrays(
    documents,
    tokenizer,
    sequence_length,
    *,
    copies=1,
    seed=0,
    max_predictions=None,
    return_pairs=False,
):
    """MLM + NSP examples for `zoo.models.BertPretrainer`, as numpy arrays.

    `copies` draws of `next_sentence_pairs` (50% random B; copy `c` draws with the seed
    `seed * 1000 + c`), each tokenized in one call, packed as `[CLS] A [SEP] B [SEP]` by
    `pack_sentence_pairs` and masked by `mask_tokens` (15% of tokens, 80/10/10) in chunks
    of 4096 rows, chunk `k` of copy `c` with the stateless seed
    `(seed, c * 100000 + k)`. The masks are drawn once (BERT's static masking, each copy
    with its own pairs and masks), so the arrays are a function of the seed, and with
    `step_dataset` the batch of a step a function of the step.

    Args:
        documents: a list of documents (lists of sentences), or lines with an empty line
            between documents.
        tokenizer: a zoo tokenizer (with `cls_token_id`, `sep_token_id`, `mask_token_id`,
            `pad_token_id`, `vocabulary_size`).
        sequence_length: row length (special tokens included).
        copies: draws of the pairs and masks (BERT's `dupe_factor`).
        seed: seed of the pairs and the masks.
        max_predictions: MLM slots per row; default `ceil(0.15 * sequence_length)`.
        return_pairs: also return the sentences of each row.

    Returns:
        `(features, labels, sample_weights)`, keyed by the inputs and outputs of
        `BertPretrainer`: features `{"token_ids", "padding_mask", "segment_ids"}` int32
        `(rows, sequence_length)` and `"mask_positions"` int32 `(rows, P)`; labels
        `{"mlm_logits": mask_ids (rows, P), "nsp_logits": (rows,)}` int32 (NSP label 1:
        B is random); sample_weights `{"mlm_logits": mask_weights (rows, P), "nsp_logits":
        ones (rows,)}` float32. With `return_pairs`, a fourth element `(first, second)`:
        the lists of sentences A and B of every row.

    Example:

    >>> documents = [["First sentence.", "Second one."], ["Another document.", "Its end."]]
    >>> features, labels, weights = pretraining_arrays(documents, tokenizer, 128, copies=4)
    >>> features["mask_positions"].shape  # 4 copies of 2 pairs, 20 MLM slots
    (8, 20)
    """
    _check_sizes(sequence_length=sequence_length, copies=copies)
    max_predictions = max_predictions or default_max_predictions(sequence_length)
    vocabulary_size = _vocabulary_size(tokenizer)
    cls_id = _special_token_id(tokenizer, "cls_token_id")
    sep_id = _special_token_id(tokenizer, "sep_token_id")
    pad_id = _special_token_id(tokenizer, "pad_token_id", default=0)
    mask_id = _special_token_id(tokenizer, "mask_token_id")
    chunk = 4096
    parts, firsts, seconds = [], [], []
    for copy in range(copies):
        first, second, nsp = next_sentence_pairs(documents, seed=seed * 1000 + copy)
        token_ids, segment_ids, padding_mask = pack_sentence_pairs(
            _tokenize(tokenizer, _clean(_all_strings(first, "sentences"), None)),
            _tokenize(tokenizer, _clean(_all_strings(second, "sentences"), None)),
            sequence_length,
            cls_token_id=cls_id,
            sep_token_id=sep_id,
            pad_token_id=pad_id,
        )
        for start in range(0, len(nsp), chunk):
            rows = slice(start, start + chunk)
            masked = mask_tokens(
                token_ids[rows],
                padding_mask[rows],
                tf.constant([seed, copy * 100_000 + start // chunk], tf.int32),
                vocabulary_size=vocabulary_size,
                max_predictions=max_predictions,
                mask_token_id=mask_id,
                unselectable_token_ids=(pad_id, cls_id, sep_id),
            )
            parts.append(
                {
                    "token_ids": masked["token_ids"].numpy(),
                    "padding_mask": padding_mask[rows].numpy().astype("int32"),
                    "segment_ids": segment_ids[rows].numpy(),
                    "mask_positions": masked["mask_positions"].numpy(),
                    "mask_ids": masked["mask_ids"].numpy(),
                    "mask_weights": masked["mask_weights"].numpy(),
                    "nsp": nsp[rows],
                }
            )
        firsts.extend(first)
        seconds.extend(second)
    joined = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    features = {
        key: joined[key] for key in ("token_ids", "padding_mask", "segment_ids", "mask_positions")
    }
    labels = {"mlm_logits": joined["mask_ids"], "nsp_logits": joined["nsp"]}
    weights = {
        "mlm_logits": joined["mask_weights"],
        "nsp_logits": np.ones(len(joined["nsp"]), "float32"),
    }
    if return_pairs:
        return features, labels, weights, (firsts, seconds)
    return features, labels, weights


def bert_pretraining_dataset(
    documents,
    tokenizer,
    sequence_length,
    batch_size,
    *,
    copies=1,
    seed=0,
    start_step=0,
    total_steps=None,
    shard=None,
    max_predictions=None,
):
    """MLM + NSP batches for `zoo.models.BertPretrainer`.

    `pretraining_arrays` cut into the step-indexed batches of `step_dataset`: the batch of
    step `s` is a function of `(seed, s)`, every epoch a new seeded order of the rows.

    Args:
        documents, tokenizer, sequence_length, copies, max_predictions: as in
            `pretraining_arrays`.
        batch_size: static (global) batch size.
        seed: seed of the pairs, the masks and the order.
        start_step: the first step (a resumed run starts where it stopped).
        total_steps: one past the last step; default: one epoch.
        shard: `(process index, process count)`, as in `step_dataset`.

    Returns:
        A dataset of `(features, labels, sample_weights)` as in `pretraining_arrays`,
        batched: `(batch_size, ...)` with static shapes.

    Example:

    >>> dataset = bert_pretraining_dataset(documents, tokenizer, 128, 32, copies=4)
    >>> pretrainer.fit(dataset)
    """
    _check_sizes(sequence_length=sequence_length, batch_size=batch_size)
    arrays = pretraining_arrays(
        documents,
        tokenizer,
        sequence_length,
        copies=copies,
        seed=seed,
        max_predictions=max_predictions,
    )
    if total_steps is None:
        total_steps = len(arrays[1]["nsp_logits"]) // batch_size
    return step_dataset(arrays, batch_size, seed, start_step, total_steps, shard=shard)


def _vocabulary_size(tokenizer):
    vocabulary_size = getattr(tokenizer, "vocabulary_size", None)
    vocabulary_size = vocabulary_size() if callable(vocabulary_size) else vocabulary_size
    if vocabulary_size is None:
        raise ValueError(
            f"Could not read the vocabulary_size of the tokenizer {type(tokenizer).__name__}"
            " (the range of random MLM replacements); pass a zoo tokenizer."
        )
    return int(vocabulary_size)
