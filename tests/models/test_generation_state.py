"""Generation with constant-size caches: a Performer GPT's recurrent state and a
Longformer GPT's ring of the last `attention_window` keys/values, against full recompute."""

import numpy as np
import pytest

from tests.models.test_generation import (
    MAX_LENGTH,
    VOCABULARY,
    _eager_greedy_gpt,
    sharpened_gpt,
)
from tests.test_case import assert_all_close, tiny_model, to_numpy
from zoo.models.generation import generate
from zoo.models.gpt import GPT

OPTIONS = {"num_features": 32, "chunk_size": 4, "seed": 0}
# A window shorter than prompt + new tokens, so the ring wraps around several times.
LONGFORMER_OPTIONS = {"attention_window": 3, "num_global_tokens": 1}
# Right-padded prompts of lengths 4, 2 and 3 (BOS = 1), as in test_generation.py.
PROMPTS = np.array([[1, 5, 6, 7], [1, 9, 0, 0], [1, 11, 12, 0]], "int32")
PROMPT_MASK = PROMPTS > 0
NEW_TOKENS = 8


def _gpt(attention, options):
    return sharpened_gpt(3, attention=attention, attention_options=options)


@pytest.fixture(scope="module")
def performer_gpt():
    return _gpt("performer", OPTIONS)


@pytest.fixture(scope="module", params=["performer", "longformer"])
def constant_cache_gpt(request, performer_gpt):
    if request.param == "performer":
        return performer_gpt
    return _gpt("longformer", LONGFORMER_OPTIONS)


def test_the_cache_is_a_state_of_fixed_size(performer_gpt):
    head_dim = performer_gpt.hidden_dim // performer_gpt.num_heads
    state_shape = (2, performer_gpt.num_heads, OPTIONS["num_features"], head_dim + 1)
    for max_length in (8, MAX_LENGTH):
        caches = performer_gpt.init_layer_caches(2, max_length)
        assert [tuple(c.shape) for c in caches] == [state_shape] * 2
        stacked = performer_gpt.init_cache(2, max_length)
        assert tuple(stacked.shape) == (2, 2, *state_shape[1:])


def test_the_longformer_cache_is_a_ring_of_the_window():
    model = _gpt("longformer", LONGFORMER_OPTIONS)
    head_dim = model.hidden_dim // model.num_heads
    # 1 global slot + 3 ring slots, keys and values, whatever max_length.
    ring = (2, 2, 1 + 3, model.num_heads, head_dim)
    assert [tuple(c.shape) for c in model.init_layer_caches(2, MAX_LENGTH)] == [ring] * 2
    assert tuple(model.init_cache(2, 2 * MAX_LENGTH).shape) == (2, 2, *ring[1:])


@pytest.mark.parametrize("per_layer", [True, False])
def test_state_decoding_equals_the_full_pass(constant_cache_gpt, per_layer):
    performer_gpt = constant_cache_gpt
    token_ids = np.random.default_rng(2).integers(1, VOCABULARY, (2, MAX_LENGTH)).astype("int32")
    expected = performer_gpt({"token_ids": token_ids, "padding_mask": np.ones_like(token_ids)})
    init = performer_gpt.init_layer_caches if per_layer else performer_gpt.init_cache
    cache = init(2, MAX_LENGTH)
    logits, _, cache = performer_gpt.call_with_cache(token_ids[:, :5], cache, 0)
    steps = [to_numpy(logits)]
    index = 5
    for size in (1, 4, 1, 7, 1, 1, 2, 1, 1):  # pieces of several sizes, up to MAX_LENGTH
        logits, _, cache = performer_gpt.call_with_cache(
            token_ids[:, index : index + size], cache, index
        )
        steps.append(to_numpy(logits))
        index += size
    assert_all_close(np.concatenate(steps, axis=1), expected, atol=1e-5, rtol=1e-5)


def test_greedy_with_the_state_equals_full_recompute(constant_cache_gpt):
    performer_gpt = constant_cache_gpt
    options = {"prompt_padding_mask": PROMPT_MASK, "jit_compile": False}
    with_state = generate(performer_gpt, PROMPTS, NEW_TOKENS, **options)
    recomputed = generate(performer_gpt, PROMPTS, NEW_TOKENS, use_cache=False, **options)
    np.testing.assert_array_equal(with_state, recomputed)
    expected = _eager_greedy_gpt(performer_gpt, PROMPTS[1, :2], NEW_TOKENS)  # the short prompt
    np.testing.assert_array_equal(with_state[1, : 2 + NEW_TOKENS], expected)
    # Not a degenerate model: rows continue with several distinct tokens.
    assert len(np.unique(with_state[:, PROMPTS.shape[1] :])) > 3


def test_beam_search_reorders_the_state(constant_cache_gpt):
    performer_gpt = constant_cache_gpt
    options = {
        "prompt_padding_mask": PROMPT_MASK,
        "sampler": "beam",
        "num_beams": 3,
        "return_all_beams": True,
        "run_eagerly": True,
    }
    with_state, scores = generate(performer_gpt, PROMPTS, NEW_TOKENS, **options)
    recomputed, expected_scores = generate(
        performer_gpt, PROMPTS, NEW_TOKENS, use_cache=False, **options
    )
    np.testing.assert_array_equal(with_state, recomputed)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-5)
    assert len({tuple(beam) for beam in with_state[0]}) == 3


@pytest.mark.slow  # trains a tokenizer and compiles two decoding loops (~25 s on 2 cores)
def test_gpt_module_generates_with_the_state():
    """The export module's decoding (`GPTModule`, in process) runs on the state and gives
    what `generate` gives. (A SavedModel of an efficient-attention GPT cannot be written
    today: Keras traces the model's default signature with a dynamic sequence length,
    which the efficient layers refuse.)"""
    import tensorflow as tf

    from zoo.export import GPTModule
    from zoo.text import SentencePieceTokenizer

    texts = [f"line {i} of a small corpus about words and numbers {i * 7}" for i in range(60)]
    tokenizer = SentencePieceTokenizer.train(texts, 300, verbose=False)
    model = tiny_model(
        GPT,
        tokenizer.vocabulary_size(),
        seed=0,
        dropout=0.0,
        max_sequence_length=MAX_LENGTH,
        attention="performer",
        attention_options=OPTIONS,
    )
    module = GPTModule(model, tokenizer, prompt_length=12, max_new_tokens=8, serving_batch_size=2)
    prompts = ["line 3 of", "numbers"]
    served = module.generate(tf.constant(prompts), tf.constant(8))["completion"].numpy().tolist()
    for prompt, completion in zip(prompts, served):
        ids = [tokenizer.eos_token_id, *tokenizer.tokenize(prompt).numpy().tolist()]
        assert len(ids) <= 12  # the whole prompt fits the module's window
        tokens = generate(
            model, np.array([ids]), 8, end_token_id=tokenizer.eos_token_id, use_cache=False
        )[0]
        new = np.array(tokens[len(ids) :], "int32")
        assert completion == tokenizer.detokenize(new).numpy()
    assert all(served)  # something was generated
