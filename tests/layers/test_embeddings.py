import math

import keras
import numpy as np
import pytest

from tests.test_case import assert_all_close, random_normal, run_layer_test, to_numpy
from zoo.layers import (
    PositionEmbedding,
    RotaryEmbedding,
    SinusoidalPositionEncoding,
    TokenAndPositionEmbedding,
)

BATCH, SEQUENCE, HIDDEN, VOCABULARY = 2, 8, 16, 50


def _token_ids(seed=0):
    return np.random.default_rng(seed).integers(0, VOCABULARY, (BATCH, SEQUENCE)).astype("int32")


def _paper_sinusoids(length, hidden_dim, start=0):
    """PE(pos, 2i) = sin(pos / 10000^(2i/D)), PE(pos, 2i + 1) = cos(pos / 10000^(2i/D))."""
    encoding = np.zeros((length, hidden_dim))
    for pos in range(start, start + length):
        for i in range(0, hidden_dim, 2):
            angle = pos / 10000 ** (i / hidden_dim)
            encoding[pos - start, i] = math.sin(angle)
            if i + 1 < hidden_dim:
                encoding[pos - start, i + 1] = math.cos(angle)
    return encoding


def _rotate_reference(x, start=0, max_wavelength=10000, scaling_factor=1.0):
    """RoPE, rotate-half convention, in numpy; x is (batch, sequence, heads, dim)."""
    dim = x.shape[-1]
    half = dim // 2
    frequencies = max_wavelength ** (-np.arange(half) * 2.0 / dim)
    positions = (np.arange(x.shape[1]) + start) / scaling_factor
    angles = positions[:, None] * frequencies[None]  # (sequence, half)
    cos, sin = np.cos(angles)[None, :, None], np.sin(angles)[None, :, None]
    first, second = x[..., :half], x[..., half:]
    return np.concatenate([first * cos - second * sin, second * cos + first * sin], axis=-1)


def test_sinusoidal_layer_matches_the_paper():
    inputs = random_normal(BATCH, SEQUENCE, HIDDEN)
    expected = np.broadcast_to(_paper_sinusoids(SEQUENCE, HIDDEN), inputs.shape)
    run_layer_test(
        SinusoidalPositionEncoding,
        {"max_wavelength": 10000},
        inputs,
        expected_output_shape=(BATCH, SEQUENCE, HIDDEN),
        expected_output=expected,
        expected_num_trainable_weights=0,
        atol=1e-5,
    )


def test_sinusoidal_start_index_and_odd_width():
    layer = SinusoidalPositionEncoding()
    output = layer(np.zeros((1, 3, 7), "float32"), start_index=5)
    assert_all_close(output[0], _paper_sinusoids(3, 7, start=5), atol=1e-5, rtol=1e-5)


def test_position_embedding_layer():
    run_layer_test(
        PositionEmbedding,
        {"max_sequence_length": 16},
        random_normal(BATCH, SEQUENCE, HIDDEN),
        expected_output_shape=(BATCH, SEQUENCE, HIDDEN),
        expected_num_trainable_weights=1,
    )


def test_position_embedding_rows_and_start_index():
    layer = PositionEmbedding(max_sequence_length=16)
    output = to_numpy(layer(np.zeros((BATCH, SEQUENCE, HIDDEN), "float32")))
    table = to_numpy(layer.position_embeddings)
    assert_all_close(output, np.broadcast_to(table[:SEQUENCE], output.shape))
    step = layer(np.zeros((BATCH, 1, HIDDEN), "float32"), start_index=5)
    assert_all_close(step, np.broadcast_to(table[5:6], (BATCH, 1, HIDDEN)))


def test_rotary_layer_matches_reference():
    inputs = random_normal(BATCH, SEQUENCE, 2, 8)
    run_layer_test(
        RotaryEmbedding,
        {"max_wavelength": 100, "scaling_factor": 2.0},
        inputs,
        expected_output_shape=(BATCH, SEQUENCE, 2, 8),
        expected_output=_rotate_reference(inputs, max_wavelength=100, scaling_factor=2.0),
        expected_num_trainable_weights=0,
        atol=1e-5,
    )


def test_rotary_start_index_and_relative_positions():
    layer = RotaryEmbedding()
    x = random_normal(1, SEQUENCE, 1, 8)
    assert_all_close(
        layer(x[:, 3:5], start_index=3), to_numpy(layer(x))[:, 3:5], atol=1e-5, rtol=1e-5
    )
    # A query and a key carrying the same vectors: their rotated dot product depends only
    # on the distance between their positions.
    query, key = random_normal(1, 1, 1, 8, seed=1), random_normal(1, 1, 1, 8, seed=2)

    def score(query_position, key_position):
        rotated_query = to_numpy(layer(query, start_index=query_position))
        rotated_key = to_numpy(layer(key, start_index=key_position))
        return float(np.sum(rotated_query * rotated_key))

    assert score(5, 2) == pytest.approx(score(13, 10), abs=1e-4)
    assert score(5, 2) != pytest.approx(score(5, 4), abs=1e-4)


def test_token_and_position_embedding_layer_with_segments():
    segment_ids = np.zeros((BATCH, SEQUENCE), "int32")
    segment_ids[:, 4:] = 1
    run_layer_test(
        TokenAndPositionEmbedding,
        {
            "vocabulary_size": VOCABULARY,
            "max_sequence_length": 16,
            "hidden_dim": HIDDEN,
            "num_segments": 2,
            "layer_norm": True,
            "dropout": 0.1,
        },
        [_token_ids(), segment_ids],
        expected_output_shape=(BATCH, SEQUENCE, HIDDEN),
        # token, position and segment tables, LayerNorm gamma and beta
        expected_num_trainable_weights=5,
    )


def test_token_and_position_embedding_sums_its_parts():
    layer = TokenAndPositionEmbedding(
        VOCABULARY, 16, HIDDEN, num_segments=2, position="sinusoidal", embeddings_scale=True
    )
    token_ids, segment_ids = _token_ids(), np.ones((BATCH, SEQUENCE), "int32")
    output = layer(token_ids, segment_ids)
    tokens = to_numpy(layer.embeddings)[token_ids] * math.sqrt(HIDDEN)
    segments = to_numpy(layer._segment_embedding.embeddings)[segment_ids]
    expected = tokens + _paper_sinusoids(SEQUENCE, HIDDEN)[None] + segments
    assert_all_close(output, expected, atol=1e-5, rtol=1e-5)
    # Omitted segment ids are zeros; a later step starts at its position.
    assert_all_close(layer(token_ids), layer(token_ids, np.zeros_like(token_ids)))
    step = layer(token_ids[:, 3:4], np.ones((BATCH, 1), "int32"), start_index=3)
    assert_all_close(step, expected[:, 3:4], atol=1e-5, rtol=1e-5)


def test_tied_logits_are_hidden_times_transposed_embeddings():
    layer = TokenAndPositionEmbedding(VOCABULARY, 16, HIDDEN)
    hidden = layer(_token_ids())
    logits = layer.logits(hidden)
    expected = to_numpy(hidden) @ to_numpy(layer.embeddings).T
    assert tuple(logits.shape) == (BATCH, SEQUENCE, VOCABULARY)
    assert_all_close(logits, expected, atol=1e-5, rtol=1e-5)
    # In a functional model the tied projection shares the one embedding matrix.
    inputs = keras.Input((SEQUENCE,), dtype="int32")
    tied = TokenAndPositionEmbedding(VOCABULARY, 16, HIDDEN)
    model = keras.Model(inputs, tied.logits(tied(inputs)))
    assert len(model.trainable_weights) == 2
    assert tuple(model(_token_ids()).shape) == (BATCH, SEQUENCE, VOCABULARY)


def test_too_long_sequences_raise():
    layer = TokenAndPositionEmbedding(VOCABULARY, max_sequence_length=4, hidden_dim=HIDDEN)
    with pytest.raises(ValueError, match="length 8 .* max_sequence_length=4"):
        layer(_token_ids())
    with pytest.raises(ValueError, match="max_sequence_length=4"):
        layer(keras.Input((8,), dtype="int32"))
    with pytest.raises(ValueError, match="max_sequence_length=16"):
        PositionEmbedding(16)(np.zeros((1, 2, 4), "float32"), start_index=15)


@pytest.mark.parametrize(
    "layer_cls, kwargs, message",
    [
        (TokenAndPositionEmbedding, {"position": "rotary"}, "Unknown `position`"),
        (TokenAndPositionEmbedding, {"num_segments": 0}, "num_segments"),
        (PositionEmbedding, {"max_sequence_length": -1}, "max_sequence_length"),
        (SinusoidalPositionEncoding, {"max_wavelength": 0}, "max_wavelength"),
        (RotaryEmbedding, {"scaling_factor": 0.0}, "scaling_factor"),
    ],
)
def test_invalid_arguments_raise(layer_cls, kwargs, message):
    if layer_cls is TokenAndPositionEmbedding:
        kwargs = {"vocabulary_size": 10, "max_sequence_length": 4, "hidden_dim": 8, **kwargs}
    with pytest.raises(ValueError, match=message):
        layer_cls(**kwargs)


def test_rotary_rejects_odd_head_dim():
    with pytest.raises(ValueError, match="even head_dim"):
        RotaryEmbedding()(np.zeros((1, 4, 2, 5), "float32"))
