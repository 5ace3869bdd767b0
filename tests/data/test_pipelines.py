"""Tests of zoo.data.pipelines: static shapes, shifting, packing, determinism, bad text."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.data.language_model import language_model_dataset
from zoo.data.pipelines import (
    classification_arrays,
    classification_dataset,
    pack_token_ids,
    tokenize_and_batch,
    translation_arrays,
    translation_dataset,
)

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[BOS]", "[EOS]"]
WORDS = [f"w{i}" for i in range(40)]


class StandInTokenizer(keras.layers.Layer):
    """Whitespace tokenizer over a fixed vocabulary, with zoo's tokenizer interface."""

    def __init__(self, words=WORDS, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary = SPECIALS + list(words)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(self.vocabulary), tf.range(len(self.vocabulary), dtype=tf.int32)
            ),
            default_value=1,
        )

    def token_to_id(self, token):
        return self.vocabulary.index(token)

    pad_token_id = property(lambda self: 0)
    cls_token_id = property(lambda self: 2)
    sep_token_id = property(lambda self: 3)
    mask_token_id = property(lambda self: 4)
    bos_token_id = property(lambda self: 5)
    eos_token_id = property(lambda self: 6)

    def vocabulary_size(self):
        return len(self.vocabulary)

    def tokenize(self, text, sequence_length=None):
        ids = self.table.lookup(tf.strings.split(text))
        if sequence_length is not None:
            return ids.to_tensor(self.pad_token_id, shape=[None, sequence_length])
        return ids

    def call(self, text):
        return self.tokenize(text)


@pytest.fixture(scope="module")
def tokenizer():
    return StandInTokenizer()


def ids_of(*words):
    return [len(SPECIALS) + int(word[1:]) for word in words]


def batches(dataset):
    return [tf.nest.map_structure(lambda t: t.numpy(), batch) for batch in dataset]


def assert_static(dataset):
    for spec in tf.nest.flatten(dataset.element_spec):
        assert spec.shape.is_fully_defined(), f"dynamic shape in {dataset.element_spec}"


def assert_same_batches(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        tf.nest.map_structure(np.testing.assert_array_equal, a, b)


def first_ids(batch_list):
    features = batch_list[0][0]
    return features.get("token_ids", features.get("encoder_token_ids"))


def documents(count, seed=0):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(1, 12))) for _ in range(count)]


def test_pack_token_ids_truncates_adds_specials_and_pads():
    ids = tf.ragged.constant([[7, 8, 9, 10], [], [11]], dtype=tf.int64)
    token_ids, mask = pack_token_ids(ids, 4, pad_token_id=0, start_token_id=2, end_token_id=3)
    np.testing.assert_array_equal(token_ids, [[2, 7, 8, 3], [2, 3, 0, 0], [2, 11, 3, 0]])
    np.testing.assert_array_equal(mask, [[1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 1, 0]])
    assert token_ids.dtype == tf.int32 and mask.dtype == tf.bool
    with pytest.raises(ValueError, match="sequence_length=1"):
        pack_token_ids(ids, 1, 0, start_token_id=2, end_token_id=3)
    # keep_end_token=False: a row cut short has no end token (no false end of text), and
    # an empty row is the start token followed by the end token.
    token_ids, mask = pack_token_ids(
        ids, 4, pad_token_id=0, start_token_id=5, end_token_id=6, keep_end_token=False
    )
    np.testing.assert_array_equal(token_ids, [[5, 7, 8, 9], [5, 6, 0, 0], [5, 11, 6, 0]])
    np.testing.assert_array_equal(mask, [[1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 1, 0]])


def test_tokenize_and_batch_static_shapes_drop_remainder_and_passthrough(tokenizer):
    texts = ["w1 w2 w3", "w4", "w5 w6 w7 w8 w9 w10", "", "w1", "w2 w3", "w9"]
    dataset = tokenize_and_batch(texts, tokenizer, sequence_length=5, batch_size=3)
    assert_static(dataset)
    result = batches(dataset)
    assert len(result) == 2  # 7 examples, batch 3: the incomplete last batch is dropped
    first = result[0]
    np.testing.assert_array_equal(
        first["token_ids"],
        [[*ids_of("w1", "w2", "w3"), 0, 0], ids_of("w4") + [0] * 4, ids_of(*texts[2].split())[:5]],
    )
    np.testing.assert_array_equal(first["padding_mask"].sum(axis=1), [3, 1, 5])
    assert first["token_ids"].dtype == np.int32 and first["padding_mask"].dtype == bool

    with_labels = tokenize_and_batch(
        tf.data.Dataset.from_tensor_slices((texts[:4], [0, 1, 2, 3])),
        tokenizer,
        sequence_length=5,
        batch_size=2,
    )
    assert_static(with_labels)
    features, labels = batches(with_labels)[1]
    np.testing.assert_array_equal(labels, [2, 3])
    np.testing.assert_array_equal(features["padding_mask"][1], [0] * 5)  # the empty text


def test_tokenize_and_batch_applies_preprocessor_layer(tokenizer):
    class Lowercase(keras.layers.Layer):
        def call(self, inputs):
            return tf.strings.lower(inputs)

    dataset = tokenize_and_batch(
        ["W1 W2", "w3"], tokenizer, sequence_length=3, batch_size=2, preprocessor=Lowercase()
    )
    np.testing.assert_array_equal(
        batches(dataset)[0]["token_ids"], [[*ids_of("w1", "w2"), 0], [*ids_of("w3"), 0, 0]]
    )
    dataset = tokenize_and_batch(
        ["W1"], tokenizer, sequence_length=2, batch_size=1, preprocessor=tf.strings.lower
    )
    np.testing.assert_array_equal(batches(dataset)[0]["token_ids"], [[*ids_of("w1"), 0]])


def test_translation_dataset_shifts_labels(tokenizer):
    pairs = [("w1 w2 w3", "w4 w5"), ("w6", "w7 w8 w9 w10 w11 w12")]
    dataset = translation_dataset(
        pairs,
        tokenizer,
        source_length=4,
        target_length=4,
        batch_size=2,
        shuffle=False,
        sample_weights=True,
    )
    assert_static(dataset)
    (features, labels, weights), *rest = batches(dataset)
    assert not rest
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    a, b = ids_of("w4", "w5")
    np.testing.assert_array_equal(features["decoder_token_ids"][0], [bos, a, b, 0])
    np.testing.assert_array_equal(labels[0], [a, b, eos, 0])
    np.testing.assert_array_equal(features["decoder_padding_mask"][0], [1, 1, 1, 0])
    np.testing.assert_array_equal(weights[0], [1, 1, 1, 0])
    # A long target is truncated to target_length - 1 ids; BOS and EOS are kept.
    np.testing.assert_array_equal(
        features["decoder_token_ids"][1], [bos, *ids_of("w7", "w8", "w9")]
    )
    np.testing.assert_array_equal(labels[1], [*ids_of("w7", "w8", "w9"), eos])
    np.testing.assert_array_equal(
        features["encoder_token_ids"], [[*ids_of("w1", "w2", "w3"), 0], ids_of("w6") + [0] * 3]
    )
    np.testing.assert_array_equal(features["encoder_padding_mask"][1], [1, 0, 0, 0])
    for key, value in features.items():
        assert value.dtype == (bool if "mask" in key else np.int32), key
    assert labels.dtype == np.int32 and weights.dtype == np.float32
    # Teacher forcing: each label is the next decoder input.
    mask = features["decoder_padding_mask"][:, 1:]
    np.testing.assert_array_equal(labels[:, :-1][mask], features["decoder_token_ids"][:, 1:][mask])


def test_translation_dataset_two_tokenizers_and_dataset_input(tokenizer):
    class Offset(StandInTokenizer):
        bos_token_id = property(lambda self: 40)

    pairs = tf.data.Dataset.from_tensor_slices((["w1", "w2"], ["w3", "w4"]))
    dataset = translation_dataset(pairs, tokenizer, Offset(), 3, 3, 2, shuffle=False)
    features, _ = batches(dataset)[0]
    np.testing.assert_array_equal(features["decoder_token_ids"][:, 0], [40, 40])


def test_translation_arrays_are_the_dataset_rows_at_once(tokenizer):
    pairs = [("w1 w2 w3 w4 w5", "w4 w5"), ("w6", "w7 w8 w9 w10 w11 w12"), ("", ""), ("w2", "w3")]
    features, labels = translation_arrays(pairs, tokenizer, source_length=4, target_length=4)
    (expected, expected_labels), *_ = batches(
        translation_dataset(pairs, tokenizer, source_length=4, target_length=4, batch_size=4,
                            shuffle=False)
    )  # fmt: skip
    assert features.keys() == expected.keys()
    for key, value in features.items():
        assert isinstance(value, np.ndarray) and value.dtype == expected[key].dtype, key
        np.testing.assert_array_equal(value, expected[key])
    np.testing.assert_array_equal(labels, expected_labels)
    assert labels.dtype == np.int32 and labels.shape == (4, 4)
    np.testing.assert_array_equal(features["encoder_padding_mask"][2], [0, 0, 0, 0])
    np.testing.assert_array_equal(labels[2], [tokenizer.eos_token_id, 0, 0, 0])
    # Already tokenized pairs (ragged ids) give the same arrays without tokenizing again.
    sources = tokenizer.tokenize(tf.constant([source for source, _ in pairs]))
    targets = tokenizer.tokenize(tf.constant([target for _, target in pairs]))
    again, again_labels = translation_arrays((sources, targets), tokenizer, None, 4, 4)
    for key, value in features.items():
        np.testing.assert_array_equal(again[key], value)
    np.testing.assert_array_equal(again_labels, labels)
    # A dataset of pairs, invalid UTF-8 repaired as the dataset does.
    dataset = tf.data.Dataset.from_tensor_slices(([b"\xff w1", b"w2"], [b"w3", b"w4"]))
    features, _ = translation_arrays(dataset, tokenizer, source_length=3, target_length=3)
    np.testing.assert_array_equal(features["encoder_token_ids"][0], [1, *ids_of("w1"), 0])
    with pytest.raises(ValueError, match="single string"):
        translation_arrays("w1 w2", tokenizer)
    with pytest.raises(ValueError, match="empty pairs"):
        translation_arrays([], tokenizer)
    with pytest.raises(ValueError, match=r"not all \(source, target\)"):
        translation_arrays(["w1", "w2"], tokenizer)
    with pytest.raises(ValueError, match="target_length=1"):
        translation_arrays(pairs, tokenizer, source_length=4, target_length=1)


def test_classification_dataset_adds_cls_and_sep(tokenizer):
    texts = ["w1 w2 w3 w4 w5", "w6", "w7", "w8"]
    dataset = classification_dataset(
        (texts, np.array([1, 0, 1, 0], "int64")), tokenizer, 4, 2, shuffle=False
    )
    assert_static(dataset)
    features, labels = batches(dataset)[0]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    np.testing.assert_array_equal(
        features["token_ids"], [[cls, *ids_of("w1", "w2"), sep], [cls, *ids_of("w6"), sep, 0]]
    )
    np.testing.assert_array_equal(labels, [1, 0])
    assert labels.dtype == np.int32
    rows = classification_dataset(list(zip(texts, [0.5, 1.5, 2.5, 3.5])), tokenizer, 4, 2)
    assert rows.element_spec[1].dtype == tf.float32


def test_classification_arrays_are_the_dataset_rows_at_once(tokenizer):
    texts = ["w1 w2 w3 w4 w5", "w6", "", "w7 w8"]
    arrays = classification_arrays(texts, tokenizer, 4)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    np.testing.assert_array_equal(
        arrays["token_ids"],
        [[cls, *ids_of("w1", "w2"), sep], [cls, *ids_of("w6"), sep, 0], [cls, sep, 0, 0],
         [cls, *ids_of("w7", "w8"), sep]],
    )  # fmt: skip
    np.testing.assert_array_equal(arrays["padding_mask"].sum(axis=1), [4, 3, 2, 4])
    np.testing.assert_array_equal(arrays["segment_ids"], np.zeros((4, 4)))
    for value in arrays.values():
        assert value.dtype == np.int32 and value.shape == (4, 4)
    (features, _), *_ = batches(
        classification_dataset((texts, [0, 1, 0, 1]), tokenizer, 4, 4, shuffle=False)
    )
    np.testing.assert_array_equal(arrays["token_ids"], features["token_ids"])
    np.testing.assert_array_equal(arrays["padding_mask"], features["padding_mask"])
    dataset = tf.data.Dataset.from_tensor_slices([b"\xff w1", b"w2"])
    np.testing.assert_array_equal(
        classification_arrays(dataset, tokenizer, 4)["token_ids"][:, 2], [ids_of("w1")[0], sep]
    )  # invalid UTF-8 becomes U+FFFD, an unknown word
    with pytest.raises(ValueError, match="single string"):
        classification_arrays("w1 w2", tokenizer, 4)
    with pytest.raises(ValueError, match="empty texts"):
        classification_arrays([], tokenizer, 4)


def test_determinism_for_a_seed(tokenizer):
    texts = documents(64, seed=3)
    pairs = list(zip(texts, reversed(texts)))

    numbered = list(zip(texts, range(64)))

    def build(seed, reshuffle=False):
        return [
            tokenize_and_batch(numbered, tokenizer, 8, 4, shuffle=True, seed=seed,
                               reshuffle_each_iteration=reshuffle, shuffle_buffer_size=32),
            classification_dataset((texts, [0] * 64), tokenizer, 8, 4, seed=seed,
                                   reshuffle_each_iteration=reshuffle),
            translation_dataset(pairs, tokenizer, None, 6, 6, 8, seed=seed,
                                reshuffle_each_iteration=reshuffle),
        ]  # fmt: skip

    for first, second, other in zip(build(7), build(7), build(8)):
        epoch = batches(first)
        assert_same_batches(epoch, batches(second))  # rebuilt: same batches
        assert_same_batches(epoch, batches(first))  # second epoch: same order
        assert not np.array_equal(first_ids(epoch), first_ids(batches(other)))  # other seed
    # With reshuffling, each epoch differs, but the epoch sequence repeats for the seed.
    first, second = build(7, reshuffle=True)[2], build(7, reshuffle=True)[2]
    epochs = [batches(first), batches(first)]
    assert not np.array_equal(first_ids(epochs[0]), first_ids(epochs[1]))
    assert_same_batches(epochs[0] + epochs[1], batches(second) + batches(second))


def test_bad_text_flows_through(tokenizer):
    texts = [b"", b"   ", b"\xff\xfe w1 \xc3", "w2 😀 мир".encode(), b"\x00\x07 w3", b"w1 " * 5000]
    for dataset in (
        tokenize_and_batch(texts, tokenizer, 6, 2),
        language_model_dataset(texts, tokenizer, 4, 2),
        translation_dataset(list(zip(texts, texts)), tokenizer, None, 5, 5, 2),
        classification_dataset((texts, [0] * 6), tokenizer, 5, 2),
    ):
        assert_static(dataset)
        assert batches(dataset)


def test_errors_say_what_was_received(tokenizer):
    with pytest.raises(ValueError, match="empty texts"):
        language_model_dataset([], tokenizer, 4, 2)
    with pytest.raises(ValueError, match="single string"):
        tokenize_and_batch("w1 w2", tokenizer, 4, 2)
    with pytest.raises(ValueError, match="sequence_length=0"):
        tokenize_and_batch(["w1"], tokenizer, 0, 2)
    with pytest.raises(ValueError, match="batch_size"):
        tokenize_and_batch(["w1"], tokenizer, 4, None)
    with pytest.raises(ValueError, match=r"expected scalar tf\.string"):
        tokenize_and_batch(tf.data.Dataset.range(3), tokenizer, 4, 2)
    with pytest.raises(ValueError, match="source, target"):
        translation_dataset(["w1"], tokenizer, None, 4, 4, 2)

    class NoSpecials(StandInTokenizer):
        bos_token_id = property(lambda self: None)

    with pytest.raises(ValueError, match="bos_token_id"):
        translation_dataset([("w1", "w2")], NoSpecials(), None, 4, 4, 1)


def test_integration_with_wordpiece_and_bundled_corpus():
    tokenizers = pytest.importorskip("zoo.text.tokenizers")
    corpus = pytest.importorskip("zoo.data.corpus")
    from zoo.data.loaders import load_text_dataset, load_translation_pairs

    pairs = corpus.load_pairs("validation", "ru-en")
    tokenizer = tokenizers.WordPieceTokenizer.train(
        [text for pair in pairs for text in pair], vocabulary_size=600, verbose=False
    )
    dataset = translation_dataset(
        load_translation_pairs("bundled", "validation", "ru-en"), tokenizer, None, 16, 12, 8,
        seed=0, sample_weights=True,
    )  # fmt: skip
    assert_static(dataset)
    features, labels, weights = next(iter(dataset))
    decoder_ids = features["decoder_token_ids"].numpy()
    assert (decoder_ids[:, 0] == tokenizer.bos_token_id).all()
    lengths = features["decoder_padding_mask"].numpy().sum(axis=1)
    labels = labels.numpy()
    # The label row is the decoder row shifted left by one, ending in EOS.
    for row, length in enumerate(lengths):
        np.testing.assert_array_equal(labels[row, : length - 1], decoder_ids[row, 1:length])
        assert labels[row, length - 1] == tokenizer.eos_token_id
        assert (labels[row, length:] == tokenizer.pad_token_id).all()
    np.testing.assert_array_equal(weights.numpy().sum(axis=1), lengths)
    text = tokenizer.detokenize(features["encoder_token_ids"][:1]).numpy()[0].decode()
    assert text.split()[0] in " ".join(source.lower() for source, _ in pairs)

    lm = language_model_dataset(load_text_dataset("bundled:en", "validation"), tokenizer, 16, 4)
    assert_static(lm)
    (lm_features, lm_labels), *_ = batches(lm.take(2))
    np.testing.assert_array_equal(lm_features["token_ids"][:, 1:], lm_labels[:, :-1])
    assert lm_features["padding_mask"].all()
    texts = corpus.load_text("ru", "validation")
    classes = classification_dataset((texts, [i % 2 for i in range(len(texts))]), tokenizer, 16, 4)
    cls_features, _ = next(iter(classes))
    assert (cls_features["token_ids"].numpy()[:, 0] == tokenizer.cls_token_id).all()
