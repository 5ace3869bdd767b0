import json
import os

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
                 "summary.json", "projector_config.pbtxt", "tokenizer"):  # fmt: skip
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
