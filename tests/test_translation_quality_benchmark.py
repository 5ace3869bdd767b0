"""The Tatoeba benchmark's settings: its defaults and `--set` overrides reach the recipe."""

import pytest

from tests.test_case import load_benchmark


@pytest.fixture(scope="module")
def quality_benchmark():  # not `benchmark`: pytest-benchmark owns that fixture name
    return load_benchmark("translation_quality")


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("Hi.\tПривет.\tCC-BY\n", encoding="utf-8")
    return path


def test_set_overrides_any_recipe_field(quality_benchmark, data, tmp_path):
    args = quality_benchmark.parse_args(
        ["--data", str(data), "--set", "checkpoint_every=100", "--set", "sampler=greedy",
         "--set", "length_penalty=0.5", "--time-budget", "30"]
    )  # fmt: skip
    config, settings = quality_benchmark.make_config(args, str(tmp_path / "run"))
    assert config.checkpoint_every == 100  # a field the benchmark also sets itself
    assert config.sampler == "greedy" and config.length_penalty == 0.5
    assert config.num_beams == quality_benchmark.BEST["num_beams"]
    assert config.time_budget == 30 and config.split_rule == "crc32-ru-mod10"
    assert settings["sampler"] == "greedy"


def test_set_rejects_unknown_names(quality_benchmark, data, tmp_path):
    args = quality_benchmark.parse_args(["--data", str(data), "--set", "no_such_field=1"])
    with pytest.raises(SystemExit, match="no_such_field"):
        quality_benchmark.make_config(args, str(tmp_path / "run"))


def test_set_cannot_change_what_defines_the_benchmark(quality_benchmark, data, tmp_path):
    # the benchmark sets these after --set: a silent override would be worse than an error
    args = quality_benchmark.parse_args(["--data", str(data), "--set", "direction=en-ru"])
    with pytest.raises(SystemExit, match="direction"):
        quality_benchmark.make_config(args, str(tmp_path / "run"))
