"""Write a run's SavedModel from its `model.keras`, whatever backend trained it.

`export_run(recipe, out_dir)` is the export step of the `bert`, `gpt` and `translation`
recipes, and `python -m recipes.export <recipe> --run DIR` does the same for a finished
run directory (`model.keras`, `config.json` and `tokenizer/`, as every one of those
recipes writes them). The SavedModel lands in `DIR/saved_model`, with the text-in
signatures of `zoo.export` (`export_bert`, `export_gpt`, `export_translator`), and
loads with only `tensorflow` and `tensorflow_text`.

Under the TensorFlow backend the export runs in this process. Under any other backend
(JAX on a Colab TPU) it runs in a TensorFlow-backend subprocess, `KERAS_BACKEND=tensorflow
python -m recipes.export <recipe> --run DIR`, on the CPU, which loads the `.keras` file
and the tokenizer and calls the same `zoo.export` function.

Why a subprocess and not `jax2tf`: the `.keras` format is backend-independent (its
weights are plain arrays, its architecture a config; a file written under JAX loads
under TensorFlow with equal outputs, which `tests/recipes/test_export_run.py` checks),
and the TensorFlow path is the one already tested for serving. `jax2tf` is deprecated
upstream in favour of `jax.export`; its output embeds the XLA computation lowered for
the exporting platform; and the tokenizer and signature wrappers would have to be
rebuilt around the converted function, since string ops and `tf.lookup` tables cannot
live inside a JAX function. One backend, one export code path.

Example:

    >>> # python -m recipes gpt --out runs/gpt          # any backend; exports at the end
    >>> # python -m recipes.export gpt --run runs/gpt   # again, from the saved files
    >>> # import tensorflow as tf, tensorflow_text      # in the serving process
    >>> # tf.saved_model.load("runs/gpt/saved_model").signatures["generate"](...)
"""

import argparse
import collections
import dataclasses
import importlib
import importlib.util
import os
import shlex
import subprocess
import sys
import threading

from recipes.common import load_config, quiet_tensorflow

# `python -m recipes.export` loads TensorFlow quietly (`quiet_tensorflow`) before anything
# else imports it, so what needs TensorFlow or Keras (`keras`, `zoo`) is imported inside
# the functions that use them.

__all__ = ["EXPORTS", "export_run", "main"]

SAVED_MODEL = "saved_model"
_TAIL_LINES = 20


# What each recipe exports --------------------------------------------------------------
# The arguments are derived from the run's config exactly as the recipe's own export step
# derives them (recipes/bert.py, gpt.py, translation.py `run`).


def _export_bert(config, model, tokenizer, path):
    from zoo.export import export_bert

    return export_bert(model, tokenizer, path, config.sequence_length)


def _export_gpt(config, model, tokenizer, path):
    from zoo.export import export_gpt

    return export_gpt(
        model,
        tokenizer,
        path,
        prompt_length=config.prompt_length,
        max_new_tokens=config.max_new_tokens,
    )


def _export_translation(config, model, tokenizer, path):
    from zoo.export import export_translator
    from zoo.text import load_tokenizer

    # A run fine-tuned from a Marian checkpoint (--init) keeps its target tokenizer apart.
    target = os.path.join(os.path.dirname(path), "target_tokenizer")
    return export_translator(
        model,
        tokenizer,
        path,
        target_tokenizer=load_tokenizer(target) if os.path.isdir(target) else None,
        source_length=config.source_length,
        max_length=config.target_length,
        sampler=config.sampler,
        num_beams=config.num_beams,
        length_penalty=config.length_penalty,
    )


def _export_classify(config, model, tokenizer, path):
    import json

    from zoo.export import export_classifier

    labels_path = os.path.join(os.path.dirname(path), "labels.json")
    if not os.path.isfile(labels_path):
        raise ValueError(
            f"{labels_path} is missing: the classify recipe writes the label names there."
        )
    with open(labels_path, encoding="utf-8") as file:
        labels = json.load(file)
    return export_classifier(model, tokenizer, path, labels, config.sequence_length)


def _export_tag(config, model, tokenizer, path):
    import json

    from zoo.export import export_tagger

    with open(os.path.join(os.path.dirname(path), "tags.json"), encoding="utf-8") as file:
        tags = json.load(file)  # the run's tag names, in the order of the model's outputs
    return export_tagger(model, tokenizer, path, tags, config.sequence_length)


@dataclasses.dataclass(frozen=True)
class _Export:
    function: object  # (config, model, tokenizer, path) -> module
    model_class: str  # the class in zoo.models that the .keras file must hold


EXPORTS = {
    "bert": _Export(_export_bert, "BertPretrainer"),
    "gpt": _Export(_export_gpt, "GPT"),
    "translation": _Export(_export_translation, "Transformer"),
    "classify": _Export(_export_classify, "BertClassifier"),
    "tag": _Export(_export_tag, "BertTokenClassifier"),
}


# Checks ----------------------------------------------------------------------------------


def _check_run(recipe, out_dir, keras_file):
    """ValueError unless `recipe` exports and `out_dir` holds what its export reads."""
    if recipe not in EXPORTS:
        raise ValueError(
            f"Unknown recipe {recipe!r} for export. Expected one of "
            f"{', '.join(sorted(EXPORTS))} (word2vec writes no SavedModel)."
        )
    if not os.path.isdir(out_dir):
        raise ValueError(
            f"Run directory {out_dir!r} does not exist. Pass the --out directory of a "
            f"finished {recipe} run (it holds {keras_file}, config.json and tokenizer/)."
        )
    wanted = ((keras_file, os.path.isfile), ("config.json", os.path.isfile))
    wanted += (("tokenizer", os.path.isdir),)
    for name, exists in wanted:
        if not exists(os.path.join(out_dir, name)):
            raise ValueError(
                f"{os.path.join(out_dir, name)} is missing: expected a finished {recipe} run "
                f"directory holding {keras_file}, config.json and tokenizer/. The recipe "
                "writes them when training ends: run it (or --resume it) to the end first."
            )


# The export itself (TensorFlow backend) --------------------------------------------------


def _export_here(recipe, out_dir, keras_file, verbose):
    config_cls = importlib.import_module(f"recipes.{recipe}").Config
    config = load_config(config_cls, os.path.join(out_dir, "config.json"))

    import keras

    import zoo.models  # registers zoo's serializable classes for load_model
    from zoo.text import load_tokenizer

    tokenizer = load_tokenizer(os.path.join(out_dir, "tokenizer"))
    keras_path = os.path.join(out_dir, keras_file)
    model = keras.saving.load_model(keras_path, compile=False)
    expected = getattr(zoo.models, EXPORTS[recipe].model_class)
    if not isinstance(model, expected):
        raise ValueError(
            f"{keras_path} holds a {type(model).__name__}; the {recipe} export needs a "
            f"zoo.models.{expected.__name__}. Pass the .keras file that holds one (the recipe "
            "saves it as model.keras)."
        )
    path = os.path.join(out_dir, SAVED_MODEL)
    EXPORTS[recipe].function(config, model, tokenizer, path)
    if verbose:
        print(f"SavedModel written to {path}")
    return path


# The export from another backend (subprocess) --------------------------------------------


def _package_roots():
    """Directories holding the `recipes` and `zoo` packages this process imports."""
    roots = []
    for name in ("recipes", "zoo"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            root = os.path.dirname(os.path.dirname(os.path.abspath(spec.origin)))
            if root not in roots:
                roots.append(root)
    return roots


def _subprocess_env():
    env = dict(os.environ)
    env["KERAS_BACKEND"] = "tensorflow"
    env.setdefault("CUDA_VISIBLE_DEVICES", "")  # the accelerator stays with this process
    env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")  # where a GPU is left visible
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONUNBUFFERED", "1")  # its lines reach this process as they come
    paths = _package_roots() + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _command(recipe, out_dir, keras_file, verbose):
    command = [sys.executable, "-m", "recipes.export", recipe, "--run", out_dir]
    if keras_file != "model.keras":
        command += ["--keras-file", keras_file]
    if not verbose:
        command.append("--quiet")
    return command


def _by_hand(command):
    """The shell line that reruns `command` as `export_run` would."""
    prefix = ["KERAS_BACKEND=tensorflow", "CUDA_VISIBLE_DEVICES="]
    roots = [root for root in _package_roots() if root != os.getcwd()]
    if roots:
        prefix.append("PYTHONPATH=" + shlex.quote(os.pathsep.join(roots)))
    return " ".join(prefix) + " " + shlex.join(command)


def _forward(stream, target, tail=None):
    for line in iter(stream.readline, ""):
        target.write(line)
        target.flush()
        if tail is not None:
            tail.append(line.rstrip("\n"))
    stream.close()


def _export_in_subprocess(recipe, out_dir, keras_file, verbose):
    command = _command(recipe, out_dir, keras_file, verbose)
    process = subprocess.Popen(
        command,
        env=_subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    tail = collections.deque(maxlen=_TAIL_LINES)
    threads = [
        threading.Thread(target=_forward, args=(process.stdout, sys.stdout), daemon=True),
        threading.Thread(target=_forward, args=(process.stderr, sys.stderr, tail), daemon=True),
    ]
    for thread in threads:
        thread.start()
    code = process.wait()
    for thread in threads:
        thread.join()
    if code != 0:
        raise RuntimeError(
            f"The SavedModel export (a TensorFlow-backend subprocess) failed with exit code "
            f"{code}. Last lines of its stderr:\n"
            + "\n".join(tail)
            + f"\nFix the cause and rerun the export alone:\n  {_by_hand(command)}"
        )
    return os.path.join(out_dir, SAVED_MODEL)


# The entry points ------------------------------------------------------------------------


def export_run(recipe, out_dir, keras_file="model.keras", verbose=True):
    """Write `<out_dir>/saved_model` from a run's saved files; returns its path.

    Reads `<out_dir>/<keras_file>` (the model the recipe saved after training),
    `<out_dir>/tokenizer/` and `<out_dir>/config.json` (the recipe's `Config`, which
    gives the export's lengths and decoding options). Under the TensorFlow backend the
    export runs in this process; under another backend (JAX) in a TensorFlow-backend
    subprocess on the CPU (`python -m recipes.export`), whose output is passed through.

    Args:
        recipe: "bert", "gpt" or "translation".
        out_dir: the run directory (the recipe's `--out`).
        keras_file: the `.keras` file in `out_dir` to export (bert: the pretrainer).
        verbose: print where the SavedModel went.

    Raises:
        ValueError: unknown recipe, or `out_dir` lacks one of the files above.
        RuntimeError: the export subprocess failed (the message holds its last stderr
            lines and the command that reruns it).
    """
    _check_run(recipe, out_dir, keras_file)
    import keras

    if keras.config.backend() == "tensorflow":
        return _export_here(recipe, out_dir, keras_file, verbose)
    return _export_in_subprocess(recipe, out_dir, keras_file, verbose)


def main(argv=None):
    """`python -m recipes.export <recipe> --run DIR`: 0 on success, 2 on bad input."""
    quiet_tensorflow()
    parser = argparse.ArgumentParser(
        prog="python -m recipes.export",
        description="Write DIR/saved_model (text-in signatures, served with tensorflow + "
        "tensorflow_text only) from a finished run's model.keras, tokenizer/ and "
        "config.json. Runs with any KERAS_BACKEND; the export itself uses TensorFlow.",
    )
    parser.add_argument("recipe", help=f"one of: {', '.join(sorted(EXPORTS))}")
    parser.add_argument("--run", required=True, metavar="DIR", help="the run's --out directory")
    parser.add_argument(
        "--keras-file", default="model.keras", help="the .keras file in DIR to export"
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    arguments = parser.parse_args(argv)
    try:
        export_run(
            arguments.recipe,
            arguments.run,
            keras_file=arguments.keras_file,
            verbose=not arguments.quiet,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
