"""Tests of zoo.data.language_model: one token stream, next-token windows, step batches."""

import numpy as np
import pytest
import tensorflow as tf

from tests.data.test_pipelines import (
    StandInTokenizer,
    assert_static,
    batches,
    documents,
    ids_of,
)
from zoo.data import language_model_dataset, language_model_windows, token_stream


@pytest.fixture(scope="module")
def tokenizer():
    return StandInTokenizer()


def _stream(texts, eos):
    stream = [eos]
    for text in texts:
        stream += [*ids_of(*text.split()), eos]
    return stream


def test_windows_cover_the_stream_once_with_next_token_labels(tokenizer):
    texts = documents(60)
    features, labels = language_model_windows(texts, tokenizer, 8)
    stream = _stream(texts, tokenizer.eos_token_id)
    count = (len(stream) - 1) // 8
    assert features["token_ids"].shape == labels.shape == (count, 8)
    # Window k covers stream[k L : k L + L + 1]: inputs and labels are shifted by one and
    # consecutive windows continue each other without skipping or repeating a label.
    expected = np.array([stream[k * 8 : k * 8 + 9] for k in range(count)])
    np.testing.assert_array_equal(features["token_ids"], expected[:, :-1])
    np.testing.assert_array_equal(labels, expected[:, 1:])
    np.testing.assert_array_equal(features["token_ids"][1:, 0], labels[:-1, -1])
    np.testing.assert_array_equal(features["padding_mask"], np.ones((count, 8)))
    for value in (features["token_ids"], features["padding_mask"], labels):
        assert value.dtype == np.int32


def test_token_stream_ends_every_document_with_eos(tokenizer):
    eos = tokenizer.eos_token_id
    a, b, c = ids_of("w1", "w2", "w3")
    stream = token_stream(["w1 w2", "", "   ", "w3"], tokenizer)
    # A document without tokens still ends: its [EOS] separates its neighbours once more.
    np.testing.assert_array_equal(stream, [a, b, eos, eos, eos, c, eos])
    assert stream.dtype == np.int32
    dataset = tf.data.Dataset.from_tensor_slices(["W1 W2", "W3"])
    np.testing.assert_array_equal(
        token_stream(dataset, tokenizer, preprocessor=tf.strings.lower), [a, b, eos, c, eos]
    )


def test_dataset_batches_are_windows_and_a_function_of_the_step(tokenizer):
    texts = documents(60)
    features, labels = language_model_windows(texts, tokenizer, 8)
    dataset = language_model_dataset(texts, tokenizer, 8, 4, seed=3)
    assert_static(dataset)
    epoch = batches(dataset)
    assert len(epoch) == len(labels) // 4  # default: one epoch
    rows = {tuple(window): k for k, window in enumerate(features["token_ids"])}
    seen = []
    for batch_features, batch_labels in epoch:
        for inputs, targets in zip(batch_features["token_ids"], batch_labels):
            k = rows[tuple(inputs)]
            np.testing.assert_array_equal(targets, labels[k])
            seen.append(k)
        assert batch_features["padding_mask"].all()
    assert len(set(seen)) == len(seen) == len(epoch) * 4  # an epoch: distinct windows
    # Resumed at step 5 of 20: the batches of the uninterrupted run from there on.
    longer = batches(language_model_dataset(texts, tokenizer, 8, 4, seed=3, total_steps=20))
    tail = batches(
        language_model_dataset(texts, tokenizer, 8, 4, seed=3, start_step=5, total_steps=20)
    )
    assert len(longer) == 20 and len(tail) == 15
    for a, b in zip(longer[5:], tail):
        tf.nest.map_structure(np.testing.assert_array_equal, a, b)
    for a, b in zip(longer, epoch):
        tf.nest.map_structure(np.testing.assert_array_equal, a, b)
    other = batches(language_model_dataset(texts, tokenizer, 8, 4, seed=4, total_steps=1))
    assert not np.array_equal(other[0][1], epoch[0][1])
    # Two processes: each feeds its half of every global batch.
    halves = [
        batches(language_model_dataset(texts, tokenizer, 8, 4, seed=3, shard=(i, 2)))
        for i in range(2)
    ]
    for step, (_, global_labels) in enumerate(epoch):
        np.testing.assert_array_equal(
            np.concatenate([half[step][1] for half in halves]), global_labels
        )


def test_bad_text_and_dataset_input(tokenizer):
    texts = [b"", b"   ", b"\xff\xfe w1 \xc3", "w2 😀 мир".encode(), b"\x00\x07 w3", b"w1 " * 5000]
    features, labels = language_model_windows(
        tf.data.Dataset.from_tensor_slices(texts), tokenizer, 4
    )
    assert len(labels) == len(features["token_ids"]) > 1000
    assert_static(language_model_dataset(texts, tokenizer, 4, 2))


def test_errors_say_what_was_received(tokenizer):
    with pytest.raises(ValueError, match="fewer than one window of 100.*sequence_length"):
        language_model_windows(["w1 w2"], tokenizer, 99)
    with pytest.raises(ValueError, match="empty texts"):
        language_model_windows([], tokenizer, 4)
    with pytest.raises(ValueError, match="single string"):
        token_stream("w1 w2", tokenizer)
    with pytest.raises(ValueError, match=r"expected scalar tf\.string"):
        token_stream(tf.data.Dataset.range(3), tokenizer)
    with pytest.raises(ValueError, match="sequence_length=0"):
        language_model_windows(["w1"], tokenizer, 0)
    with pytest.raises(ValueError, match="fewer than one batch"):
        language_model_dataset(["w1 w2 w3"], tokenizer, 2, 8)

    class NoEos(StandInTokenizer):
        eos_token_id = property(lambda self: None)

    with pytest.raises(ValueError, match="eos_token_id"):
        token_stream(["w1"], NoEos())
