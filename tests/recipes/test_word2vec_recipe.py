import json
import os

import numpy as np
import pytest

from recipes import word2vec


def test_recipe_writes_every_file(tmp_path, capsys):
    out = os.path.join(tmp_path, "run")
    argv = [
        "--text", "bundled:en", "--hidden-dim", "16", "--epochs", "1", "--batch-size", "1024",
        "--words", "brother", "sister", "he", "she", "zzzz", "--analogy", "brother", "he", "she",
        "--direction", "he", "she", "--out", out,
    ]  # fmt: skip
    assert word2vec.main(argv) == 0
    printed = capsys.readouterr().out
    assert "nearest neighbours" in printed and "analogy brother - he + she" in printed
    assert "skipped: zzzz" in printed
    for name in ("config.json", "model.keras", "vectors.tsv", "metadata.tsv", "pca.png",
                 "summary.json", "projector_config.pbtxt", "tokenizer", "logs",
                 "checkpoints/latest.json"):  # fmt: skip
        assert os.path.exists(os.path.join(out, name)), name
    with open(os.path.join(out, "vectors.tsv"), encoding="utf-8") as file:
        vectors = [line.split("\t") for line in file.read().splitlines()]
    with open(os.path.join(out, "metadata.tsv"), encoding="utf-8") as file:
        metadata = file.read().splitlines()
    assert len(vectors) == len(metadata) - 1 > 100 and {len(v) for v in vectors} == {16}
    assert os.path.getsize(os.path.join(out, "pca.png")) > 5000
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as file:
        summary = json.load(file)
    assert summary["tokens"] > 10000 and len(summary["analogy"]) == 5
    assert summary["steps"] > 10 and summary["start_step"] == 0
    assert summary["final_loss"] > 0 and summary["devices"] == 1
    with open(os.path.join(out, "checkpoints", "latest.json"), encoding="utf-8") as file:
        assert json.load(file)["step"] == summary["steps"]
    assert set(summary["neighbours"]) == {"brother", "sister", "he", "she"}
    with open(os.path.join(out, "config.json"), encoding="utf-8") as file:
        assert json.load(file)["hidden_dim"] == 16

    from zoo.models.word2vec import Word2Vec

    model = Word2Vec.load(os.path.join(out, "model.keras"))
    assert model.most_similar("brother", k=1)[0][0] == summary["neighbours"]["brother"][0][0]


def test_recipe_on_a_text_file_with_subwords(tmp_path):
    path = os.path.join(tmp_path, "text.txt")
    with open(path, "w", encoding="utf-8") as file:
        file.write("Мама мыла раму.\nПапа читал книгу.\nМама читала книгу.\n" * 40)
    out = os.path.join(tmp_path, "run")
    argv = [
        "--text", path, "--tokenizer", "wordpiece", "--vocabulary-size", "60",
        "--hidden-dim", "8", "--epochs", "1", "--batch-size", "256", "--min-count", "1",
        "--words", "мама", "папа", "книгу", "--analogy", "--direction", "--out", out,
    ]  # fmt: skip
    assert word2vec.main(argv) == 0
    assert os.path.exists(os.path.join(out, "pca.png"))


def test_recipe_rejects_bad_text(tmp_path):
    with pytest.raises(ValueError, match="not a file"):
        word2vec.main(["--text", os.path.join(tmp_path, "missing.txt"), "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--steps-per-execution 0 is out of range"):
        word2vec.main(["--steps-per-execution", "0", "--out", str(tmp_path)])


def test_resume_ends_where_an_uninterrupted_run_ends(tmp_path):
    """Stopped by --time-budget after its first execution, then resumed: the same vectors
    as a run never stopped (the batches and the learning rate are functions of the step)."""
    path = os.path.join(tmp_path, "text.txt")
    with open(path, "w", encoding="utf-8") as file:
        file.write("The cat sat on the mat.\nThe dog sat on the log.\nA cat and a dog.\n" * 40)
    argv = [
        "--text", path, "--vocabulary-size", "30", "--hidden-dim", "8", "--epochs", "2",
        "--batch-size", "32", "--steps-per-execution", "4", "--min-count", "1", "--sample", "0",
        "--words", "cat", "dog", "--analogy", "--direction", "--verbose", "0",
    ]  # fmt: skip
    whole, parts = os.path.join(tmp_path, "whole"), os.path.join(tmp_path, "parts")
    assert word2vec.main([*argv, "--out", whole]) == 0
    assert word2vec.main([*argv, "--out", parts, "--time-budget", "1e-9"]) == 0
    with open(os.path.join(parts, "summary.json"), encoding="utf-8") as file:
        stopped = json.load(file)
    assert stopped["steps"] > 8
    with open(os.path.join(parts, "checkpoints", "latest.json"), encoding="utf-8") as file:
        assert json.load(file)["step"] == 4  # the first execution's steps
    with pytest.raises(ValueError, match="--resume"):
        word2vec.main([*argv, "--out", parts])  # checkpoints there: resume or choose another
    with pytest.raises(ValueError, match="--epochs 2 -> 3"):
        word2vec.main([*argv, "--out", parts, "--resume", "--epochs", "3"])
    assert word2vec.main([*argv, "--out", parts, "--resume"]) == 0
    with open(os.path.join(parts, "summary.json"), encoding="utf-8") as file:
        resumed = json.load(file)
    assert resumed["start_step"] == 4 and resumed["steps"] == stopped["steps"]
    with open(os.path.join(parts, "config.json"), encoding="utf-8") as file:
        assert [entry["step"] for entry in json.load(file)["history"]] == [0, 4]

    from zoo.models.word2vec import Word2Vec

    expected = Word2Vec.load(os.path.join(whole, "model.keras"))
    got = Word2Vec.load(os.path.join(parts, "model.keras"))
    np.testing.assert_array_equal(got.embeddings, expected.embeddings)
    np.testing.assert_array_equal(np.asarray(got.token_counts), np.asarray(expected.token_counts))
