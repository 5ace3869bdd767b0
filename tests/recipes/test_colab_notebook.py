"""The Colab TPU notebook is valid, its Python compiles, and its commands name real flags."""

import ast
import json
import pathlib
import re
import shlex

import pytest

from recipes import available_recipes, load_recipe
from recipes.common import parse_config

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "recipes" / "colab_tpu.ipynb"


@pytest.fixture(scope="module")
def notebook():
    with open(NOTEBOOK, encoding="utf-8") as file:
        return json.load(file)


def _code_cells(notebook):
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def _parameters(notebook):
    """The notebook's parameter cell, executed: ZOO_REPO, BACKEND, RECIPE, FLAGS."""
    namespace = {}
    exec(_code_cells(notebook)[0], namespace)  # plain assignments only
    return namespace


def test_notebook_is_nbformat_4_with_a_tpu_runtime(notebook):
    assert notebook["nbformat"] == 4
    assert notebook["metadata"]["accelerator"] == "TPU"
    ids = [cell["id"] for cell in notebook["cells"]]
    assert len(set(ids)) == len(ids)
    for cell in notebook["cells"]:
        assert cell["cell_type"] in ("markdown", "code")
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_code_cells_compile_once_shell_lines_are_set_aside(notebook):
    for source in _code_cells(notebook):
        python = "\n".join(
            line[: len(line) - len(line.lstrip())] + "pass"
            if line.lstrip().startswith("!")
            else line
            for line in source.splitlines()
        )
        ast.parse(python)


def test_the_training_command_parses_for_every_recipe_it_offers(notebook):
    parameters = _parameters(notebook)
    recipe_line = next(
        line for line in _code_cells(notebook)[0].splitlines() if line.startswith("RECIPE")
    )
    offered = re.findall(r"\w+", recipe_line.split("#", 1)[1])
    offered = [word for word in offered if word != "or"]
    assert set(offered) <= set(available_recipes()), offered
    recipes = offered
    assert parameters["RECIPE"] in recipes
    command = next(
        line
        for source in _code_cells(notebook)
        for line in source.splitlines()
        if line.startswith("!python -m recipes {RECIPE} --strategy")
    )
    flags = (
        command.split("{RECIPE}", 1)[1]
        .replace("{RECIPE}", "run")
        .replace("{FLAGS}", parameters["FLAGS"])
    )
    for name in recipes:
        config = parse_config(load_recipe(name).Config, shlex.split(flags))
        assert config.strategy == "tpu"
        assert config.out == "runs/run"


def test_the_training_command_writes_the_saved_model_with_no_second_step(notebook):
    """Under JAX too the run exports itself (`recipes.export`): no cell re-runs the recipe
    or exports with KERAS_BACKEND=tensorflow, and the serving cell reads the run's export."""
    commands = [
        line.strip()
        for source in _code_cells(notebook)
        for line in source.splitlines()
        if line.strip().startswith("!") and "-m recipes" in line and "--help" not in line
    ]
    assert commands == ["!python -m recipes {RECIPE} --strategy tpu --out runs/{RECIPE} {FLAGS}"]
    everything = "".join("".join(cell["source"]) for cell in notebook["cells"])
    assert "KERAS_BACKEND=tensorflow" not in everything
    assert "only the TensorFlow" not in everything
    markdown = " ".join(
        " ".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown"
    )
    assert "writes its SavedModel itself" in " ".join(markdown.split())
    serving = 'tf.saved_model.load(f"runs/{RECIPE}/saved_model")'
    assert any(serving in source for source in _code_cells(notebook))
