"""`recipes classify` on a TFDS dataset (mocked, offline) and `--init` of a Hugging Face
BERT directory written here (vocab.txt + config.json + model.safetensors)."""

import json
import os

import numpy as np
import pytest

from recipes.classify import main
from tests.recipes.test_classify_recipe import TINY


def test_a_tfds_dataset_trains_with_mock_data(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    out = tmp_path / "imdb"
    with tfds.testing.mock_data(num_examples=48, policy=tfds.testing.MockPolicy.USE_CODE):
        assert main([*TINY, "--data", "imdb_reviews", "--no-export", "--out", str(out)]) == 0
        with pytest.raises(ValueError, match="no 'label' class feature"):
            main([*TINY, "--data", "ted_hrlr_translate/ru_to_en", "--out", str(tmp_path / "x")])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["labels"] == ["neg", "pos"]  # the ClassLabel names of imdb_reviews
    assert summary["train_examples"] == 48 and summary["test_examples"] == 48
    assert 0.0 <= summary["accuracy"] <= 1.0


def _write_hugging_face_bert(directory):
    """A random 1-layer BERT checkpoint in the Hugging Face layout, with its vocab.txt."""
    from tests.models.test_presets import BERT_CONFIG, _bert_tensors, _write_hugging_face
    from tests.text.test_pretrained_tokenizers import write_bert

    vocabulary = write_bert(str(directory), lowercase=True)
    config = {
        **BERT_CONFIG,
        "vocab_size": len(vocabulary),
        "num_hidden_layers": 1,
        "max_position_embeddings": 32,
    }
    _write_hugging_face(str(directory), config, _bert_tensors(config))
    with open(os.path.join(directory, "tokenizer_config.json"), encoding="utf-8") as f:
        assert json.load(f)["do_lower_case"] is True
    return vocabulary


def test_init_from_a_hugging_face_bert_directory(tmp_path):
    import keras

    from zoo.models import Bert

    checkpoint = tmp_path / "hf_bert"
    vocabulary = _write_hugging_face_bert(checkpoint)
    out = tmp_path / "classify"
    argv = ["--steps", "2", "--batch-size", "16", "--sequence-length", "24", "--no-export"]
    argv += ["--strategy", "cpu", "--verbose", "0", "--init", str(checkpoint), "--out", str(out)]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["init"] == str(checkpoint) and 0.0 <= summary["accuracy"] <= 1.0
    # The run kept the checkpoint's vocabulary, and its backbone started from its weights.
    kept = (out / "tokenizer").iterdir()
    assert any(kept)
    model = keras.saving.load_model(str(out / "model.keras"), compile=False)
    assert model.backbone.vocabulary_size == len(vocabulary)
    loaded = Bert.from_preset(str(checkpoint))
    position = [w for w in loaded.weights if "position" in w.path]
    trained = {w.path: w for w in model.backbone.weights}
    assert position and all(
        np.allclose(np.asarray(trained[w.path]), np.asarray(w), atol=0.05) for w in position
    )
    # A checkpoint with a shorter position table than --sequence-length is one clear error.
    with pytest.raises(ValueError, match="max_sequence_length 32"):
        main([*argv[:-2], "--sequence-length", "40", "--out", str(tmp_path / "long")])
