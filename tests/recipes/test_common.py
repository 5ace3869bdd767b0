import dataclasses
import os
import subprocess
import sys

import pytest

from recipes import available_recipes, load_recipe
from recipes.__main__ import main
from recipes.common import load_config, parse_config, save_config
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
    completed = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip().splitlines()[-1] == expected
