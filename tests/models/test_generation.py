import dataclasses
import json

import keras
import keras_hub
import numpy as np
import pytest
from keras import ops

from tests.test_case import tiny_model
from zoo.models import generation
from zoo.models.generation import (
    BeamSampler,
    GenerationConfig,
    Generator,
    GreedySampler,
    Seq2SeqGenerator,
    TopKSampler,
    TopPSampler,
    generate,
    translate,
)
from zoo.models.gpt import GPT
from zoo.models.transformer import Transformer

VOCABULARY = 40
MAX_LENGTH = 24
# An XLA compile of a cached decoding loop costs ~5-10 s on a loaded 2-core CPU, so the
# real models compile for the cache-vs-no-cache checks and the compile-once check only;
# sampler logic runs op by op (the same code without compilation), and beam search
# compiles once on the tiny bigram model. The seed and retrace checks use tf.function
# without XLA (same tracing, cheaper compile).
EAGER = {"run_eagerly": True}
GRAPH = {"jit_compile": False}


def _sharpen(embeddings, seed):
    """Random models give near-uniform logits; wide embeddings make argmax ties unlikely."""
    rng = np.random.default_rng(seed)
    embeddings.assign(rng.normal(0.0, 1.0, embeddings.shape).astype("float32"))


def sharpened_gpt(sharpen_seed=0, **kwargs):
    """The generation tests' GPT: 2 layers, no dropout, `_sharpen`ed token embeddings;
    `kwargs` (e.g. `attention=`) go to `GPT`."""
    model = tiny_model(
        GPT, VOCABULARY, seed=0, num_layers=2, dropout=0.0, max_sequence_length=MAX_LENGTH, **kwargs
    )
    _sharpen(model.embeddings.embeddings, sharpen_seed)
    return model


@pytest.fixture(scope="module")
def gpt():
    return sharpened_gpt()


@pytest.fixture(scope="module")
def transformer():
    model = tiny_model(Transformer, VOCABULARY, seed=1, dropout=0.0, max_sequence_length=MAX_LENGTH)
    _sharpen(model.decoder_embedding.embeddings, 1)
    return model


# Right-padded prompts of lengths 4, 2 and 3 (BOS = 1).
PROMPTS = np.array([[1, 5, 6, 7], [1, 9, 0, 0], [1, 11, 12, 0]], "int32")
PROMPT_MASK = PROMPTS > 0
LENGTHS = PROMPT_MASK.sum(axis=1)
NEW_TOKENS = 8

SOURCE = np.array([[3, 4, 5, 6, 2], [7, 8, 2, 0, 0]], "int32")
SOURCE_MASK = SOURCE > 0


def _eager_greedy_gpt(model, prompt, new_tokens):
    """The textbook loop: re-run the model on the growing (unpadded) sequence."""
    tokens = list(prompt)
    for _ in range(new_tokens):
        ids = np.array([tokens], "int32")
        logits = model({"token_ids": ids, "padding_mask": np.ones_like(ids)})
        tokens.append(int(np.argmax(ops.convert_to_numpy(logits)[0, -1])))
    return tokens


@pytest.fixture(scope="module")
def gpt_greedy(gpt):
    return generate(gpt, PROMPTS, max_new_tokens=NEW_TOKENS, prompt_padding_mask=PROMPT_MASK)


def test_gpt_cached_equals_uncached_and_textbook_loop(gpt, gpt_greedy):
    uncached = generate(gpt, PROMPTS, NEW_TOKENS, prompt_padding_mask=PROMPT_MASK, use_cache=False)
    np.testing.assert_array_equal(gpt_greedy, uncached)
    assert gpt_greedy.shape == (3, PROMPTS.shape[1] + NEW_TOKENS)
    for row, length in enumerate(LENGTHS):
        expected = _eager_greedy_gpt(gpt, PROMPTS[row, :length], NEW_TOKENS)
        np.testing.assert_array_equal(gpt_greedy[row, : length + NEW_TOKENS], expected)
        # At most max_new_tokens per row: the rest of the buffer is pad.
        assert np.all(gpt_greedy[row, length + NEW_TOKENS :] == 0)


def test_transformer_cached_equals_uncached_and_textbook_loop(transformer):
    cached = translate(transformer, SOURCE, SOURCE_MASK, bos_token_id=1, max_length=10)
    uncached = translate(
        transformer, SOURCE, SOURCE_MASK, bos_token_id=1, max_length=10, use_cache=False, **EAGER
    )
    np.testing.assert_array_equal(cached, uncached)
    assert cached.shape == (2, 10) and np.all(cached[:, 0] == 1)
    for row in range(2):
        tokens = [1]
        while len(tokens) < 10:
            ids = np.array([tokens], "int32")
            logits = transformer(
                {
                    "encoder_token_ids": SOURCE[row : row + 1],
                    "encoder_padding_mask": SOURCE_MASK[row : row + 1].astype("int32"),
                    "decoder_token_ids": ids,
                    "decoder_padding_mask": np.ones_like(ids),
                }
            )
            tokens.append(int(np.argmax(ops.convert_to_numpy(logits)[0, -1])))
        np.testing.assert_array_equal(cached[row], tokens)


def test_beam_search_cached_equals_uncached_and_one_beam_is_greedy(gpt, gpt_greedy):
    one_beam = generate(
        gpt, PROMPTS, NEW_TOKENS, sampler="beam", num_beams=1, prompt_padding_mask=PROMPT_MASK,
        **EAGER,
    )  # fmt: skip
    np.testing.assert_array_equal(one_beam, gpt_greedy)
    kwargs = {"sampler": "beam", "num_beams": 3, "return_all_beams": True, **EAGER}
    cached, cached_scores = generate(
        gpt, PROMPTS, NEW_TOKENS, prompt_padding_mask=PROMPT_MASK, **kwargs
    )
    uncached, uncached_scores = generate(
        gpt, PROMPTS, NEW_TOKENS, prompt_padding_mask=PROMPT_MASK, use_cache=False, **kwargs
    )
    np.testing.assert_array_equal(cached, uncached)
    np.testing.assert_allclose(cached_scores, uncached_scores, rtol=1e-5)
    assert cached.shape == (3, 3, PROMPTS.shape[1] + NEW_TOKENS)
    assert np.all(np.diff(cached_scores, axis=1) <= 0)  # best first
    # The beams keep each row's prompt.
    for row, length in enumerate(LENGTHS):
        assert np.all(cached[row, :, :length] == PROMPTS[row, :length])


def test_transformer_beam_search(transformer):
    greedy = translate(transformer, SOURCE, SOURCE_MASK, bos_token_id=1, max_length=10)
    one_beam = translate(
        transformer, SOURCE, SOURCE_MASK, 1, max_length=10, sampler="beam", num_beams=1, **EAGER
    )
    np.testing.assert_array_equal(one_beam, greedy)
    beams = translate(transformer, SOURCE, SOURCE_MASK, 1, max_length=10, sampler="beam",
                      num_beams=3, use_cache=False, **EAGER)  # fmt: skip
    cached = translate(transformer, SOURCE, SOURCE_MASK, 1, max_length=10, sampler="beam",
                       num_beams=3, **EAGER)  # fmt: skip
    np.testing.assert_array_equal(cached, beams)


class BigramModel(keras.Model):
    """A model whose next-token distribution depends on the last token only (a table);
    it speaks the GPT cache protocol, so beam search can be checked on known scores."""

    max_sequence_length = 16

    def __init__(self, log_probs, **kwargs):
        super().__init__(**kwargs)
        self.table = self.add_weight(
            shape=log_probs.shape, initializer="zeros", trainable=False, name="table"
        )
        self.table.assign(log_probs)

    def call(self, inputs):
        return ops.take(self.table, inputs["token_ids"], axis=0)

    def init_cache(self, batch_size, max_length):
        return ops.zeros((batch_size, 1, 2, max_length, 1, 1))

    def call_with_cache(self, token_ids, cache, cache_update_index, padding_mask=None):
        logits = ops.take(self.table, token_ids, axis=0)
        return logits, logits, cache


END = 5


@pytest.fixture(scope="module")
def bigram():
    probabilities = np.full((6, 6), 0.01)
    probabilities[1] = [0.01, 0.01, 0.5, 0.4, 0.04, 0.04]  # BOS: 2 is likelier than 3
    probabilities[2] = [0.18, 0.2, 0.21, 0.19, 0.17, 0.05]  # ... but 2 leads nowhere
    probabilities[3] = [0.01, 0.01, 0.01, 0.01, 0.95, 0.01]  # 3 -> 4 -> END is sure
    probabilities[4] = [0.002, 0.002, 0.002, 0.002, 0.002, 0.99]
    log_probs = np.log(probabilities / probabilities.sum(axis=1, keepdims=True))
    return BigramModel(log_probs.astype("float32")), log_probs


def _score(log_probs, sequence, start):
    total = 0.0
    for position in range(start, len(sequence)):
        total += log_probs[sequence[position - 1], sequence[position]]
        if sequence[position] == END:
            break
    return total


def test_beam_search_beats_greedy_on_a_constructed_case(bigram):
    model, log_probs = bigram
    prompt = np.array([[1], [1]], "int32")
    greedy = generate(model, prompt, 3, end_token_id=END, **EAGER)
    beams, scores = generate(  # compiled with XLA
        model, prompt, 3, sampler="beam", num_beams=2, end_token_id=END, return_all_beams=True
    )
    np.testing.assert_array_equal(greedy[0], [1, 2, 2, 2])
    np.testing.assert_array_equal(beams[0, 0], [1, 3, 4, END])
    assert _score(log_probs, beams[0, 0], 1) > _score(log_probs, greedy[0], 1)
    np.testing.assert_allclose(scores[0, 0], _score(log_probs, beams[0, 0], 1), rtol=1e-5)
    # The best beam alone.
    best = generate(model, prompt, 3, sampler="beam", num_beams=2, end_token_id=END, **EAGER)
    np.testing.assert_array_equal(best, beams[:, 0])


def test_length_penalty_favours_longer_outputs(bigram):
    _, log_probs = bigram
    log_probs = log_probs.copy()
    log_probs[1] = np.log([0.01, 0.01, 0.02, 0.4, 0.01, 0.55])  # BOS -> END is the likeliest
    model = BigramModel(log_probs.astype("float32"))
    prompt = np.array([[1]], "int32")
    kwargs = {"sampler": "beam", "num_beams": 2, "end_token_id": END, **EAGER}
    short = generate(model, prompt, 3, length_penalty=0.0, **kwargs)
    np.testing.assert_array_equal(short, [[1, END, 0, 0]])  # sum of log-probs: -0.6 > -1.0
    long = generate(model, prompt, 3, length_penalty=1.0, **kwargs)
    np.testing.assert_array_equal(long, [[1, 3, 4, END]])  # per token: -0.33 > -0.6


def test_end_token_stops_and_pads(gpt, gpt_greedy, bigram):
    # Stop at the token that greedy writes first for row 0: rows end there, then pad.
    end = int(gpt_greedy[0, LENGTHS[0]])
    stopped = generate(
        gpt, PROMPTS, NEW_TOKENS, end_token_id=end, pad_token_id=39,
        prompt_padding_mask=PROMPT_MASK, **EAGER,
    )  # fmt: skip
    for row, length in enumerate(LENGTHS):
        new = list(gpt_greedy[row, length : length + NEW_TOKENS])
        stop = new.index(end) + 1 if end in new else len(new)
        expected = list(PROMPTS[row, :length]) + new[:stop]
        expected += [39] * (stopped.shape[1] - len(expected))
        np.testing.assert_array_equal(stopped[row], expected)
    # Every row ends at once: everything after the end token is pad.
    model, _ = bigram
    tokens = generate(model, np.array([[4], [4]]), 6, end_token_id=END, pad_token_id=0, **EAGER)
    np.testing.assert_array_equal(tokens, [[4, END, 0, 0, 0, 0, 0]] * 2)
    # An end token inside a prompt does not stop that row.
    tokens = generate(model, np.array([[4, END, 3]]), 3, end_token_id=END, **EAGER)
    np.testing.assert_array_equal(tokens, [[4, END, 3, 4, END, 0]])


@pytest.mark.parametrize(
    "sampler, kwargs",
    [
        ("top_k", {"k": 1, "temperature": 3.0}),
        ("top_p", {"p": 1e-6, "temperature": 2.0}),
        ("top_k", {"k": VOCABULARY, "temperature": 1e-4}),  # temperature -> 0
        ("top_p", {"p": 1.0, "temperature": 0.0}),  # temperature 0 is greedy
        (keras_hub.samplers.TopKSampler(k=1), {}),
    ],
    ids=["top_k_1", "top_p_tiny", "temperature_small", "temperature_0", "keras_hub_top_k_1"],
)
def test_degenerate_samplers_are_greedy(gpt, gpt_greedy, sampler, kwargs):
    tokens = generate(
        gpt, PROMPTS, NEW_TOKENS, sampler=sampler, seed=3, prompt_padding_mask=PROMPT_MASK,
        **kwargs, **EAGER,
    )  # fmt: skip
    np.testing.assert_array_equal(tokens, gpt_greedy)


def test_seeds_reproduce_samples_without_recompiling(gpt):
    generator = Generator(
        gpt, sampler="top_p", p=0.95, temperature=3.0, max_new_tokens=NEW_TOKENS, **GRAPH
    )
    first = generator(PROMPTS, PROMPT_MASK, seed=7)
    np.testing.assert_array_equal(generator(PROMPTS, PROMPT_MASK, seed=7), first)
    other = generator(PROMPTS, PROMPT_MASK, seed=8)
    assert not np.array_equal(other, first)
    assert generator.num_traces == 1
    # Sampled tokens stay inside the top-k set.
    top_k = generate(
        gpt, PROMPTS[:1], 1, sampler=TopKSampler(k=2, temperature=10.0), seed=0, **EAGER
    )
    logits = ops.convert_to_numpy(
        gpt({"token_ids": PROMPTS[:1], "padding_mask": np.ones_like(PROMPTS[:1])})
    )[0, -1]
    assert top_k[0, -1] in np.argsort(logits)[-2:]


def test_compiled_once_per_configuration_and_shape(gpt, transformer):
    generator = Generator(gpt, max_new_tokens=4, **GRAPH)
    generator(PROMPTS, PROMPT_MASK)
    generator(PROMPTS[::-1] + 1, PROMPT_MASK[::-1])
    assert generator.num_traces == 1
    generator(PROMPTS[:2], PROMPT_MASK[:2])  # a new batch size is a new program
    assert generator.num_traces == 2
    # The functional API keeps one generator per model and configuration: the earlier
    # tests' greedy generators were traced once, whatever prompts and seeds came since.
    for model, arguments in (
        (gpt, (PROMPTS[::-1], NEW_TOKENS)),
        (transformer, (SOURCE[::-1], SOURCE_MASK[::-1], 1, None, 10)),
    ):
        function = generate if model is gpt else translate
        function(model, *arguments, seed=5)
        compiled = [g for g in generation._generators_of(model).values() if not g.run_eagerly]
        assert compiled and all(g.num_traces == 1 for g in compiled)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"sampler": "top_k", "k": 0}, "`k`"),
        ({"sampler": "top_p", "p": 0.0}, r"`p`.*\(0, 1\]"),
        ({"sampler": "top_p", "p": 1.5}, r"`p`.*\(0, 1\]"),
        ({"sampler": "beam", "num_beams": 0}, "num_beams"),
        ({"temperature": -1.0}, "temperature"),
        ({"sampler": "nucleus"}, "Unknown sampler"),
        ({"max_new_tokens": MAX_LENGTH}, "max_sequence_length"),
        ({"prompt_token_ids": np.ones((1, MAX_LENGTH + 1), "int32")}, "longer than"),
        ({"prompt_padding_mask": np.array([[0, 1, 1, 1]] * 3)}, "right-padded"),
        ({"prompt_padding_mask": np.zeros((3, 4))}, "at least one real token"),
        ({"end_token_id": -1}, "end_token_id"),
    ],
)
def test_invalid_arguments(gpt, kwargs, message):
    arguments = {"prompt_token_ids": PROMPTS, "max_new_tokens": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate(gpt, **arguments)


def test_invalid_seq2seq_arguments(transformer):
    with pytest.raises(ValueError, match="max_length"):
        translate(transformer, SOURCE, SOURCE_MASK, max_length=1)
    with pytest.raises(ValueError, match="max_sequence_length"):
        translate(transformer, SOURCE, SOURCE_MASK, max_length=MAX_LENGTH + 1)
    with pytest.raises(ValueError, match="longer than"):
        translate(transformer, np.ones((1, MAX_LENGTH + 1), "int32"))


def test_beam_sampler_arguments():
    with pytest.raises(ValueError, match="temperature"):
        BeamSampler(temperature=0.0)
    with pytest.raises(ValueError, match="length_penalty"):
        BeamSampler(length_penalty=float("nan"))
    sampler = generation.get_sampler(keras_hub.samplers.BeamSampler(num_beams=2))
    assert isinstance(sampler, BeamSampler) and sampler.num_beams == 2


# ---------------------------------------------------------------- config and serialization


@pytest.mark.parametrize(
    "sampler",
    [
        GreedySampler(temperature=0.5, seed=3),
        TopKSampler(k=7, temperature=0.8, seed=1),
        TopPSampler(p=0.5, k=10),
        BeamSampler(num_beams=3, length_penalty=0.6, return_all_beams=True, temperature=2.0),
    ],
    ids=lambda sampler: type(sampler).__name__,
)
def test_sampler_serialization_round_trip(sampler):
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(sampler)))
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(sampler)
    assert restored.get_config() == sampler.get_config()
    assert restored.cache_key() == sampler.cache_key()
    assert type(generation.get_sampler(serialized)) is type(sampler)
    assert type(sampler).from_config(sampler.get_config()).get_config() == sampler.get_config()


def test_keras_hub_sampler_serialization_round_trip():
    wrapped = generation.get_sampler(keras_hub.samplers.RandomSampler(temperature=0.7))
    assert isinstance(wrapped, generation.KerasHubSampler)
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(wrapped)))
    restored = keras.saving.deserialize_keras_object(serialized)
    assert isinstance(restored.sampler, keras_hub.samplers.RandomSampler)
    assert restored.temperature == pytest.approx(0.7)


def test_generation_config_checks_and_round_trip():
    config = GenerationConfig()
    assert (config.sampler, config.max_new_tokens, config.max_length) == ("greedy", 32, 32)
    assert isinstance(config.build_sampler(), GreedySampler)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.k = 3
    for options, message in (
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"max_length": 1}, "max_length"),
        ({"sampler": "top_k", "k": 0}, "`k`"),
        ({"sampler": "nucleus"}, "Unknown sampler"),
        ({"end_token_id": -1}, "end_token_id"),
        ({"seed": "1"}, "seed"),
    ):
        with pytest.raises(ValueError, match=message):
            GenerationConfig(**options)
    with pytest.raises(TypeError, match="top_q"):
        config.replace(top_q=0.5)
    changed = config.replace(sampler="top_p", p=0.5, seed=np.int64(4), end_token_id=np.int32(2))
    assert (changed.seed, changed.end_token_id, config.seed) == (4, 2, None)
    assert changed.build_sampler().get_config() == TopPSampler(p=0.5, seed=4).get_config()
    # A JSON round trip, with a sampler object serialized.
    with_object = GenerationConfig(sampler=BeamSampler(num_beams=2), max_length=8)
    restored = GenerationConfig.from_config(json.loads(json.dumps(with_object.get_config())))
    assert isinstance(restored.sampler, BeamSampler) and restored.sampler.num_beams == 2
    assert restored.replace(sampler="greedy") == with_object.replace(sampler="greedy")
    assert GenerationConfig.from_config(changed.get_config()) == changed


def test_config_and_keyword_arguments_agree(gpt, transformer):
    keywords = {"sampler": "top_k", "k": 5, "temperature": 1.5, "seed": 3, **EAGER}
    config = GenerationConfig(max_new_tokens=NEW_TOKENS, **keywords)
    expected = generate(gpt, PROMPTS, NEW_TOKENS, prompt_padding_mask=PROMPT_MASK, **keywords)
    np.testing.assert_array_equal(
        generate(gpt, PROMPTS, prompt_padding_mask=PROMPT_MASK, config=config), expected
    )
    np.testing.assert_array_equal(Generator(gpt, config)(PROMPTS, PROMPT_MASK), expected)
    # Keyword arguments override the config's fields.
    other_seed = generate(gpt, PROMPTS, prompt_padding_mask=PROMPT_MASK, config=config, seed=4)
    np.testing.assert_array_equal(
        other_seed,
        generate(
            gpt, PROMPTS, NEW_TOKENS, prompt_padding_mask=PROMPT_MASK, **{**keywords, "seed": 4}
        ),
    )
    config = GenerationConfig(sampler="beam", num_beams=2, max_length=8, bos_token_id=2, **EAGER)
    expected = translate(transformer, SOURCE, SOURCE_MASK, 2, max_length=8, sampler="beam",
                         num_beams=2, **EAGER)  # fmt: skip
    np.testing.assert_array_equal(
        translate(transformer, SOURCE, SOURCE_MASK, config=config), expected
    )
    np.testing.assert_array_equal(
        Seq2SeqGenerator(transformer, config)(SOURCE, SOURCE_MASK), expected
    )
    # A positional bos_token_id overrides the config's.
    shifted = translate(transformer, SOURCE, SOURCE_MASK, 3, config=config)
    assert np.all(shifted[:, 0] == 3)
    with pytest.raises(ValueError, match="config"):
        Generator(gpt, "top_k")
    with pytest.raises(TypeError, match="max_tokens"):
        generate(gpt, PROMPTS, max_tokens=3)
