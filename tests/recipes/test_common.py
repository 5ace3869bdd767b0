import dataclasses
import os

import pytest

from recipes import available_recipes, load_recipe
from recipes.__main__ import main
from recipes.common import (
    TransformerRun,
    check_out,
    load_config,
    parse_config,
    resume_history,
    run_tokenizer,
    save_config,
    train_tokenizer,
)
from tests.recipes._recipe_runs import run_python
from tests.test_case import REPO_ROOT


@dataclasses.dataclass
class _Config:
    """A test config."""

    steps: int = 10
    learning_rate: float = 1e-3
    name: str = "run"
    resume: bool = False
    languages: tuple[str, ...] = ("ru", "en")
    out: str | None = None


def test_every_field_is_a_flag():
    config = parse_config(
        _Config,
        ["--steps", "3", "--learning-rate", "0.5", "--resume", "--languages", "en", "--out", "x"],
    )
    assert config == _Config(3, 0.5, "run", True, ("en",), "x")
    assert parse_config(_Config, []) == _Config()
    assert parse_config(_Config, ["--no-resume"]).resume is False


def test_bad_flag_values_exit_with_usage():
    with pytest.raises(SystemExit):
        parse_config(_Config, ["--steps", "many"])


def test_config_round_trips_through_json(tmp_path):
    config = _Config(steps=5, languages=("ru",))
    save_config(config, tmp_path / "sub" / "config.json")
    assert load_config(_Config, tmp_path / "sub" / "config.json") == config
    (tmp_path / "bad.json").write_text('{"steps": 1, "mystery": 2}')
    with pytest.raises(ValueError, match="mystery"):
        load_config(_Config, tmp_path / "bad.json")


def test_dispatcher_lists_recipes_and_rejects_unknown_ones(capsys):
    assert "common" not in available_recipes()
    assert main(["--help"]) == 0
    assert "recipes:" in capsys.readouterr().out
    assert main(["no_such_recipe"]) == 2
    assert "Unknown recipe 'no_such_recipe'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="Available recipes"):
        load_recipe("no_such_recipe")


@pytest.mark.parametrize("preset, expected", [(None, "true"), ("false", "false")])
def test_dispatcher_turns_on_the_bfc_cpu_allocator_unless_set(preset, expected):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPU_ALLOCATOR_USE_BFC"}
    if preset is not None:
        env["TF_CPU_ALLOCATOR_USE_BFC"] = preset
    script = "import os, runpy, sys; sys.argv = ['recipes', '--help']\n"
    script += "try:\n    runpy.run_module('recipes', run_name='__main__')\n"
    script += "except SystemExit:\n    pass\n"
    script += "print(os.environ['TF_CPU_ALLOCATOR_USE_BFC'])"
    assert run_python(script, env=env, cwd=REPO_ROOT, timeout=120)[-1] == expected


def test_counts_below_their_least_value_are_refused_before_any_work():
    with pytest.raises(ValueError, match=r"--steps -5 is out of range: it takes a number >= 1"):
        parse_config(_Config, ["--steps", "-5"])
    with pytest.raises(ValueError, match=r"--steps 0 is out of range"):
        parse_config(_Config, ["--steps", "0"])
    with pytest.raises(ValueError, match=r"--learning-rate -0.1 .* >= 0"):
        parse_config(_Config, ["--learning-rate", "-0.1"])


@pytest.mark.parametrize("argv", [["gpt", "--steps", "0"], ["bert", "--batch-size", "-1"]])
def test_the_dispatcher_says_a_user_error_in_one_line(argv, capsys):
    assert main(argv) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: --"), error


def test_resume_refuses_what_changes_a_step_and_records_the_rest(tmp_path):
    path = str(tmp_path / "config.json")
    first = [{"started": "t0", "step": 0, "global_batch_size": 64, "changed": {}}]
    save_config(TransformerRun(), path, first)
    assert load_config(TransformerRun, path) == TransformerRun()  # the history is not a field

    with pytest.raises(ValueError) as error:
        resume_history(TransformerRun(seed=1, dropout=0.2, resume=True), path, 64, 5)
    message = str(error.value)
    assert "--seed 0 -> 1" in message and "--dropout 0.1 -> 0.2" in message
    assert "\n" not in message
    with pytest.raises(ValueError, match="global batch 64 -> 32"):
        resume_history(TransformerRun(resume=True), path, 32, 5)

    # More steps and another per-replica batch with the same global batch (a new mesh).
    config = TransformerRun(steps=2000, batch_size=2, eval_batch_size=7, resume=True)
    history = resume_history(config, path, 64, 5)
    assert history[0] == first[0]
    assert history[1]["step"] == 5 and history[1]["global_batch_size"] == 64
    assert history[1]["changed"] == {
        "steps": [1000, 2000], "batch_size": [32, 2], "eval_batch_size": [256, 7],
        "resume": [False, True],
    }  # fmt: skip


def test_an_unwritable_out_is_refused_in_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match=r"--out .*file/run: cannot write there \(Not a directory"):
        check_out(str(blocker / "run"))
    check_out(str(tmp_path / "new" / "run"))
    assert os.listdir(tmp_path / "new" / "run") == []  # made, and the probe removed


def test_recipes_refuse_files_that_are_not_text_and_name_the_bad_rows(tmp_path, capsys):
    binary = tmp_path / "random.bin"
    binary.write_bytes(bytes(range(256)) * 80)  # NUL bytes and invalid UTF-8
    argv = ["translation", "--data", str(binary), "--columns", "en", "ru"]
    assert main([*argv, "--out", str(tmp_path / "t")]) == 2
    error = [line for line in capsys.readouterr().err.splitlines() if "rror" in line]
    assert len(error) == 1 and error[0].startswith("error: ") and "NUL bytes" in error[0], error

    text = tmp_path / "one_bad_line.txt"
    text.write_bytes(b"hello world\nthis is fine\n\xff\xfe bad line\nanother good line\n")
    assert main(["gpt", "--data", str(text), "--out", str(tmp_path / "g")]) == 2
    error = [line for line in capsys.readouterr().err.splitlines() if "rror" in line]
    assert len(error) == 1 and "line 3" in error[0] and "--max-bad-rows 1" in error[0], error


def test_one_tokenizer_trainer_serves_every_recipe(tmp_path):
    texts = ["Я изучаю машинное обучение.", "I Study Machine Learning.", "Где ты живёшь?"] * 5
    cased = train_tokenizer("wordpiece", texts, 200, lowercase=False)
    lowered = train_tokenizer("wordpiece", texts, 200)  # WordPiece's own default lowercases
    assert "Study" in cased.get_vocabulary() and "Study" not in lowered.get_vocabulary()
    assert type(train_tokenizer("character", texts, 300)).__name__ == "CharacterTokenizer"
    with pytest.raises(ValueError, match="Unknown tokenizer 'morse'.*sentencepiece, bpe"):
        train_tokenizer("morse", texts, 60)

    @dataclasses.dataclass
    class Config:
        tokenizer: str = "wordpiece"
        vocabulary_size: int = 200
        out: str = str(tmp_path)
        resume: bool = False
        verbose: int = 0

    # Trained with the config's kind and size and the options given, saved under --out ...
    tokenizer = run_tokenizer(Config(), data=texts, lowercase=False)
    assert tokenizer.get_vocabulary() == cased.get_vocabulary()
    assert os.path.isdir(tmp_path / "tokenizer")
    # ... loaded from there on --resume, and trained by a recipe's own function when given.
    resumed = run_tokenizer(Config(resume=True), data=["other text"])
    assert resumed.get_vocabulary() == cased.get_vocabulary()
    calls = []

    def own(config, data):
        calls.append(data)
        return train_tokenizer("word", data, config.vocabulary_size)

    run_tokenizer(Config(out=str(tmp_path / "own")), own, texts)
    assert calls == [texts]
