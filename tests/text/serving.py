"""Tokenizers served from a SavedModel in a process that imports neither zoo nor keras.

Shared by `test_tokenizer_export` (trained tokenizers) and `test_pretrained_tokenizers`
(pretrained ones): the modules a serving artifact holds, what they give for a batch of
texts (`outputs`, run in this process and, as source, in the serving one), and `serve`,
which saves the modules and runs them in a fresh Python.
"""

import inspect
import json
import os
import subprocess
import sys
import textwrap

import tensorflow as tf

SEQUENCE_LENGTH = 24


class RaggedTokenizerModule(tf.Module):
    """A serving artifact with the tokenizer's ragged ids, as values and row splits."""

    def __init__(self, tokenizer):
        super().__init__()
        self.tokenizer = tokenizer

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def tokenize_ragged(self, text):
        ids = self.tokenizer.tokenize(text)
        return {"values": ids.flat_values, "row_splits": ids.row_splits}


class TokenizerModule(RaggedTokenizerModule):
    """What a serving artifact holds: the tokenizer and text-in signatures."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def tokenize(self, text):
        return self.tokenizer.tokenize(text, sequence_length=SEQUENCE_LENGTH)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
    def detokenize(self, ids):
        return self.tokenizer.detokenize(ids)


def outputs(module, text):
    """Ragged ids (values and row splits) and, from a `TokenizerModule`, dense ids and the
    text back, as lists."""
    ragged = module.tokenize_ragged(text)
    out = {
        "values": ragged["values"].numpy().tolist(),
        "row_splits": ragged["row_splits"].numpy().tolist(),
    }
    if hasattr(module, "detokenize"):
        ids = module.tokenize(text)
        out["ids"] = ids.numpy().tolist()
        out["text"] = [t.decode("utf-8") for t in module.detokenize(ids).numpy()]
    return out


# The serving process: `outputs` (its source) for every saved module, as JSON.
SERVE = inspect.getsource(outputs) + textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the ops)
    imported = set(sys.modules)  # tensorflow may pull in keras itself; we add nothing
    paths, texts = json.loads(sys.stdin.read())
    out = {}
    for name, path in paths.items():
        text = tf.constant([t.encode("utf-8") for t in texts])
        out[name] = outputs(tf.saved_model.load(path), text)
    new = set(sys.modules) - imported
    added = sorted(m for m in new if m.split(".")[0] in ("zoo", "keras", "keras_hub"))
    assert "zoo" not in sys.modules and not added, f"serving imported {added}"
    print(json.dumps(out))
    """
)


def serve(modules, texts, directory):
    """Save each of `modules` ({name: a module above}) under `directory`, load them in a
    fresh Python without zoo on its path, and return {name: outputs} from there."""
    paths = {}
    for name, module in modules.items():
        paths[name] = os.path.join(str(directory), "saved", name)
        tf.saved_model.save(module, paths[name])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"})
    # Run from the test's directory so the checkout's `zoo` cannot be imported by accident.
    result = subprocess.run(
        [sys.executable, "-c", SERVE],
        input=json.dumps([paths, list(texts)]),
        capture_output=True,
        text=True,
        cwd=str(directory),
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
