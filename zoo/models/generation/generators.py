"""Compiled generators (`Generator`, `Seq2SeqGenerator`) and the functional entry points
(`generate`, `translate`), all configured by one `GenerationConfig`."""

import contextlib

import keras
import numpy as np
from keras import ops

from zoo._checks import is_int
from zoo.models.generation.config import GenerationConfig
from zoo.models.generation.decoding import (
    DecoderOnlyAdapter,
    EncoderDecoderAdapter,
    beam_loop,
    sample_loop,
)
from zoo.models.generation.samplers import BeamSampler

__all__ = ["Generator", "Seq2SeqGenerator", "generate", "generate_seq2seq", "translate"]


class _Unset:
    """Default of the positional shortcuts (`max_new_tokens`, `max_length`, ...): the
    value comes from the `GenerationConfig`."""

    def __repr__(self):
        return "<from config>"


_UNSET = _Unset()


def _resolve(config, options, owner):
    """`config` (default: `GenerationConfig()`) with the keyword `options` applied."""
    if config is None:
        config = GenerationConfig()
    elif not isinstance(config, GenerationConfig):
        raise ValueError(
            f"`config` of {owner} must be a zoo.models.generation.GenerationConfig or None. "
            f"Received: config={config!r}. Pass a sampler by keyword (sampler=...) or "
            "inside the config (GenerationConfig(sampler=...))."
        )
    return config.replace(**{k: v for k, v in options.items() if v is not _UNSET})


# ----------------------------------------------------------------------------- helpers


def _compile(function, model, jit_compile):
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=jit_compile, reduce_retracing=False)
    if backend == "jax":
        import jax

        def stateless(values, *args):
            with keras.StatelessScope(state_mapping=list(zip(model.variables, values))):
                return function(*args)

        compiled = jax.jit(stateless) if jit_compile else stateless
        return lambda *args: compiled([v.value for v in model.variables], *args)
    return function  # eager backends


def _max_sequence_length(model):
    value = getattr(model, "max_sequence_length", None)
    return value if is_int(value) else None


def _to_numpy(values):
    if isinstance(values, (list, tuple, np.ndarray, np.generic, int)):
        return np.asarray(values)
    return np.asarray(ops.convert_to_numpy(values))


def _as_int_matrix(values, name):
    array = _to_numpy(values)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise ValueError(
            f"`{name}` must be shaped (batch, length) (or (length,) for one example). "
            f"Received shape {array.shape}."
        )
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if np.issubdtype(array.dtype, np.floating) and np.all(array == np.round(array)):
            array = array.astype("int64")
        else:
            raise ValueError(f"`{name}` must hold int token ids. Received dtype {array.dtype}.")
    if array.shape[1] < 1:
        raise ValueError(f"`{name}` is empty: give at least one token per example.")
    return array.astype("int32")


def _as_padding_mask(mask, token_ids, name):
    if mask is None:
        return np.ones(token_ids.shape, dtype=bool)
    mask = _to_numpy(mask)
    if mask.ndim == 1:
        mask = mask[None, :]
    if mask.shape != token_ids.shape:
        raise ValueError(
            f"`{name}` must have the token ids' shape {token_ids.shape}. Received {mask.shape}."
        )
    return mask.astype(bool)


def _seed_tensor(seed):
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    if not is_int(seed):
        raise ValueError(f"`seed` must be an int or None. Received: seed={seed!r}.")
    return ops.convert_to_tensor(np.array([int(seed) % (2**31 - 1), 0], dtype="int32"))


class _SuppressTokens:
    """An adapter whose logits never pick `token_ids` (`GenerationConfig.suppressed_token_ids`).

    The other methods (`repeat`, `reorder`, ...) are the wrapped adapter's.
    """

    def __init__(self, adapter, token_ids):
        self.adapter = adapter
        self.token_ids = tuple(token_ids)

    def __getattr__(self, name):
        return getattr(self.adapter, name)

    def _mask(self, logits):
        vocabulary = logits.shape[-1]
        hit = np.zeros((vocabulary,), "bool")
        hit[[i for i in self.token_ids if i < vocabulary]] = True
        return ops.where(ops.convert_to_tensor(hit), ops.cast(-1e9, logits.dtype), logits)

    def prefill(self, *args):
        logits, state = self.adapter.prefill(*args)
        return self._mask(logits), state

    def step(self, *args):
        logits, state = self.adapter.step(*args)
        return self._mask(logits), state


# ----------------------------------------------------------------------------- generators


class _BaseGenerator:
    # The config fields the compiled program depends on, besides the sampler's settings.
    _program_fields = (
        "end_token_id",
        "pad_token_id",
        "suppressed_token_ids",
        "use_cache",
        "jit_compile",
        "run_eagerly",
    )

    def __init__(self, model, config=None, **options):
        config = _resolve(config, options, type(self).__name__)
        self.model = model
        self.config = config
        self.sampler = config.build_sampler()
        self.end_token_id = config.end_token_id
        self.pad_token_id = config.pad_token_id
        self.use_cache = config.use_cache
        self.jit_compile = config.jit_compile
        self.run_eagerly = config.run_eagerly
        self.num_traces = 0  # how many times the Python function was traced (compiled)
        if self.run_eagerly:
            self._function = self._generate
        else:
            self._function = _compile(self._generate, model, self.jit_compile)

    @property
    def _beam(self):
        return isinstance(self.sampler, BeamSampler)

    def _seed(self, seed):
        """The call's seed, else the config's, else the sampler's, else a random one."""
        for candidate in (seed, self.config.seed, self.sampler.seed):
            if candidate is not None:
                return _seed_tensor(candidate)
        return _seed_tensor(None)

    def _decode(self, adapter, buffer, lengths, prompt_length, max_new_tokens, seed):
        if self.config.suppressed_token_ids:
            adapter = _SuppressTokens(adapter, self.config.suppressed_token_ids)
        options = {
            "prompt_length": prompt_length,
            "max_new_tokens": max_new_tokens,
            "end_token_id": self.end_token_id,
            "pad_token_id": self.pad_token_id,
        }
        if self._beam:
            sequences, scores = beam_loop(adapter, self.sampler, buffer, lengths, **options)
            if self.sampler.return_all_beams:
                return sequences, scores
            return sequences[:, 0], scores[:, 0]
        return sample_loop(adapter, self.sampler, buffer, lengths, seed=seed, **options)

    def _outputs(self, outputs):
        if self._beam and self.sampler.return_all_beams:
            return tuple(ops.convert_to_numpy(x) for x in outputs)
        if self._beam:
            return ops.convert_to_numpy(outputs[0])
        return ops.convert_to_numpy(outputs)


class Generator(_BaseGenerator):
    """Compiled, cached text generation for a decoder-only model (`zoo.models.GPT`).

    The XLA program is traced once per input shape and kept: later calls with the same
    shapes (any prompts, any seed) reuse it (`num_traces` counts the tracings).

    Args:
        model: a model with `init_cache` / `call_with_cache` (see
            `zoo.models.generation`).
        config: a `GenerationConfig` (default: `GenerationConfig()`); this class uses
            its sampler settings, `max_new_tokens`, `end_token_id`, `pad_token_id`,
            `seed`, `use_cache`, `jit_compile` and `run_eagerly`.
        **options: `GenerationConfig` fields, overriding the config's (`sampler="top_k",
            k=10, max_new_tokens=64, ...`).

    Call arguments:
        prompt_token_ids: int `(batch, prompt_length)`, right-padded.
        prompt_padding_mask: `(batch, prompt_length)`, truthy for real tokens (all real
            when omitted); each row needs at least one real token.
        seed: int; the same seed gives the same samples (default: the config's seed,
            else the sampler's, else a random one).

    Returns:
        numpy int32 `(batch, prompt_length + max_new_tokens)`: each row's prompt, its
        new tokens, then `pad_token_id`. With `BeamSampler(return_all_beams=True)`:
        `(sequences (batch, num_beams, length), scores (batch, num_beams))`.

    Example:

    >>> # generator = Generator(gpt, sampler="top_k", k=10, max_new_tokens=64)
    >>> # generator = Generator(gpt, GenerationConfig(sampler="top_k", k=10))  # the same
    >>> # tokens = generator(prompt_ids, prompt_padding_mask, seed=0)
    """

    _program_fields = ("max_new_tokens", *_BaseGenerator._program_fields)

    def __init__(self, model, config=None, **options):
        super().__init__(model, config, **options)
        self.max_new_tokens = self.config.max_new_tokens

    def _generate(self, token_ids, padding_mask, seed):
        self.num_traces += 1
        prompt_length = token_ids.shape[1]
        lengths = ops.sum(ops.cast(padding_mask, "int32"), axis=1)
        buffer = ops.where(padding_mask, token_ids, self.pad_token_id)
        buffer = ops.pad(
            buffer, [[0, 0], [0, self.max_new_tokens]], constant_values=self.pad_token_id
        )
        adapter = DecoderOnlyAdapter(self.model, self.use_cache)
        return self._decode(adapter, buffer, lengths, prompt_length, self.max_new_tokens, seed)

    def __call__(self, prompt_token_ids, prompt_padding_mask=None, seed=None):
        token_ids = _as_int_matrix(prompt_token_ids, "prompt_token_ids")
        padding_mask = _as_padding_mask(prompt_padding_mask, token_ids, "prompt_padding_mask")
        lengths = padding_mask.sum(axis=1)
        if np.any(lengths < 1):
            raise ValueError(
                "Every prompt needs at least one real token; rows "
                f"{np.flatnonzero(lengths < 1).tolist()} have none. Start each prompt with a "
                "BOS token."
            )
        if np.any(padding_mask != (np.arange(token_ids.shape[1])[None] < lengths[:, None])):
            raise ValueError(
                "Prompts must be right-padded: the real tokens first, then padding "
                "(`prompt_padding_mask` like [1, 1, 1, 0, 0]). Received a mask with padding "
                "before real tokens; move each prompt to the left."
            )
        limit = _max_sequence_length(self.model)
        total = token_ids.shape[1] + self.max_new_tokens
        if limit is not None and token_ids.shape[1] > limit:
            raise ValueError(
                f"The prompt is longer than the model's max_sequence_length: "
                f"prompt length {token_ids.shape[1]} > {limit}. Truncate the prompts."
            )
        if limit is not None and total > limit:
            raise ValueError(
                f"prompt length + max_new_tokens = {token_ids.shape[1]} + {self.max_new_tokens}"
                f" = {total} exceeds the model's max_sequence_length {limit}. Lower "
                f"max_new_tokens to at most {limit - token_ids.shape[1]} or shorten the prompts."
            )
        outputs = self._function(
            ops.convert_to_tensor(token_ids),
            ops.convert_to_tensor(padding_mask),
            self._seed(seed),
        )
        return self._outputs(outputs)


class Seq2SeqGenerator(_BaseGenerator):
    """Compiled, cached generation for an encoder-decoder model (`zoo.models.Transformer`).

    The encoder runs once; the decoder's cross-attention keys/values are computed once
    (`init_cache`); the decoder starts from `bos_token_id` and writes up to
    `max_length - 1` tokens.

    Args:
        model: a model with `encode` / `init_cache` / `call_with_cache`.
        config: a `GenerationConfig`; this class uses its sampler settings,
            `max_length`, `bos_token_id`, `end_token_id`, `pad_token_id`, `seed`,
            `use_cache`, `jit_compile` and `run_eagerly`.
        **options: `GenerationConfig` fields, overriding the config's.

    Call arguments:
        encoder_token_ids: int `(batch, source_length)`.
        encoder_padding_mask: `(batch, source_length)`, truthy for real tokens.
        seed: int (as in `Generator`).

    Returns:
        numpy int32 `(batch, max_length)` starting with `bos_token_id` (or beams and
        scores, as in `Generator`).

    Example:

    >>> # generator = Seq2SeqGenerator(transformer, sampler="beam", num_beams=4,
    >>> #                              max_length=40, bos_token_id=1, end_token_id=2)
    >>> # target_ids = generator(source_ids, source_mask)
    """

    _program_fields = ("max_length", "bos_token_id", *_BaseGenerator._program_fields)

    def __init__(self, model, config=None, **options):
        super().__init__(model, config, **options)
        self.max_length = self.config.max_length
        self.bos_token_id = self.config.bos_token_id

    def _generate(self, encoder_token_ids, encoder_padding_mask, seed):
        self.num_traces += 1
        batch = encoder_token_ids.shape[0]
        buffer = ops.concatenate(
            [
                ops.full((batch, 1), self.bos_token_id, dtype="int32"),
                ops.full((batch, self.max_length - 1), self.pad_token_id, dtype="int32"),
            ],
            axis=1,
        )
        lengths = ops.ones((batch,), dtype="int32")
        adapter = EncoderDecoderAdapter(
            self.model, self.use_cache, encoder_token_ids, encoder_padding_mask
        )
        return self._decode(adapter, buffer, lengths, 1, self.max_length - 1, seed)

    def __call__(self, encoder_token_ids, encoder_padding_mask=None, seed=None):
        token_ids = _as_int_matrix(encoder_token_ids, "encoder_token_ids")
        padding_mask = _as_padding_mask(encoder_padding_mask, token_ids, "encoder_padding_mask")
        limit = _max_sequence_length(self.model)
        if limit is not None and token_ids.shape[1] > limit:
            raise ValueError(
                f"The source is longer than the model's max_sequence_length: length "
                f"{token_ids.shape[1]} > {limit}. Truncate the encoder inputs."
            )
        if limit is not None and self.max_length > limit:
            raise ValueError(
                f"max_length={self.max_length} exceeds the model's max_sequence_length "
                f"{limit}. Use max_length <= {limit}."
            )
        outputs = self._function(
            ops.convert_to_tensor(token_ids),
            ops.convert_to_tensor(padding_mask.astype("int32")),
            self._seed(seed),
        )
        return self._outputs(outputs)


# ----------------------------------------------------------------------------- functional API

_CACHE_ATTRIBUTE = "_zoo_generators"


def _generators_of(model):
    """The `{configuration: generator}` dict kept on the model itself, so it lives and
    dies with the model (a module-level dict keyed by model would keep models alive)."""
    generators = model.__dict__.get(_CACHE_ATTRIBUTE) if hasattr(model, "__dict__") else None
    if generators is None:
        generators = {}
        # Bypass Keras attribute tracking; a model that cannot hold it gets no caching.
        with contextlib.suppress(AttributeError, TypeError):
            object.__setattr__(model, _CACHE_ATTRIBUTE, generators)
    return generators


def _cached_generator(cls, model, config):
    """The model's generator for this configuration (built on first use) and the
    sampler of `config`. The seed is a call input, so it is no part of the key."""
    config = config.replace(seed=None)
    sampler = config.build_sampler()
    program = tuple((name, getattr(config, name)) for name in cls._program_fields)
    key = (cls.__name__, sampler.cache_key(), program)
    per_model = _generators_of(model)
    if key not in per_model:
        per_model[key] = cls(model, config.replace(sampler=sampler))
    return per_model[key], sampler


def generate(
    model,
    prompt_token_ids,
    max_new_tokens=_UNSET,
    *,
    prompt_padding_mask=None,
    config=None,
    **options,
):
    """Continue prompts with a decoder-only model (`zoo.models.GPT`).

    Builds (once, then reuses) a `Generator` for this model and configuration; see
    `Generator` for the returned array.

    Args:
        model: a `zoo.models.GPT` (or a model with the same cache protocol).
        prompt_token_ids: int `(batch, prompt_length)`, right-padded.
        max_new_tokens: new tokens per example (default: the config's, 32).
        prompt_padding_mask: `(batch, prompt_length)`, truthy for real tokens.
        config: a `GenerationConfig` (default: `GenerationConfig()`).
        **options: `GenerationConfig` fields overriding the config's: `sampler`,
            `temperature`, `k`, `p`, `num_beams`, `length_penalty`, `return_all_beams`,
            `end_token_id`, `pad_token_id`, `seed`, `use_cache`, `jit_compile`,
            `run_eagerly`.

    Example:

    >>> # tokens = generate(gpt, [[2, 15, 16]], max_new_tokens=8, sampler="top_k", k=5, seed=0)
    >>> # config = GenerationConfig(sampler="top_p", p=0.9, end_token_id=2)
    >>> # tokens = generate(gpt, [[2, 15, 16]], config=config, seed=0)
    """
    config = _resolve(config, {"max_new_tokens": max_new_tokens, **options}, "generate()")
    generator, sampler = _cached_generator(Generator, model, config)
    seed = sampler.seed if config.seed is None else config.seed
    return generator(prompt_token_ids, prompt_padding_mask, seed=seed)


def translate(
    model,
    encoder_token_ids,
    encoder_padding_mask=None,
    bos_token_id=_UNSET,
    end_token_id=_UNSET,
    max_length=_UNSET,
    *,
    config=None,
    **options,
):
    """Generate target sequences with an encoder-decoder model (`zoo.models.Transformer`).

    Builds (once, then reuses) a `Seq2SeqGenerator`; see it for the returned array.

    Args:
        model: a `zoo.models.Transformer` (or a model with the same protocol).
        encoder_token_ids: int `(batch, source_length)`.
        encoder_padding_mask: `(batch, source_length)`, truthy for real tokens.
        bos_token_id, end_token_id, max_length: as in `GenerationConfig` (default: the
            config's: 1, None, 32).
        config: a `GenerationConfig` (default: the model's `generation_config` dict, set
            by `Transformer.from_preset` for a Marian checkpoint, else `GenerationConfig()`).
        **options: other `GenerationConfig` fields overriding the config's (`sampler`,
            `num_beams`, `length_penalty`, `pad_token_id`, `seed`, ...).

    Example:

    >>> # target_ids = translate(transformer, source_ids, source_mask, bos_token_id=1,
    >>> #                        end_token_id=2, max_length=40, sampler="beam", num_beams=4)
    """
    shortcuts = {"bos_token_id": bos_token_id, "end_token_id": end_token_id}
    if config is None and getattr(model, "generation_config", None):
        config = GenerationConfig(**model.generation_config)  # a loaded Marian's start/pad ids
    config = _resolve(config, {**shortcuts, "max_length": max_length, **options}, "translate()")
    generator, sampler = _cached_generator(Seq2SeqGenerator, model, config)
    seed = sampler.seed if config.seed is None else config.seed
    return generator(encoder_token_ids, encoder_padding_mask, seed=seed)


generate_seq2seq = translate
