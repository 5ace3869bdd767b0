import dataclasses
import json

import numpy as np
import pytest

from recipes.bert import Config, load_documents, main, pretraining_arrays, question_data
from recipes.common import parse_config
from tests.recipes._recipe_runs import check_resume, checkpoint_step, run_dir_fixture, tiny_flags

TINY = tiny_flags("--finetune-steps", "4", "--dupe-factor", "1")
run_dir = run_dir_fixture(main, TINY, "bert")


def test_the_recipe_pretrains_fine_tunes_evaluates_and_writes_its_files(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    for key in ("mlm_accuracy", "nsp_accuracy", "nsp_accuracy_cross_language"):
        assert 0.0 <= summary[key] <= 1.0, key
    assert summary["classification"]["test_examples"] > 100
    assert 0.0 <= summary["classification"]["accuracy"] <= 1.0
    filled = summary["fill_mask"]["I study machine [MASK]."]
    assert filled.startswith("I study machine ") and "[MASK]" not in filled
    for name in ("config.json", "model.keras", "classifier.keras", "tokenizer", "logs"):
        assert (run_dir / name).exists(), name
    assert (run_dir / "saved_model" / "saved_model.pb").exists()
    assert checkpoint_step(run_dir) == checkpoint_step(run_dir / "finetune") == 4


def test_resume_continues_to_more_steps(run_dir):
    check_resume(main, TINY, run_dir, extra=["--finetune-steps", "0"])


def test_pretraining_arrays_are_a_function_of_the_seed():
    from zoo.text import WordPieceTokenizer

    config = parse_config(Config, ["--sequence-length", "24"])
    documents = load_documents(config, "test")[:200]
    tokenizer = WordPieceTokenizer.train(
        [s for document in documents for s in document], 400, verbose=False
    )
    first = pretraining_arrays(config, tokenizer, documents, 2, seed=3)
    second = pretraining_arrays(config, tokenizer, documents, 2, seed=3)
    other = pretraining_arrays(config, tokenizer, documents, 2, seed=4)
    features, labels, weights, cross_language = first
    assert features["token_ids"].shape == (400, 24)
    assert features["mask_positions"].shape == labels["mlm_logits"].shape == (400, 4)
    for key in features:
        np.testing.assert_array_equal(features[key], second[0][key])
    assert not np.array_equal(features["token_ids"], other[0]["token_ids"])
    # The two copies draw different masks; masked positions hold [MASK] most of the time.
    assert not np.array_equal(features["mask_positions"][:200], features["mask_positions"][200:])
    rows = np.repeat(np.arange(400)[:, None], 4, axis=1)
    at_masks = features["token_ids"][rows, features["mask_positions"]][weights["mlm_logits"] > 0]
    assert 0.6 < np.mean(at_masks == tokenizer.mask_token_id) < 0.95
    # Bundled documents are translation pairs: a true next sentence is the other language.
    assert cross_language[labels["nsp_logits"] == 0].all()


def test_the_fine_tuning_task_is_balanced_and_has_no_question_marks():
    texts, labels = question_data("test", seed=0)
    assert len(texts) == len(labels) and labels.mean() == 0.5
    assert not any(text.endswith(("?", ".", "!")) for text in texts)


def test_every_config_field_is_a_flag():
    names = {f.name for f in dataclasses.fields(Config)}
    assert names >= {"steps", "batch_size", "out", "resume", "strategy"}
    config = parse_config(Config, ["--steps", "7", "--no-export", "--strategy", "cpu"])
    assert (config.steps, config.export, config.strategy) == (7, False, "cpu")
    with pytest.raises(SystemExit):
        parse_config(Config, ["--tokenizer", "nope"])
