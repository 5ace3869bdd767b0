import keras
import numpy as np
import pytest

from tests.test_case import assert_all_close, run_layer_test, run_saving_test
from zoo.layers.sentence_embedding import SentenceEmbedding, SentenceIndex, cosine_search


def _vectors(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], "int32")


def test_layer_on_token_vectors():
    output = run_layer_test(
        SentenceEmbedding,
        {"normalize": False},
        [_vectors(2, 5, 8), MASK],
        expected_output_shape=(2, 8),
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
    )
    vectors = _vectors(2, 5, 8)
    expected = np.stack([vectors[0, :3].mean(0), vectors[1].mean(0)])
    assert_all_close(output, expected, atol=1e-5)


def test_layer_on_token_ids():
    ids = np.array([[3, 4, 5, 0, 0], [7, 1, 2, 9, 4]], "int32")
    run_layer_test(
        SentenceEmbedding,
        {"vocabulary_size": 12, "hidden_dim": 6, "frequency_weighting": True},
        ids,
        expected_output_shape=(2, 6),
        expected_num_trainable_weights=1,
        expected_num_non_trainable_weights=1,
    )


def test_ids_with_a_matrix_skip_padding():
    matrix = _vectors(10, 4)
    layer = SentenceEmbedding(embeddings=matrix)
    assert layer.vocabulary_size == 10 and layer.hidden_dim == 4
    output = layer(np.array([[3, 5, 0, 0], [0, 0, 0, 0]]))
    assert_all_close(output, np.stack([matrix[[3, 5]].mean(0), np.zeros(4)]), atol=1e-6)
    # an explicit mask wins over the padding id
    output = layer(np.array([[3, 5, 0, 0]]), padding_mask=np.array([[1, 0, 1, 0]]))
    assert_all_close(output, matrix[[3, 0]].mean(0)[None], atol=1e-6)


def test_frequency_weighting_is_sif():
    counts = np.array([0, 0, 50, 30, 15, 5], "float64")
    matrix = _vectors(6, 3)
    layer = SentenceEmbedding(embeddings=matrix, token_frequencies=counts, smoothing=0.1)
    assert layer.frequency_weighting
    ids = np.array([[2, 3, 5, 0]])
    weights = 0.1 / (0.1 + counts[[2, 3, 5]] / counts.sum())
    expected = (weights[:, None] * matrix[[2, 3, 5]]).sum(0) / weights.sum()
    assert_all_close(layer(ids), expected[None], atol=1e-5)
    # vectors plus token_ids (e.g. BERT outputs) weigh the same way
    vectors = matrix[ids]
    assert_all_close(layer(vectors, padding_mask=ids > 0, token_ids=ids), expected[None], atol=1e-5)


def test_normalize_and_keras_mask():
    layer = SentenceEmbedding(normalize=True)
    output = keras.ops.convert_to_numpy(layer(_vectors(3, 4, 5), padding_mask=np.ones((3, 4))))
    np.testing.assert_allclose(np.linalg.norm(output, axis=1), 1.0, rtol=1e-5)
    # a Keras mask from Embedding(mask_zero=True) is used when no padding_mask is given
    inputs = keras.Input((4,), dtype="int32")
    embedded = keras.layers.Embedding(10, 3, mask_zero=True)(inputs)
    model = keras.Model(inputs, SentenceEmbedding()(embedded))
    ids = np.array([[1, 2, 0, 0]])
    table = keras.ops.convert_to_numpy(model.layers[1].embeddings)
    assert_all_close(model(ids), table[[1, 2]].mean(0)[None], atol=1e-6)


def test_saving_round_trip():
    inputs = keras.Input((5,), dtype="int32")
    layer = SentenceEmbedding(embeddings=_vectors(12, 4), token_frequencies=np.arange(12) + 1)
    model = keras.Model(inputs, layer(inputs))
    run_saving_test(model, np.array([[3, 4, 5, 0, 0]], "int32"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"embeddings": np.ones(3)}, "embeddings of shape"),
        ({"embeddings": np.ones((3, 2)), "hidden_dim": 4}, "hidden_dim=4"),
        ({"hidden_dim": 4}, "without vocabulary_size"),
        ({"frequency_weighting": True}, "without vocabulary_size"),
        ({"vocabulary_size": 4, "token_frequencies": [1, 2]}, "token_frequencies"),
        ({"smoothing": 0}, "smoothing=0"),
    ],
)
def test_constructor_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SentenceEmbedding(**kwargs)


def test_call_errors():
    with pytest.raises(ValueError, match="holds no embedding matrix"):
        SentenceEmbedding()(np.array([[1, 2]]))
    layer = SentenceEmbedding(embeddings=np.ones((4, 2)), token_frequencies=np.ones(4))
    with pytest.raises(ValueError, match="without token_ids"):
        layer(np.ones((1, 2, 2), "float32"))


def test_cosine_search_and_index():
    vectors = _vectors(50, 6)
    queries = _vectors(3, 6, seed=1)
    scores, indices = cosine_search(queries, vectors, k=4)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    brute = (queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ unit.T
    np.testing.assert_array_equal(indices, np.argsort(-brute, axis=1)[:, :4])
    np.testing.assert_allclose(scores, np.sort(brute, axis=1)[:, ::-1][:, :4], rtol=1e-5)

    sentences = [f"sentence {i}" for i in range(50)]
    index = SentenceIndex(sentences, vectors=vectors)
    hits = index.search(vectors[7], k=2)
    assert hits[0][0] == "sentence 7" and hits[0][1] == pytest.approx(1.0)
    assert len(index.search(vectors[:3], k=2)) == 3
    with pytest.raises(ValueError, match="has no encoder"):
        index.search("a text")
    with pytest.raises(ValueError, match="one vector per sentence"):
        SentenceIndex(sentences[:3], vectors=vectors)
    with pytest.raises(ValueError, match="same encoder"):
        cosine_search(np.ones(4), vectors)
    with pytest.raises(ValueError, match="k=0"):
        cosine_search(queries, vectors, k=0)
