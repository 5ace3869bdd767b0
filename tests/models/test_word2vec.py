import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_saving_test
from zoo.data import (
    Word2VecData,
    keep_probabilities,
    negative_sampling_table,
    tokenize_corpus,
    window_offsets,
    word2vec_dataset,
)
from zoo.models.word2vec import Word2Vec, word2vec_optimizer
from zoo.text.tokenizers import WordPieceTokenizer, WordTokenizer


def _pairs(dataset, window):
    """All (center, context, offset) pairs with weight 1."""
    offsets = window_offsets(window)
    pairs = []
    for batch in dataset:
        centers = batch["center_ids"].numpy()
        contexts = batch["context_ids"].numpy()
        weights = batch["context_weights"].numpy()
        for i in range(weights.shape[0]):
            for j, offset in enumerate(offsets):
                if weights[i, j]:
                    pairs.append((int(centers[i]), int(contexts[i, j]), offset))
    return pairs


def _numpy_batches(dataset):
    return [{key: value.numpy() for key, value in batch.items()} for batch in dataset]


# --------------------------------------------------------------------------- pipeline
def test_pairs_are_exactly_the_window_pairs_within_documents():
    documents = [[10, 11, 12, 13, 14], [20, 21], [30]]
    ids, splits = tokenize_corpus(documents)
    dataset, info = word2vec_dataset(
        ids, splits, 40, window=2, batch_size=3, sample=0, dynamic_window=False
    )
    expected = []
    for document in documents:
        for i, center in enumerate(document):
            for offset in (-2, -1, 1, 2):
                if 0 <= i + offset < len(document):
                    expected.append((center, document[i + offset], offset))
    assert sorted(_pairs(dataset, 2)) == sorted(expected)
    assert info["num_tokens"] == 8
    assert info["epoch_steps"] == [3] and info["total_steps"] == 3  # 8 centers, 3 a step
    batch = next(iter(dataset))
    assert batch["center_ids"].shape == (3,)
    assert batch["context_ids"].shape == batch["context_weights"].shape == (3, 4)
    assert batch["negative_ids"].shape == (3, 5)
    assert len(list(dataset)) == 3
    # the centers are the stream in order, column j of the contexts the token at offset
    # window_offsets(2)[j] (0 past either end); the padding of the last step trains nothing
    batches = _numpy_batches(dataset)
    centers = np.concatenate([b["center_ids"] for b in batches])
    contexts = np.concatenate([b["context_ids"] for b in batches])
    np.testing.assert_array_equal(centers[:8], ids)
    padded = np.concatenate([[0, 0], ids, np.zeros(len(centers) - 8 + 2, int)])
    for j, offset in enumerate(window_offsets(2)):
        np.testing.assert_array_equal(contexts[:, j], padded[2 + offset : 2 + offset + 9])
    assert not batches[-1]["context_weights"][-1].any()


def test_dynamic_window_subsampling_and_exclusions():
    rng = np.random.default_rng(0)
    documents = [list(rng.integers(0, 30, rng.integers(1, 40))) for _ in range(60)]
    document_of = {}
    for d, document in enumerate(documents):
        for token in set(document):
            document_of.setdefault(token, set()).add(d)
    ids, splits = tokenize_corpus(documents)
    dataset, info = word2vec_dataset(
        ids, splits, 30, window=3, batch_size=64, epochs=2, excluded_ids=[0, 1], min_count=2
    )
    pairs = _pairs(dataset, 3)
    assert pairs
    counts = info["counts"]
    for center, context, _ in pairs:
        # reserved and rare ids never train; context never crosses a document
        assert center not in (0, 1) and context not in (0, 1)
        assert counts[center] >= 2 and counts[context] >= 2
        assert document_of[center] & document_of[context]
    # the dynamic window draws every reach from 1 to window
    assert {abs(offset) for _, _, offset in pairs} == {1, 2, 3}


def test_documents_never_share_context():
    documents = [[5] * 7, [6] * 7, [7] * 7]
    ids, splits = tokenize_corpus(documents)
    dataset, _ = word2vec_dataset(ids, splits, 8, window=4, batch_size=5, sample=0)
    assert all(center == context for center, context, _ in _pairs(dataset, 4))


def test_subsampling_formula_and_negative_table():
    counts = np.array([0, 1000, 100, 10, 1, 50])
    trainable = np.array([False, True, True, True, True, False])
    keep = keep_probabilities(counts, 1e-2, trainable)
    threshold = 1e-2 * (1000 + 100 + 10 + 1)
    for i in (1, 2, 3, 4):
        formula = (np.sqrt(counts[i] / threshold) + 1) * threshold / counts[i]
        assert keep[i] == pytest.approx(min(1.0, formula), rel=1e-6)
    assert keep[0] == 0 and keep[5] == 0 and keep[1] < keep[2] < 1.0 and keep[4] == 1.0
    assert np.all(keep_probabilities(counts, 0, trainable)[trainable] == 1)
    table = negative_sampling_table(counts, trainable, table_size=200_000)
    frequencies = np.bincount(table, minlength=6) / len(table)
    expected = np.where(trainable, counts, 0) ** 0.75
    np.testing.assert_allclose(frequencies, expected / expected.sum(), atol=1e-3)


def test_pipeline_is_deterministic_with_a_seed():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 50, 3000).astype(np.int32)

    def first_batches(seed):
        dataset, _ = word2vec_dataset(ids, [0, len(ids)], 50, batch_size=256, seed=seed)
        return _numpy_batches(dataset.take(3))

    a, b, c = first_batches(3), first_batches(3), first_batches(4)
    for x, y in zip(a, b):
        for key in x:
            np.testing.assert_array_equal(x[key], y[key])
    assert any(not np.array_equal(x["negative_ids"], z["negative_ids"]) for x, z in zip(a, c))


def test_batches_are_a_function_of_the_step():
    """A run resumed at any step sees the batches an uninterrupted run sees, and the
    processes of a multi-host run each get their own rows of the same global batch."""
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 40, 2000).astype(np.int32)
    data = Word2VecData(ids, [0, 700, 2000], 40, window=2, batch_size=128, epochs=3, seed=5)
    assert len(data.epoch_steps) == 3 and data.total_steps == sum(data.epoch_steps)
    kept = data.keep_probabilities[ids]
    assert data.epoch_steps[0] == pytest.approx(kept.sum() / 128, abs=2)  # subsampled
    every = _numpy_batches(data.dataset())
    assert len(every) == data.total_steps
    for start in (0, 1, data.epoch_steps[0], data.epoch_steps[0] + 2, data.total_steps - 1):
        tail = _numpy_batches(data.dataset(start))
        assert len(tail) == data.total_steps - start
        for x, y in zip(every[start:], tail):
            for key in x:
                np.testing.assert_array_equal(x[key], y[key])
    middle = _numpy_batches(data.dataset(3, 5))
    assert len(middle) == 2
    np.testing.assert_array_equal(middle[1]["negative_ids"], every[4]["negative_ids"])
    assert data.epoch_of(0) == 0 and data.epoch_of(data.epoch_steps[0]) == 1
    halves = [_numpy_batches(data.dataset(2, 3, shard=(p, 2)))[0] for p in (0, 1)]
    for key in every[2]:
        np.testing.assert_array_equal(np.concatenate([h[key] for h in halves]), every[2][key])
    with pytest.raises(ValueError, match="total_steps"):
        data.dataset(data.total_steps + 1)
    with pytest.raises(ValueError, match="multiple of 3"):
        data.dataset(shard=(0, 3))
    # no autotuner: its thread made deleting an exhausted iterator wait for seconds
    assert data.dataset().options().autotune.enabled is False


def test_steps_per_element_stacks_whole_steps():
    """`steps_per_element=k` gives the same steps, k an element, zero-padded past the
    last, with their count; its cardinality is unknown (Keras then counts steps)."""
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 40, 1500).astype(np.int32)
    data = Word2VecData(ids, [0, 600, 1500], 40, window=2, batch_size=64, epochs=2, seed=1)
    every = _numpy_batches(data.dataset())
    start = 3
    grouped = _numpy_batches(data.dataset(start, steps_per_element=4))
    assert data.dataset(steps_per_element=4).cardinality() == tf.data.UNKNOWN_CARDINALITY
    counts = [int(g["steps"]) for g in grouped]
    assert counts[:-1] == [4] * (len(counts) - 1) and sum(counts) == data.total_steps - start
    assert 0 < counts[-1] <= 4 and (data.total_steps - start) % 4 == counts[-1] % 4
    for number, group in enumerate(grouped):
        assert group["center_ids"].shape == (4, 64)
        assert group["context_ids"].shape == group["context_weights"].shape == (4, 64, 4)
        for k in range(4):
            step = start + 4 * number + k
            for key in every[0]:
                if k < counts[number]:
                    np.testing.assert_array_equal(group[key][k], every[step][key])
                else:  # padding: no pair, never run
                    assert not group[key][k].any()
    with pytest.raises(ValueError, match="steps_per_element"):
        data.dataset(steps_per_element=0)


def test_pipeline_errors():
    ids, splits = tokenize_corpus([[1, 2, 3]])
    with pytest.raises(ValueError, match=r"token ids in \[1, 3\].*vocabulary_size=3"):
        word2vec_dataset(ids, splits, 3)
    with pytest.raises(ValueError, match="nothing to train"):
        word2vec_dataset(ids, splits, 10, excluded_ids=[1, 2, 3])
    with pytest.raises(ValueError, match="window=0"):
        word2vec_dataset(ids, splits, 10, window=0)
    with pytest.raises(ValueError, match="not a file"):
        tokenize_corpus("no such file.txt", WordTokenizer(["[PAD]", "[UNK]", "a"]))
    with pytest.raises(ValueError, match="no tokenizer"):
        tokenize_corpus(["some text"])


# ------------------------------------------------------------------------ train step
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_sgd_step(mode, embeddings, contexts, batch, lr):
    """word2vec's SGD for every center of a batch at once (updates from the old values).

    Returns the new matrices and the loss per pair (skip-gram) or per center (CBOW).
    """
    e, c = embeddings.astype(np.float64), contexts.astype(np.float64)
    new_e, new_c = e.copy(), c.copy()
    centers, context_ids = batch["center_ids"], batch["context_ids"]
    weights, negatives = batch["context_weights"], batch["negative_ids"]
    loss, count = 0.0, 0.0
    for i in range(len(centers)):
        pairs = weights[i].sum()
        if mode == "skipgram":
            v = e[centers[i]]
            targets = list(zip(context_ids[i], weights[i], [1.0] * len(weights[i])))
            targets += [(n, pairs, -1.0) for n in negatives[i]]
            for token, weight, sign in targets:
                score = v @ c[token]
                loss -= weight * np.log(_sigmoid(sign * score))
                scale = lr * weight * sign * _sigmoid(-sign * score)
                new_e[centers[i]] += scale * c[token]
                new_c[token] += scale * v
            count += pairs
        else:
            hidden = (weights[i][:, None] * e[context_ids[i]]).sum(0) / max(pairs, 1.0)
            active = float(pairs > 0)
            step = np.zeros_like(hidden)
            for token, sign in [(centers[i], 1.0)] + [(n, -1.0) for n in negatives[i]]:
                score = hidden @ c[token]
                loss -= active * np.log(_sigmoid(sign * score))
                scale = lr * active * sign * _sigmoid(-sign * score)
                step += scale * c[token]
                new_c[token] += scale * hidden
            for token, weight in zip(context_ids[i], weights[i]):
                new_e[token] += weight * step  # the whole step of the mean (word2vec.c)
            count += active
    return new_e, new_c, loss / max(count, 1.0)


def sgd_step_case(seed=0, vocabulary=12, dim=6, window=2, k=3, batch=8):
    """Matrices and a batch (with repeated ids and partial windows) for one SGD step."""
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(0, 0.3, (vocabulary, dim)).astype("float32")
    contexts = rng.normal(0, 0.3, (vocabulary, dim)).astype("float32")
    weights = (rng.random((batch, 2 * window)) < 0.7).astype("float32")
    weights[0] = 0  # a center with no context: no update, not counted
    step = {
        "center_ids": rng.integers(0, vocabulary, batch).astype("int32"),
        "context_ids": rng.integers(0, vocabulary, (batch, 2 * window)).astype("int32"),
        "context_weights": weights,
        "negative_ids": rng.integers(0, vocabulary, (batch, k)).astype("int32"),
    }
    return embeddings, contexts, step


@pytest.mark.parametrize("mode", ["skipgram", "cbow"])
def test_keras_train_step_matches_word2vec_updates(mode):
    embeddings, contexts, batch = sgd_step_case()
    model = Word2Vec(vocabulary_size=12, hidden_dim=6, window=2, num_negatives=3, mode=mode)
    model.token_embedding.embeddings.assign(embeddings)
    model.context_embedding.embeddings.assign(contexts)
    slots = 2 * 2 + 3 if mode == "skipgram" else 1 + 3
    assert model(batch).shape == (8, slots) and model(batch["center_ids"]).shape == (8, 6)
    model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=True)
    loss = model.train_on_batch(batch)  # Keras' own train_step
    expected_e, expected_c, expected_loss = reference_sgd_step(
        mode, embeddings, contexts, batch, 0.1
    )
    np.testing.assert_allclose(model.embeddings, expected_e, atol=1e-5)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.context_embedding.embeddings), expected_c, atol=1e-5
    )
    assert float(loss) == pytest.approx(expected_loss, rel=1e-5) and expected_loss > 0


def _fused_fit(model, batch, optimizer):
    """One `fit` step through the fused execution (TensorFlow with XLA, 2 steps per call)."""
    from zoo.models.word2vec_steps import FusedExecution

    model.compile(optimizer=optimizer, jit_compile=True, steps_per_execution=2)
    dataset = tf.data.Dataset.from_tensors({k: tf.constant(v) for k, v in batch.items()})
    history = model.fit(dataset, steps_per_epoch=1, shuffle=False, verbose=0)
    assert isinstance(model.train_function, FusedExecution)
    return model.train_function, history.history["loss"][-1]


@pytest.mark.parametrize("mode", ["skipgram", "cbow"])
def test_sgd_kernel_matches_word2vec_updates_and_is_shared(mode):
    """With plain SGD the fused execution runs the closed-form kernel: word2vec's update
    and loss, Keras' iterations; a second model of the same shapes reuses its trace."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the fused execution is the TensorFlow backend's")
    from zoo.models.word2vec_steps import _sgd_execution

    embeddings, contexts, batch = sgd_step_case()
    expected_e, expected_c, expected_loss = reference_sgd_step(
        mode, embeddings, contexts, batch, 0.1
    )
    traces = []
    for _ in range(2):
        model = Word2Vec(vocabulary_size=12, hidden_dim=6, window=2, num_negatives=3, mode=mode)
        model.token_embedding.embeddings.assign(embeddings)
        model.context_embedding.embeddings.assign(contexts)
        execution, loss = _fused_fit(model, batch, keras.optimizers.SGD(0.1))
        assert execution.uses_kernel and not execution.framed  # random contexts: pairs
        functions = _sgd_execution(mode, 2).functions
        traces.append(sum(f.experimental_get_tracing_count() for f in functions))
        np.testing.assert_allclose(model.embeddings, expected_e, atol=1e-5)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(model.context_embedding.embeddings), expected_c, atol=1e-5
        )
        assert loss == pytest.approx(expected_loss, rel=1e-5)
        assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 1
    assert traces[1] == traces[0] >= 1  # the second model traced (and compiled) nothing


def test_fit_dataset_follows_the_train_function():
    """`fit_dataset` gives whole executions to the fused execution and single steps to
    Keras' function; a dataset grouped for another `steps_per_execution` is refused."""
    texts = ["the cat sat on the mat", "the dog sat on the log"] * 20
    tokenizer = WordTokenizer.train(texts, vocabulary_size=20, verbose=False)
    model = Word2Vec(hidden_dim=8, window=2, tokenizer=tokenizer)
    data = model.training_data(texts, epochs=1, batch_size=16, seed=0)
    with pytest.raises(ValueError, match="compile"):
        model.fit_dataset(data)
    fused = keras.backend.backend() == "tensorflow"
    for steps_per_execution in (4, 1):
        model.compile(
            optimizer=word2vec_optimizer(total_steps=data.total_steps),
            jit_compile=True,
            steps_per_execution=steps_per_execution,
        )
        spec = model.fit_dataset(data).element_spec
        assert ("steps" in spec) == (fused and steps_per_execution > 1)
    if fused:
        model.compile(optimizer=word2vec_optimizer(), jit_compile=True, steps_per_execution=2)
        with pytest.raises(ValueError, match="steps_per_execution=2"):
            model.fit(
                data.dataset(steps_per_element=4), steps_per_epoch=4, shuffle=False, verbose=0
            )


@pytest.mark.parametrize(
    "change",
    ["adam", "momentum", "clipnorm", "frozen", "schedule"],
)
def test_other_optimizers_take_keras_train_step(change):
    """Anything but plain SGD at a constant or linear rate runs Keras' own train_step
    inside the fused execution, and still trains."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the fused execution is the TensorFlow backend's")
    embeddings, contexts, batch = sgd_step_case()
    model = Word2Vec(vocabulary_size=12, hidden_dim=6, window=2, num_negatives=3)
    model.token_embedding.embeddings.assign(embeddings)
    model.context_embedding.embeddings.assign(contexts)
    optimizer = {
        "adam": keras.optimizers.Adam(0.01),
        "momentum": keras.optimizers.SGD(0.1, momentum=0.9),
        "clipnorm": keras.optimizers.SGD(0.1, clipnorm=1.0),
        "schedule": keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)),
    }.get(change, keras.optimizers.SGD(0.1))
    if change == "frozen":
        model.context_embedding.trainable = False
    execution, loss = _fused_fit(model, batch, optimizer)
    assert not execution.uses_kernel
    assert np.isfinite(loss)
    assert not np.allclose(model.embeddings, embeddings)


def test_optimizer_decays_linearly():
    optimizer = word2vec_optimizer(0.025, 1e-4, total_steps=100)
    rates = []
    for step in (0, 50, 100, 200):
        optimizer.iterations.assign(step)
        rates.append(float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
    np.testing.assert_allclose(rates, [0.025, (0.025 + 1e-4) / 2, 1e-4, 1e-4], rtol=1e-6)
    with pytest.raises(ValueError, match="learning_rate=0"):
        word2vec_optimizer(0, 1e-4, 10)


def test_train_is_fit_on_the_step_batches():
    """`Word2Vec.train()` is `fit` on `Word2VecData` batches with `word2vec_optimizer`."""
    texts = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 30
    tokenizer = WordTokenizer.train(texts, vocabulary_size=20, verbose=False)

    def model():
        keras.utils.set_random_seed(3)
        return Word2Vec(hidden_dim=8, window=2, tokenizer=tokenizer)

    trained = model()
    history = trained.train(texts, epochs=2, batch_size=32, seed=4, verbose=0)
    fitted = model()
    data = fitted.training_data(texts, epochs=2, batch_size=32, seed=4)
    fitted.compile(
        optimizer=word2vec_optimizer(0.025, 1e-4, data.total_steps),
        jit_compile=True,
        steps_per_execution=32,
    )
    fitted.fit(data.dataset(), steps_per_epoch=data.total_steps, shuffle=False, verbose=0)
    np.testing.assert_allclose(fitted.embeddings, trained.embeddings, atol=1e-6)
    assert history["steps"] == data.total_steps > 2
    assert int(keras.ops.convert_to_numpy(trained.optimizer.iterations)) == data.total_steps
    np.testing.assert_array_equal(np.asarray(trained.token_counts), data.trained_counts)


@pytest.mark.parametrize("mode", ["skipgram", "cbow"])
def test_fused_executions_match_keras_steps(mode):
    """One XLA call per execution (TensorFlow) takes the steps Keras' own function takes:
    `train()` with `steps_per_execution=5` (one `fit`, one element of 5 stacked steps a
    call, the SGD kernel's frame path, each epoch's loss read from its steps) ends where
    `steps_per_execution=1` (Keras' function, one `fit` per epoch) ends, with a short
    last execution and epochs that end inside an execution."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the fused execution is the TensorFlow backend's")
    from zoo.models.word2vec_steps import FusedExecution

    texts = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 30
    tokenizer = WordTokenizer.train(texts, vocabulary_size=20, verbose=False)
    options = {"epochs": 3, "batch_size": 16, "seed": 4, "verbose": 0}
    models, histories = [], []
    for steps_per_execution in (5, 1):
        keras.utils.set_random_seed(3)
        models.append(Word2Vec(hidden_dim=8, window=2, tokenizer=tokenizer, mode=mode))
        histories.append(
            models[-1].train(texts, steps_per_execution=steps_per_execution, **options)
        )
    fused, keras_steps = models
    data = fused.training_data(texts, epochs=3, batch_size=16, seed=4)
    assert data.total_steps % 5 and data.epoch_steps[0] % 5
    assert isinstance(fused.train_function, FusedExecution)
    assert fused.train_function.uses_kernel and fused.train_function.framed
    assert not isinstance(keras_steps.train_function, FusedExecution)
    np.testing.assert_allclose(fused.embeddings, keras_steps.embeddings, atol=1e-6)
    for model in models:
        assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == data.total_steps
    assert len(histories[0]["loss"]) == 3
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=1e-5)


# --------------------------------------------------------------------------- model
@pytest.fixture(scope="module")
def bundled():
    """Word2Vec trained once on the bundled Russian + English corpus."""
    from zoo.data.corpus import load_text

    keras.utils.set_random_seed(0)
    texts = load_text("ru") + load_text("en")
    tokenizer = WordTokenizer.train(texts, vocabulary_size=4000, verbose=False)
    model = Word2Vec(hidden_dim=48, window=4, tokenizer=tokenizer)
    history = model.train(texts, epochs=3, min_count=3, seed=0, verbose=0)
    return model, texts, history


RELATED = [
    ("брат", "сестра"),
    ("мама", "папа"),
    ("сын", "дочь"),
    ("он", "она"),
    ("собака", "кошка"),
    ("брат", "друг"),
    ("brother", "sister"),
    ("mom", "dad"),
    ("son", "daughter"),
    ("he", "she"),
    ("dog", "cat"),
    ("red", "blue"),
    ("green", "yellow"),
    ("twenty", "thirty"),
]


def test_related_words_end_nearer_than_random_pairs(bundled):
    model, _, history = bundled
    assert history["loss"][-1] < history["loss"][0]
    unit = model._unit_embeddings()
    cosine = lambda a, b: float(unit[model._ids_of(a)[0]] @ unit[model._ids_of(b)[0]])  # noqa: E731
    related = np.mean([cosine(a, b) for a, b in RELATED])
    trained = np.flatnonzero(np.asarray(model.token_counts) > 0)
    rng = np.random.default_rng(0)
    random_pairs = rng.choice(trained, (400, 2))
    random_pairs = random_pairs[random_pairs[:, 0] != random_pairs[:, 1]]
    baseline = np.mean([unit[a] @ unit[b] for a, b in random_pairs])
    assert related > baseline + 0.3, (related, baseline)
    # and most single related pairs beat the random mean too
    assert np.mean([cosine(a, b) > baseline for a, b in RELATED]) >= 0.8


def test_similarity_api(bundled):
    model, _, _ = bundled
    neighbours = model.most_similar("брат", k=5)
    assert len(neighbours) == 5
    words = [w for w, _ in neighbours]
    assert "брат" not in words and not any(w.startswith("[") for w in words)
    scores = [s for _, s in neighbours]
    assert scores == sorted(scores, reverse=True) and -1 <= scores[-1] <= scores[0] <= 1
    by_vector = model.most_similar(model.vector("брат"), k=6)
    assert by_vector[0][0] == "брат"  # a vector query keeps the word itself
    assert model.vector("брат").shape == (48,)
    assert model.embeddings.shape == (model.vocabulary_size, 48)
    analogy = model.analogy("brother", "he", "she", k=5)
    assert len(analogy) == 5 and not {"brother", "he", "she"} & {w for w, _ in analogy}
    direction = model.direction([("он", "она"), ("брат", "сестра"), ("he", "she")])
    assert direction.shape == (48,)
    male, female = (
        model.project(["сын", "папа", "son", "dad"], direction),
        model.project(["дочь", "мама", "daughter", "mom"], direction),
    )
    assert male.mean() > female.mean()


def test_unknown_words_raise(bundled):
    model, _, _ = bundled
    with pytest.raises(ValueError, match="does not know the word 'абракадабра'"):
        model.vector("абракадабра")
    with pytest.raises(ValueError, match="does not know"):
        model.most_similar("[CLS]")
    with pytest.raises(ValueError, match="pairs of two words"):
        model.direction([("он",)])
    with pytest.raises(ValueError, match="hidden_dim=48"):
        model.most_similar(np.ones(3))
    with pytest.raises(ValueError, match="outside"):
        model.vector(10**6)


def test_sentence_vectors_and_search(bundled):
    from zoo.layers.sentence_embedding import SentenceIndex

    model, texts, _ = bundled
    vectors = model.encode(texts[:3], frequency_weighting=True)
    assert vectors.shape == (3, 48) and np.isfinite(vectors).all()
    index = SentenceIndex(texts[:200], encoder=model.encode)
    hits = index.search(texts[5], k=3)
    assert hits[0][0] == texts[5] and hits[0][1] == pytest.approx(1.0, abs=1e-5)


def test_save_and_load_round_trip(bundled, tmp_path):
    model, _, _ = bundled
    path = os.path.join(tmp_path, "word2vec.keras")
    model.save(path)
    loaded = Word2Vec.load(path)
    np.testing.assert_array_equal(loaded.embeddings, model.embeddings)
    assert loaded.tokenizer.get_vocabulary() == model.tokenizer.get_vocabulary()
    assert loaded.most_similar("сестра", k=3) == model.most_similar("сестра", k=3)
    assert loaded.get_config() == model.get_config()
    run_saving_test(model, np.array([[7, 8, 9]], "int32"))


def test_seeded_training_is_deterministic_and_cbow_learns():
    texts = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 30
    tokenizer = WordTokenizer.train(texts, vocabulary_size=20, verbose=False)

    def train(seed, mode="skipgram"):
        keras.utils.set_random_seed(5)
        model = Word2Vec(hidden_dim=8, window=2, mode=mode, tokenizer=tokenizer)
        history = model.train(texts, epochs=4, batch_size=256, seed=seed, verbose=0)
        return model.embeddings, history

    (a, _), (b, _), (c, _) = train(1), train(1), train(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    _, history = train(1, mode="cbow")
    assert history["loss"][-1] < history["loss"][0]


def test_trains_on_subwords_datasets_and_files(tmp_path):
    texts = ["playing players played", "the player plays", "replay the game"] * 20
    tokenizer = WordPieceTokenizer.train(texts, vocabulary_size=50, verbose=False)
    model = Word2Vec(hidden_dim=8, window=2, tokenizer=tokenizer)
    path = os.path.join(tmp_path, "corpus.txt")
    with open(path, "w", encoding="utf-8") as file:
        file.write("\n".join(texts))
    model.train(path, epochs=1, batch_size=256, verbose=0)
    model.train(tf.data.Dataset.from_tensor_slices(texts), epochs=1, batch_size=256, verbose=0)
    # a word that is no token: its vector is the mean of its (trained) pieces
    counts = np.asarray(model.token_counts)
    candidates = ["players", "replay", "game", "playing", "replays"]
    split = {w: [int(i) for i in tokenizer(w).numpy()] for w in candidates}
    word = next(w for w in candidates if len(split[w]) > 1 and all(counts[split[w]] > 0))
    vector, pieces = model.vector(word), split[word]
    np.testing.assert_allclose(vector, model.embeddings[pieces].mean(0), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "neither vocabulary_size nor tokenizer"),
        ({"vocabulary_size": 10, "mode": "glove"}, "mode='glove'"),
        ({"vocabulary_size": 10, "window": 0}, "window=0"),
        ({"vocabulary_size": 10, "num_negatives": 0}, "num_negatives=0"),
        ({"vocabulary_size": 10, "hidden_dim": 1.5}, "hidden_dim=1.5"),
        ({"vocabulary_size": 10, "tokenizer": "words"}, "zoo tokenizer"),
    ],
)
def test_constructor_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Word2Vec(**kwargs)


def test_train_errors():
    tokenizer = WordTokenizer(["[PAD]", "[UNK]", "a", "b"])
    with pytest.raises(ValueError, match="must match"):
        Word2Vec(vocabulary_size=5, tokenizer=tokenizer)
    model = Word2Vec(vocabulary_size=4)
    with pytest.raises(ValueError, match="no tokenizer"):
        model.train(["a b"], verbose=0)
    with pytest.raises(ValueError, match="epochs=0"):
        model.train([[2, 3]], epochs=0, verbose=0)
    with pytest.raises(ValueError, match="vocabulary_size=4"):
        model.train([[2, 9]], verbose=0)
    with pytest.raises(ValueError, match="has no tokenizer"):
        model.vector("a")
