"""`BertModule` / `export_bert`: a BERT pretrainer serving `encode` and `fill_mask`."""

import tensorflow as tf

from zoo._checks import check_int
from zoo.data.pipelines import pack_token_ids
from zoo.export.common import (
    ANY_STRING,
    as_batch,
    check_vocabulary,
    clean_text,
    like_input,
    readable_rows,
    required_id,
    save,
    strip_wordpiece_prefix,
    text_signature,
    with_merged_lora,
)


class WindowedBertModule(tf.Module):
    """What the BERT exports share: packing `[CLS] text [SEP]`, sliding windows, checks.

    A text longer than `sequence_length - 2` tokens is read in windows: window `k`
    holds its tokens `[k * step, k * step + body)`, where `body = sequence_length - 2`
    and `step = body - stride` (`stride` tokens of overlap, the keras-hub / Hugging Face
    convention); a text of at most `body` tokens, an empty one too, is one window.
    """

    def __init__(self, model, tokenizer, sequence_length, preprocessor, stride, name):
        super().__init__(name=name)
        owner = type(self).__name__
        check_int(sequence_length, "sequence_length", owner)
        backbone = getattr(model, "backbone", None)
        if backbone is None:
            raise ValueError(
                f"{owner} needs a zoo.models BERT task model with a `backbone` (BertPretrainer, "
                f"BertClassifier, BertTokenClassifier). Received {type(model).__name__}."
            )
        if sequence_length > backbone.max_sequence_length:
            raise ValueError(
                f"sequence_length={sequence_length} exceeds the backbone's "
                f"max_sequence_length={backbone.max_sequence_length}. Pass at most that."
            )
        if sequence_length < 3:
            raise ValueError(
                f"sequence_length must be >= 3 ([CLS], a token and [SEP]), received "
                f"{sequence_length}."
            )
        body = sequence_length - 2
        stride = body // 4 if stride is None else stride
        if not isinstance(stride, int) or isinstance(stride, bool) or not 0 <= stride < body:
            raise ValueError(
                f"stride must be an int in [0, sequence_length - 2) = [0, {body}): the "
                f"tokens two windows share. Received {stride!r}."
            )
        self.stride = stride
        self.tokenizer = tokenizer
        self.preprocessor = preprocessor
        self.sequence_length = sequence_length
        self.cls_token_id = required_id(tokenizer, "cls_token_id", owner)
        self.sep_token_id = required_id(tokenizer, "sep_token_id", owner)
        self.pad_token_id = int(tokenizer.pad_token_id or 0)

    def _head(self, model, names, what, rank, expected):
        """`(model, names)`: a BERT head `model` (its LoRA adapters merged) whose logits
        have `rank` dimensions (`expected` says which model that is) and its class `names`
        (`what`: "labels", "tags"), after checking both and the tokenizer's vocabulary."""
        owner = type(self).__name__
        num_classes = getattr(model, "num_classes", None)
        if num_classes is None or len(model.outputs[0].shape) != rank:
            raise ValueError(f"{owner} needs {expected}; received {type(model).__name__}.")
        check_vocabulary(owner, model.backbone.vocabulary_size, self.tokenizer)
        return with_merged_lora(model), _check_labels(owner, names, num_classes, what)

    def _pack(self, ids):
        token_ids, padding_mask = pack_token_ids(
            ids,
            self.sequence_length,
            self.pad_token_id,
            start_token_id=self.cls_token_id,
            end_token_id=self.sep_token_id,
        )
        return token_ids, tf.cast(padding_mask, tf.int32)  # (batch, length) each

    def _backbone_inputs(self, token_ids, padding_mask):
        return {
            "token_ids": token_ids,
            "padding_mask": padding_mask,
            "segment_ids": tf.zeros_like(token_ids),
        }

    def _windows(self, ids):
        """Ragged `(batch, None)` ids -> the windows `(windows, None)`, each one's row and
        the windows per row (see the class doc)."""
        body = self.sequence_length - 2
        step = body - self.stride
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        counts = 1 + (tf.maximum(lengths - body, 0) + step - 1) // step  # (batch,)
        rows = tf.repeat(tf.range(tf.shape(lengths)[0]), counts)  # (windows,)
        starts = tf.ragged.range(counts).flat_values * step
        sizes = tf.minimum(body, tf.gather(lengths, rows) - starts)
        first = tf.gather(tf.cast(ids.row_starts(), tf.int32), rows) + starts
        index = tf.repeat(first, sizes) + tf.ragged.range(sizes).flat_values
        windows = tf.RaggedTensor.from_row_lengths(tf.gather(ids.flat_values, index), sizes)
        return windows, rows, counts

    def _read(self, text):
        """Cleaned strings -> (ragged ids, readable, backbone inputs of every window, the
        row of each window, windows per row)."""
        ids = self.tokenizer.tokenize(text)
        ids = tf.cast(ids.merge_dims(1, -1) if ids.ragged_rank > 1 else ids, tf.int32)
        readable = readable_rows(text, ids, self.tokenizer)
        windows, rows, counts = self._windows(ids)
        inputs = self._backbone_inputs(*self._pack(windows))
        return ids, readable, inputs, rows, counts


class BertModule(WindowedBertModule):
    """A BERT pretrainer with its tokenizer, as a `tf.Module` with text signatures.

    `encode(text)` packs each string as `[CLS] text [SEP]` (padded to
    `sequence_length`) and returns the backbone's `pooled_output` `(batch, hidden_dim)`
    and `sequence_output` `(batch, sequence_length, hidden_dim)` (float32), and
    `windows` (int32 `(batch,)`). A text longer than `sequence_length - 2` tokens is
    read whole in sliding windows (the keras-hub / Hugging Face convention: `stride`
    tokens of overlap, so window `k` starts at token `k * (sequence_length - 2 -
    stride)`), each packed as `[CLS] window [SEP]`: its `pooled_output` is the mean of
    the windows' pooled outputs (the `[CLS]` vectors through the pooler), its
    `sequence_output` is the first window's, and `windows` counts them (1 for a text
    that fits, 0 for a blank one).

    `fill_mask(text)` reads the literal `"[MASK]"` markers of each string (typing
    "[MASK]" is the only way to get the mask id: the tokenizer never makes reserved ids
    from text), runs the masked-LM head at every position and returns the string with
    each marker replaced by the most likely non-reserved token (WordPiece "##" dropped).
    A marker cut off by truncation stays "[MASK]"; a string without one is returned
    as is (after UTF-8 repair).

    Blank strings (see the module doc: empty, whitespace, invalid bytes only, or only
    `[UNK]` tokens; for `fill_mask` the markers do not count, so `"[MASK]"` alone is
    blank): `encode` gives all-zero `pooled_output` and `sequence_output` rows (a real
    encoding is never all zeros: it holds LayerNorm outputs), `fill_mask` gives `""`.
    A scalar string gives one answer without the batch axis; rank 2 or more is an
    `InvalidArgumentError` naming the shape.

    Args:
        pretrainer: a `zoo.models.BertPretrainer` (its `backbone` serves `encode`).
        tokenizer: the zoo tokenizer it was trained with (`[CLS]`, `[SEP]`, `[MASK]`).
        sequence_length: tokens per window, special tokens included; at most the
            backbone's `max_sequence_length`. `fill_mask` reads the first window only
            (markers past it stay `"[MASK]"`).
        preprocessor: optional string -> string layer applied first.
        stride: tokens two consecutive windows of `encode` share, in `[0,
            sequence_length - 2)`; default a quarter of `sequence_length - 2`.

    Example:

    >>> # module = BertModule(pretrainer, tokenizer, sequence_length=64)
    >>> # module.fill_mask(tf.constant(["Я изучаю [MASK] обучение."]))
    """

    def __init__(self, pretrainer, tokenizer, sequence_length, preprocessor=None, stride=None):
        pretrainer = with_merged_lora(pretrainer)
        super().__init__(pretrainer, tokenizer, sequence_length, preprocessor, stride, "bert")
        backbone = pretrainer.backbone
        if not hasattr(pretrainer, "masked_lm_head"):
            raise ValueError(
                "BertModule needs a zoo.models.BertPretrainer (backbone + masked-LM head). "
                f"Received {type(pretrainer).__name__}."
            )
        self.pretrainer = pretrainer
        self.mask_token_id = required_id(tokenizer, "mask_token_id", "BertModule")
        vocabulary_size = check_vocabulary("BertModule", backbone.vocabulary_size, tokenizer)
        reserved = [tokenizer.token_to_id(token) for token in tokenizer.reserved_tokens]
        # Ids past the tokenizer's (a vocabulary padded for the mesh) are never predicted.
        is_reserved = [False] * vocabulary_size + [True] * (
            backbone.vocabulary_size - vocabulary_size
        )
        for token_id in reserved:
            is_reserved[token_id] = True
        self._is_reserved = tf.constant(is_reserved)  # (model vocabulary,)

    @tf.function(input_signature=[ANY_STRING])
    def encode(self, text):
        """Strings (batch,) or one string -> {"pooled_output", "sequence_output"} float32."""
        outputs = self._encode(as_batch(text, "encode"))
        hidden = self.pretrainer.backbone.hidden_dim
        return {
            "pooled_output": like_input(outputs["pooled_output"], text, [hidden]),
            "sequence_output": like_input(
                outputs["sequence_output"], text, [self.sequence_length, hidden]
            ),
            "windows": like_input(outputs["windows"], text),
        }

    def _encode(self, text):
        text = clean_text(text, self.preprocessor)
        _, readable, inputs, rows, counts = self._read(text)
        outputs = self.pretrainer.backbone(inputs, training=False)
        batch = tf.shape(text)[0]
        pooled = tf.math.unsorted_segment_mean(
            tf.cast(outputs["pooled_output"], tf.float32), rows, batch
        )  # (batch, hidden): the mean over each text's windows
        first = tf.cumsum(counts, exclusive=True)  # each text's first window
        sequence = tf.gather(tf.cast(outputs["sequence_output"], tf.float32), first)
        return {
            "pooled_output": tf.where(readable[:, None], pooled, 0.0),
            "sequence_output": tf.where(readable[:, None, None], sequence, 0.0),
            "windows": tf.where(readable, counts, 0),
        }

    @tf.function(input_signature=[ANY_STRING])
    def fill_mask(self, text):
        """Strings with "[MASK]" markers (batch,) or one string -> the markers filled."""
        return like_input(self._fill_mask(as_batch(text, "fill_mask")), text)

    def _fill_mask(self, text):
        text = clean_text(text, self.preprocessor)
        pieces = tf.strings.split(text, "[MASK]")  # (batch, markers + 1) strings
        ids = self.tokenizer.tokenize(pieces)  # (batch, pieces, tokens)
        readable = readable_rows(tf.strings.reduce_join(pieces, axis=1), ids, self.tokenizer)
        marks = tf.expand_dims(tf.ones_like(pieces, tf.int32) * self.mask_token_id, 2)
        ids = tf.concat([tf.cast(ids, tf.int32), marks], axis=2).merge_dims(1, 2)
        ids = ids[:, :-1]  # a mark after every piece but the last
        token_ids, padding_mask = self._pack(ids)
        batch = tf.shape(token_ids)[0]
        positions = tf.tile(tf.range(self.sequence_length)[None, :], [batch, 1])
        inputs = self._backbone_inputs(token_ids, padding_mask)
        logits = self.pretrainer({**inputs, "mask_positions": positions}, training=False)[
            "mlm_logits"
        ]  # (batch, length, vocabulary)
        logits = tf.where(self._is_reserved[None, None, :], -1e9, tf.cast(logits, tf.float32))
        predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)  # (batch, length)
        is_mask = tf.logical_and(tf.equal(token_ids, self.mask_token_id), padding_mask > 0)
        kept = tf.ragged.boolean_mask(predicted, is_mask)  # (batch, kept markers)
        words = self.tokenizer.detokenize(kept.flat_values[:, None])  # (total kept,)
        words = strip_wordpiece_prefix(tf.reshape(words, [-1]))
        words = tf.RaggedTensor.from_row_lengths(words, kept.row_lengths())
        missing = pieces.row_lengths() - 1 - kept.row_lengths()  # markers cut by truncation
        cut = tf.RaggedTensor.from_row_lengths(tf.fill([tf.reduce_sum(missing)], "[MASK]"), missing)
        last = tf.RaggedTensor.from_row_lengths(tf.fill([batch], ""), tf.ones([batch], tf.int64))
        slots = tf.concat([words, cut, last], axis=1)  # (batch, pieces): what follows each
        joined = tf.stack([pieces, slots], axis=2).merge_dims(1, 2)
        return tf.where(readable, tf.strings.reduce_join(joined, axis=1), "")


def export_bert(pretrainer, tokenizer, path, sequence_length, **kwargs):
    """Save a `BertModule` as a SavedModel at `path`; returns the module.

    Signatures: `encode` (also `serving_default`): `text: string (batch,) ->
    pooled_output (batch, hidden_dim), sequence_output (batch, sequence_length,
    hidden_dim), windows (batch,) int32` (see `BertModule` for long texts); `fill_mask`:
    `text: string (batch,) -> text: string (batch,)`. The loaded object's `encode` /
    `fill_mask` methods also take one string (see the module doc for blank strings and
    shapes). Keyword arguments go to `BertModule`.
    """
    module = BertModule(pretrainer, tokenizer, sequence_length, **kwargs)
    hidden = pretrainer.backbone.hidden_dim
    shapes = {
        "pooled_output": [None, hidden],
        "sequence_output": [None, sequence_length, hidden],
        "windows": [None],
    }
    encode = text_signature(module, "encode", shapes)
    fill_mask = text_signature(module, "fill_mask", {"text": [None]})
    save(module, path, {"serving_default": encode, "encode": encode, "fill_mask": fill_mask})
    return module


# ------------------------------------------------------------------- classify and tag


def _check_labels(owner, labels, num_classes, what):
    labels = [str(label) for label in labels]
    if len(labels) != num_classes or len(set(labels)) != len(labels):
        raise ValueError(
            f"{owner} received {len(labels)} {what} for a model of {num_classes} classes; pass "
            f"{num_classes} distinct names, in the order of the model's outputs."
        )
    return labels


class ClassifierModule(WindowedBertModule):
    """A BERT classifier with its tokenizer and label names, serving `classify`.

    `classify(text)` -> `label` (string), `probabilities` `(batch, classes)` float32 and
    `windows` (int32). A text longer than `sequence_length - 2` tokens is read whole in
    sliding windows (`stride` tokens of overlap, see `WindowedBertModule`): the logits of
    its windows are averaged, then turned into probabilities. A blank text (see the
    `zoo.export` module doc) gets label `""`, all-zero probabilities and 0 windows.

    Args:
        classifier: a `zoo.models.BertClassifier`.
        tokenizer: the zoo tokenizer it was trained with (`[CLS]`, `[SEP]`).
        labels: the class names, in the order of the classifier's outputs.
        sequence_length: tokens per window, special tokens included.
        preprocessor: optional string -> string layer applied first.
        stride: tokens two consecutive windows share; default a quarter of the window.
    """

    def __init__(
        self, classifier, tokenizer, labels, sequence_length, preprocessor=None, stride=None
    ):
        super().__init__(classifier, tokenizer, sequence_length, preprocessor, stride, "classifier")
        expected = "a zoo.models.BertClassifier (logits (batch, classes))"
        self.classifier, self.labels = self._head(classifier, labels, "labels", 2, expected)
        self._labels = tf.constant(self.labels)

    @tf.function(input_signature=[ANY_STRING])
    def classify(self, text):
        """Strings (batch,) or one string -> {"label", "probabilities", "windows"}."""
        outputs = self._classify(as_batch(text, "classify"))
        return {
            "label": like_input(outputs["label"], text),
            "probabilities": like_input(outputs["probabilities"], text, [len(self.labels)]),
            "windows": like_input(outputs["windows"], text),
        }

    def _classify(self, text):
        text = clean_text(text, self.preprocessor)
        _, readable, inputs, rows, counts = self._read(text)
        logits = tf.cast(self.classifier(inputs, training=False), tf.float32)
        logits = tf.math.unsorted_segment_mean(logits, rows, tf.shape(text)[0])
        probabilities = tf.nn.softmax(logits, axis=-1)
        label = tf.gather(self._labels, tf.argmax(logits, axis=-1, output_type=tf.int32))
        return {
            "label": tf.where(readable, label, ""),
            "probabilities": tf.where(readable[:, None], probabilities, 0.0),
            "windows": tf.where(readable, counts, 0),
        }


def _word_starts(tokenizer):
    """`(vocabulary,)` bool: the pieces that begin a word, or None when the tokenizer marks
    no word boundaries (characters, words). WordPiece continues a word with "##",
    SentencePiece begins one with "▁" and byte-level BPE with "Ġ" (a space byte);
    reserved tokens stand alone."""
    from zoo.text import BytePairTokenizer, SentencePieceTokenizer, WordPieceTokenizer

    if isinstance(tokenizer, WordPieceTokenizer):
        begins = lambda token: not token.startswith("##")  # noqa: E731
    elif isinstance(tokenizer, SentencePieceTokenizer):
        begins = lambda token: token.startswith("▁")  # noqa: E731
    elif isinstance(tokenizer, BytePairTokenizer):
        begins = lambda token: token.startswith("Ġ")  # noqa: E731
    else:
        return None
    reserved = set(tokenizer.reserved_tokens)
    size = int(tokenizer.vocabulary_size())
    tokens = [tokenizer.id_to_token(index) for index in range(size)]
    return tf.constant([token in reserved or begins(token) for token in tokens])


class TaggerModule(WindowedBertModule):
    """A BERT token classifier with its tokenizer and tag names, serving `tag`.

    `tag(text)` -> `tokens` and `tags` (strings `(batch, longest)`, padded with `""`) and
    `lengths` (int32 `(batch,)`: the tokens of each text). The tokens are the text's
    words, each word's pieces joined (WordPiece, SentencePiece and byte-level BPE mark
    where words begin; byte-level BPE keeps punctuation with the word before it, as
    GPT-2 does); a character or word tokenizer's tokens are its pieces. A word's tag is
    that of its first piece, as the model was trained (the other pieces are not
    labelled). Every token of the
    whole text is tagged: a text longer than `sequence_length - 2` pieces is read in
    sliding windows with `stride` pieces of overlap, and each piece takes its logits from
    the window where it sits furthest from an edge (the overlap is split in two: its
    first half from the earlier window, the rest from the later). A blank text gives no
    tokens.

    Args:
        tagger: a `zoo.models.BertTokenClassifier`.
        tokenizer: the zoo tokenizer it was trained with (`[CLS]`, `[SEP]`).
        tags: the tag names, in the order of the tagger's outputs.
        sequence_length, preprocessor, stride: as for `ClassifierModule`.
    """

    def __init__(self, tagger, tokenizer, tags, sequence_length, preprocessor=None, stride=None):
        super().__init__(tagger, tokenizer, sequence_length, preprocessor, stride, "tagger")
        expected = "a zoo.models.BertTokenClassifier (logits (batch, length, tags))"
        self.tagger, self.tags = self._head(tagger, tags, "tags", 3, expected)
        self._tags = tf.constant(self.tags)
        self._starts_word = _word_starts(tokenizer)

    @tf.function(input_signature=[ANY_STRING])
    def tag(self, text):
        """Strings (batch,) or one string -> {"tokens", "tags", "lengths"}."""
        outputs = self._tag(as_batch(text, "tag"))
        lengths = like_input(outputs["lengths"], text)
        longest = [tf.shape(outputs["tokens"])[1]]
        return {
            "tokens": like_input(outputs["tokens"], text, longest),
            "tags": like_input(outputs["tags"], text, longest),
            "lengths": lengths,
        }

    def _piece_logits(self, ids, inputs, counts):
        """The logits of every piece of every text, `(pieces, tags)` in text order."""
        logits = tf.cast(self.tagger(inputs, training=False), tf.float32)  # (windows, L, tags)
        body = self.sequence_length - 2
        step = body - self.stride
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        position = tf.ragged.range(lengths).flat_values  # each piece's place in its text
        text_rows = tf.repeat(tf.range(tf.shape(lengths)[0]), lengths)
        last = tf.gather(counts, text_rows) - 1
        window = tf.clip_by_value((position - self.stride // 2) // step, 0, last)
        first_window = tf.gather(tf.cumsum(counts, exclusive=True), text_rows)
        offset = position - window * step + 1  # + 1: [CLS]
        return tf.gather_nd(logits, tf.stack([first_window + window, offset], axis=1))

    def _tag(self, text):
        text = clean_text(text, self.preprocessor)
        ids, readable, inputs, _, counts = self._read(text)
        tags = tf.gather(self._tags, tf.argmax(self._piece_logits(ids, inputs, counts), -1))
        text_of_piece = ids.value_rowids()
        keep = tf.gather(readable, text_of_piece)  # blank texts get no tokens
        pieces = tf.boolean_mask(ids.flat_values, keep)
        tags = tf.boolean_mask(tags, keep)
        text_of_piece = tf.boolean_mask(text_of_piece, keep)
        starts = tf.equal(tf.boolean_mask(tf.ragged.range(ids.row_lengths()).flat_values, keep), 0)
        if self._starts_word is not None:
            starts = tf.logical_or(starts, tf.gather(self._starts_word, pieces))
        else:  # no word marks: every piece is a token
            starts = tf.ones_like(starts)
        word = tf.cumsum(tf.cast(starts, tf.int64)) - 1  # each piece's word, in all texts
        words = tf.RaggedTensor.from_value_rowids(
            pieces, word, nrows=tf.reduce_sum(tf.cast(starts, tf.int64))
        )
        tokens = self.tokenizer.detokenize(words, skip_special_tokens=False)
        word_text = tf.boolean_mask(text_of_piece, starts)
        batch = tf.cast(tf.shape(text)[0], tf.int64)
        tokens = tf.RaggedTensor.from_value_rowids(tf.strings.strip(tokens), word_text, batch)
        tags = tf.RaggedTensor.from_value_rowids(tf.boolean_mask(tags, starts), word_text, batch)
        return {
            "tokens": tokens.to_tensor(""),
            "tags": tags.to_tensor(""),
            "lengths": tf.cast(tokens.row_lengths(), tf.int32),
        }


def _export_task(module, path, method, outputs):
    """Save `module` with `method` as the named and the default signature."""
    serving = text_signature(module, method, outputs)
    save(module, path, {"serving_default": serving, method: serving})
    return module


def export_classifier(classifier, tokenizer, path, labels, sequence_length, **kwargs):
    """Save a `ClassifierModule` at `path`; returns the module.

    Signatures: `classify` (also `serving_default`): `text: string (batch,) -> label:
    string (batch,), probabilities: float32 (batch, classes), windows: int32 (batch,)`.
    Keyword arguments go to `ClassifierModule`.
    """
    module = ClassifierModule(classifier, tokenizer, labels, sequence_length, **kwargs)
    shapes = {"label": [None], "probabilities": [None, len(module.labels)], "windows": [None]}
    return _export_task(module, path, "classify", shapes)


def export_tagger(tagger, tokenizer, path, tags, sequence_length, **kwargs):
    """Save a `TaggerModule` at `path`; returns the module.

    Signatures: `tag` (also `serving_default`): `text: string (batch,) -> tokens, tags:
    string (batch, longest) padded with "", lengths: int32 (batch,)`. Keyword arguments
    go to `TaggerModule`.
    """
    module = TaggerModule(tagger, tokenizer, tags, sequence_length, **kwargs)
    shapes = {"tokens": [None, None], "tags": [None, None], "lengths": [None]}
    return _export_task(module, path, "tag", shapes)
