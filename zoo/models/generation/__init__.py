"""Text generation for `GPT` (decoder-only) and `Transformer` (encoder-decoder).

The package has four parts:

- `samplers`: how to pick the next token: greedy, top-k, top-p (nucleus), temperature,
  beam search. Serializable objects, like `keras_hub.samplers`;
- `config`: `GenerationConfig`, a frozen dataclass with every setting of a call (the
  sampler, lengths, special tokens, seed, compilation);
- `decoding`: the sampling and beam-search loops and the model adapters they drive;
- `generators`: `Generator` / `Seq2SeqGenerator` (compiled once, called many times) and
  the functional entry points `generate` / `translate`.

Decoding runs with a key/value cache inside one XLA-compiled `keras.ops.while_loop`:

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
  `call_with_cache(token_ids, cache, cache_update_index, padding_mask=None)` ->
  `(logits, hidden, cache)`, and `model({"token_ids", "padding_mask"})` -> logits (for
  `use_cache=False`); the prompt's call gets `padding_mask` `(batch, max_length)`, truthy
  before the first position the loop feeds again, and the cache must then hold those
  positions only (a key/value cache is rewritten anyway; a recurrent state, GPT's with
  Performer attention, or a ring, Longformer's, must skip the rest);
  optionally `init_layer_caches(batch_size, max_length)`, a cache (any structure of
  tensors) that `call_with_cache` also takes; the loop then carries it instead of
  `init_cache`'s (GPT: one tensor per block, updated in place);
- encoder-decoder: `encode(encoder_token_ids, encoder_padding_mask)`,
  `init_cache(batch_size, max_length, encoder_output)` -> `{"self", "cross"}`,
  `call_with_cache(decoder_token_ids, cache, cache_update_index,
  encoder_padding_mask)`, and `model({"encoder_token_ids", "encoder_padding_mask",
  "decoder_token_ids", "decoder_padding_mask"})` -> logits.

Example:

>>> from zoo.models.generation import GenerationConfig, generate
>>> config = GenerationConfig(sampler="top_p", p=0.9, max_new_tokens=32, seed=1)
>>> # tokens = generate(gpt, prompt_ids, config=config)
>>> # tokens = generate(gpt, prompt_ids, max_new_tokens=32, sampler="top_p", p=0.9, seed=1)
"""

from zoo.models.generation.config import GenerationConfig
from zoo.models.generation.generators import (
    Generator,
    Seq2SeqGenerator,
    _generators_of,  # noqa: F401  (the per-model generator cache, read by tests)
    generate,
    generate_seq2seq,
    translate,
)
from zoo.models.generation.samplers import (
    BeamSampler,
    GreedySampler,
    KerasHubSampler,
    Sampler,
    TopKSampler,
    TopPSampler,
    get_sampler,
)

__all__ = [
    "BeamSampler",
    "GenerationConfig",
    "Generator",
    "GreedySampler",
    "KerasHubSampler",
    "Sampler",
    "Seq2SeqGenerator",
    "TopKSampler",
    "TopPSampler",
    "generate",
    "generate_seq2seq",
    "get_sampler",
    "translate",
]
