"""Text generation for `GPT` (decoder-only) and `Transformer` (encoder-decoder).

Samplers: greedy, top-k, top-p (nucleus), temperature, beam search. Decoding runs with
a key/value cache inside one XLA-compiled `keras.ops.while_loop`:

1. the output buffer is `(batch, prompt_length + max_new_tokens)` from the start
   (prompt, then `pad_token_id`), so no shape changes from step to step;
2. the prompt goes through the model in ONE cached forward pass (prefill), which
   fills the cache and gives the logits of the first new token;
3. every loop step picks one token per row, writes it into the buffer with
   `slice_update`, and feeds it to `call_with_cache` at its position;
4. the loop stops as soon as every row has emitted `end_token_id` (the while-loop
   condition) or has `max_new_tokens` new tokens; what follows an end token is pad.

Prompts of different lengths are right-padded (the real tokens first, then padding,
`prompt_padding_mask` marking the real ones). The loop starts at the shortest prompt's
end; a longer prompt's own tokens are copied (teacher-forced) until its row reaches
its end, and each row gets at most `max_new_tokens` new tokens.

The compiled function is built once per (model, sampler configuration, end/pad ids,
`max_new_tokens`) and kept (`Generator`); the backend compiler keeps one program per
input shape. The random seed is a tensor input, so a new seed does not recompile.
Random draws are stateless (Gumbel-max with a per-step seed), so a seed reproduces
its samples on any backend that has stateless random numbers (TensorFlow, JAX).

The model protocol (implemented by `zoo.models.GPT` and `zoo.models.Transformer`):

- decoder-only: `init_cache(batch_size, max_length)`,
  `call_with_cache(token_ids, cache, cache_update_index)` -> `(logits, hidden, cache)`,
  and `model({"token_ids", "padding_mask"})` -> logits (for `use_cache=False`);
  optionally `init_layer_caches(batch_size, max_length)`, a cache (any structure of
  tensors) that `call_with_cache` also takes; the loop then carries it instead of
  `init_cache`'s (GPT: one tensor per block, updated in place);
- encoder-decoder: `encode(encoder_token_ids, encoder_padding_mask)`,
  `init_cache(batch_size, max_length, encoder_output)` -> `{"self", "cross"}`,
  `call_with_cache(decoder_token_ids, cache, cache_update_index,
  encoder_padding_mask)`, and `model({"encoder_token_ids", "encoder_padding_mask",
  "decoder_token_ids", "decoder_padding_mask"})` -> logits.

Example:

>>> from zoo.models.generation import generate
>>> # tokens = generate(gpt, prompt_ids, max_new_tokens=32, sampler="top_p", p=0.9, seed=1)
"""

import contextlib
import math

import keras
import numpy as np
from keras import ops

from zoo._checks import check_int, is_int

__all__ = [
    "BeamSampler",
    "Generator",
    "GreedySampler",
    "Sampler",
    "Seq2SeqGenerator",
    "TopKSampler",
    "TopPSampler",
    "generate",
    "generate_seq2seq",
    "get_sampler",
    "translate",
]

# Scores of candidates that may not be chosen. Finite, so sums and divisions stay finite.
_MASKED = -1e30
# Score of the placeholder beams before the first expansion: out of the race, but above
# masked candidates, so they keep their own (forced) tokens.
_DEAD_BEAM = -1e9


# ----------------------------------------------------------------------------- checks


def _check_temperature(temperature, allow_zero=True):
    ok = isinstance(temperature, (int, float, np.floating)) and not isinstance(temperature, bool)
    if (
        not ok
        or not math.isfinite(temperature)
        or temperature < 0
        or (temperature == 0 and not allow_zero)
    ):
        bound = ">= 0 (0 means greedy)" if allow_zero else "> 0"
        raise ValueError(
            f"`temperature` must be a finite number {bound}. Received: temperature={temperature!r}."
        )
    return float(temperature)


def _check_token_id(value, name, optional=False):
    if value is None and optional:
        return None
    if not is_int(value) or value < 0:
        raise ValueError(
            f"`{name}` must be a non-negative int token id"
            f"{' or None' if optional else ''}. Received: {name}={value!r}."
        )
    return int(value)


# ----------------------------------------------------------------------------- randomness


def _uniform(shape, seed):
    """Stateless uniform numbers in (0, 1) from an int32 `(2,)` seed tensor."""
    backend = keras.config.backend()
    tiny = float(np.finfo(np.float32).tiny)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.random.stateless_uniform(shape, seed=seed, minval=tiny, maxval=1.0)
    if backend == "jax":
        import jax

        key = jax.random.wrap_key_data(ops.cast(seed, "uint32"), impl="threefry2x32")
        return jax.random.uniform(key, shape, minval=tiny, maxval=1.0)
    # Eager backends (torch, numpy): the seed is concrete here.
    seed = ops.convert_to_numpy(seed).astype(np.int64)
    rng = np.random.default_rng([int(seed[0]) & 0xFFFFFFFF, int(seed[1]) & 0xFFFFFFFF])
    return ops.convert_to_tensor(rng.uniform(tiny, 1.0, size=shape).astype("float32"))


def _step_seed(seed, step):
    """A different stateless seed for every decoding step."""
    return ops.stack([seed[0], seed[1] + ops.cast(step, "int32")])


def _gumbel_argmax(logits, seed):
    """One sample per row of `softmax(logits)`: `argmax(logits + Gumbel noise)`."""
    noise = -ops.log(-ops.log(_uniform(ops.shape(logits), seed)))
    return ops.argmax(logits + noise, axis=-1)


# ----------------------------------------------------------------------------- samplers


class Sampler:
    """Base class: picks the next token from float32 logits `(batch, vocabulary)`.

    Subclasses implement `next_token(logits, seed)`, where `seed` is an int32 `(2,)`
    tensor that changes every step (use it with stateless random ops, e.g.
    `zoo.models.generation._gumbel_argmax`), and return int `(batch,)` token ids.

    Args:
        temperature: logits are divided by it before sampling; higher is more random,
            `0` picks the most likely token (greedy).
        seed: default seed of `generate` calls that pass none.
    """

    name = "sampler"

    def __init__(self, temperature=1.0, seed=None):
        self.temperature = _check_temperature(temperature)
        if seed is not None and not is_int(seed):
            raise ValueError(f"`seed` must be an int or None. Received: seed={seed!r}.")
        self.seed = seed

    def scale(self, logits):
        """`logits / temperature` in float32."""
        logits = ops.cast(logits, "float32")
        if self.temperature in (0.0, 1.0):
            return logits
        return logits / self.temperature

    def next_token(self, logits, seed):
        raise NotImplementedError

    def get_config(self):
        return {"temperature": self.temperature, "seed": self.seed}

    def cache_key(self):
        """What the compiled function depends on (the seed is a runtime input)."""
        config = {k: v for k, v in self.get_config().items() if k != "seed"}
        return (type(self).__name__, tuple(sorted(config.items())))

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class GreedySampler(Sampler):
    """Always the most likely token (`argmax` of the logits)."""

    name = "greedy"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def next_token(self, logits, seed):
        return ops.argmax(logits, axis=-1)


class TopKSampler(Sampler):
    """Sample among the `k` most likely tokens, with probability `softmax(logits / T)`.

    Args:
        k: how many of the most likely tokens stay candidates (`k=1` is greedy).
        temperature, seed: see `Sampler`.
    """

    name = "top_k"

    def __init__(self, k=5, **kwargs):
        super().__init__(**kwargs)
        self.k = check_int(
            k, "k", type(self).__name__, hint="Top-k keeps the k most likely tokens; k=1 is greedy."
        )

    def next_token(self, logits, seed):
        if self.temperature == 0:
            return ops.argmax(logits, axis=-1)
        k = min(self.k, logits.shape[-1])
        top_logits, top_indices = ops.top_k(self.scale(logits), k=k, sorted=False)  # (batch, k)
        choice = _gumbel_argmax(top_logits, seed)  # (batch,)
        return ops.take_along_axis(top_indices, ops.expand_dims(choice, -1), axis=-1)[:, 0]

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class TopPSampler(Sampler):
    """Nucleus sampling: sample among the fewest most-likely tokens whose mass reaches `p`.

    Reference: Holtzman et al., "The Curious Case of Neural Text Degeneration", 2019,
    https://arxiv.org/abs/1904.09751.

    Args:
        p: probability mass kept, in (0, 1]; a tiny `p` keeps one token (greedy).
        k: optional cap on the candidates (sort only the top `k`: faster on large
            vocabularies).
        temperature, seed: see `Sampler`.
    """

    name = "top_p"

    def __init__(self, p=0.9, k=None, **kwargs):
        super().__init__(**kwargs)
        ok = isinstance(p, (int, float, np.floating)) and not isinstance(p, bool)
        if not ok or not 0.0 < p <= 1.0:
            raise ValueError(
                f"`p` (top-p mass) must be in (0, 1]. Received: p={p!r}. "
                "Use e.g. p=0.9; a tiny p behaves greedily."
            )
        self.p = float(p)
        self.k = None if k is None else check_int(k, "k", type(self).__name__)

    def next_token(self, logits, seed):
        if self.temperature == 0:
            return ops.argmax(logits, axis=-1)
        vocabulary = logits.shape[-1]
        k = vocabulary if self.k is None else min(self.k, vocabulary)
        sorted_logits, sorted_indices = ops.top_k(self.scale(logits), k=k, sorted=True)
        probabilities = ops.softmax(sorted_logits, axis=-1)  # (batch, k), descending
        mass_before = ops.cumsum(probabilities, axis=-1) - probabilities
        keep = mass_before < self.p  # the first token is always kept
        choice = _gumbel_argmax(ops.where(keep, sorted_logits, _MASKED), seed)
        return ops.take_along_axis(sorted_indices, ops.expand_dims(choice, -1), axis=-1)[:, 0]

    def get_config(self):
        return {**super().get_config(), "p": self.p, "k": self.k}


class BeamSampler(Sampler):
    """Beam search: keep the `num_beams` most likely partial sequences at every step.

    Hypotheses that emit `end_token_id` move to a pool of finished ones (scored
    `sum log p / generated_length ** length_penalty`); a row stops when its pool
    holds `num_beams` hypotheses that no live beam can beat any more.

    Args:
        num_beams: beams per example (1 is greedy when no end token can stop early).
        length_penalty: exponent of the length normalization; 0 ranks by the plain
            sum of log-probabilities (as `keras_hub.samplers.BeamSampler`), > 0 favours
            longer outputs (HF uses 1.0, GNMT-style tuning often 0.6-1.0).
        return_all_beams: return all beams `(batch, num_beams, length)` and their
            scores `(batch, num_beams)`, best first, instead of the best beam.
        temperature: logits are divided by it before the log-softmax (> 0).
    """

    name = "beam"

    def __init__(self, num_beams=4, length_penalty=0.0, return_all_beams=False, **kwargs):
        super().__init__(**kwargs)
        _check_temperature(self.temperature, allow_zero=False)
        self.num_beams = check_int(
            num_beams,
            "num_beams",
            type(self).__name__,
            hint="Use num_beams=1 for greedy-like search.",
        )
        ok = isinstance(length_penalty, (int, float, np.floating)) and not isinstance(
            length_penalty, bool
        )
        if not ok or not math.isfinite(length_penalty):
            raise ValueError(
                f"`length_penalty` must be a finite number. Received: {length_penalty!r}."
            )
        self.length_penalty = float(length_penalty)
        self.return_all_beams = bool(return_all_beams)

    def get_config(self):
        return {
            **super().get_config(),
            "num_beams": self.num_beams,
            "length_penalty": self.length_penalty,
            "return_all_beams": self.return_all_beams,
        }


class _KerasHubSampler(Sampler):
    """Any other `keras_hub.samplers.Sampler`: its `compute_probabilities` and
    `get_next_token` run inside the zoo loop (TensorFlow backend; it keeps its own
    seed state, so the `seed` argument of `generate` does not apply)."""

    name = "keras_hub"

    def __init__(self, sampler):
        super().__init__(temperature=getattr(sampler, "temperature", 1.0))
        self.sampler = sampler

    def next_token(self, logits, seed):
        return self.sampler.get_next_token(self.sampler.compute_probabilities(logits))

    def cache_key(self):
        return ("keras_hub", id(self.sampler))


_SAMPLERS = {
    "greedy": GreedySampler,
    "top_k": TopKSampler,
    "top_p": TopPSampler,
    "beam": BeamSampler,
}


def get_sampler(
    sampler="greedy",
    temperature=1.0,
    k=5,
    p=0.9,
    num_beams=4,
    length_penalty=0.0,
    return_all_beams=False,
    seed=None,
):
    """A `Sampler` from a name, a zoo sampler or a `keras_hub.samplers` sampler.

    Names: `"greedy"`, `"top_k"` (uses `k`), `"top_p"` (uses `p`), `"beam"` (uses
    `num_beams`, `length_penalty`, `return_all_beams`); `temperature` and `seed`
    apply to all. A sampler object is returned as is (its own settings win); keras-hub
    `GreedySampler`, `TopKSampler`, `TopPSampler` and `BeamSampler` become the zoo
    samplers with the same settings.
    """
    if isinstance(sampler, Sampler):
        return sampler
    if isinstance(sampler, str):
        if sampler not in _SAMPLERS:
            raise ValueError(
                f"Unknown sampler {sampler!r}. Expected one of {sorted(_SAMPLERS)}, a "
                "zoo.models.generation.Sampler or a keras_hub.samplers.Sampler."
            )
        if sampler == "beam":
            return BeamSampler(
                num_beams=num_beams,
                length_penalty=length_penalty,
                return_all_beams=return_all_beams,
                temperature=temperature if temperature > 0 else 1.0,
            )
        extra = {"top_k": {"k": k}, "top_p": {"p": p}}.get(sampler, {})
        return _SAMPLERS[sampler](temperature=temperature, seed=seed, **extra)
    try:
        import keras_hub
    except ImportError:  # pragma: no cover
        keras_hub = None
    if keras_hub is not None and isinstance(sampler, keras_hub.samplers.Sampler):
        hub = keras_hub.samplers
        temperature = getattr(sampler, "temperature", 1.0)
        seed = getattr(sampler, "seed", None)
        if type(sampler) is hub.GreedySampler:
            return GreedySampler(temperature=temperature)
        if type(sampler) is hub.TopKSampler:
            return TopKSampler(k=sampler.k, temperature=temperature, seed=seed)
        if type(sampler) is hub.TopPSampler:
            return TopPSampler(p=sampler.p, k=sampler.k, temperature=temperature, seed=seed)
        if type(sampler) is hub.BeamSampler:
            return BeamSampler(
                num_beams=sampler.num_beams,
                return_all_beams=sampler.return_all_beams,
                temperature=temperature,
            )
        if keras.config.backend() != "tensorflow":
            raise ValueError(
                f"A custom keras_hub sampler ({type(sampler).__name__}) keeps its seed in a "
                "variable and runs in zoo generation on the TensorFlow backend only. Use a "
                "zoo.models.generation.Sampler subclass instead."
            )
        return _KerasHubSampler(sampler)
    raise ValueError(
        f"`sampler` must be one of {sorted(_SAMPLERS)}, a zoo.models.generation.Sampler or "
        f"a keras_hub.samplers.Sampler. Received: {sampler!r}."
    )


# ----------------------------------------------------------------------------- model adapters


def _last_logits(logits, index):
    """`logits[:, index]` for a traced `index`: `(batch, vocabulary)` float32."""
    batch, _, vocabulary = ops.shape(logits)
    return ops.cast(ops.slice(logits, [0, index, 0], [batch, 1, vocabulary])[:, 0], "float32")


def _token_at(buffer, index):
    return ops.slice(buffer, [0, index], [ops.shape(buffer)[0], 1])  # (batch, 1)


class _DecoderOnly:
    """GPT-style models: the state is the cache (or nothing, without cache)."""

    def __init__(self, model, use_cache):
        self.model = model
        self.use_cache = use_cache

    def prefill(self, buffer, prompt_length, start):
        """Logits predicting position `start` and the state after the prompt."""
        batch, length = buffer.shape
        if not self.use_cache:
            return self.step(buffer, (), start - 1)
        # One tensor per layer where the model offers it (`GPT.init_layer_caches`): each
        # block then updates its own cache in place instead of a slice of a stacked one.
        init = getattr(self.model, "init_layer_caches", None) or self.model.init_cache
        cache = init(batch, length)
        logits, _, cache = self.model.call_with_cache(buffer[:, :prompt_length], cache, 0)
        return _last_logits(logits, start - 1), cache

    def step(self, buffer, state, index):
        """Feed the token at `index`; logits `(batch, vocabulary)` for `index + 1`."""
        if not self.use_cache:
            logits = self.model(
                {"token_ids": buffer, "padding_mask": ops.ones_like(buffer)}, training=False
            )  # (batch, length, vocabulary): the whole buffer again
            return _last_logits(logits, index), state
        logits, _, cache = self.model.call_with_cache(_token_at(buffer, index), state, index)
        return ops.cast(logits[:, 0], "float32"), cache

    def repeat(self, state, times):
        return keras.tree.map_structure(lambda x: ops.repeat(x, times, axis=0), state)

    def reorder(self, state, indices):
        return keras.tree.map_structure(lambda x: ops.take(x, indices, axis=0), state)


class _EncoderDecoder(_DecoderOnly):
    """Transformer-style models: the encoder runs once; its keys/values are cached once."""

    def __init__(self, model, use_cache, encoder_token_ids, encoder_padding_mask):
        super().__init__(model, use_cache)
        self.encoder_token_ids = encoder_token_ids
        self.encoder_padding_mask = encoder_padding_mask

    def repeat_encoder(self, times):
        self.encoder_token_ids = ops.repeat(self.encoder_token_ids, times, axis=0)
        self.encoder_padding_mask = ops.repeat(self.encoder_padding_mask, times, axis=0)

    def prefill(self, buffer, prompt_length, start):
        batch, length = buffer.shape
        if not self.use_cache:
            return self.step(buffer, (), start - 1)
        encoder_output = self.model.encode(self.encoder_token_ids, self.encoder_padding_mask)
        cache = self.model.init_cache(batch, length, encoder_output)
        logits, _, cache = self.model.call_with_cache(
            buffer[:, :prompt_length], cache, 0, self.encoder_padding_mask
        )
        return _last_logits(logits, start - 1), cache

    def step(self, buffer, state, index):
        if not self.use_cache:
            logits = self.model(
                {
                    "encoder_token_ids": self.encoder_token_ids,
                    "encoder_padding_mask": self.encoder_padding_mask,
                    "decoder_token_ids": buffer,
                    "decoder_padding_mask": ops.ones_like(buffer),
                },
                training=False,
            )
            return _last_logits(logits, index), state
        logits, _, cache = self.model.call_with_cache(
            _token_at(buffer, index), state, index, self.encoder_padding_mask
        )
        return ops.cast(logits[:, 0], "float32"), cache

    def reorder(self, state, indices):
        if isinstance(state, dict) and "cross" in state:
            # Beams of one example share the encoder: only the self-attention cache moves.
            reordered = {k: v for k, v in state.items() if k != "cross"}
            reordered = super().reorder(reordered, indices)
            return {**reordered, "cross": state["cross"]}
        return super().reorder(state, indices)


# ----------------------------------------------------------------------------- decoding loops


def _sample_loop(adapter, sampler, buffer, lengths, prompt_length, max_new_tokens, end, pad, seed):
    """Greedy / random sampling. `buffer` `(batch, prompt_length + max_new_tokens)`."""
    batch, total = buffer.shape
    start = ops.maximum(ops.min(lengths), 1)
    logits, state = adapter.prefill(buffer, prompt_length, start)
    last = lengths + max_new_tokens  # (batch,) first position past each row's budget

    def cond(index, buffer, logits, state, finished):
        return ops.logical_and(index < total, ops.logical_not(ops.all(finished)))

    def body(index, buffer, logits, state, finished):
        token = ops.cast(sampler.next_token(logits, _step_seed(seed, index)), "int32")
        forced = index < lengths  # still inside this row's prompt
        token = ops.where(forced, _token_at(buffer, index)[:, 0], token)
        token = ops.where(finished, pad, token)
        buffer = ops.slice_update(buffer, [0, index], ops.expand_dims(token, 1))
        finished = ops.logical_or(finished, index + 1 >= last)
        if end is not None:
            finished = ops.logical_or(
                finished, ops.logical_and(ops.logical_not(forced), token == end)
            )
        logits, state = adapter.step(buffer, state, index)
        return index + 1, buffer, logits, state, finished

    finished = ops.zeros((batch,), dtype="bool")
    _, buffer, _, _, _ = ops.while_loop(
        cond, body, (start, buffer, logits, state, finished), maximum_iterations=total
    )
    return buffer


def _beam_loop(adapter, sampler, buffer, lengths, prompt_length, max_new_tokens, end, pad):
    """Beam search. Beams are flattened into the batch axis, example-major: row
    `b * num_beams + j` is beam `j` of example `b` (the layout the model sees)."""
    batch, total = buffer.shape
    beams = sampler.num_beams
    penalty = sampler.length_penalty
    start = ops.maximum(ops.min(lengths), 1)
    # Prefill once per example, then copy the cache to every beam.
    logits, state = adapter.prefill(buffer, prompt_length, start)
    logits = ops.repeat(logits, beams, axis=0)  # (batch * beams, vocabulary)
    state = adapter.repeat(state, beams)
    if isinstance(adapter, _EncoderDecoder):
        adapter.repeat_encoder(beams)
    vocabulary = logits.shape[-1]
    alive = ops.repeat(ops.expand_dims(buffer, 1), beams, axis=1)  # (batch, beams, total)
    alive_scores = ops.convert_to_tensor(
        np.tile(np.array([[0.0] + [_DEAD_BEAM] * (beams - 1)], "float32"), (batch, 1))
    )  # (batch, beams): only beam 0 is live before the first expansion
    finished = ops.full_like(alive, pad)
    finished_scores = ops.full((batch, beams), _MASKED, dtype="float32")
    last = lengths + max_new_tokens
    batch_offsets = ops.expand_dims(ops.arange(batch, dtype="int32") * beams, 1)  # (batch, 1)

    def normalize(scores, generated):
        if penalty == 0:
            return scores
        generated = ops.cast(ops.maximum(generated, 1), "float32")
        return scores / ops.power(generated, penalty)

    def gather(x, indices):
        """`x[b, indices[b, i]]` for `x` `(batch, n, ...)`, `indices` `(batch, m)`."""
        expanded = indices
        for _ in range(len(x.shape) - 2):
            expanded = ops.expand_dims(expanded, -1)
        expanded = ops.broadcast_to(expanded, tuple(indices.shape) + tuple(x.shape[2:]))
        return ops.take_along_axis(x, expanded, axis=1)

    def cond(index, alive, alive_scores, finished, finished_scores, logits, state, done, steps):
        return ops.logical_and(index < total, ops.logical_not(ops.all(done)))

    def body(index, alive, alive_scores, finished, finished_scores, logits, state, done, steps):
        log_probs = ops.log_softmax(sampler.scale(logits), axis=-1)
        log_probs = ops.reshape(log_probs, (batch, beams, vocabulary))
        in_prompt = index < lengths  # (batch,)
        frozen = ops.logical_or(in_prompt, done)  # copy the prompt token, or pad
        forced_token = ops.where(in_prompt, _token_at(alive[:, 0, :], index)[:, 0], pad)
        forced = ops.where(
            ops.arange(vocabulary, dtype="int32")[None, None, :] == forced_token[:, None, None],
            0.0,
            _MASKED,
        )  # (batch, 1, vocabulary)
        log_probs = ops.where(frozen[:, None, None], forced, log_probs)
        candidates = ops.reshape(alive_scores[:, :, None] + log_probs, (batch, beams * vocabulary))
        top_scores, top_indices = ops.top_k(candidates, k=2 * beams)  # (batch, 2 * beams)
        top_indices = ops.cast(top_indices, "int32")
        parents = top_indices // vocabulary
        tokens = top_indices % vocabulary
        sequences = gather(alive, parents)  # (batch, 2 * beams, total)
        sequences = ops.slice_update(sequences, [0, 0, index], ops.expand_dims(tokens, -1))
        generated = steps + 1 - ops.cast(frozen, "int32")  # (batch,) new tokens so far
        if end is None:
            is_end = ops.zeros_like(tokens, dtype="bool")
        else:
            is_end = ops.logical_and(tokens == end, ops.logical_not(frozen)[:, None])

        # Live beams: the best candidates that did not end.
        alive_scores, chosen = ops.top_k(ops.where(is_end, _MASKED, top_scores), k=beams)
        chosen = ops.cast(chosen, "int32")
        alive = gather(sequences, chosen)
        parents = ops.take_along_axis(parents, chosen, axis=1)  # (batch, beams)
        state = adapter.reorder(state, ops.reshape(batch_offsets + parents, (-1,)))

        # Finished pool: the best `beams` hypotheses that ended, length-normalized.
        ended = ops.where(is_end, normalize(top_scores, generated[:, None]), _MASKED)
        pool_scores = ops.concatenate([finished_scores, ended], axis=1)
        finished_scores, kept = ops.top_k(pool_scores, k=beams)
        finished = gather(ops.concatenate([finished, sequences], axis=1), ops.cast(kept, "int32"))

        logits, state = adapter.step(ops.reshape(alive, (batch * beams, total)), state, index)
        logits = ops.cast(logits, "float32")

        # A row is done at its budget, or when no live beam can beat a full pool.
        done = ops.logical_or(done, index + 1 >= last)
        if end is not None:
            best_alive = ops.max(alive_scores, axis=1)
            reachable = max_new_tokens if penalty > 0 else generated
            bound = normalize(best_alive, reachable)
            full = ops.all(finished_scores > _MASKED / 2, axis=1)
            done = ops.logical_or(
                done, ops.logical_and(full, bound <= ops.min(finished_scores, axis=1))
            )
        return (
            index + 1,
            alive,
            alive_scores,
            finished,
            finished_scores,
            logits,
            state,
            done,
            generated,
        )

    loop_vars = (
        start,
        alive,
        alive_scores,
        finished,
        finished_scores,
        logits,
        state,
        ops.zeros((batch,), dtype="bool"),
        ops.zeros((batch,), dtype="int32"),
    )
    _, alive, alive_scores, finished, finished_scores, _, _, _, steps = ops.while_loop(
        cond, body, loop_vars, maximum_iterations=total
    )
    # Live beams compete with the finished ones at the end.
    scores = ops.concatenate([finished_scores, normalize(alive_scores, steps[:, None])], axis=1)
    scores, order = ops.top_k(scores, k=beams)
    sequences = gather(ops.concatenate([finished, alive], axis=1), ops.cast(order, "int32"))
    return sequences, scores  # (batch, beams, total), (batch, beams), best first


# ----------------------------------------------------------------------------- compiled functions


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


def _seed_tensor(seed, sampler):
    seed = sampler.seed if seed is None else seed
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    if not is_int(seed):
        raise ValueError(f"`seed` must be an int or None. Received: seed={seed!r}.")
    return ops.convert_to_tensor(np.array([int(seed) % (2**31 - 1), 0], dtype="int32"))


class _BaseGenerator:
    def __init__(
        self,
        model,
        sampler="greedy",
        end_token_id=None,
        pad_token_id=0,
        use_cache=True,
        jit_compile=True,
        run_eagerly=False,
        **sampler_kwargs,
    ):
        self.model = model
        self.sampler = get_sampler(sampler, **sampler_kwargs)
        self.end_token_id = _check_token_id(end_token_id, "end_token_id", optional=True)
        self.pad_token_id = _check_token_id(pad_token_id, "pad_token_id")
        self.use_cache = bool(use_cache)
        self.jit_compile = bool(jit_compile)
        self.run_eagerly = bool(run_eagerly)
        self.num_traces = 0  # how many times the Python function was traced (compiled)
        if self.run_eagerly:
            self._function = self._generate
        else:
            self._function = _compile(self._generate, model, self.jit_compile)

    @property
    def _beam(self):
        return isinstance(self.sampler, BeamSampler)

    def _decode(self, adapter, buffer, lengths, prompt_length, max_new_tokens, seed):
        if self._beam:
            sequences, scores = _beam_loop(
                adapter,
                self.sampler,
                buffer,
                lengths,
                prompt_length,
                max_new_tokens,
                self.end_token_id,
                self.pad_token_id,
            )
            if self.sampler.return_all_beams:
                return sequences, scores
            return sequences[:, 0], scores[:, 0]
        return _sample_loop(
            adapter,
            self.sampler,
            buffer,
            lengths,
            prompt_length,
            max_new_tokens,
            self.end_token_id,
            self.pad_token_id,
            seed,
        )

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
        model: a model with `init_cache` / `call_with_cache` (see the module doc).
        sampler: `"greedy"`, `"top_k"`, `"top_p"`, `"beam"` or a sampler object.
        max_new_tokens: new tokens per example (>= 1).
        end_token_id: stop a row when it emits this id; later positions are pad.
        pad_token_id: fills the buffer past the end of each row.
        use_cache: `False` re-runs the whole model on the (fixed-size) buffer every step:
            the slow reference path.
        jit_compile: compile with XLA.
        run_eagerly: no compilation at all: the loop runs op by op (debugging, and
            quick tests that would otherwise spend their time compiling).
        **sampler_kwargs: `temperature`, `k`, `p`, `num_beams`, `length_penalty`,
            `return_all_beams`, `seed` for a sampler given by name.

    Call arguments:
        prompt_token_ids: int `(batch, prompt_length)`, right-padded.
        prompt_padding_mask: `(batch, prompt_length)`, truthy for real tokens (all real
            when omitted); each row needs at least one real token.
        seed: int; the same seed gives the same samples.

    Returns:
        numpy int32 `(batch, prompt_length + max_new_tokens)`: each row's prompt, its
        new tokens, then `pad_token_id`. With `BeamSampler(return_all_beams=True)`:
        `(sequences (batch, num_beams, length), scores (batch, num_beams))`.

    Example:

    >>> # generator = Generator(gpt, sampler="top_k", k=10, max_new_tokens=64)
    >>> # tokens = generator(prompt_ids, prompt_padding_mask, seed=0)
    """

    def __init__(self, model, sampler="greedy", max_new_tokens=32, **kwargs):
        self.max_new_tokens = check_int(max_new_tokens, "max_new_tokens", type(self).__name__)
        super().__init__(model, sampler, **kwargs)

    def _generate(self, token_ids, padding_mask, seed):
        self.num_traces += 1
        prompt_length = token_ids.shape[1]
        lengths = ops.sum(ops.cast(padding_mask, "int32"), axis=1)
        buffer = ops.where(padding_mask, token_ids, self.pad_token_id)
        buffer = ops.pad(
            buffer, [[0, 0], [0, self.max_new_tokens]], constant_values=self.pad_token_id
        )
        adapter = _DecoderOnly(self.model, self.use_cache)
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
            _seed_tensor(seed, self.sampler),
        )
        return self._outputs(outputs)


class Seq2SeqGenerator(_BaseGenerator):
    """Compiled, cached generation for an encoder-decoder model (`zoo.models.Transformer`).

    The encoder runs once; the decoder's cross-attention keys/values are computed once
    (`init_cache`); the decoder starts from `bos_token_id` and writes up to
    `max_length - 1` tokens.

    Args:
        model: a model with `encode` / `init_cache` / `call_with_cache`.
        sampler: as in `Generator`.
        max_length: decoder output length including the BOS token (>= 2).
        bos_token_id: the first decoder token.
        end_token_id, pad_token_id, use_cache, jit_compile, run_eagerly,
            **sampler_kwargs: as in
            `Generator`.

    Call arguments:
        encoder_token_ids: int `(batch, source_length)`.
        encoder_padding_mask: `(batch, source_length)`, truthy for real tokens.
        seed: int.

    Returns:
        numpy int32 `(batch, max_length)` starting with `bos_token_id` (or beams and
        scores, as in `Generator`).
    """

    def __init__(self, model, sampler="greedy", max_length=32, bos_token_id=1, **kwargs):
        self.max_length = check_int(
            max_length,
            "max_length",
            type(self).__name__,
            minimum=2,
            hint="It counts the BOS token plus at least one new token.",
        )
        self.bos_token_id = _check_token_id(bos_token_id, "bos_token_id")
        super().__init__(model, sampler, **kwargs)

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
        adapter = _EncoderDecoder(
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
            _seed_tensor(seed, self.sampler),
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


def _cached_generator(cls, model, sampler, kwargs):
    sampler = get_sampler(sampler, **kwargs.pop("sampler_kwargs"))
    key = (cls.__name__, sampler.cache_key(), tuple(sorted(kwargs.items())))
    per_model = _generators_of(model)
    if key not in per_model:
        per_model[key] = cls(model, sampler=sampler, **kwargs)
    generator = per_model[key]
    return generator, sampler


def generate(
    model,
    prompt_token_ids,
    max_new_tokens=32,
    sampler="greedy",
    temperature=1.0,
    k=5,
    p=0.9,
    num_beams=4,
    length_penalty=0.0,
    return_all_beams=False,
    end_token_id=None,
    pad_token_id=0,
    seed=None,
    prompt_padding_mask=None,
    use_cache=True,
    jit_compile=True,
    run_eagerly=False,
):
    """Continue prompts with a decoder-only model (`zoo.models.GPT`).

    Builds (once, then reuses) a `Generator` for this model and configuration; see
    `Generator` for the arguments and the returned array.

    Example:

    >>> # tokens = generate(gpt, [[2, 15, 16]], max_new_tokens=8, sampler="top_k", k=5, seed=0)
    """
    max_new_tokens = check_int(max_new_tokens, "max_new_tokens", "generate()")
    generator, sampler = _cached_generator(
        Generator,
        model,
        sampler,
        {
            "sampler_kwargs": {
                "temperature": temperature,
                "k": k,
                "p": p,
                "num_beams": num_beams,
                "length_penalty": length_penalty,
                "return_all_beams": return_all_beams,
            },
            "max_new_tokens": max_new_tokens,
            "end_token_id": end_token_id,
            "pad_token_id": pad_token_id,
            "use_cache": use_cache,
            "jit_compile": jit_compile,
            "run_eagerly": run_eagerly,
        },
    )
    seed = sampler.seed if seed is None else seed
    return generator(prompt_token_ids, prompt_padding_mask, seed=seed)


def translate(
    model,
    encoder_token_ids,
    encoder_padding_mask=None,
    bos_token_id=1,
    end_token_id=None,
    max_length=32,
    sampler="greedy",
    temperature=1.0,
    k=5,
    p=0.9,
    num_beams=4,
    length_penalty=0.0,
    return_all_beams=False,
    pad_token_id=0,
    seed=None,
    use_cache=True,
    jit_compile=True,
    run_eagerly=False,
):
    """Generate target sequences with an encoder-decoder model (`zoo.models.Transformer`).

    Builds (once, then reuses) a `Seq2SeqGenerator`; see it for the arguments.

    Example:

    >>> # target_ids = translate(transformer, source_ids, source_mask, bos_token_id=1,
    >>> #                        end_token_id=2, max_length=40, sampler="beam", num_beams=4)
    """
    max_length = check_int(
        max_length,
        "max_length",
        "translate()",
        minimum=2,
        hint="It counts the BOS token plus at least one new token.",
    )
    generator, sampler = _cached_generator(
        Seq2SeqGenerator,
        model,
        sampler,
        {
            "sampler_kwargs": {
                "temperature": temperature,
                "k": k,
                "p": p,
                "num_beams": num_beams,
                "length_penalty": length_penalty,
                "return_all_beams": return_all_beams,
            },
            "max_length": max_length,
            "bos_token_id": bos_token_id,
            "end_token_id": end_token_id,
            "pad_token_id": pad_token_id,
            "use_cache": use_cache,
            "jit_compile": jit_compile,
            "run_eagerly": run_eagerly,
        },
    )
    seed = sampler.seed if seed is None else seed
    return generator(encoder_token_ids, encoder_padding_mask, seed=seed)


generate_seq2seq = translate
