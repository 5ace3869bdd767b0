import dataclasses
import json
import math

import numpy as np
import pytest

from recipes.common import parse_config
from recipes.gpt import Config, language_model_arrays, main, unigram_perplexity

TINY = [
    "--steps", "4", "--batch-size", "8", "--vocabulary-size", "500", "--num-layers", "1",
    "--num-heads", "2", "--hidden-dim", "16", "--intermediate-dim", "32",
    "--sequence-length", "24", "--prompt-length", "8", "--max-new-tokens", "8",
    "--checkpoint-every", "2", "--strategy", "cpu", "--verbose", "0",
]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpt")
    assert main([*TINY, "--out", str(out)]) == 0
    return out


def test_the_recipe_trains_evaluates_samples_and_writes_its_files(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert math.isfinite(summary["perplexity"]) and summary["perplexity"] > 1.0
    assert summary["unigram_perplexity"] > 1.0
    assert set(summary["samples"]) == set(Config().prompts)
    for name in ("config.json", "model.keras", "tokenizer", "logs"):
        assert (run_dir / name).exists(), name
    assert (run_dir / "saved_model" / "saved_model.pb").exists()
    assert json.loads((run_dir / "checkpoints" / "latest.json").read_text())["step"] == 4


def test_resume_continues_to_more_steps(run_dir):
    argv = [*TINY, "--out", str(run_dir), "--resume", "--steps", "6", "--no-export"]
    assert main(argv) == 0
    assert json.loads((run_dir / "checkpoints" / "latest.json").read_text())["step"] == 6
    with pytest.raises(ValueError, match="--resume"):
        main([*TINY, "--out", str(run_dir)])


def test_windows_cover_the_stream_once_with_next_token_labels():
    from zoo.text import WordTokenizer

    texts = ["a b c", "d e", "f g h i", "j"] * 3
    tokenizer = WordTokenizer.train(texts, 30, verbose=False)
    config = parse_config(Config, ["--sequence-length", "5"])
    features, labels = language_model_arrays(config, tokenizer, texts)
    eos = tokenizer.eos_token_id
    stream = [eos]
    for ids in tokenizer.tokenize(texts).to_list():
        stream += [*ids, eos]
    count = (len(stream) - 1) // 5
    assert features["token_ids"].shape == labels.shape == (count, 5)
    np.testing.assert_array_equal(features["token_ids"].ravel(), stream[: count * 5])
    np.testing.assert_array_equal(labels.ravel(), stream[1 : count * 5 + 1])
    with pytest.raises(ValueError, match="sequence-length"):
        language_model_arrays(parse_config(Config, ["--sequence-length", "99"]), tokenizer, ["a"])


def test_unigram_perplexity_is_the_vocabulary_size_for_uniform_counts():
    labels = np.arange(10).repeat(5)
    assert unigram_perplexity(labels, labels, 10) == pytest.approx(10.0)


def test_every_config_field_is_a_flag():
    names = {f.name for f in dataclasses.fields(Config)}
    assert names >= {"steps", "batch_size", "out", "resume", "strategy"}
    config = parse_config(Config, ["--prompts", "Привет", "Hello", "--sampler", "greedy"])
    assert config.prompts == ("Привет", "Hello") and config.sampler == "greedy"
    with pytest.raises(SystemExit):
        parse_config(Config, ["--sampler", "nope"])
