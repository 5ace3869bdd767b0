"""SavedModel export with text-in, text-out signatures.

- `export_translator` (`TranslatorModule`): a `zoo.models.Transformer`, signature
  `translate(text) -> translation, truncated`.
- `export_bert` (`BertModule`): a `zoo.models.BertPretrainer`, signatures
  `encode(text) -> pooled_output, sequence_output` and `fill_mask(text) -> text`.
- `export_gpt` (`GPTModule`): a `zoo.models.GPT`, signature
  `generate(prompt, max_new_tokens) -> text, completion, truncated`.

An exported model holds its tokenizer (and optional preprocessing layer) next to the
Keras model in a `tf.Module`, with `tf.function` signatures on `tf.TensorSpec([None],
tf.string)`. The SavedModel loads and serves in a process that imports only
`tensorflow` and `tensorflow_text` (the tokenizer ops live there): no zoo, no Keras.

Decoding runs on fixed-shape chunks of `serving_batch_size` sentences (the batch is
padded with empty strings to a multiple of it), so the decoding graph has static shapes
whatever the request size, and invalid UTF-8 or empty strings are served, never an
error.

Long inputs are never cut silently. `translate` splits its input into sentences in the
graph (`zoo.text.sentences.split_sentences`), cuts a sentence longer than the model's
`source_length` into consecutive pieces of that many tokens, translates every piece and
joins the translations in order; only past `max_input_tokens` (default 4096) tokens per
input is the rest dropped, and the `truncated` output says so. `encode` reads a long
text in overlapping windows and pools them (see `BertModule`). `generate` keeps the
end of a prompt longer than its window, and its `truncated` output says so.

Inputs with nothing to read. Invalid UTF-8 is first repaired to U+FFFD. A string is
*blank* when it holds nothing but whitespace, control / format characters and U+FFFD,
or when its tokens are all `[UNK]` (e.g. emoji-only text for a WordPiece vocabulary;
byte-fallback tokenizers such as SentencePiece, byte-level BPE and characters do read
emoji, so it is not blank there). Per element of the batch, a blank string gives:
`translate` -> `""`; `fill_mask` -> `""` (markers aside: `"[MASK]"` alone is blank);
`encode` -> `pooled_output` and `sequence_output` all zeros; `generate` -> the prompt
counts as empty, so the model samples from the start token alone (an unconditional
sample: `text` equals `completion`). Other strings of the same batch get exactly
what they get alone (greedy and beam decoding; random samplers draw their noise per
batch row, so there a prompt's sample depends on its row, blank rows or not).

Input shapes. The named signatures (`loaded.signatures["translate"]`, ...) take a
`[batch]` string tensor. TensorFlow passes a fed tensor of another rank through a
signature unchecked, so each signature checks it: `InvalidArgumentError: ...
translate() expected a [batch] tensor of strings (rank 1); received shape] [2 2]`
(`[]` for a scalar). The methods of the loaded object (`loaded.translate(x)`, ...)
take a string tensor of rank 0 or 1 (or a Python str / list of str): a scalar gives a
scalar answer (`pooled_output (hidden_dim,)`...), and a higher rank fails with
`... translate() expected a [batch] tensor of strings (rank 1) or a scalar string;
received shape] [2 2]`. A non-string dtype is refused by TensorFlow before any Zoo
code runs (signatures: "input #0 ... was expected to be a string tensor but is a
int32 tensor"; methods: a TypeError "Can not cast TensorSpec(... tf.int32 ...) to
TensorSpec(... tf.string ...)").

Generated ids come from the model's logits. A model whose vocabulary is larger than
the tokenizer's (padded to a multiple of the mesh's model axis) never yields the extra
ids here: their logits are masked before sampling, so `detokenize` (strict) only sees
tokenizer ids. A model smaller than its tokenizer is refused at export time.

Example:

    >>> # export_translator(model, tokenizer, "runs/translation/saved_model",
    >>> #                   source_length=32, max_length=32)
    >>> # import tensorflow as tf, tensorflow_text  # in the serving process
    >>> # translator = tf.saved_model.load("runs/translation/saved_model")
    >>> # translator.translate(tf.constant(["Я изучаю машинное обучение."]))
"""

import tensorflow as tf

from zoo._checks import check_int
from zoo.text.sentences import split_sentences

__all__ = [
    "BertModule",
    "GPTModule",
    "TranslatorModule",
    "export_bert",
    "export_gpt",
    "export_translator",
]


# What a string may hold and still say nothing: whitespace (RE2's `\s` is ASCII only),
# control and format characters, and U+FFFD (what invalid UTF-8 was repaired to).
_BLANK_CHARACTERS = r"[\s\x{0B}\x{85}\p{Z}\p{Cc}\p{Cf}\x{FFFD}]+"
_ANY_STRING = tf.TensorSpec(None, tf.string)


def _runtime_rank(tensor):
    """The rank of the tensor actually fed, as a tensor.

    `tf.rank` is folded into a constant wherever the graph declares a rank, and the
    named signatures declare `[None]` but pass any fed tensor through unchecked: the
    count of the runtime shape's entries is what was really received.
    """
    return tf.reduce_sum(tf.cast(tf.shape(tensor) >= 0, tf.int32))


def _check_rank(tensor, signature, what, ranks):
    """`tensor`, after an InvalidArgumentError unless its runtime rank is in `ranks`."""
    rank = _runtime_rank(tensor)
    check = tf.debugging.Assert(
        tf.reduce_any(tf.equal(rank, ranks)),
        [f"{signature}() expected {what}; received shape", tf.shape(tensor)],
        summarize=8,
    )
    with tf.control_dependencies([check]):
        return tf.identity(tensor)


_BATCH = "a [batch] tensor of strings (rank 1)"


def _as_batch(text, signature):
    """A string scalar or `(batch,)` tensor (traced with an unknown rank) -> `(batch,)`."""
    text = _check_rank(text, signature, f"{_BATCH} or a scalar string", [0, 1])
    return tf.reshape(text, [-1])


def _like_input(values, text, trailing=()):
    """`(batch, *trailing)` answers back to the input's rank (a scalar in, one answer out)."""
    return tf.reshape(values, tf.concat([tf.shape(text), list(trailing)], axis=0))


def _is_blank(text):
    """`(batch,)` bool: nothing but whitespace, controls, format characters and U+FFFD."""
    return tf.equal(tf.strings.length(tf.strings.regex_replace(text, _BLANK_CHARACTERS, "")), 0)


def _readable(text, ids, tokenizer):
    """`(batch,)` bool: not blank and with a token other than `[UNK]` in the ragged `ids`."""
    unk = -1 if tokenizer.unk_token_id is None else tokenizer.unk_token_id
    ids = ids.merge_dims(1, -1) if ids.ragged_rank > 1 else ids
    known = tf.reduce_any(tf.not_equal(ids, unk), axis=1)  # False for no tokens
    return tf.logical_and(known, tf.logical_not(_is_blank(text)))


def _vocabulary_size(model, *names):
    for name in names:
        value = getattr(model, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _check_vocabulary(owner, model_size, tokenizer, side=""):
    """The model must have a row for every tokenizer id; returns the tokenizer's size."""
    size = int(tokenizer.vocabulary_size())
    if model_size is not None and model_size < size:
        raise ValueError(
            f"{owner} received a model with a {side}vocabulary of {model_size} ids and a "
            f"tokenizer of {size} tokens: tokenizer ids >= {model_size} have no embedding. "
            "Build the model with vocabulary_size=tokenizer.vocabulary_size() (or more)."
        )
    return size


class _TokenizerLogits:
    """Forwards to a generation model, with the logits of ids the tokenizer lacks masked.

    A model built with a vocabulary padded beyond its tokenizer's (a multiple of the
    mesh's model axis) must not emit those ids: the tokenizer cannot detokenize them.
    """

    def __init__(self, model, size):
        self._model = model
        self._size = size

    def __getattr__(self, name):
        return getattr(self._model, name)

    def _mask(self, logits):
        logits = tf.cast(logits, tf.float32)
        allowed = tf.range(tf.shape(logits)[-1]) < self._size
        return tf.where(allowed, logits, -1e9)

    def __call__(self, *args, **kwargs):
        return self._mask(self._model(*args, **kwargs))

    def call_with_cache(self, *args, **kwargs):
        logits, hidden, cache = self._model.call_with_cache(*args, **kwargs)
        return self._mask(logits), hidden, cache


def _generation_model(model, model_size, tokenizer_size):
    if model_size is not None and model_size > tokenizer_size:
        return _TokenizerLogits(model, tokenizer_size)
    return model


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
        _check_vocabulary(
            "TranslatorModule",
            _vocabulary_size(model, "source_vocabulary_size", "vocabulary_size"),
            self.source_tokenizer,
            "source ",
        )
        target_model_size = _vocabulary_size(model, "target_vocabulary_size", "vocabulary_size")
        target_size = _check_vocabulary("TranslatorModule", target_model_size, target, "target ")
        if target.bos_token_id is None or target.eos_token_id is None:
            raise ValueError(
                "The target tokenizer has no [BOS]/[EOS] tokens; train it with the default "
                "reserved tokens (zoo.text.SPECIAL_TOKENS)."
            )
        self._generator = Seq2SeqGenerator(
            _generation_model(model, target_model_size, target_size),
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

    @tf.function(input_signature=[_ANY_STRING])
    def translate(self, text):
        """Strings (batch,) or one string -> translations, `""` for blank strings."""
        translation, _ = self._translate(_as_batch(text, "translate"))
        return _like_input(translation, text)

    @tf.function(input_signature=[_ANY_STRING])
    def translate_with_details(self, text):
        """Strings (batch,) or one string -> {"translation", "truncated"} (see the class)."""
        translation, truncated = self._translate(_as_batch(text, "translate"))
        return {
            "translation": _like_input(translation, text),
            "truncated": _like_input(truncated, text),
        }

    def _pieces(self, text):
        """Sentences, capped and cut to the source length: `(pieces, source_length)` ids.

        Returns the padded ids of every piece, whether each piece has something to read,
        the input row of each piece and whether each input was cut at the cap."""
        sentences = split_sentences(_clean_text(text, None))  # (batch, sentences)
        flat = _clean_text(sentences.flat_values, self.preprocessor)  # (sentences,)
        ids = tf.cast(self.source_tokenizer.tokenize(flat), tf.int32)  # (sentences, None)
        ids = ids.merge_dims(1, -1) if ids.ragged_rank > 1 else ids
        readable = _readable(flat, ids, self.source_tokenizer)
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
    serving = tf.function(
        lambda text: {
            key: tf.ensure_shape(value, [None])
            for key, value in module.translate_with_details(
                _check_rank(text, "translate", _BATCH, [1])
            ).items()
        },
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
        self.cls_token_id = _required_id(tokenizer, "cls_token_id", "BertModule")
        self.sep_token_id = _required_id(tokenizer, "sep_token_id", "BertModule")
        self.mask_token_id = _required_id(tokenizer, "mask_token_id", "BertModule")
        self.pad_token_id = int(tokenizer.pad_token_id or 0)
        vocabulary_size = _check_vocabulary("BertModule", backbone.vocabulary_size, tokenizer)
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

    @tf.function(input_signature=[_ANY_STRING])
    def encode(self, text):
        """Strings (batch,) or one string -> {"pooled_output", "sequence_output"} float32."""
        outputs = self._encode(_as_batch(text, "encode"))
        hidden = self.pretrainer.backbone.hidden_dim
        return {
            "pooled_output": _like_input(outputs["pooled_output"], text, [hidden]),
            "sequence_output": _like_input(
                outputs["sequence_output"], text, [self.sequence_length, hidden]
            ),
            "windows": _like_input(outputs["windows"], text),
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
        text = _clean_text(text, self.preprocessor)
        ids = self.tokenizer.tokenize(text)
        ids = ids.merge_dims(1, -1) if ids.ragged_rank > 1 else ids
        readable = _readable(text, ids, self.tokenizer)
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

    @tf.function(input_signature=[_ANY_STRING])
    def fill_mask(self, text):
        """Strings with "[MASK]" markers (batch,) or one string -> the markers filled."""
        return _like_input(self._fill_mask(_as_batch(text, "fill_mask")), text)

    def _fill_mask(self, text):
        text = _clean_text(text, self.preprocessor)
        pieces = tf.strings.split(text, "[MASK]")  # (batch, markers + 1) strings
        ids = self.tokenizer.tokenize(pieces)  # (batch, pieces, tokens)
        readable = _readable(tf.strings.reduce_join(pieces, axis=1), ids, self.tokenizer)
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
        outputs = module.encode(_check_rank(text, "encode", _BATCH, [1]))
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
                module.fill_mask(_check_rank(text, "fill_mask", _BATCH, [1])), [None]
            )
        },
        input_signature=text_spec,
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
    prompt as the model saw it followed by the continuation), `completion` (the
    continuation alone) and `truncated` (bool: the prompt had more than
    `prompt_length - 1` tokens and its beginning was dropped; `text` starts where the
    model's window did).

    Empty prompts: an empty or blank prompt (see the module doc: whitespace, invalid
    bytes only, or only `[UNK]` tokens) is served as the empty prompt, i.e. the model
    continues the start token alone and returns an unconditional sample; `text` then
    equals `completion` (the blank text is not echoed). Ask for `max_new_tokens=0` to
    get `""`. A scalar prompt gives scalar `text` / `completion`; a prompt tensor of
    rank 2 or more is an `InvalidArgumentError` naming the shape.

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
            check_int(value, name, type(self).__name__)
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
        model_size = _vocabulary_size(model, "vocabulary_size")
        tokenizer_size = _check_vocabulary("GPTModule", model_size, tokenizer)
        self._generator = Generator(
            _generation_model(model, model_size, tokenizer_size),
            sampler=sampler,
            max_new_tokens=max_new_tokens,
            end_token_id=self.eos_token_id,
            pad_token_id=self.pad_token_id,
            run_eagerly=True,  # traced into the signature below, not compiled apart
            **sampler_kwargs,
        )

    def _prompt_ids(self, text):
        """`[start] + the last prompt_length - 1 tokens`, right-padded; and the lengths.

        A blank prompt keeps no token (see the class doc)."""
        ids = tf.cast(self.tokenizer.tokenize(text), tf.int32)  # (batch, None)
        readable = _readable(text, ids, self.tokenizer)
        kept = tf.repeat(readable, ids.row_lengths())
        ids = tf.RaggedTensor.from_row_lengths(
            tf.boolean_mask(ids.flat_values, kept),
            tf.where(readable, ids.row_lengths(), 0),
        )
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
        # (batch, prompt_length), (batch,), (batch,) whether the prompt lost its head
        return token_ids, lengths + 1, row_lengths > keep

    def _decode_chunk(self, inputs):
        token_ids, lengths = inputs
        mask = tf.range(self.prompt_length)[None, :] < lengths[:, None]
        outputs = self._generator._generate(token_ids, mask, self._seed)
        return tf.cast(outputs, tf.int32)

    @tf.function(input_signature=[_ANY_STRING, tf.TensorSpec([], tf.int32)])
    def generate(self, prompt, max_new_tokens):
        """Prompts (batch,) or one prompt, and a scalar count -> {"text", "completion"}."""
        max_new_tokens = _check_rank(
            max_new_tokens, "generate", "max_new_tokens as an int32 scalar", [0]
        )
        outputs = self._generate(_as_batch(prompt, "generate"), tf.reshape(max_new_tokens, []))
        return {key: _like_input(value, prompt) for key, value in outputs.items()}

    def _generate(self, prompt, max_new_tokens):
        text = _clean_text(prompt, self.preprocessor)
        count = tf.shape(text)[0]
        chunk = self.serving_batch_size
        padded = (count + chunk - 1) // chunk * chunk
        text = tf.concat([text, tf.fill([padded - count], "")], axis=0)
        token_ids, lengths, truncated = self._prompt_ids(text)
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
            "truncated": truncated[:count],
        }


def export_gpt(model, tokenizer, path, prompt_length, max_new_tokens, **kwargs):
    """Save a `GPTModule` as a SavedModel at `path`; returns the module.

    Signatures: `generate` (also `serving_default`): `prompt: string (batch,),
    max_new_tokens: int32 scalar -> text, completion: string (batch,), truncated: bool
    (batch,)`; the loaded
    object's `generate` method also takes one prompt (see `GPTModule` for empty
    prompts and shapes). Keyword arguments go to `GPTModule`.
    """
    module = GPTModule(model, tokenizer, prompt_length, max_new_tokens, **kwargs)
    generate = tf.function(
        lambda prompt, max_new_tokens: {
            key: tf.ensure_shape(value, [None])
            for key, value in module.generate(
                _check_rank(prompt, "generate", _BATCH, [1]), max_new_tokens
            ).items()
        },
        input_signature=[
            tf.TensorSpec([None], tf.string, name="prompt"),
            tf.TensorSpec([], tf.int32, name="max_new_tokens"),
        ],
    )
    _save(module, path, {"serving_default": generate, "generate": generate})
    return module
