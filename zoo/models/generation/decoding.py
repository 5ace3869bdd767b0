"""Decoding loops and the model adapters they drive.

Both loops run inside one `keras.ops.while_loop` on a fixed-size buffer
`(batch, prompt_length + max_new_tokens)` (see `zoo.models.generation`), so they compile
once with XLA:

- `sample_loop`: one token per row and step from a `Sampler` (greedy, top-k, top-p, ...);
- `beam_loop`: beam search for a `BeamSampler`, the beams flattened into the batch axis.

An adapter hides the model family from the loops: `prefill(buffer, prompt_length,
start)` runs the prompt once and returns the logits for position `start` and the loop
state (the key/value cache); `step(buffer, state, index)` feeds the token at `index` and
returns the logits for `index + 1`; `repeat` / `reorder` copy and gather the state for
beam search. `DecoderOnlyAdapter` speaks to `zoo.models.GPT`, `EncoderDecoderAdapter` to
`zoo.models.Transformer`; `use_cache=False` makes either re-run the whole model on the
buffer every step (the slow reference path).

Example:

>>> # adapter = DecoderOnlyAdapter(gpt, use_cache=True)
>>> # tokens = sample_loop(adapter, GreedySampler(), buffer, lengths, prompt_length=4,
>>> #                      max_new_tokens=8, end_token_id=None, pad_token_id=0, seed=seed)
"""

import keras
import numpy as np
from keras import ops

from zoo.models.generation.samplers import MASKED_SCORE, step_seed

__all__ = ["DecoderOnlyAdapter", "EncoderDecoderAdapter", "beam_loop", "sample_loop"]

# Score of the placeholder beams before the first expansion: out of the race, but above
# masked candidates, so they keep their own (forced) tokens.
_DEAD_BEAM = -1e9


def _last_logits(logits, index):
    """`logits[:, index]` for a traced `index`: `(batch, vocabulary)` float32."""
    batch, _, vocabulary = ops.shape(logits)
    return ops.cast(ops.slice(logits, [0, index, 0], [batch, 1, vocabulary])[:, 0], "float32")


def _token_at(buffer, index):
    return ops.slice(buffer, [0, index], [ops.shape(buffer)[0], 1])  # (batch, 1)


# ----------------------------------------------------------------------------- model adapters


class DecoderOnlyAdapter:
    """GPT-style models: the state is the cache (or nothing, without cache).

    Args:
        model: a model with `init_cache` / `call_with_cache` (and optionally
            `init_layer_caches`), see `zoo.models.generation`.
        use_cache: `False` re-runs the model on the whole buffer every step.
    """

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
        # The state holds the first `start` tokens only: the loop feeds the tokens from
        # `start` on again (a key/value cache rewrites those positions, but a recurrent
        # state, a Performer's, would count them twice).
        before_start = ops.arange(length, dtype="int32")[None, :] < start  # (1, length)
        padding_mask = ops.cast(ops.broadcast_to(before_start, (batch, length)), "int32")
        logits, _, cache = self.model.call_with_cache(
            buffer[:, :prompt_length], cache, 0, padding_mask=padding_mask
        )
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


class EncoderDecoderAdapter(DecoderOnlyAdapter):
    """Transformer-style models: the encoder runs once; its keys/values are cached once.

    Args:
        model: a model with `encode` / `init_cache` / `call_with_cache`.
        use_cache: as in `DecoderOnlyAdapter`.
        encoder_token_ids: int `(batch, source_length)`.
        encoder_padding_mask: `(batch, source_length)`, truthy for real tokens.
    """

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


def sample_loop(
    adapter,
    sampler,
    buffer,
    lengths,
    *,
    prompt_length,
    max_new_tokens,
    end_token_id,
    pad_token_id,
    seed,
):
    """Greedy / random sampling, one token per row and step.

    Args:
        adapter: a `DecoderOnlyAdapter` or `EncoderDecoderAdapter`.
        sampler: a `Sampler` (its `next_token` picks each token).
        buffer: int32 `(batch, prompt_length + max_new_tokens)`: each row's prompt,
            right-padded with `pad_token_id`.
        lengths: int32 `(batch,)`, real prompt tokens per row.
        prompt_length, max_new_tokens: static ints.
        end_token_id: a row stops when it emits it (None: never).
        pad_token_id: written after a row stops.
        seed: int32 `(2,)` tensor.

    Returns:
        The filled buffer, int32 `(batch, prompt_length + max_new_tokens)`.
    """
    end, pad = end_token_id, pad_token_id
    batch, total = buffer.shape
    start = ops.maximum(ops.min(lengths), 1)
    logits, state = adapter.prefill(buffer, prompt_length, start)
    last = lengths + max_new_tokens  # (batch,) first position past each row's budget

    def cond(index, buffer, logits, state, finished):
        return ops.logical_and(index < total, ops.logical_not(ops.all(finished)))

    def body(index, buffer, logits, state, finished):
        token = ops.cast(sampler.next_token(logits, step_seed(seed, index)), "int32")
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


def beam_loop(
    adapter,
    sampler,
    buffer,
    lengths,
    *,
    prompt_length,
    max_new_tokens,
    end_token_id,
    pad_token_id,
):
    """Beam search. Beams are flattened into the batch axis, example-major: row
    `b * num_beams + j` is beam `j` of example `b` (the layout the model sees).

    Args:
        sampler: a `BeamSampler` (`num_beams`, `length_penalty`, `temperature`).
        adapter, buffer, lengths, prompt_length, max_new_tokens, end_token_id,
            pad_token_id: as in `sample_loop`.

    Returns:
        `(sequences, scores)`: int32 `(batch, num_beams, total)` and float32
        `(batch, num_beams)`, best first.
    """
    end, pad = end_token_id, pad_token_id
    batch, total = buffer.shape
    beams = sampler.num_beams
    penalty = sampler.length_penalty
    start = ops.maximum(ops.min(lengths), 1)
    # Prefill once per example, then copy the cache to every beam.
    logits, state = adapter.prefill(buffer, prompt_length, start)
    logits = ops.repeat(logits, beams, axis=0)  # (batch * beams, vocabulary)
    state = adapter.repeat(state, beams)
    if isinstance(adapter, EncoderDecoderAdapter):
        adapter.repeat_encoder(beams)
    vocabulary = logits.shape[-1]
    alive = ops.repeat(ops.expand_dims(buffer, 1), beams, axis=1)  # (batch, beams, total)
    alive_scores = ops.convert_to_tensor(
        np.tile(np.array([[0.0] + [_DEAD_BEAM] * (beams - 1)], "float32"), (batch, 1))
    )  # (batch, beams): only beam 0 is live before the first expansion
    finished = ops.full_like(alive, pad)
    finished_scores = ops.full((batch, beams), MASKED_SCORE, dtype="float32")
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
            MASKED_SCORE,
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
        alive_scores, chosen = ops.top_k(ops.where(is_end, MASKED_SCORE, top_scores), k=beams)
        chosen = ops.cast(chosen, "int32")
        alive = gather(sequences, chosen)
        parents = ops.take_along_axis(parents, chosen, axis=1)  # (batch, beams)
        state = adapter.reorder(state, ops.reshape(batch_offsets + parents, (-1,)))

        # Finished pool: the best `beams` hypotheses that ended, length-normalized.
        ended = ops.where(is_end, normalize(top_scores, generated[:, None]), MASKED_SCORE)
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
            full = ops.all(finished_scores > MASKED_SCORE / 2, axis=1)
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
