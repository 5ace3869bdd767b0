"""`python -m recipes translation --init`: fine-tune a Zoo translation run, or a Marian
checkpoint (random, written here with its two SentencePiece models), for a few steps."""

import json

import keras
import pytest

from recipes.translation import main

TUNE = [
    "--steps", "2", "--batch-size", "16", "--checkpoint-every", "2", "--eval-limit", "8",
    "--eval-batch-size", "8", "--strategy", "cpu", "--verbose", "0", "--length-buckets", "0",
]  # fmt: skip


def _write_marian(directory):
    """A random Marian checkpoint with source.spm / target.spm and one vocab.json."""
    from tests.models.test_presets import MARIAN_CONFIG, _marian_tensors, _write_hugging_face
    from tests.text.test_pretrained_tokenizers import write_marian

    vocab, _ = write_marian(str(directory))
    config = {
        **MARIAN_CONFIG,
        "vocab_size": len(vocab),
        "decoder_vocab_size": len(vocab),
        "pad_token_id": vocab["<pad>"],
        "decoder_start_token_id": vocab["<pad>"],
        "eos_token_id": vocab["</s>"],
        "max_position_embeddings": 32,
    }
    tensors = _marian_tensors(config)
    tensors["lm_head.weight"] = tensors["model.shared.weight"].copy()
    _write_hugging_face(str(directory), config, tensors)
    return vocab


@pytest.fixture(scope="module")
def marian_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("marian")
    return directory, _write_marian(directory)


def test_init_model_loads_a_marian_checkpoint_with_its_two_tokenizers(marian_dir, tmp_path):
    from recipes.common import parse_config
    from recipes.translation import Config, init_model

    checkpoint, vocab = marian_dir
    config = parse_config(Config, ["--init", str(checkpoint), "--out", str(tmp_path)])
    model, source, target, config = init_model(config)
    assert model.generation_config["bos_token_id"] == vocab["<pad>"]
    # Decoder rows start with Marian's decoder start id (its pad), which becomes the BOS.
    assert target.bos_token_id == target.pad_token_id == vocab["<pad>"]
    assert source.get_vocabulary() == target.get_vocabulary() == list(vocab)  # one vocab.json
    assert source.tokenize(["Я изучаю"]).to_list() != target.tokenize(["Я изучаю"]).to_list()
    assert (config.hidden_dim, config.num_layers, config.intermediate_dim) == (16, 2, 32)


@pytest.mark.slow
def test_init_from_a_marian_checkpoint_trains_and_exports(marian_dir, tmp_path):
    import tensorflow as tf

    checkpoint, vocab = marian_dir
    out = tmp_path / "tuned"
    argv = [*TUNE, "--source-length", "16", "--target-length", "16"]
    assert main([*argv, "--init", str(checkpoint), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["init"] == str(checkpoint) and summary["steps"] == 2
    assert 0.0 <= summary["bleu"] <= 100.0
    # Two tokenizers kept; the target one starts decoder rows with Marian's pad id.
    assert (out / "tokenizer").is_dir() and (out / "target_tokenizer").is_dir()
    from zoo.text import load_tokenizer

    target = load_tokenizer(str(out / "target_tokenizer"))
    assert target.bos_token_id == target.pad_token_id == vocab["<pad>"]
    assert target.eos_token_id == vocab["</s>"]
    model = keras.saving.load_model(str(out / "model.keras"), compile=False)
    assert model.generation_config["suppressed_token_ids"] == [vocab["<pad>"]]
    assert model.vocabulary_size == len(vocab)
    # The exported signature serves raw text with the two SentencePiece models.
    served = tf.saved_model.load(str(out / "saved_model"))
    result = served.signatures["translate"](text=tf.constant(["Я изучаю машинное обучение."]))
    translation = result["translation"].numpy()[0].decode("utf-8")
    assert "<pad>" not in translation and "</s>" not in translation


def test_bad_init_paths_are_one_error_line(tmp_path, capsys):
    from recipes.__main__ import main as dispatch
    from tests.models.test_presets import BERT_CONFIG, _bert_tensors, _write_hugging_face

    bert = _write_hugging_face(str(tmp_path / "bert"), BERT_CONFIG, _bert_tensors(BERT_CONFIG))
    for init, expected in ((tmp_path / "missing", "no such directory"), (bert, "bert")):
        argv = ["translation", *TUNE, "--init", str(init), "--out", str(tmp_path / "out")]
        assert dispatch(argv) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), lines
        assert expected in lines[0], lines
