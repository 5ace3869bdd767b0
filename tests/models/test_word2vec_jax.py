"""`Word2Vec` under the JAX backend, in a subprocess (Keras fixes its backend per
process): Keras' own JAX `train_step` against word2vec's rule, and training on one device
and on an 8-device `keras.distribution.DataParallel` mesh of simulated CPU devices.
"""

import json
import textwrap

import numpy as np
import pytest

from tests.models.test_word2vec import RELATED, reference_sgd_step, sgd_step_case
from tests.test_case import run_jax
from zoo.models.word2vec import Word2Vec

pytest.importorskip("jax", reason="the JAX backend is tested where jax is installed ([test] extra)")


# -------------------------------------------------------- training under KERAS_BACKEND=jax
JAX_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    import keras
    import jax
    from recipes.word2vec import write_projector
    from zoo.data.corpus import load_text
    from zoo.models.word2vec import Word2Vec
    from zoo.text.tokenizers import WordTokenizer

    folder, related = sys.argv[1], json.loads(sys.argv[2])
    assert keras.backend.backend() == "jax" and len(jax.devices()) == 8, jax.devices()
    results = {}

    # One SGD step (Keras' JAX train_step), on one device and split over 8.
    case = np.load(os.path.join(folder, "step_case.npz"))
    batch = {key: case[key] for key in ("center_ids", "context_ids", "context_weights",
                                         "negative_ids")}
    for mode in ("skipgram", "cbow"):
        for devices in (1, 8):
            keras.distribution.set_distribution(
                keras.distribution.DataParallel() if devices == 8 else None
            )
            step = Word2Vec(vocabulary_size=12, hidden_dim=6, window=2, num_negatives=3,
                            mode=mode)
            step.token_embedding.embeddings.assign(case["embeddings"])
            step.context_embedding.embeddings.assign(case["contexts"])
            step.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=True)
            results[f"step_loss_{mode}_{devices}"] = float(step.train_on_batch(batch))
            np.savez(
                os.path.join(folder, f"step_{mode}_{devices}.npz"),
                embeddings=step.embeddings,
                contexts=keras.ops.convert_to_numpy(step.context_embedding.embeddings),
            )
    keras.distribution.set_distribution(None)
    texts = load_text("ru") + load_text("en")
    tokenizer = WordTokenizer.train(texts, vocabulary_size=4000, verbose=False)

    def model(mode="skipgram"):
        keras.utils.set_random_seed(0)
        return Word2Vec(hidden_dim=48, window=4, mode=mode, tokenizer=tokenizer)

    # One device (no distribution): learns what the TensorFlow test checks.
    trained = model()
    history = trained.train(texts, epochs=3, min_count=3, seed=0, verbose=0)
    results["loss"] = history["loss"]
    unit = trained._unit_embeddings()
    results["related"] = [
        float(unit[trained._ids_of(a)[0]] @ unit[trained._ids_of(b)[0]]) for a, b in related
    ]
    counted = np.flatnonzero(np.asarray(trained.token_counts) > 0)
    pairs = np.random.default_rng(0).choice(counted, (400, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    results["random"] = float(np.mean([unit[a] @ unit[b] for a, b in pairs]))
    results["neighbours"] = trained.most_similar("брат", k=5)
    results["by_vector"] = trained.most_similar(trained.vector("брат"), k=2)
    results["analogy"] = trained.analogy("brother", "he", "she", k=5)
    direction = trained.direction([("он", "она"), ("брат", "сестра"), ("he", "she")])
    results["male"] = trained.project(["сын", "папа", "son", "dad"], direction).tolist()
    results["female"] = trained.project(["дочь", "мама", "daughter", "mom"], direction).tolist()
    results["encode"] = trained.encode(texts[:3], frequency_weighting=True).tolist()
    trained.save(os.path.join(folder, "jax.keras"))
    loaded = Word2Vec.load(os.path.join(folder, "jax.keras"))
    results["reloaded_equal"] = bool(np.array_equal(loaded.embeddings, trained.embeddings))
    results["projector_rows"] = write_projector(trained, folder, 500)
    np.save(os.path.join(folder, "jax_embeddings.npy"), trained.embeddings)

    # 8 devices against 1: the same updates (one epoch on a share of the corpus).
    small = texts[::8]
    for mode in ("skipgram", "cbow"):
        keras.distribution.set_distribution(None)
        one = model(mode)
        initial = one.get_weights()
        one_history = one.train(small, epochs=1, batch_size=2048, seed=1, verbose=0)
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        eight = model(mode)
        eight.set_weights(initial)
        eight_history = eight.train(small, epochs=1, batch_size=2048, seed=1, verbose=0)
        sharding = eight.token_embedding.embeddings.value.sharding
        results[mode] = {
            "difference": float(np.abs(one.embeddings - eight.embeddings).max()),
            "context_difference": float(
                np.abs(
                    keras.ops.convert_to_numpy(one.context_embedding.embeddings)
                    - keras.ops.convert_to_numpy(eight.context_embedding.embeddings)
                ).max()
            ),
            "loss_1": one_history["loss"],
            "loss_8": eight_history["loss"],
            "devices": len(sharding.device_set),
            "replicated": bool(sharding.is_fully_replicated),
        }
    try:
        eight.train(small, epochs=1, batch_size=1001, verbose=0)
        results["error"] = None
    except ValueError as error:
        results["error"] = str(error)
    with open(os.path.join(folder, "results.json"), "w", encoding="utf-8") as file:
        json.dump(results, file, ensure_ascii=False)
    """
)


def test_trains_under_jax_on_one_and_eight_devices(tmp_path):
    embeddings, contexts, batch = sgd_step_case()
    np.savez(tmp_path / "step_case.npz", embeddings=embeddings, contexts=contexts, **batch)
    run_jax(JAX_SCRIPT, tmp_path, json.dumps(RELATED), devices=8)
    with open(tmp_path / "results.json", encoding="utf-8") as file:
        results = json.load(file)

    # Keras' JAX train_step makes word2vec's SGD step, on 1 device and split over 8.
    for mode in ("skipgram", "cbow"):
        expected_e, expected_c, expected_loss = reference_sgd_step(
            mode, embeddings, contexts, batch, 0.1
        )
        for devices in (1, 8):
            step = np.load(tmp_path / f"step_{mode}_{devices}.npz")
            np.testing.assert_allclose(step["embeddings"], expected_e, atol=1e-5)
            np.testing.assert_allclose(step["contexts"], expected_c, atol=1e-5)
            loss = results[f"step_loss_{mode}_{devices}"]
            assert loss == pytest.approx(expected_loss, rel=1e-5) and expected_loss > 0

    # It learns: the loss falls and related words end nearer than random pairs.
    assert results["loss"][-1] < results["loss"][0], results["loss"]
    related = np.array(results["related"])
    assert related.mean() > results["random"] + 0.3, (related, results["random"])
    assert np.mean(related > results["random"]) >= 0.8
    # The similarity API answers as under TensorFlow.
    words = [word for word, _ in results["neighbours"]]
    assert len(words) == 5 and "брат" not in words and not any(w.startswith("[") for w in words)
    assert results["by_vector"][0][0] == "брат"
    assert not {"brother", "he", "she"} & {word for word, _ in results["analogy"]}
    assert np.mean(results["male"]) > np.mean(results["female"])
    encoded = np.array(results["encode"])
    assert encoded.shape == (3, 48) and np.isfinite(encoded).all()
    assert results["reloaded_equal"] and results["projector_rows"] == 500
    with open(tmp_path / "vectors.tsv", encoding="utf-8") as file:
        assert len(file.readlines()) == 500
    # The .keras file written under JAX loads under TensorFlow with the same vectors.
    loaded = Word2Vec.load(str(tmp_path / "jax.keras"))
    np.testing.assert_array_equal(loaded.embeddings, np.load(tmp_path / "jax_embeddings.npy"))
    assert [w for w, _ in loaded.most_similar("брат", k=5)] == words

    # 8 devices and 1 device: the same vectors; the 8-device ones stay replicated.
    for mode in ("skipgram", "cbow"):
        run = results[mode]
        assert run["devices"] == 8 and run["replicated"], run
        assert run["difference"] < 1e-4 and run["context_difference"] < 1e-4, run
        np.testing.assert_allclose(run["loss_8"], run["loss_1"], rtol=1e-5)
    assert "batch_size=1001" in results["error"] and "8 devices" in results["error"]
    assert "batch_size=1000 or 1008" in results["error"]
