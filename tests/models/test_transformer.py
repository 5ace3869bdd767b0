import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import assert_all_close, random_ids, run_saving_test, tiny_model
from zoo.models.losses import LabelSmoothedCrossEntropy
from zoo.models.transformer import PRESETS, Transformer
from zoo.optimizers import transformer_optimizer

VOCABULARY, SOURCE, TARGET = 40, 7, 6


def _tiny(vocabulary_size=VOCABULARY, **kwargs):
    return tiny_model(Transformer, vocabulary_size, None, **{"num_layers": 2, **kwargs})


def _batch(seed=0, source_lengths=(7, 4), target_lengths=(6, 3)):
    rng = np.random.default_rng(seed)
    source_ids, source_mask = random_ids(rng, VOCABULARY, SOURCE, source_lengths)
    target_ids, target_mask = random_ids(rng, VOCABULARY, TARGET, target_lengths)
    return {
        "encoder_token_ids": source_ids,
        "encoder_padding_mask": source_mask,
        "decoder_token_ids": target_ids,
        "decoder_padding_mask": target_mask,
    }


def test_logits_shape_and_dtype():
    logits = _tiny()(_batch())
    assert tuple(logits.shape) == (2, TARGET, VOCABULARY)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {
            "vocabulary_size": None,
            "source_vocabulary_size": 30,
            "target_vocabulary_size": VOCABULARY,
            "num_encoder_layers": 1,
            "num_decoder_layers": 2,
            "tie_embeddings": False,
            "normalize_first": True,
        },
    ],
    ids=["shared_tied_post_ln", "separate_untied_pre_ln"],
)
def test_saving(kwargs):
    model = _tiny(**kwargs)
    batch = _batch()
    if kwargs:
        batch["encoder_token_ids"] = batch["encoder_token_ids"] % 30
    loaded = run_saving_test(model, batch)
    assert loaded.get_config() == model.get_config()


def test_embeddings_are_shared_and_tied():
    shared = _tiny()
    assert shared.encoder_embedding is shared.decoder_embedding
    assert shared.output_dense is None
    # One token matrix: the 2 x 2 blocks plus a single (vocabulary, hidden) embedding.
    separate = _tiny(share_embeddings=False, tie_embeddings=False)
    assert separate.encoder_embedding is not separate.decoder_embedding
    extra = VOCABULARY * 16 + (16 * VOCABULARY + VOCABULARY)
    assert separate.count_params() == shared.count_params() + extra


def test_padding_does_not_change_real_positions():
    model = _tiny()
    batch = _batch()
    expected = keras.ops.convert_to_numpy(model(batch))
    changed = dict(batch)
    rng = np.random.default_rng(5)
    for ids, mask in (
        ("encoder_token_ids", "encoder_padding_mask"),
        ("decoder_token_ids", "decoder_padding_mask"),
    ):
        noise = rng.integers(7, VOCABULARY, batch[ids].shape)
        changed[ids] = np.where(batch[mask] == 1, batch[ids], noise).astype("int32")
    actual = keras.ops.convert_to_numpy(model(changed))
    real = batch["decoder_padding_mask"].astype(bool)
    assert_all_close(actual[real], expected[real], atol=1e-5, rtol=1e-5)


def test_decoder_is_causal():
    model = _tiny()
    batch = _batch(source_lengths=(7, 7), target_lengths=(6, 6))
    expected = keras.ops.convert_to_numpy(model(batch))
    changed = dict(batch)
    changed["decoder_token_ids"] = batch["decoder_token_ids"].copy()
    changed["decoder_token_ids"][:, 3:] = 9
    actual = keras.ops.convert_to_numpy(model(changed))
    assert_all_close(actual[:, :3], expected[:, :3], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_cached_decoding_equals_full_pass(normalize_first):
    model = _tiny(normalize_first=normalize_first)
    batch = _batch(target_lengths=(6, 6))
    expected = keras.ops.convert_to_numpy(model(batch))
    encoder_output = model.encode(batch["encoder_token_ids"], batch["encoder_padding_mask"])
    cache = model.init_cache(2, TARGET, encoder_output)
    assert tuple(cache["self"].shape) == (2, 2, 2, TARGET, 2, 8)
    assert tuple(cache["cross"].shape) == (2, 2, 2, SOURCE, 2, 8)

    @tf.function(jit_compile=True)
    def step(token_ids, cache, index):
        return model.call_with_cache(token_ids, cache, index, batch["encoder_padding_mask"])

    steps = []
    for t in range(TARGET):
        logits, hidden, cache = step(
            batch["decoder_token_ids"][:, t : t + 1], cache, tf.constant(t)
        )
        assert tuple(hidden.shape) == (2, 1, 16)
        steps.append(keras.ops.convert_to_numpy(logits))
    assert_all_close(np.concatenate(steps, axis=1), expected, atol=1e-5, rtol=1e-5)


def test_presets():
    assert Transformer.presets() == ["transformer_base", "transformer_tiny"]
    base = PRESETS["transformer_base"]
    assert (base["hidden_dim"], base["num_layers"], base["num_heads"]) == (512, 6, 8)
    assert (base["intermediate_dim"], base["dropout"]) == (2048, 0.1)
    tiny = Transformer.from_preset("transformer_tiny", vocabulary_size=50)
    assert tiny.hidden_dim == 128 and tiny.target_vocabulary_size == 50
    with pytest.raises(ValueError, match="Unknown preset.*transformer_base"):
        Transformer.from_preset("transformer_huge")


@pytest.mark.slow
def test_base_preset_builds():
    model = Transformer.from_preset("transformer_base", vocabulary_size=1000)
    assert model.num_encoder_layers == model.num_decoder_layers == 6
    assert model.hidden_dim == 512 and model.num_heads == 8


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hidden_dim": 18, "num_heads": 4}, "divisible by num_heads"),
        ({"activation": "swish2"}, "activation"),
        ({"num_layers": None}, "num_layers"),
        ({"vocabulary_size": None}, "vocabulary_size"),
        (
            {
                "share_embeddings": True,
                "vocabulary_size": None,
                "source_vocabulary_size": 5,
                "target_vocabulary_size": 6,
            },
            "share_embeddings",
        ),
        ({"dropout": 1.5}, "dropout"),
    ],
)
def test_invalid_configs_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _tiny(**kwargs)


def test_sequence_too_long_raises():
    model = _tiny(max_sequence_length=4)
    with pytest.raises(ValueError, match="max_sequence_length"):
        model(_batch())


def test_xla_fit_step_with_paper_recipe():
    model = _tiny(num_layers=1)
    model.compile(
        optimizer=transformer_optimizer(hidden_dim=16, warmup_steps=10),
        loss=LabelSmoothedCrossEntropy(0.1),
        jit_compile=True,
    )
    batch = _batch()
    labels = np.roll(batch["decoder_token_ids"], -1, axis=1)
    before = [w.numpy() for w in model.trainable_weights]
    history = model.fit(batch, labels, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = [w.numpy() for w in model.trainable_weights]
    assert any(not np.allclose(b, a) for b, a in zip(before, after))


def test_mixed_bfloat16_gives_float32_logits():
    model = _tiny(dtype="mixed_bfloat16")
    logits = model(_batch())
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert all(w.dtype == "float32" for w in model.weights)
    encoder_output = model.encode(_batch()["encoder_token_ids"])
    cache = model.init_cache(2, 4, encoder_output)
    assert keras.backend.standardize_dtype(cache["self"].dtype) == "bfloat16"
