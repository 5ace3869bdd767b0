"""`recipes.export`: a JAX-backend run writes its SavedModel itself (through a
TensorFlow-backend subprocess), and the SavedModel serves with tensorflow +
tensorflow_text alone; the CLI rejects bad input with one `error:` line."""

import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from tests.test_case import REPO_ROOT

pytest.importorskip("jax")

# Runs in a JAX-backend process started in tmp_path: two tiny runs (gpt, translation) as
# the recipes leave them (model.keras, tokenizer/, config.json), the logits each model
# gives under JAX, then `export_run` on both. The repository is on sys.path only, not on
# PYTHONPATH, so the export subprocess finds `recipes`/`zoo` through the PYTHONPATH that
# `export_run` passes; a `jax` that fails to import sits on PYTHONPATH, so that
# subprocess shows it needs no JAX.
_JAX_RUNS = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
import keras
import numpy as np
assert keras.config.backend() == "jax", keras.config.backend()

from recipes import gpt, translation
from recipes.common import save_config
from recipes.export import export_run
from zoo.data.corpus import load_text
from zoo.models import GPT, Transformer
from zoo.text import SentencePieceTokenizer

texts = load_text("ru", "train")[:100] + load_text("en", "train")[:100]
tokenizer = SentencePieceTokenizer.train(texts, 500, verbose=False)
sizes = dict(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32)
ids = np.array([[3, 10, 11, 12, 13, 0, 0, 0]], "int32")
mask = (ids > 0).astype("int32")
runs = {
    "gpt": (
        gpt.Config(vocabulary_size=500, sequence_length=16, prompt_length=6,
                   max_new_tokens=8, out="runs/gpt", **sizes),
        GPT(vocabulary_size=tokenizer.vocabulary_size(), max_sequence_length=16, **sizes),
        {"token_ids": ids, "padding_mask": mask},
    ),
    "translation": (
        translation.Config(vocabulary_size=500, source_length=8, target_length=8,
                           sampler="beam", num_beams=2, out="runs/translation", **sizes),
        Transformer(vocabulary_size=tokenizer.vocabulary_size(), max_sequence_length=8,
                    **sizes),
        {"encoder_token_ids": ids, "encoder_padding_mask": mask,
         "decoder_token_ids": ids[:, ::-1], "decoder_padding_mask": mask[:, ::-1]},
    ),
}
for name, (config, model, inputs) in runs.items():
    logits = model.predict_on_batch(inputs)
    os.makedirs(config.out)
    np.save(os.path.join(config.out, "jax_logits.npy"), keras.ops.convert_to_numpy(logits))
    model.save(os.path.join(config.out, "model.keras"))
    tokenizer.save(os.path.join(config.out, "tokenizer"))
    save_config(config, os.path.join(config.out, "config.json"))

os.environ["PYTHONPATH"] = os.path.abspath("hide_jax")
print(json.dumps({name: export_run(name, config.out) for name, (config, _, _) in runs.items()}))
"""

# Runs with tensorflow and tensorflow_text only (cwd tmp_path, no PYTHONPATH to the
# checkout, jax hidden): every SavedModel's outputs on the same strings. Keras is not
# checked: tensorflow_text imports it itself (its layers subclass tf.keras.layers.Layer).
_SERVE = """
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the tokenizer ops)
paths = json.loads(sys.argv[1])
prompts = tf.constant(["Я изучаю", "My sister", "", b"\\xff\\xfe bad"])
out = {}
for name, path in paths.items():
    model = tf.saved_model.load(path)
    if name.startswith("gpt"):
        result = model.signatures["generate"](prompt=prompts, max_new_tokens=tf.constant(5))
        result = result["text"]
    else:
        result = model.signatures["translate"](text=prompts)["translation"]
    assert result.dtype == tf.string, result.dtype
    out[name] = [text.decode("utf-8") for text in result.numpy()]
leaked = sorted({n.split(".")[0] for n in sys.modules} & {"zoo", "recipes", "jax"})
assert not leaked, f"serving imported {leaked}"
print(json.dumps(out))
"""


def _env(**updates):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    env.update(CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3", **updates)
    return env


def _python(arguments, cwd, env, timeout=300):
    return subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def jax_runs(tmp_path_factory):
    """Tiny gpt and translation runs made and exported under JAX: {name: run dir}."""
    root = tmp_path_factory.mktemp("jax_runs")
    (root / "hide_jax").mkdir()
    (root / "hide_jax" / "jax").mkdir()
    (root / "hide_jax" / "jax" / "__init__.py").write_text(
        "raise ImportError('jax is hidden from the export subprocess by the test')\n"
    )
    result = _python(["-c", textwrap.dedent(_JAX_RUNS), REPO_ROOT], root, _env(KERAS_BACKEND="jax"))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    paths = json.loads(result.stdout.strip().splitlines()[-1])
    assert paths == {name: f"runs/{name}/saved_model" for name in ("gpt", "translation")}
    assert result.stdout.count("SavedModel written to") == 2  # the subprocess's stdout
    return root, {name: root / "runs" / name for name in paths}


def test_a_keras_file_written_under_jax_loads_under_tensorflow_with_equal_outputs(jax_runs):
    import zoo.models  # noqa: F401  (registers zoo's classes)

    _, runs = jax_runs
    ids = np.array([[3, 10, 11, 12, 13, 0, 0, 0]], "int32")
    mask = (ids > 0).astype("int32")
    inputs = {
        "gpt": {"token_ids": ids, "padding_mask": mask},
        "translation": {
            "encoder_token_ids": ids,
            "encoder_padding_mask": mask,
            "decoder_token_ids": ids[:, ::-1],
            "decoder_padding_mask": mask[:, ::-1],
        },
    }
    assert keras.config.backend() == "tensorflow"
    for name, run in runs.items():
        model = keras.saving.load_model(run / "model.keras", compile=False)
        logits = model(inputs[name])
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(logits), np.load(run / "jax_logits.npy"), atol=1e-5
        )


def test_the_jax_runs_saved_models_serve_like_the_in_process_tensorflow_export(jax_runs, tmp_path):
    from recipes.export import export_run

    root, runs = jax_runs
    paths = {name: str(run / "saved_model") for name, run in runs.items()}
    copy = tmp_path / "gpt"  # the same files, exported in this (TensorFlow) process
    copy.mkdir()
    for item in ("model.keras", "config.json"):
        shutil.copy(runs["gpt"] / item, copy / item)
    shutil.copytree(runs["gpt"] / "tokenizer", copy / "tokenizer")
    paths["gpt_tf"] = export_run("gpt", str(copy), verbose=False)
    assert paths["gpt_tf"] == str(copy / "saved_model") and os.path.isdir(paths["gpt_tf"])
    result = _python(
        ["-c", textwrap.dedent(_SERVE), json.dumps(paths)],
        tmp_path,
        _env(PYTHONPATH=str(root / "hide_jax")),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    for name in runs:
        assert len(served[name]) == 4 and all(isinstance(t, str) for t in served[name])
    assert served["gpt"] == served["gpt_tf"]  # greedy: the same text from either road


def test_a_keras_file_of_another_model_is_refused(jax_runs, tmp_path):
    from recipes.export import export_run

    _, runs = jax_runs
    shutil.copy(runs["gpt"] / "model.keras", tmp_path / "model.keras")
    shutil.copy(runs["translation"] / "config.json", tmp_path / "config.json")
    shutil.copytree(runs["translation"] / "tokenizer", tmp_path / "tokenizer")
    with pytest.raises(ValueError, match="holds a GPT; the translation export needs a"):
        export_run("translation", str(tmp_path))


def test_each_recipe_exports_with_the_arguments_its_config_gives(monkeypatch):
    import zoo.export
    from recipes import bert, gpt, translation
    from recipes.export import EXPORTS

    calls = {}
    for function in ("export_bert", "export_gpt", "export_translator"):
        monkeypatch.setattr(
            zoo.export, function, lambda *a, _f=function, **k: calls.setdefault(_f, (a, k))
        )
    configs = {
        "bert": bert.Config(sequence_length=48),
        "gpt": gpt.Config(prompt_length=5, max_new_tokens=7, sampler="top_p"),
        "translation": translation.Config(
            source_length=20, target_length=24, sampler="beam", num_beams=3, length_penalty=0.5
        ),
    }
    for name, config in configs.items():
        EXPORTS[name].function(config, "model", "tokenizer", "path")
    assert calls == {
        "export_bert": (("model", "tokenizer", "path", 48), {}),
        "export_gpt": (
            ("model", "tokenizer", "path"),
            {"prompt_length": 5, "max_new_tokens": 7},  # greedy, as recipes/gpt.py exports
        ),
        "export_translator": (
            ("model", "tokenizer", "path"),
            {
                "target_tokenizer": None,  # a run with one shared tokenizer (no --init Marian)
                "source_length": 20,
                "max_length": 24,
                "sampler": "beam",
                "num_beams": 3,
                "length_penalty": 0.5,
            },
        ),
    }


def _cli(*arguments, cwd):
    return _python(["-m", "recipes.export", *arguments], cwd, _env(PYTHONPATH=REPO_ROOT), 120)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (("gpt", "--run", "no_such_dir"), "'no_such_dir' does not exist"),
        (("gpt", "--run", "."), "model.keras is missing"),
        (("word2vec", "--run", "."), "Unknown recipe 'word2vec' for export"),
    ],
)
def test_the_cli_rejects_bad_input_with_one_error_line(arguments, message, tmp_path):
    result = _cli(*arguments, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_failed_export_subprocess_raises_with_its_stderr_and_the_command(
    tmp_path, monkeypatch, capsys
):
    from recipes.export import export_run

    (tmp_path / "model.keras").write_bytes(b"")
    (tmp_path / "config.json").write_text('{"mystery": 1}')
    (tmp_path / "tokenizer").mkdir()
    monkeypatch.setattr(keras.config, "backend", lambda: "jax")  # take the subprocess road
    with pytest.raises(RuntimeError) as raised:
        export_run("gpt", str(tmp_path))
    message = str(raised.value)
    assert "exit code 2" in message and "'mystery'" in message, message
    assert "error: " in capsys.readouterr().err  # the subprocess's stderr is passed through
    command = shlex.split(message.splitlines()[-1])
    assert command[:2] == ["KERAS_BACKEND=tensorflow", "CUDA_VISIBLE_DEVICES="], command
    start = command.index(sys.executable)
    assert all(part.startswith("PYTHONPATH=") for part in command[2:start]), command
    assert command[start + 1 :] == ["-m", "recipes.export", "gpt", "--run", str(tmp_path)]


def test_export_run_names_each_missing_file(tmp_path):
    from recipes.export import export_run

    (tmp_path / "model.keras").write_bytes(b"")
    with pytest.raises(ValueError, match="config.json is missing"):
        export_run("gpt", str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="tokenizer is missing"):
        export_run("translation", str(tmp_path))
    with pytest.raises(ValueError, match="classifier.keras is missing"):
        export_run("bert", str(tmp_path), keras_file="classifier.keras")
