"""Token classification (tagging) data: CoNLL files, subword label alignment, entity F1.

- `read_conll(path, max_bad_rows=0)`: sentences of words and their tags from a CoNLL-style
  file (one token a line, its tag in the last column, a blank line between sentences,
  `-DOCSTART-` lines skipped).
- `split_words(text)`: a text's words as the WordPiece pre-tokenizer sees them (runs of
  letters and digits; every other non-space character alone).
- `tagging_arrays(sentences, tags, tokenizer, sequence_length, tag_ids)`: `[CLS] pieces
  [SEP]` rows with each word's tag on its first subword; its other subwords, the special
  tokens and the padding are ignored (label -100, sample weight 0), as in BERT's
  named-entity fine-tuning (Devlin et al., 2018, section 5.3).
- `entity_spans`, `entity_f1`: seqeval-style entity-level precision, recall and F1 (micro):
  spans from BIO tags, an entity counts when its type and both boundaries match.

Pure Python and numpy but for `tagging_arrays`, which tokenizes with TensorFlow.
"""

import re
import warnings

import numpy as np

__all__ = [
    "IGNORE_LABEL",
    "entity_f1",
    "entity_spans",
    "read_conll",
    "split_words",
    "tagging_arrays",
]

IGNORE_LABEL = -100  # the label of a position the loss ignores (Hugging Face's convention)
_WORD = re.compile(r"\w+|[^\w\s]")


def split_words(text):
    """The words of `text`: runs of letters/digits/underscore, and each other non-space
    character alone (how WordPiece splits words and punctuation before its pieces).

    >>> split_words("Anna lives in Paris, France.")
    ['Anna', 'lives', 'in', 'Paris', ',', 'France', '.']
    """
    return _WORD.findall(text)


def read_conll(path, max_bad_rows=0, report=None):
    """Sentences of a CoNLL-style file: `(sentences, tags)`, two lists of lists of str.

    One token a line, columns split on whitespace, the token first and its tag last; a
    blank line ends a sentence; `-DOCSTART-` lines are skipped. A bad line (not UTF-8, a
    single column, a control character) is skipped and counted; more than `max_bad_rows`
    of them is a ValueError naming the first. `report`, a list, gets
    `(path, bad_rows, first_bad_line_number)`.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: too many bad lines, or no sentence at all.
    """
    sentences, tags, words, labels = [], [], [], []
    bad, first_bad = 0, None
    with open(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                line = None
            columns = None if line is None else line.split()
            if line is not None and (not line or columns[0] == "-DOCSTART-"):
                if words:
                    sentences.append(words)
                    tags.append(labels)
                    words, labels = [], []
                continue
            if (
                columns is None
                or len(columns) < 2
                or any(ord(c) < 32 or ord(c) == 127 for c in line if c not in "\t")
            ):
                bad += 1
                first_bad = first_bad or number
                continue
            words.append(columns[0])
            labels.append(columns[-1])
    if words:
        sentences.append(words)
        tags.append(labels)
    if report is not None:
        report.append((path, bad, first_bad))
    if bad > max_bad_rows:
        raise ValueError(
            f"{path}: {bad} bad line(s) (first: line {first_bad}); expected 'token ... tag' "
            f"lines of UTF-8 text, at most --max-bad-rows {max_bad_rows}. Fix the file or "
            "raise --max-bad-rows to skip them."
        )
    if bad:
        warnings.warn(
            f"{path}: skipped {bad} bad of its lines (first: line {first_bad})", stacklevel=2
        )
    if not sentences:
        raise ValueError(f"{path} holds no sentence; expected CoNLL lines 'token ... tag'.")
    return sentences, tags


def tagging_arrays(sentences, tags, tokenizer, sequence_length, tag_ids, return_positions=False):
    """Word-tagged sentences as `[CLS] pieces [SEP]` rows with subword-aligned labels.

    Each word is tokenized into pieces; its first piece carries the word's tag, its
    other pieces get `IGNORE_LABEL` (-100) and sample weight 0, as do `[CLS]`, `[SEP]`
    and the padding. A row that is too long is cut before `[SEP]` (which always stays):
    the words cut off get no position. A word with no pieces gets none either.

    Args:
        sentences: a list of sentences, each a list of words (str).
        tags: a list of the sentences' tags, each a list of str as long as its sentence.
        tokenizer: a zoo tokenizer with `cls_token_id`, `sep_token_id`, `pad_token_id`.
        sequence_length: row length, `[CLS]` and `[SEP]` included.
        tag_ids: `{tag: id}`; a tag not in it is a ValueError.
        return_positions: also return, for each sentence, each word's position in its
            row (-1: no position).

    Returns:
        `(features, labels, sample_weights)` (and `positions` when asked): features
        `{"token_ids", "padding_mask", "segment_ids"}` int32 `(sentences,
        sequence_length)`, labels int32 of the same shape, sample weights float32.

    Example:

    >>> from zoo.text import WordPieceTokenizer
    >>> tokenizer = WordPieceTokenizer.train(["Anna lives in Paris"] * 5, 60, verbose=False)
    >>> features, labels, weights = tagging_arrays(
    ...     [["Anna", "lives", "in", "Paris"]], [["B-PER", "O", "O", "B-LOC"]], tokenizer, 12,
    ...     {"O": 0, "B-PER": 1, "I-PER": 2, "B-LOC": 3, "I-LOC": 4})
    >>> int(weights.sum())  # one labelled position per word
    4
    """
    import tensorflow as tf

    from zoo.data.pipelines import _special_token_id

    if len(sentences) != len(tags):
        raise ValueError(
            f"Received {len(sentences)} sentences and {len(tags)} tag lists; expected one "
            "tag list per sentence."
        )
    if sequence_length < 3:
        raise ValueError(f"Received sequence_length={sequence_length}; expected at least 3.")
    cls_id = _special_token_id(tokenizer, "cls_token_id")
    sep_id = _special_token_id(tokenizer, "sep_token_id")
    pad_id = _special_token_id(tokenizer, "pad_token_id", default=0)
    byte_level = type(tokenizer).__name__ == "BytePairTokenizer"  # marks words by a space
    flat = []
    for number, (words, labels) in enumerate(zip(sentences, tags)):
        if len(words) != len(labels):
            raise ValueError(
                f"Sentence {number} has {len(words)} words and {len(labels)} tags; expected "
                "one tag per word."
            )
        for index, (word, label) in enumerate(zip(words, labels)):
            if label not in tag_ids:
                raise ValueError(
                    f"Sentence {number} has tag {label!r}, which is not one of the "
                    f"{len(tag_ids)} tags {sorted(tag_ids)}."
                )
            flat.append(" " + word if byte_level and index else word)
    pieces = []
    if flat:
        ids = tokenizer.tokenize(tf.constant(flat))
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids, padding=pad_id)
        pieces = [list(row) for row in ids.to_list()]
    rows = len(sentences)
    token_ids = np.full((rows, sequence_length), pad_id, "int32")
    padding_mask = np.zeros((rows, sequence_length), "int32")
    label_array = np.full((rows, sequence_length), IGNORE_LABEL, "int32")
    positions = []
    room = sequence_length - 1  # the last index [SEP] may take
    word = 0
    for row, labels in enumerate(tags):
        token_ids[row, 0] = cls_id
        at, places = 1, []
        for label in labels:
            word_pieces = pieces[word]
            word += 1
            if not word_pieces or at + 1 > room:
                places.append(-1)
                continue
            places.append(at)
            label_array[row, at] = tag_ids[label]
            fit = word_pieces[: room - at]
            token_ids[row, at : at + len(fit)] = fit
            at += len(fit)
        token_ids[row, at] = sep_id
        padding_mask[row, : at + 1] = 1
        positions.append(places)
    features = {
        "token_ids": token_ids,
        "padding_mask": padding_mask,
        "segment_ids": np.zeros_like(token_ids),
    }
    weights = (label_array != IGNORE_LABEL).astype("float32")
    if return_positions:
        return features, label_array, weights, positions
    return features, label_array, weights


def entity_spans(tags):
    """The entities of one BIO tag sequence: a set of `(type, start, end)`, end exclusive.

    seqeval's default (CoNLL) rules: `B-X` starts an entity; `I-X` continues one of type
    X and starts one when the tag before is `O` or of another type (an `I-` without
    `B-`); `O` (or any tag without a `B-`/`I-` prefix) ends it.

    >>> sorted(entity_spans(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"]))
    [('LOC', 3, 4), ('LOC', 4, 5), ('PER', 0, 2)]
    """
    spans, kind, start = set(), None, 0
    for index, tag in enumerate([*tags, "O"]):
        prefix, _, name = tag.partition("-") if tag[:2] in ("B-", "I-") else ("O", "", "")
        continues = prefix == "I" and kind == name
        if kind is not None and not continues:
            spans.add((kind, start, index))
            kind = None
        if prefix == "B" or (prefix == "I" and not continues):
            kind, start = name, index
    return spans


def entity_f1(true_tags, predicted_tags):
    """Entity-level precision, recall and F1 (micro over all entities), seqeval-style.

    Args:
        true_tags, predicted_tags: lists of sentences' BIO tag lists, equally long.

    Returns:
        `{"precision", "recall", "f1", "true_entities", "predicted_entities",
        "correct_entities"}`; a ratio whose denominator is 0 is 0.0.

    >>> entity_f1([["B-PER", "O", "B-LOC"]], [["B-PER", "O", "O"]])["f1"]
    0.6666666666666666
    """
    if len(true_tags) != len(predicted_tags):
        raise ValueError(
            f"Received {len(true_tags)} true and {len(predicted_tags)} predicted sentences; "
            "expected as many."
        )
    true_count = predicted_count = correct = 0
    for number, (truth, guess) in enumerate(zip(true_tags, predicted_tags)):
        if len(truth) != len(guess):
            raise ValueError(
                f"Sentence {number}: {len(truth)} true and {len(guess)} predicted tags; "
                "expected as many."
            )
        true_spans, guessed = entity_spans(truth), entity_spans(guess)
        true_count += len(true_spans)
        predicted_count += len(guessed)
        correct += len(true_spans & guessed)
    precision = correct / predicted_count if predicted_count else 0.0
    recall = correct / true_count if true_count else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_entities": true_count,
        "predicted_entities": predicted_count,
        "correct_entities": correct,
    }
