"""`TranslatorModule` / `export_translator`: a seq2seq Transformer serving `translate`."""

import tensorflow as tf

from zoo._checks import check_int
from zoo.export.common import (
    ANY_STRING,
    as_batch,
    check_vocabulary,
    clean_text,
    generation_model,
    like_input,
    readable_rows,
    save,
    text_signature,
    vocabulary_size,
    with_merged_lora,
)
from zoo.text.sentences import split_sentences


class TranslatorModule(tf.Module):
    """A Transformer with its tokenizer(s), as a `tf.Module` with a `translate` signature.

    Args:
        model: a `zoo.models.Transformer` (encode / init_cache / call_with_cache).
        tokenizer: the source tokenizer (a zoo tokenizer); also the target tokenizer
            unless `target_tokenizer` is given.
        source_length: source tokens per piece (a longer sentence is cut into pieces).
        max_length: decoder length including the start token.
        target_tokenizer: a separate target tokenizer (with bos/eos ids).
        preprocessor: an optional string -> string layer applied to the source first.
        sampler: "greedy" or "beam".
        num_beams: beams for "beam".
        length_penalty: for "beam", rank finished beams by `sum log p / length **
            length_penalty` (0: the plain sum, which favours short outputs).
        serving_batch_size: pieces decoded together in one fixed-shape chunk.
        max_input_tokens: the hard cap of source tokens read per input (all of its
            sentences together); the rest is dropped and `truncated` is true.

    `translate(text)`: strings -> translations; a blank string (see the module doc:
    empty, whitespace, invalid bytes only, or only `[UNK]` tokens) gives `""`. A scalar
    string gives a scalar; rank 2 or more is an `InvalidArgumentError` naming the shape.

    Any length. Each input is split into sentences (`zoo.text.sentences`, the rule for
    Russian and English), the optional preprocessor runs on each sentence, and a
    sentence longer than `source_length` tokens is cut at token boundaries into
    consecutive pieces of `source_length` (no overlap, nothing dropped). All pieces of
    the batch are decoded together in chunks of `serving_batch_size`, and each input's
    translations are joined in order with a space (blank pieces skipped). Only the
    tokens of an input past `max_input_tokens` are dropped; `translate_with_details`
    (and the `translate` signature) returns `truncated`, true for exactly those inputs.
    """

    def __init__(
        self,
        model,
        tokenizer,
        source_length,
        max_length,
        target_tokenizer=None,
        preprocessor=None,
        sampler="greedy",
        num_beams=4,
        length_penalty=0.0,
        serving_batch_size=8,
        max_input_tokens=4096,
    ):
        super().__init__(name="translator")
        model = with_merged_lora(model)
        from zoo.models.generation import Seq2SeqGenerator

        for name, value in (
            ("source_length", source_length),
            ("max_length", max_length),
            ("serving_batch_size", serving_batch_size),
            ("max_input_tokens", max_input_tokens),
        ):
            check_int(value, name, type(self).__name__)
        self.model = model
        self.max_input_tokens = max_input_tokens
        self.source_tokenizer = tokenizer
        self.target_tokenizer = target_tokenizer or tokenizer
        self.preprocessor = preprocessor
        self.source_length = source_length
        self.max_length = max_length
        self.serving_batch_size = serving_batch_size
        target = self.target_tokenizer
        check_vocabulary(
            "TranslatorModule",
            vocabulary_size(model, "source_vocabulary_size", "vocabulary_size"),
            self.source_tokenizer,
            "source ",
        )
        target_model_size = vocabulary_size(model, "target_vocabulary_size", "vocabulary_size")
        target_size = check_vocabulary("TranslatorModule", target_model_size, target, "target ")
        # The target tokenizer's [BOS]/[EOS]/[PAD], unless the model carries its own
        # decoding settings (`Transformer.generation_config`: a Marian checkpoint starts
        # from its pad id, which it never emits, and has no BOS token).
        settings = {
            "bos_token_id": target.bos_token_id,
            "end_token_id": target.eos_token_id,
            "pad_token_id": target.pad_token_id or 0,
            **(getattr(model, "generation_config", None) or {}),
        }
        if settings["bos_token_id"] is None or settings["end_token_id"] is None:
            raise ValueError(
                "The target tokenizer has no [BOS]/[EOS] tokens; train it with the default "
                "reserved tokens (zoo.text.SPECIAL_TOKENS)."
            )
        self._generator = Seq2SeqGenerator(
            generation_model(model, target_model_size, target_size),
            sampler=sampler,
            max_length=max_length,
            **settings,
            num_beams=num_beams,
            length_penalty=length_penalty,
            run_eagerly=True,  # traced into the signature below, not compiled apart
        )

    def _decode_chunk(self, token_ids):
        mask = tf.cast(tf.not_equal(token_ids, self.source_tokenizer.pad_token_id or 0), tf.int32)
        outputs = self._generator._generate(token_ids, mask, tf.zeros([2], tf.int32))
        if isinstance(outputs, (tuple, list)):  # beams: (sequences, scores), best first
            outputs = outputs[0]
            outputs = outputs[:, 0] if len(outputs.shape) == 3 else outputs
        return tf.cast(outputs, tf.int32)

    @tf.function(input_signature=[ANY_STRING])
    def translate(self, text):
        """Strings (batch,) or one string -> translations, `""` for blank strings."""
        translation, _ = self._translate(as_batch(text, "translate"))
        return like_input(translation, text)

    @tf.function(input_signature=[ANY_STRING])
    def translate_with_details(self, text):
        """Strings (batch,) or one string -> {"translation", "truncated"} (see the class)."""
        translation, truncated = self._translate(as_batch(text, "translate"))
        return {
            "translation": like_input(translation, text),
            "truncated": like_input(truncated, text),
        }

    def _pieces(self, text):
        """Sentences, capped and cut to the source length: `(pieces, source_length)` ids.

        Returns the padded ids of every piece, whether each piece has something to read,
        the input row of each piece and whether each input was cut at the cap."""
        sentences = split_sentences(clean_text(text, None))  # (batch, sentences)
        flat = clean_text(sentences.flat_values, self.preprocessor)  # (sentences,)
        ids = tf.cast(self.source_tokenizer.tokenize(flat), tf.int32)  # (sentences, None)
        ids = ids.merge_dims(1, -1) if ids.ragged_rank > 1 else ids
        readable = readable_rows(flat, ids, self.source_tokenizer)
        ids = tf.ragged.boolean_mask(
            ids, ids.with_flat_values(tf.repeat(readable, ids.row_lengths()))
        )
        lengths = tf.cast(ids.row_lengths(), tf.int32)  # tokens per sentence
        # Each token's position in its input: the tokens of earlier sentences first.
        starts = tf.cumsum(lengths, exclusive=True)  # (sentences,) in the whole batch
        first = tf.gather(tf.concat([starts, [tf.reduce_sum(lengths)]], 0), sentences.row_starts())
        offsets = starts - tf.gather(first, sentences.value_rowids())  # in its input
        position = tf.repeat(offsets, lengths) + tf.ragged.range(lengths).flat_values
        kept = position < self.max_input_tokens
        ids = tf.ragged.boolean_mask(ids, ids.with_flat_values(kept))
        totals = tf.math.unsorted_segment_sum(lengths, sentences.value_rowids(), tf.shape(text)[0])
        truncated = totals > self.max_input_tokens  # (batch,)
        # Sentences longer than source_length become consecutive pieces of it.
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        counts = tf.maximum((lengths + self.source_length - 1) // self.source_length, 1)
        piece_starts = tf.cumsum(counts, exclusive=True)
        within = tf.ragged.range(lengths).flat_values // self.source_length
        piece_of_token = tf.repeat(piece_starts, lengths) + within
        pieces = tf.RaggedTensor.from_value_rowids(
            ids.flat_values, piece_of_token, nrows=tf.reduce_sum(counts)
        )
        unk = self.source_tokenizer.unk_token_id
        unk = -1 if unk is None else unk
        known = tf.reduce_any(tf.not_equal(pieces, unk), axis=1)  # False for no tokens
        rows = tf.repeat(sentences.value_rowids(), counts)  # (pieces,) input row
        pad = self.source_tokenizer.pad_token_id or 0
        return pieces.to_tensor(pad, shape=[None, self.source_length]), known, rows, truncated

    def _translate(self, text):
        ids, known, rows, truncated = self._pieces(text)
        count = tf.shape(ids)[0]
        chunk = self.serving_batch_size
        padded = (count + chunk - 1) // chunk * chunk
        pad = self.source_tokenizer.pad_token_id or 0
        ids = tf.pad(ids, [[0, padded - count], [0, 0]], constant_values=pad)
        ids = tf.reshape(ids, [-1, chunk, self.source_length])
        outputs = tf.map_fn(
            self._decode_chunk,
            ids,
            fn_output_signature=tf.TensorSpec([chunk, self.max_length], tf.int32),
        )
        outputs = tf.reshape(outputs, [-1, self.max_length])[:count]
        pieces = self.target_tokenizer.detokenize(outputs[:, 1:])
        pieces = tf.where(known, tf.strings.strip(pieces), "")
        keep = tf.strings.length(pieces) > 0
        per_input = tf.RaggedTensor.from_value_rowids(
            tf.boolean_mask(pieces, keep),
            tf.boolean_mask(rows, keep),
            nrows=tf.cast(tf.shape(text)[0], tf.int64),
        )
        return tf.strings.reduce_join(per_input, axis=1, separator=" "), truncated


def export_translator(model, tokenizer, path, source_length, max_length, **kwargs):
    """Save a `TranslatorModule` as a SavedModel at `path`; returns the module.

    Signatures: `translate` and `serving_default`, both `text: string (batch,) ->
    translation: string (batch,), truncated: bool (batch,)` (true where the input had
    more than `max_input_tokens` tokens). The loaded object's `translate` method returns
    the translations alone and also takes one string; `translate_with_details` returns
    both outputs (see the module doc for blank strings and shapes). Keyword arguments
    go to `TranslatorModule`.
    """
    module = TranslatorModule(model, tokenizer, source_length, max_length, **kwargs)
    shapes = {"translation": [None], "truncated": [None]}
    serving = text_signature(module, "translate", shapes, method="translate_with_details")
    save(module, path, {"serving_default": serving, "translate": serving})
    return module
