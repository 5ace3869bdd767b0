import json

import pytest

from recipes.tag import bundled_tags, main
from tests.recipes._recipe_runs import check_resume, checkpoint_step, run_dir_fixture, tiny_flags

TINY = tiny_flags()
run_dir = run_dir_fixture(main, TINY, "tag")


def test_bundled_tags_come_from_the_lexicon():
    assert bundled_tags(["Анна", "живёт", "в", "Москве", "."]) == ["B-PER", "O", "O", "B-LOC", "O"]
    assert bundled_tags(["Elena", "is", "helping", "Peter", "."]) == [
        "B-PER", "O", "O", "B-PER", "O",
    ]  # fmt: skip
    assert bundled_tags(["paris"]) == ["O"]  # lower case: not a name


def test_a_tiny_bundled_run_writes_its_files(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    for key in ("precision", "recall", "f1", "word_accuracy"):
        assert 0.0 <= summary[key] <= 1.0, key
    assert summary["true_entities"] > 100 and summary["test_sentences"] > 100
    assert json.loads((run_dir / "tags.json").read_text()) == summary["tags"]
    for name in ("config.json", "model.keras", "tokenizer", "logs"):
        assert (run_dir / name).exists(), name
    assert checkpoint_step(run_dir) == 4


def test_the_saved_model_serves_tag_on_raw_text(run_dir):
    import tensorflow as tf

    served = tf.saved_model.load(str(run_dir / "saved_model"))
    texts = tf.constant(["Anna lives in Paris.", "Иван живёт в Москве", ""])
    outputs = served.signatures["tag"](text=texts)
    lengths = outputs["lengths"].numpy().tolist()
    assert lengths == [5, 4, 0]
    tokens = [t.decode() for t in outputs["tokens"].numpy()[0][:5]]
    assert tokens == ["anna", "lives", "in", "paris", "."]
    tags = set(t.decode() for t in outputs["tags"].numpy()[0][:5])
    assert tags <= set(summary_tags(run_dir))


def summary_tags(run_dir):
    return json.loads((run_dir / "tags.json").read_text())


def test_resume_continues_to_more_steps(run_dir):
    check_resume(main, TINY, run_dir, refused=False)


def _conll(path, bad=False):
    lines = []
    for index in range(40):
        lines += [f"Anna{index % 3} B-PER", "lives O", "in O", f"Paris{index % 4} B-LOC", ""]
    if bad:
        lines.insert(3, "broken")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_a_conll_file_with_a_malformed_line_is_refused_then_counted(tmp_path):
    train_file = _conll(tmp_path / "train.txt", bad=True)
    test_file = _conll(tmp_path / "test.txt")
    argv = [*TINY, "--data", str(train_file), "--test-data", str(test_file), "--no-export"]
    with pytest.raises(ValueError, match="bad line"):
        main([*argv, "--out", str(tmp_path / "refused")])
    out = tmp_path / "counted"
    assert main([*argv, "--out", str(out), "--max-bad-rows", "1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tags"] == ["O", "B-LOC", "B-PER"]
    assert summary["true_entities"] == 80 and 0.0 <= summary["f1"] <= 1.0


def test_missing_data_is_one_error_line(tmp_path, capsys):
    from recipes.__main__ import main as dispatch

    assert dispatch(["tag", "--data", "missing", "--out", str(tmp_path)]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "missing" in lines[0], lines
