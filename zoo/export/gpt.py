"""`GPTModule` / `export_gpt`: a GPT serving `generate`."""

import tensorflow as tf

from zoo._arguments import keep_arguments
from zoo._checks import check_int
from zoo.export.common import (
    ANY_STRING,
    BATCH,
    as_batch,
    check_rank,
    check_vocabulary,
    clean_text,
    generation_model,
    like_input,
    readable_rows,
    required_id,
    save,
    vocabulary_size,
    with_merged_lora,
)


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
        model: a `zoo.models.GPT` (or any model with the cache protocol), with full or
            efficient attention (`attention="sparse"`, `"longformer"`, `"performer"`:
            the decoding loop's shapes are static, as they need).
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
        **sampler_kwargs: `temperature`, `k`, `p`; and `use_cache=False` for an
            attention without cached decoding (`attention="reformer"`), which re-runs the
            model on the whole fixed-length buffer every step.

    Example:

    >>> # module = GPTModule(gpt, tokenizer, prompt_length=16, max_new_tokens=32)
    >>> # module.generate(tf.constant(["Я изучаю"]), tf.constant(8))["text"]
    """

    # Kept as attributes of the same name (`model` with its LoRA adapters merged).
    _ARGUMENTS = (
        "model",
        "tokenizer",
        "preprocessor",
        "prompt_length",
        "max_new_tokens",
        "serving_batch_size",
    )

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
        from zoo.models.generation import Generator

        owner = type(self).__name__
        check_int(prompt_length, "prompt_length", owner)
        check_int(max_new_tokens, "max_new_tokens", owner)
        check_int(serving_batch_size, "serving_batch_size", owner)
        super().__init__(name="gpt")
        model = with_merged_lora(model)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"seed must be an int, received {seed!r}.")
        limit = getattr(model, "max_sequence_length", None)
        if isinstance(limit, int) and prompt_length + max_new_tokens > limit:
            raise ValueError(
                f"prompt_length + max_new_tokens = {prompt_length} + {max_new_tokens} exceeds "
                f"the model's max_sequence_length {limit}. Lower one of them."
            )
        keep_arguments(self, locals(), self._ARGUMENTS)
        self.eos_token_id = required_id(tokenizer, "eos_token_id", "GPTModule")
        self.pad_token_id = int(tokenizer.pad_token_id or 0)
        self.start_token_id = self.eos_token_id if start_token_id is None else int(start_token_id)
        self._seed = tf.constant([seed % (2**31 - 1), 0], tf.int32)
        model_size = vocabulary_size(model, "vocabulary_size")
        tokenizer_size = check_vocabulary("GPTModule", model_size, tokenizer)
        self._generator = Generator(
            generation_model(model, model_size, tokenizer_size),
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
        readable = readable_rows(text, ids, self.tokenizer)
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

    @tf.function(input_signature=[ANY_STRING, tf.TensorSpec([], tf.int32)])
    def generate(self, prompt, max_new_tokens):
        """Prompts (batch,) or one prompt, and a scalar count -> {"text", "completion"}."""
        max_new_tokens = check_rank(
            max_new_tokens, "generate", "max_new_tokens as an int32 scalar", [0]
        )
        outputs = self._generate(as_batch(prompt, "generate"), tf.reshape(max_new_tokens, []))
        return {key: like_input(value, prompt) for key, value in outputs.items()}

    def _generate(self, prompt, max_new_tokens):
        text = clean_text(prompt, self.preprocessor)
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
    prompts and shapes). Keyword arguments go to `GPTModule`. A GPT with an efficient
    attention exports too: the SavedModel holds these signatures, not the Keras model's
    own dynamic-length forward pass (see `zoo.export.common.save`).
    """
    module = GPTModule(model, tokenizer, prompt_length, max_new_tokens, **kwargs)
    generate = tf.function(
        lambda prompt, max_new_tokens: {
            key: tf.ensure_shape(value, [None])
            for key, value in module.generate(
                check_rank(prompt, "generate", BATCH, [1]), max_new_tokens
            ).items()
        },
        input_signature=[
            tf.TensorSpec([None], tf.string, name="prompt"),
            tf.TensorSpec([], tf.int32, name="max_new_tokens"),
        ],
    )
    save(module, path, {"serving_default": generate, "generate": generate})
    return module
