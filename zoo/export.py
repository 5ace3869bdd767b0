"""SavedModel export with text-in, text-out signatures.

An exported model holds its tokenizer (and optional preprocessing layer) next to the
Keras model in a `tf.Module`, with `tf.function` signatures on `tf.TensorSpec([None],
tf.string)`. The SavedModel loads and serves in a process that imports only
`tensorflow` and `tensorflow_text` (the tokenizer ops live there): no zoo, no Keras.

Decoding runs on fixed-shape chunks of `serving_batch_size` sentences (the batch is
padded with empty strings to a multiple of it), so the decoding graph has static shapes
whatever the request size; over-long inputs are truncated to `source_length` tokens,
and invalid UTF-8 or empty strings are served, never an error.

Example:

    >>> # export_translator(model, tokenizer, "runs/translation/saved_model",
    >>> #                   source_length=32, max_length=32)
    >>> # import tensorflow as tf, tensorflow_text  # in the serving process
    >>> # translator = tf.saved_model.load("runs/translation/saved_model")
    >>> # translator.translate(tf.constant(["Я изучаю машинное обучение."]))
"""

import tensorflow as tf

__all__ = ["TranslatorModule", "export_translator"]


def _check_positive(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, received {value!r}.")


class TranslatorModule(tf.Module):
    """A Transformer with its tokenizer(s), as a `tf.Module` with a `translate` signature.

    Args:
        model: a `zoo.models.Transformer` (encode / init_cache / call_with_cache).
        tokenizer: the source tokenizer (a zoo tokenizer); also the target tokenizer
            unless `target_tokenizer` is given.
        source_length: source tokens kept (longer inputs are truncated).
        max_length: decoder length including the start token.
        target_tokenizer: a separate target tokenizer (with bos/eos ids).
        preprocessor: an optional string -> string layer applied to the source first.
        sampler: "greedy" or "beam".
        num_beams: beams for "beam".
        serving_batch_size: sentences decoded together in one fixed-shape chunk.
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
        serving_batch_size=8,
    ):
        super().__init__(name="translator")
        from zoo.models.generation import Seq2SeqGenerator

        for name, value in (
            ("source_length", source_length),
            ("max_length", max_length),
            ("serving_batch_size", serving_batch_size),
        ):
            _check_positive(name, value)
        self.model = model
        self.source_tokenizer = tokenizer
        self.target_tokenizer = target_tokenizer or tokenizer
        self.preprocessor = preprocessor
        self.source_length = source_length
        self.max_length = max_length
        self.serving_batch_size = serving_batch_size
        target = self.target_tokenizer
        if target.bos_token_id is None or target.eos_token_id is None:
            raise ValueError(
                "The target tokenizer has no [BOS]/[EOS] tokens; train it with the default "
                "reserved tokens (zoo.text.SPECIAL_TOKENS)."
            )
        self._generator = Seq2SeqGenerator(
            model,
            sampler=sampler,
            max_length=max_length,
            bos_token_id=target.bos_token_id,
            end_token_id=target.eos_token_id,
            pad_token_id=target.pad_token_id or 0,
            num_beams=num_beams,
            run_eagerly=True,  # traced into the signature below, not compiled apart
        )

    def _decode_chunk(self, token_ids):
        mask = tf.cast(tf.not_equal(token_ids, self.source_tokenizer.pad_token_id or 0), tf.int32)
        outputs = self._generator._generate(token_ids, mask, tf.zeros([2], tf.int32))
        if isinstance(outputs, (tuple, list)):  # beams: (sequences, scores), best first
            outputs = outputs[0]
            outputs = outputs[:, 0] if len(outputs.shape) == 3 else outputs
        return tf.cast(outputs, tf.int32)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def translate(self, text):
        """Strings (batch,) -> translated strings (batch,)."""
        text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
        if self.preprocessor is not None:
            text = self.preprocessor(text)
        count = tf.shape(text)[0]
        chunk = self.serving_batch_size
        padded = (count + chunk - 1) // chunk * chunk
        text = tf.concat([text, tf.fill([padded - count], "")], axis=0)
        ids = self.source_tokenizer.tokenize(text, sequence_length=self.source_length)
        ids = tf.reshape(tf.cast(ids, tf.int32), [-1, chunk, self.source_length])
        outputs = tf.map_fn(
            self._decode_chunk,
            ids,
            fn_output_signature=tf.TensorSpec([chunk, self.max_length], tf.int32),
        )
        outputs = tf.reshape(outputs, [-1, self.max_length])[:count]
        return self.target_tokenizer.detokenize(outputs[:, 1:])


def export_translator(model, tokenizer, path, source_length, max_length, **kwargs):
    """Save a `TranslatorModule` as a SavedModel at `path`; returns the module.

    Signatures: `translate` and `serving_default`, both `text: string (batch,) ->
    translation: string (batch,)`. Keyword arguments go to `TranslatorModule`.
    """
    module = TranslatorModule(model, tokenizer, source_length, max_length, **kwargs)
    serving = tf.function(
        lambda text: {"translation": module.translate(text)},
        input_signature=[tf.TensorSpec([None], tf.string, name="text")],
    )
    tf.saved_model.save(
        module,
        path,
        signatures={"serving_default": serving, "translate": serving},
    )
    return module
