import dataclasses
import json
import math

import numpy as np
import pytest

from recipes.common import parse_config
from recipes.gpt import Config, language_model_arrays, main, unigram_perplexity
from tests.recipes._recipe_runs import check_resume, checkpoint_step, run_dir_fixture, tiny_flags

TINY = tiny_flags(
    "--prompt-length", "8", "--max-new-tokens", "8", batch_size=8, vocabulary_size=500
)
run_dir = run_dir_fixture(main, TINY, "gpt")


def test_the_recipe_trains_evaluates_samples_and_writes_its_files(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert math.isfinite(summary["perplexity"]) and summary["perplexity"] > 1.0
    assert summary["unigram_perplexity"] > 1.0
    assert set(summary["samples"]) == set(Config().prompts)
    for name in ("config.json", "model.keras", "tokenizer", "logs"):
        assert (run_dir / name).exists(), name
    assert (run_dir / "saved_model" / "saved_model.pb").exists()
    assert checkpoint_step(run_dir) == 4


def test_resume_continues_to_more_steps(run_dir):
    check_resume(main, TINY, run_dir)


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
