"""SavedModel export with text-in, text-out signatures.

- `export_translator` (`TranslatorModule`): a `zoo.models.Transformer`, signature
  `translate(text) -> translation`.
- `export_bert` (`BertModule`): a `zoo.models.BertPretrainer`, signatures
  `encode(text) -> pooled_output, sequence_output` and `fill_mask(text) -> text`.
- `export_gpt` (`GPTModule`): a `zoo.models.GPT`, signature
  `generate(prompt, max_new_tokens) -> text, completion`.

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

__all__ = [
    "BertModule",
    "GPTModule",
    "TranslatorModule",
    "export_bert",
    "export_gpt",
    "export_translator",
]


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
        length_penalty: for "beam", rank finished beams by `sum log p / length **
            length_penalty` (0: the plain sum, which favours short outputs).
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
        length_penalty=0.0,
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
    _save(module, path, {"serving_default": serving, "translate": serving})
    return module


# --------------------------------------------------------------------------------- helpers


def _save(module, path, signatures):
    """`tf.saved_model.save`, loadable by TF1-style loaders too.

    TensorFlow Serving and `saved_model_cli run` load a SavedModel into a TF1 session,
    which restores only the variables the module tracks directly. Keras 3 variables wrap
    a `tf.Variable` that the object graph reaches through the Keras layer, not as a
    variable, so without this list those loaders fail with "Could not find variable".
    """
    module._serving_variables = [
        getattr(variable, "value", variable) for variable in _keras_variables(module)
    ]
    tf.saved_model.save(module, path, signatures=signatures)


def _keras_variables(module):
    seen, variables = set(), []
    for value in vars(module).values():
        for variable in getattr(value, "variables", None) or ():
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables


def _clean_text(text, preprocessor):
    """Invalid UTF-8 -> U+FFFD, then the optional string -> string preprocessor."""
    text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
    return preprocessor(text) if preprocessor is not None else text


def _required_id(tokenizer, name, owner):
    value = getattr(tokenizer, name, None)
    if value is None:
        token = name[: -len("_token_id")].upper()
        raise ValueError(
            f"{owner} needs a tokenizer with a [{token}] token; this one has none. Train it "
            "with the default reserved tokens (zoo.text.SPECIAL_TOKENS)."
        )
    return int(value)


def _strip_wordpiece_prefix(words):
    return tf.strings.regex_replace(words, r"^##", "")


# ------------------------------------------------------------------------------------ BERT


class BertModule(tf.Module):
    """A BERT pretrainer with its tokenizer, as a `tf.Module` with text signatures.

    `encode(text)` packs each string as `[CLS] text [SEP]` (truncated to
    `sequence_length`, padded) and returns the backbone's `pooled_output` `(batch,
    hidden_dim)` and `sequence_output` `(batch, sequence_length, hidden_dim)` (float32).

    `fill_mask(text)` reads the literal `"[MASK]"` markers of each string (typing
    "[MASK]" is the only way to get the mask id: the tokenizer never makes reserved ids
    from text), runs the masked-LM head at every position and returns the string with
    each marker replaced by the most likely non-reserved token (WordPiece "##" dropped).
    A marker cut off by truncation stays "[MASK]"; a string without one is returned
    as is (after UTF-8 repair).

    Args:
        pretrainer: a `zoo.models.BertPretrainer` (its `backbone` serves `encode`).
        tokenizer: the zoo tokenizer it was trained with (`[CLS]`, `[SEP]`, `[MASK]`).
        sequence_length: tokens per string, special tokens included (longer inputs are
            truncated); at most the backbone's `max_sequence_length`.
        preprocessor: optional string -> string layer applied first.

    Example:

    >>> # module = BertModule(pretrainer, tokenizer, sequence_length=64)
    >>> # module.fill_mask(tf.constant(["Я изучаю [MASK] обучение."]))
    """

    def __init__(self, pretrainer, tokenizer, sequence_length, preprocessor=None):
        super().__init__(name="bert")
        _check_positive("sequence_length", sequence_length)
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
        self.pretrainer = pretrainer
        self.tokenizer = tokenizer
        self.preprocessor = preprocessor
        self.sequence_length = sequence_length
        self.cls_token_id = _required_id(tokenizer, "cls_token_id", "BertModule")
        self.sep_token_id = _required_id(tokenizer, "sep_token_id", "BertModule")
        self.mask_token_id = _required_id(tokenizer, "mask_token_id", "BertModule")
        self.pad_token_id = int(tokenizer.pad_token_id or 0)
        vocabulary_size = int(tokenizer.vocabulary_size())
        reserved = [tokenizer.token_to_id(token) for token in tokenizer.reserved_tokens]
        is_reserved = [False] * vocabulary_size
        for token_id in reserved:
            is_reserved[token_id] = True
        self._is_reserved = tf.constant(is_reserved)  # (vocabulary,)

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

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def encode(self, text):
        """Strings (batch,) -> {"pooled_output", "sequence_output"} float32."""
        ids = self.tokenizer.tokenize(_clean_text(text, self.preprocessor))
        token_ids, padding_mask = self._pack(ids)
        outputs = self.pretrainer.backbone(
            self._backbone_inputs(token_ids, padding_mask), training=False
        )
        return {
            "pooled_output": tf.cast(outputs["pooled_output"], tf.float32),
            "sequence_output": tf.cast(outputs["sequence_output"], tf.float32),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def fill_mask(self, text):
        """Strings with "[MASK]" markers (batch,) -> the strings with the markers filled."""
        text = _clean_text(text, self.preprocessor)
        pieces = tf.strings.split(text, "[MASK]")  # (batch, markers + 1) strings
        ids = self.tokenizer.tokenize(pieces)  # (batch, pieces, tokens)
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
        words = _strip_wordpiece_prefix(tf.reshape(words, [-1]))
        words = tf.RaggedTensor.from_row_lengths(words, kept.row_lengths())
        missing = pieces.row_lengths() - 1 - kept.row_lengths()  # markers cut by truncation
        cut = tf.RaggedTensor.from_row_lengths(tf.fill([tf.reduce_sum(missing)], "[MASK]"), missing)
        last = tf.RaggedTensor.from_row_lengths(tf.fill([batch], ""), tf.ones([batch], tf.int64))
        slots = tf.concat([words, cut, last], axis=1)  # (batch, pieces): what follows each
        joined = tf.stack([pieces, slots], axis=2).merge_dims(1, 2)
        return tf.strings.reduce_join(joined, axis=1)


def export_bert(pretrainer, tokenizer, path, sequence_length, **kwargs):
    """Save a `BertModule` as a SavedModel at `path`; returns the module.

    Signatures: `encode` (also `serving_default`): `text: string (batch,) ->
    pooled_output (batch, hidden_dim), sequence_output (batch, sequence_length,
    hidden_dim)`; `fill_mask`: `text: string (batch,) -> text: string (batch,)`.
    Keyword arguments go to `BertModule`.
    """
    module = BertModule(pretrainer, tokenizer, sequence_length, **kwargs)
    text_spec = [tf.TensorSpec([None], tf.string, name="text")]
    encode = tf.function(lambda text: module.encode(text), input_signature=text_spec)
    fill_mask = tf.function(
        lambda text: {"text": module.fill_mask(text)}, input_signature=text_spec
    )
    _save(module, path, {"serving_default": encode, "encode": encode, "fill_mask": fill_mask})
    return module


# ------------------------------------------------------------------------------------- GPT


class GPTModule(tf.Module):
    """A GPT language model with its tokenizer, as a `tf.Module` with a `generate` signature.

    `generate(prompt, max_new_tokens)` starts every prompt with `start_token_id` (by
    default `[EOS]`, the separator that packed language-model data puts before each
    document, so an empty prompt starts a new document), keeps the last
    `prompt_length - 1` prompt tokens, and decodes up to the export-time cap of new
    tokens with cached decoding on fixed-shape chunks of `serving_batch_size` prompts
    (static shapes); a row stops at `[EOS]`. The output keeps the requested number of
    new tokens (`max_new_tokens` is clamped to `[0, cap]`) and returns `text` (the
    prompt as the model saw it followed by the continuation) and `completion` (the
    continuation alone).

    Args:
        model: a `zoo.models.GPT` (or any model with the cache protocol).
        tokenizer: the zoo tokenizer it was trained with (`[EOS]` needed).
        prompt_length: prompt tokens kept, the start token included.
        max_new_tokens: the cap of new tokens (the decoding loop's fixed length);
            `prompt_length + max_new_tokens` must fit the model's
            `max_sequence_length`.
        sampler: `"greedy"`, `"top_k"`, `"top_p"` (see `zoo.models.generation`).
        seed: the fixed seed of random samplers (the same prompt gives the same text).
        start_token_id: the id put before each prompt (default `[EOS]`).
        preprocessor: optional string -> string layer applied first.
        serving_batch_size: prompts decoded together in one fixed-shape chunk.
        **sampler_kwargs: `temperature`, `k`, `p`.

    Example:

    >>> # module = GPTModule(gpt, tokenizer, prompt_length=16, max_new_tokens=32)
    >>> # module.generate(tf.constant(["Я изучаю"]), tf.constant(8))["text"]
    """

    def __init__(
        self,
        model,
        tokenizer,
        prompt_length,
        max_new_tokens,
        sampler="greedy",
        seed=0,
        start_token_id=None,
        preprocessor=None,
        serving_batch_size=8,
        **sampler_kwargs,
    ):
        super().__init__(name="gpt")
        from zoo.models.generation import Generator

        for name, value in (
            ("prompt_length", prompt_length),
            ("max_new_tokens", max_new_tokens),
            ("serving_batch_size", serving_batch_size),
        ):
            _check_positive(name, value)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"seed must be an int, received {seed!r}.")
        limit = getattr(model, "max_sequence_length", None)
        if isinstance(limit, int) and prompt_length + max_new_tokens > limit:
            raise ValueError(
                f"prompt_length + max_new_tokens = {prompt_length} + {max_new_tokens} exceeds "
                f"the model's max_sequence_length {limit}. Lower one of them."
            )
        self.model = model
        self.tokenizer = tokenizer
        self.preprocessor = preprocessor
        self.prompt_length = prompt_length
        self.max_new_tokens = max_new_tokens
        self.serving_batch_size = serving_batch_size
        self.eos_token_id = _required_id(tokenizer, "eos_token_id", "GPTModule")
        self.pad_token_id = int(tokenizer.pad_token_id or 0)
        self.start_token_id = self.eos_token_id if start_token_id is None else int(start_token_id)
        self._seed = tf.constant([seed % (2**31 - 1), 0], tf.int32)
        self._generator = Generator(
            model,
            sampler=sampler,
            max_new_tokens=max_new_tokens,
            end_token_id=self.eos_token_id,
            pad_token_id=self.pad_token_id,
            run_eagerly=True,  # traced into the signature below, not compiled apart
            **sampler_kwargs,
        )

    def _prompt_ids(self, text):
        """`[start] + the last prompt_length - 1 tokens`, right-padded; and the lengths."""
        ids = tf.cast(self.tokenizer.tokenize(text), tf.int32)  # (batch, None)
        keep = self.prompt_length - 1
        row_lengths = tf.cast(ids.row_lengths(), tf.int32)
        lengths = tf.minimum(row_lengths, keep)  # (batch,)
        dense = ids.to_tensor(self.pad_token_id)
        batch = tf.shape(dense)[0]
        dense = tf.concat([dense, tf.fill([batch, keep], self.pad_token_id)], axis=1)
        columns = tf.range(keep)[None, :]
        index = (row_lengths - lengths)[:, None] + columns  # (batch, keep): the tail
        body = tf.gather(dense, index, batch_dims=1)
        body = tf.where(columns < lengths[:, None], body, self.pad_token_id)
        token_ids = tf.concat([tf.fill([batch, 1], self.start_token_id), body], axis=1)
        return token_ids, lengths + 1  # (batch, prompt_length), (batch,)

    def _decode_chunk(self, inputs):
        token_ids, lengths = inputs
        mask = tf.range(self.prompt_length)[None, :] < lengths[:, None]
        outputs = self._generator._generate(token_ids, mask, self._seed)
        return tf.cast(outputs, tf.int32)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([], tf.int32)])
    def generate(self, prompt, max_new_tokens):
        """Prompts (batch,) and a scalar count -> {"text", "completion"} strings (batch,)."""
        text = _clean_text(prompt, self.preprocessor)
        count = tf.shape(text)[0]
        chunk = self.serving_batch_size
        padded = (count + chunk - 1) // chunk * chunk
        text = tf.concat([text, tf.fill([padded - count], "")], axis=0)
        token_ids, lengths = self._prompt_ids(text)
        total = self.prompt_length + self.max_new_tokens
        outputs = tf.map_fn(
            self._decode_chunk,
            (
                tf.reshape(token_ids, [-1, chunk, self.prompt_length]),
                tf.reshape(lengths, [-1, chunk]),
            ),
            fn_output_signature=tf.TensorSpec([chunk, total], tf.int32),
        )
        outputs = tf.reshape(outputs, [-1, total])[:count]  # (batch, total)
        lengths = lengths[:count]
        wanted = tf.clip_by_value(max_new_tokens, 0, self.max_new_tokens)
        positions = tf.range(total)[None, :]
        in_text = positions < (lengths + wanted)[:, None]
        in_completion = tf.logical_and(in_text, positions >= lengths[:, None])
        return {
            "text": self.tokenizer.detokenize(tf.where(in_text, outputs, self.pad_token_id)),
            "completion": self.tokenizer.detokenize(
                tf.where(in_completion, outputs, self.pad_token_id)
            ),
        }


def export_gpt(model, tokenizer, path, prompt_length, max_new_tokens, **kwargs):
    """Save a `GPTModule` as a SavedModel at `path`; returns the module.

    Signatures: `generate` (also `serving_default`): `prompt: string (batch,),
    max_new_tokens: int32 scalar -> text, completion: string (batch,)`. Keyword
    arguments go to `GPTModule`.
    """
    module = GPTModule(model, tokenizer, prompt_length, max_new_tokens, **kwargs)
    generate = tf.function(
        lambda prompt, max_new_tokens: module.generate(prompt, max_new_tokens),
        input_signature=[
            tf.TensorSpec([None], tf.string, name="prompt"),
            tf.TensorSpec([], tf.int32, name="max_new_tokens"),
        ],
    )
    _save(module, path, {"serving_default": generate, "generate": generate})
    return module
