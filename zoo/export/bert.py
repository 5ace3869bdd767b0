"""`BertModule` / `export_bert`: a BERT pretrainer serving `encode` and `fill_mask`."""

import tensorflow as tf

from zoo._checks import check_int
from zoo.export.common import (
    ANY_STRING,
    BATCH,
    as_batch,
    check_rank,
    check_vocabulary,
    clean_text,
    like_input,
    readable_rows,
    required_id,
    save,
    strip_wordpiece_prefix,
)


class BertModule(tf.Module):
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
        super().__init__(name="bert")
        check_int(sequence_length, "sequence_length", type(self).__name__)
        backbone = getattr(pretrainer, "backbone", None)
        if backbone is None or not hasattr(pretrainer, "masked_lm_head"):
            raise ValueError(
                "BertModule needs a zoo.models.BertPretrainer (backbone + masked-LM head). "
                f"Received {type(pretrainer).__name__}."
            )
        if sequence_length > backbone.max_sequence_length:
            raise ValueError(
                f"sequence_length={sequence_length} exceeds the backbone's "
                f"max_sequence_length={backbone.max_sequence_length}. Pass at most that."
            )
        if sequence_length < 2:
            raise ValueError(
                f"sequence_length must be >= 2 ([CLS] and [SEP]), received {sequence_length}."
            )
        body = sequence_length - 2
        stride = body // 4 if stride is None else stride
        if not isinstance(stride, int) or isinstance(stride, bool) or not 0 <= stride < body:
            raise ValueError(
                f"stride must be an int in [0, sequence_length - 2) = [0, {body}): the "
                f"tokens two windows share. Received {stride!r}."
            )
        self.stride = stride
        self.pretrainer = pretrainer
        self.tokenizer = tokenizer
        self.preprocessor = preprocessor
        self.sequence_length = sequence_length
        self.cls_token_id = required_id(tokenizer, "cls_token_id", "BertModule")
        self.sep_token_id = required_id(tokenizer, "sep_token_id", "BertModule")
        self.mask_token_id = required_id(tokenizer, "mask_token_id", "BertModule")
        self.pad_token_id = int(tokenizer.pad_token_id or 0)
        vocabulary_size = check_vocabulary("BertModule", backbone.vocabulary_size, tokenizer)
        reserved = [tokenizer.token_to_id(token) for token in tokenizer.reserved_tokens]
        # Ids past the tokenizer's (a vocabulary padded for the mesh) are never predicted.
        is_reserved = [False] * vocabulary_size + [True] * (
            backbone.vocabulary_size - vocabulary_size
        )
        for token_id in reserved:
            is_reserved[token_id] = True
        self._is_reserved = tf.constant(is_reserved)  # (model vocabulary,)

    def _pack(self, ids):
        from zoo.data.pipelines import pack_token_ids

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

    def _windows(self, ids):
        """Ragged `(batch, None)` ids -> the windows `(windows, None)` and each one's row.

        Window `k` of a text holds its tokens `[k * step, k * step + body)`, where `body
        = sequence_length - 2` and `step = body - stride`; a text of at most `body`
        tokens (an empty one too) is one window."""
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

    def _encode(self, text):
        text = clean_text(text, self.preprocessor)
        ids = self.tokenizer.tokenize(text)
        ids = ids.merge_dims(1, -1) if ids.ragged_rank > 1 else ids
        readable = readable_rows(text, ids, self.tokenizer)
        windows, rows, counts = self._windows(tf.cast(ids, tf.int32))
        token_ids, padding_mask = self._pack(windows)
        outputs = self.pretrainer.backbone(
            self._backbone_inputs(token_ids, padding_mask), training=False
        )
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
    text_spec = [tf.TensorSpec([None], tf.string, name="text")]
    hidden = pretrainer.backbone.hidden_dim

    def encode(text):
        outputs = module.encode(check_rank(text, "encode", BATCH, [1]))
        return {
            "pooled_output": tf.ensure_shape(outputs["pooled_output"], [None, hidden]),
            "sequence_output": tf.ensure_shape(
                outputs["sequence_output"], [None, sequence_length, hidden]
            ),
            "windows": tf.ensure_shape(outputs["windows"], [None]),
        }

    encode = tf.function(encode, input_signature=text_spec)
    fill_mask = tf.function(
        lambda text: {
            "text": tf.ensure_shape(
                module.fill_mask(check_rank(text, "fill_mask", BATCH, [1])), [None]
            )
        },
        input_signature=text_spec,
    )
    save(module, path, {"serving_default": encode, "encode": encode, "fill_mask": fill_mask})
    return module
