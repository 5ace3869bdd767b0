"""Tests of zoo.data.pretraining: MLM masks (15%, 80/10/10), NSP pairs, static shapes, seeds."""

import numpy as np
import pytest
import tensorflow as tf

from tests.data.test_pipelines import StandInTokenizer
from tests.test_case import tiny_model
from zoo.data.pretraining import (
    bert_pretraining_dataset,
    default_max_predictions,
    mask_tokens,
    next_sentence_pairs,
    pack_sentence_pairs,
    pretraining_arrays,
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
    assert len(batches) == 12 * 4 // 8  # default: one epoch of the pairs
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
    # The batches are rows of pretraining_arrays, as step_dataset orders them.
    features, labels, weights = pretraining_arrays(_documents(), tokenizer, 24, seed=3)
    rows = {tuple(row): k for k, row in enumerate(features["token_ids"])}
    seen = []
    for batch_features, batch_labels, batch_weights in batches:
        for i, row in enumerate(batch_features["token_ids"].numpy()):
            k = rows[tuple(row)]
            seen.append(k)
            for key in features:
                np.testing.assert_array_equal(batch_features[key][i], features[key][k])
            np.testing.assert_array_equal(batch_labels["mlm_logits"][i], labels["mlm_logits"][k])
            assert batch_labels["nsp_logits"][i] == labels["nsp_logits"][k]
            np.testing.assert_array_equal(batch_weights["mlm_logits"][i], weights["mlm_logits"][k])
    assert len(set(seen)) == 48
    resumed = list(
        bert_pretraining_dataset(
            _documents(), tokenizer, 24, 8, seed=3, start_step=4, total_steps=9
        )
    )
    assert len(resumed) == 5
    longer = list(bert_pretraining_dataset(_documents(), tokenizer, 24, 8, seed=3, total_steps=9))
    for a, b in zip(longer[4:], resumed):
        tf.nest.map_structure(np.testing.assert_array_equal, a, b)


def test_bert_pretraining_dataset_trains_a_pretrainer(tokenizer):
    import keras

    from zoo.models.bert import Bert, BertPretrainer

    dataset = bert_pretraining_dataset(
        _documents(), tokenizer, sequence_length=24, batch_size=8, seed=0
    )
    backbone = tiny_model(Bert, VOCABULARY, seed=None, max_sequence_length=24)
    model = BertPretrainer(backbone)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer="adam", loss={"mlm_logits": loss, "nsp_logits": loss}, jit_compile=True)
    history = model.fit(dataset.take(2), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_pretraining_arrays_are_packed_masked_copies_and_a_function_of_the_seed(tokenizer):
    documents = _documents()
    first = pretraining_arrays(documents, tokenizer, 24, copies=2, seed=3, return_pairs=True)
    again = pretraining_arrays(documents, tokenizer, 24, copies=2, seed=3)
    other = pretraining_arrays(documents, tokenizer, 24, copies=2, seed=4)
    features, labels, weights, (first_texts, second_texts) = first
    rows, p = 2 * 12 * 4, default_max_predictions(24)
    assert len(first_texts) == len(second_texts) == rows
    for key, shape in {
        "token_ids": (rows, 24),
        "padding_mask": (rows, 24),
        "segment_ids": (rows, 24),
        "mask_positions": (rows, p),
    }.items():
        assert features[key].shape == shape and features[key].dtype == np.int32, key
    assert labels["mlm_logits"].shape == weights["mlm_logits"].shape == (rows, p)
    assert labels["nsp_logits"].shape == (rows,) and labels["nsp_logits"].dtype == np.int32
    np.testing.assert_array_equal(weights["nsp_logits"], np.ones(rows, "float32"))
    for part, part_again in zip(first[:3], again):  # features, labels, weights
        tf.nest.map_structure(np.testing.assert_array_equal, part, part_again)
    assert not np.array_equal(features["token_ids"], other[0]["token_ids"])
    # Copy c draws the pairs of next_sentence_pairs(seed * 1000 + c), packed as
    # [CLS] A [SEP] B [SEP]; each copy draws its own pairs and masks.
    for copy in range(2):
        a, b, nsp = next_sentence_pairs(documents, seed=3 * 1000 + copy)
        part = slice(copy * 48, (copy + 1) * 48)
        assert first_texts[part] == a and second_texts[part] == b
        np.testing.assert_array_equal(labels["nsp_logits"][part], nsp)
        ids, segments, mask = pack_sentence_pairs(tokenizer.tokenize(a), tokenizer.tokenize(b), 24)
        np.testing.assert_array_equal(features["segment_ids"][part], segments)
        np.testing.assert_array_equal(features["padding_mask"][part], mask.numpy())
        # Only masked positions changed; the labels are the original tokens there.
        changed = features["token_ids"][part] != ids.numpy()
        chosen = np.zeros_like(changed)
        real = weights["mlm_logits"][part] > 0
        np.put_along_axis(chosen, features["mask_positions"][part], real, 1)
        assert not np.any(changed & ~chosen)
        original = np.take_along_axis(ids.numpy(), features["mask_positions"][part], 1)
        np.testing.assert_array_equal(labels["mlm_logits"][part][real], original[real])
    assert not np.array_equal(features["mask_positions"][:48], features["mask_positions"][48:])
    assert np.all(weights["mlm_logits"].sum(1) >= 1)
    with pytest.raises(ValueError, match="copies=0"):
        pretraining_arrays(documents, tokenizer, 24, copies=0)
    with pytest.raises(ValueError, match="two or more sentences"):
        pretraining_arrays([["only one"]], tokenizer, 24)
