import json

import pytest

from recipes.classify import bundled_examples, main, scores, sentence_type
from tests.recipes._recipe_runs import (
    TINY_MODEL,
    check_resume,
    checkpoint_step,
    run_dir_fixture,
    run_python,
    tiny_flags,
)

TINY = tiny_flags()
run_dir = run_dir_fixture(main, TINY, "classify")


def test_the_recipe_trains_evaluates_and_writes_its_files(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert 0.0 <= summary["accuracy"] <= 1.0 and 0.0 <= summary["macro_f1"] <= 1.0
    assert summary["labels"] == ["affirmative", "negative", "question"]
    assert summary["test_examples"] > 300
    for name in ("config.json", "model.keras", "labels.json", "tokenizer", "logs"):
        assert (run_dir / name).exists(), name
    assert json.loads((run_dir / "labels.json").read_text()) == summary["labels"]
    assert (run_dir / "saved_model" / "saved_model.pb").exists()
    assert checkpoint_step(run_dir) == 4


def test_the_saved_model_classifies_text_without_zoo(run_dir):
    code = (
        "import json, sys, tensorflow as tf, tensorflow_text\n"
        "model = tf.saved_model.load(sys.argv[1])\n"
        "texts = tf.constant(json.loads(sys.argv[2]))\n"
        "out = model.signatures['classify'](text=texts)\n"
        "print(json.dumps([t.decode('utf-8') for t in out['label'].numpy()]))\n"
        "print(json.dumps(out['probabilities'].numpy().sum(axis=-1).tolist()))\n"
        "print('zoo' in sys.modules)\n"
    )
    inputs = ["Is this umbrella beautiful", "We like cheese", "we like cheese " * 100]
    saved_model = str(run_dir / "saved_model")
    labels, sums, has_zoo = run_python(code, saved_model, json.dumps(inputs))[-3:]
    assert set(json.loads(labels)) <= {"affirmative", "negative", "question"}
    assert json.loads(sums) == pytest.approx([1.0] * 3, abs=1e-4)
    assert has_zoo == "False"


def test_resume_continues_to_more_steps(run_dir):
    check_resume(main, TINY, run_dir)


@pytest.mark.slow
def test_init_from_a_bert_run_directory(tmp_path):
    from recipes.bert import main as bert_main

    bert_dir = tmp_path / "bert"
    bert_argv = [
        "--steps", "2", "--finetune-steps", "0", "--batch-size", "16", "--vocabulary-size",
        "400", *TINY_MODEL, "--sequence-length", "24", "--dupe-factor", "1",
        "--strategy", "cpu", "--verbose", "0", "--no-export",
    ]  # fmt: skip
    assert bert_main([*bert_argv, "--out", str(bert_dir)]) == 0
    out = tmp_path / "classify"
    argv = ["--steps", "2", "--batch-size", "16", "--sequence-length", "24"]
    argv += ["--strategy", "cpu", "--verbose", "0", "--init", str(bert_dir)]
    assert main([*argv, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["init"] == str(bert_dir) and 0.0 <= summary["accuracy"] <= 1.0
    assert (out / "tokenizer").is_dir()
    assert (out / "saved_model" / "saved_model.pb").exists()


def _write_tsv(path, bad_row):
    rows = []
    for i in range(60):
        rows.append(f"a good film number {i}\tpositive")
        rows.append(f"a bad film number {i}\tnegative")
    if bad_row:
        rows.insert(5, "a row without a label")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_a_tsv_with_a_bad_row_is_refused_or_counted(tmp_path, capsys):
    data = tmp_path / "data.tsv"
    _write_tsv(data, bad_row=True)
    argv = [*TINY, "--data", str(data), "--no-export"]
    with pytest.raises(ValueError, match="line 6"):
        main([*argv, "--out", str(tmp_path / "refused")])
    out = tmp_path / "counted"
    assert main([*argv, "--max-bad-rows", "1", "--verbose", "1", "--out", str(out)]) == 0
    assert "skipped 1 bad of" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["labels"] == ["negative", "positive"]
    assert summary["train_examples"] + summary["test_examples"] == 120
    assert 0 < summary["test_examples"] < 40


def test_a_missing_file_is_one_error_line(tmp_path, capsys):
    from recipes.__main__ import main as dispatch

    argv = ["classify", "--data", str(tmp_path / "no.tsv"), "--out", str(tmp_path / "out")]
    assert dispatch(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "no.tsv" in lines[0], lines


def test_the_bundled_task_is_balanced_without_final_punctuation():
    texts, labels = bundled_examples("test", seed=0)
    assert len(texts) == len(labels)
    assert {label: labels.count(label) for label in set(labels)} == dict.fromkeys(
        ("affirmative", "negative", "question"), len(labels) // 3
    )
    assert not any(text.endswith(("?", ".", "!")) for text in texts)
    assert sentence_type("Does Anna like biology?") == "question"
    assert sentence_type("Anna doesn't live in Berlin.") == "negative"
    assert sentence_type("We are very young.") == "affirmative"


def test_scores_are_accuracy_and_macro_f1():
    import numpy as np

    result = scores(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), 2)
    assert result["accuracy"] == 0.75
    assert result["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2, abs=1e-4)
