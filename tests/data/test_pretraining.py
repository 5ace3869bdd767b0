"""Tests of zoo.data.pretraining: MLM masks (15%, 80/10/10), NSP pairs, static shapes, seeds."""

import numpy as np
import pytest
import tensorflow as tf

from tests.data.test_pipelines import StandInTokenizer
from zoo.data.pretraining import (
    bert_pretraining_dataset,
    default_max_predictions,
    mask_tokens,
    masked_lm_dataset,
    next_sentence_pairs,
    pack_sentence_pairs,
)

VOCABULARY = 47  # 7 specials + 40 words of the stand-in tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return StandInTokenizer()


def _documents(count=12, sentences=5, seed=0):
    rng = np.random.default_rng(seed)
    return [
        [
            " ".join(f"w{i}" for i in rng.integers(0, 40, rng.integers(3, 9)))
            for _ in range(sentences)
        ]
        for _ in range(count)
    ]


def _rows(batch_size=64, length=32, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(4, length + 1, batch_size)
    mask = np.arange(length)[None] < lengths[:, None]
    ids = rng.integers(7, VOCABULARY, (batch_size, length))
    ids[:, 0] = 2
    ids[np.arange(batch_size), lengths - 1] = 3
    return np.where(mask, ids, 0).astype("int32"), mask


def test_mask_tokens_rates_and_invariants():
    ids, mask = _rows(batch_size=512, length=64)
    out = {
        k: v.numpy()
        for k, v in mask_tokens(
            ids, mask, tf.constant([1, 2]), vocabulary_size=VOCABULARY, max_predictions=16
        ).items()
    }
    assert out["token_ids"].shape == ids.shape and out["mask_positions"].shape == (512, 16)
    weights = out["mask_weights"].astype(bool)
    # About 15% of each row's tokens (at least 1, at most max_predictions).
    expected = np.clip(np.round(mask.sum(1) * 0.15), 1, 16)
    np.testing.assert_array_equal(weights.sum(1), expected)
    positions = out["mask_positions"]
    chosen_ids = np.take_along_axis(ids, positions, 1)
    # Never [PAD], [CLS] or [SEP]; labels are the original tokens; positions ascend.
    assert np.all(chosen_ids[weights] >= 7)
    np.testing.assert_array_equal(out["mask_ids"][weights], chosen_ids[weights])
    assert np.all(out["mask_ids"][~weights] == 0) and np.all(positions[~weights] == 0)
    for row, w in zip(positions, weights):
        assert np.all(np.diff(row[w]) > 0)
    # Only chosen positions change; 80% [MASK], ~10% random, ~10% kept.
    changed = out["token_ids"] != ids
    chosen = np.zeros_like(changed)
    np.put_along_axis(chosen, positions, weights, 1)
    assert not np.any(changed & ~chosen)
    new = np.take_along_axis(out["token_ids"], positions, 1)[weights]
    fraction_mask = np.mean(new == 4)
    fraction_kept = np.mean(new == chosen_ids[weights])
    assert 0.77 < fraction_mask < 0.83, fraction_mask
    # Kept: the 10% "unchanged" plus random draws that hit the original (1/40 of 10%).
    assert 0.08 < fraction_kept < 0.13, fraction_kept
    assert np.all((new == 4) | ((new >= 7) & (new < VOCABULARY)))


def test_mask_tokens_is_deterministic_for_a_seed():
    ids, mask = _rows()
    first = mask_tokens(
        ids, mask, tf.constant([3, 4]), vocabulary_size=VOCABULARY, max_predictions=5
    )
    again = mask_tokens(
        ids, mask, tf.constant([3, 4]), vocabulary_size=VOCABULARY, max_predictions=5
    )
    other = mask_tokens(
        ids, mask, tf.constant([3, 5]), vocabulary_size=VOCABULARY, max_predictions=5
    )
    for key in first:
        np.testing.assert_array_equal(first[key].numpy(), again[key].numpy())
    assert not np.array_equal(first["mask_positions"].numpy(), other["mask_positions"].numpy())


def test_mask_tokens_errors():
    ids, mask = _rows()
    with pytest.raises(ValueError, match="max_predictions"):
        mask_tokens(ids, mask, [0, 0], vocabulary_size=VOCABULARY, max_predictions=100)
    with pytest.raises(ValueError, match="sum"):
        mask_tokens(
            ids,
            mask,
            [0, 0],
            vocabulary_size=VOCABULARY,
            max_predictions=4,
            mask_token_rate=0.9,
            random_token_rate=0.2,
        )
    with pytest.raises(ValueError, match="random replacements"):
        mask_tokens(ids, mask, [0, 0], vocabulary_size=5, max_predictions=4)


def test_next_sentence_pairs():
    documents = _documents(count=40)
    first, second, labels = next_sentence_pairs(documents, seed=0)
    assert len(first) == len(second) == len(labels) == 40 * 4
    assert 0.4 < labels.mean() < 0.6
    position = {}
    for d, document in enumerate(documents):
        for i, sentence in enumerate(document):
            position.setdefault(sentence, []).append((d, i))
    for a, b, label in zip(first, second, labels):
        is_next = any((d, i + 1) in position[b] for d, i in position[a])
        if label == 0:
            assert is_next
        else:  # from another document
            assert {d for d, _ in position[a]}.isdisjoint(
                {d for d, _ in position[b]}
            ) or not is_next
    again = next_sentence_pairs(documents, seed=0)
    assert again[0] == first and again[1] == second
    # Lines with blank separators are documents as well.
    lines = ["a b", "c d", "", "e f", "g h", "i j"]
    first, second, _ = next_sentence_pairs(lines, random_next_rate=0.0)
    assert list(zip(first, second)) == [("a b", "c d"), ("e f", "g h"), ("g h", "i j")]
    with pytest.raises(ValueError, match="two or more sentences"):
        next_sentence_pairs([["only one"]])


def test_pack_sentence_pairs():
    a = tf.ragged.constant([[10, 11, 12], [10] * 9, [10]])
    b = tf.ragged.constant([[20, 21], [20] * 9, [20] * 9])
    ids, segments, mask = (t.numpy() for t in pack_sentence_pairs(a, b, 10))
    assert ids[0].tolist() == [2, 10, 11, 12, 3, 20, 21, 3, 0, 0]
    assert segments[0].tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 0, 0]
    assert mask[0].tolist() == [True] * 8 + [False] * 2
    # Too long: the longer side is cut first, both keep half the budget of 7 here.
    assert ids[1].tolist() == [2, 10, 10, 10, 3, 20, 20, 20, 20, 3]
    assert ids[2].tolist() == [2, 10, 3, 20, 20, 20, 20, 20, 20, 3]
    assert segments[2].tolist() == [0, 0, 0] + [1] * 7


def test_bert_pretraining_dataset(tokenizer):
    dataset = bert_pretraining_dataset(
        _documents(), tokenizer, sequence_length=24, batch_size=8, seed=3
    )
    batches = list(dataset)
    assert len(batches) == 12 * 4 // 8
    features, labels, weights = batches[0]
    p = default_max_predictions(24)
    for key, shape in {
        "token_ids": (8, 24),
        "padding_mask": (8, 24),
        "segment_ids": (8, 24),
        "mask_positions": (8, p),
    }.items():
        assert tuple(features[key].shape) == shape and features[key].shape.is_fully_defined()
    assert tuple(labels["mlm_logits"].shape) == (8, p) and tuple(labels["nsp_logits"].shape) == (8,)
    assert tuple(weights["mlm_logits"].shape) == (8, p)
    ids = features["token_ids"].numpy()
    assert np.all(ids[:, 0] == 2)
    assert np.all((ids == 3).sum(1) == 2)  # two [SEP]: never masked
    assert np.any(ids == 4)
    # Same seed, same batches; another seed, other batches.
    again = list(
        bert_pretraining_dataset(_documents(), tokenizer, sequence_length=24, batch_size=8, seed=3)
    )
    other = list(
        bert_pretraining_dataset(_documents(), tokenizer, sequence_length=24, batch_size=8, seed=4)
    )
    for (f1, l1, _), (f2, l2, _) in zip(batches, again):
        np.testing.assert_array_equal(f1["token_ids"].numpy(), f2["token_ids"].numpy())
        np.testing.assert_array_equal(l1["nsp_logits"].numpy(), l2["nsp_logits"].numpy())
    assert not np.array_equal(batches[0][0]["token_ids"].numpy(), other[0][0]["token_ids"].numpy())


def test_bert_pretraining_dataset_trains_a_pretrainer(tokenizer):
    import keras

    from zoo.models.bert import Bert, BertPretrainer

    dataset = bert_pretraining_dataset(
        _documents(), tokenizer, sequence_length=24, batch_size=8, seed=0
    )
    backbone = Bert(
        vocabulary_size=VOCABULARY,
        num_layers=1,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=24,
    )
    model = BertPretrainer(backbone)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer="adam", loss={"mlm_logits": loss, "nsp_logits": loss}, jit_compile=True)
    history = model.fit(dataset.take(2), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_masked_lm_dataset(tokenizer):
    texts = [" ".join(f"w{i}" for i in range(k % 20 + 3)) for k in range(20)]
    dataset = masked_lm_dataset(texts, tokenizer, sequence_length=16, batch_size=4, seed=0)
    features, mask_ids, mask_weights = next(iter(dataset))
    assert tuple(features["mask_positions"].shape) == (4, default_max_predictions(16))
    assert np.all(features["segment_ids"].numpy() == 0)
    assert tuple(mask_ids.shape) == tuple(mask_weights.shape)
    assert np.all(mask_weights.numpy().sum(1) >= 1)
