import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import assert_all_close, random_ids, run_saving_test, tiny_model
from zoo.models.gpt import GPT

VOCABULARY, LENGTH, LAYERS, HEADS, HIDDEN = 50, 8, 2, 2, 16


def _gpt(vocabulary_size=VOCABULARY, **kwargs):
    sizes = {"num_layers": LAYERS, "num_heads": HEADS, "hidden_dim": HIDDEN}
    return tiny_model(GPT, vocabulary_size, None, **{**sizes, "max_sequence_length": 12, **kwargs})


def _batch(seed=0, lengths=(8, 5)):
    token_ids, mask = random_ids(np.random.default_rng(seed), VOCABULARY, LENGTH, lengths)
    return {"token_ids": token_ids, "padding_mask": mask}


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_logits_shape_dtype_and_tied_embeddings():
    model = _gpt()
    logits = model(_batch())
    assert tuple(logits.shape) == (2, LENGTH, VOCABULARY)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    # Tied: no (hidden, vocabulary) output matrix besides the token embeddings.
    names = [w.path for w in model.weights]
    assert (
        sum(tuple(w.shape) in {(HIDDEN, VOCABULARY), (VOCABULARY, HIDDEN)} for w in model.weights)
        == 1
    ), names


def test_saving():
    loaded = run_saving_test(_gpt(), _batch())
    assert loaded.get_config() == _gpt().get_config() | {"name": loaded.name}


def test_causal_logits_do_not_depend_on_the_future():
    model = _gpt()
    batch = _batch(lengths=(8, 8))
    expected = _numpy(model(batch))
    for t in (0, 3, 6):
        changed = {**batch, "token_ids": batch["token_ids"].copy()}
        changed["token_ids"][:, t + 1 :] = 11
        assert_all_close(
            _numpy(model(changed))[:, : t + 1], expected[:, : t + 1], atol=1e-5, rtol=1e-5
        )


def test_padding_does_not_change_real_positions():
    model = _gpt()
    batch = _batch()
    expected = _numpy(model(batch))
    noise = np.random.default_rng(2).integers(7, VOCABULARY, batch["token_ids"].shape)
    changed = {
        **batch,
        "token_ids": np.where(batch["padding_mask"] == 1, batch["token_ids"], noise),
    }
    real = batch["padding_mask"].astype(bool)
    assert_all_close(_numpy(model(changed))[real], expected[real], atol=1e-5, rtol=1e-5)


def test_init_cache():
    cache = _gpt().init_cache(3, 10)
    assert tuple(cache.shape) == (3, LAYERS, 2, 10, HEADS, HIDDEN // HEADS)
    assert keras.backend.standardize_dtype(cache.dtype) == "float32"
    assert not np.any(_numpy(cache))


def test_cached_decoding_equals_full_pass():
    model = _gpt()
    batch = _batch(lengths=(8, 8))
    expected = _numpy(model(batch))

    @tf.function(jit_compile=True)
    def step(token_ids, cache, index):
        return model.call_with_cache(token_ids, cache, index)

    # A 3-token prompt in one call, then one token per call; the index is traced.
    cache = model.init_cache(2, LENGTH)
    logits, hidden, cache = step(batch["token_ids"][:, :3], cache, tf.constant(0))
    assert tuple(hidden.shape) == (2, 3, HIDDEN)
    outputs = [_numpy(logits)]
    for t in range(3, LENGTH):
        logits, _, cache = step(batch["token_ids"][:, t : t + 1], cache, tf.constant(t))
        assert keras.backend.standardize_dtype(logits.dtype) == "float32"
        outputs.append(_numpy(logits))
    assert_all_close(np.concatenate(outputs, axis=1), expected, atol=1e-5, rtol=1e-5)


def test_per_layer_cache_equals_stacked_cache():
    model = _gpt()
    token_ids = _batch(lengths=(8, 8))["token_ids"]
    caches = model.init_layer_caches(2, LENGTH)
    assert len(caches) == LAYERS
    assert all(tuple(c.shape) == (2, 2, LENGTH, HEADS, HIDDEN // HEADS) for c in caches)
    stacked = model.init_cache(2, LENGTH)
    for start, stop in ((0, 3), (3, 4), (4, 5)):
        logits, _, stacked = model.call_with_cache(token_ids[:, start:stop], stacked, start)
        layer_logits, _, caches = model.call_with_cache(token_ids[:, start:stop], caches, start)
        assert isinstance(caches, tuple) and len(caches) == LAYERS
        assert_all_close(layer_logits, logits, atol=1e-6, rtol=1e-6)
    assert_all_close(np.stack([_numpy(c) for c in caches], axis=1), stacked, atol=1e-6)
    with pytest.raises(ValueError, match="one tensor per block"):
        model.call_with_cache(token_ids[:, :1], caches[:1], 0)


def test_cached_decoding_with_padding_mask():
    # Left-padded prompts: the masked cache slots are never attended.
    model = _gpt()
    cache = model.init_cache(1, 6)
    prompt = np.array([[0, 0, 9, 10]], "int32")
    padding_mask = np.array([[0, 0, 1, 1, 1, 1]], "int32")
    logits, _, cache = model.call_with_cache(prompt, cache, 0, padding_mask=padding_mask)
    changed_prompt = np.array([[30, 31, 9, 10]], "int32")
    changed, _, _ = model.call_with_cache(
        changed_prompt, model.init_cache(1, 6), 0, padding_mask=padding_mask
    )
    assert_all_close(_numpy(changed)[:, 2:], _numpy(logits)[:, 2:], atol=1e-5, rtol=1e-5)


def test_xla_fit_step():
    model = _gpt(num_layers=1)
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    batch = _batch()
    before = [w.numpy() for w in model.trainable_weights]
    history = model.fit(batch, np.roll(batch["token_ids"], -1, 1), batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = [w.numpy() for w in model.trainable_weights]
    # Key biases get a zero gradient (the softmax cancels them); every other weight moves.
    for weight, b, a in zip(model.trainable_weights, before, after):
        assert weight.path.endswith("key/bias") or not np.allclose(b, a), weight.path


def test_mixed_bfloat16():
    model = _gpt(dtype="mixed_bfloat16")
    assert keras.backend.standardize_dtype(model(_batch()).dtype) == "float32"
    assert all(w.dtype == "float32" for w in model.weights)
    cache = model.init_cache(2, 8)
    assert keras.backend.standardize_dtype(cache.dtype) == "bfloat16"
    logits, _, cache = model.call_with_cache(_batch()["token_ids"][:, :1], cache, 0)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert keras.backend.standardize_dtype(cache.dtype) == "bfloat16"
