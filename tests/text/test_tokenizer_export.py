"""Tokenizers exported in a SavedModel serve in a process without zoo or keras."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import tensorflow as tf

from zoo.text.tokenizers import (
    BytePairTokenizer,
    CharacterTokenizer,
    SentencePieceTokenizer,
    WordPieceTokenizer,
    WordTokenizer,
)

CORPUS = [
    "Я изучаю машинное обучение.",
    "Мы читаем книгу о нейронных сетях, а кошка спит.",
    "I study machine learning.",
    "We read a book about neural networks, and the cat sleeps.",
]
PROBE = [
    "Я изучаю машинное обучение 🙂",
    "I study neural networks!",
    "",
    "Mixed: Привет, world! 中文",
    "control \x00\x01 chars",
]

TOKENIZERS = {
    "character": lambda: CharacterTokenizer.train(CORPUS, 320, verbose=False),
    "word": lambda: WordTokenizer.train(CORPUS, 60, verbose=False),
    "wordpiece": lambda: WordPieceTokenizer.train(CORPUS, 200, verbose=False),
    "bpe": lambda: BytePairTokenizer.train(CORPUS, 320, verbose=False),
    "sentencepiece": lambda: SentencePieceTokenizer.train(
        CORPUS, 360, model_type="bpe", verbose=False
    ),
}

SEQUENCE_LENGTH = 24


class TokenizerModule(tf.Module):
    """What a serving artifact holds: the tokenizer and text-in signatures."""

    def __init__(self, tokenizer):
        super().__init__()
        self.tokenizer = tokenizer

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def tokenize(self, text):
        return self.tokenizer.tokenize(text, sequence_length=SEQUENCE_LENGTH)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def tokenize_ragged(self, text):
        ids = self.tokenizer.tokenize(text)
        return {"values": ids.flat_values, "row_splits": ids.row_splits}

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
    def detokenize(self, ids):
        return self.tokenizer.detokenize(ids)


SERVE = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the ops)
    imported = set(sys.modules)  # tensorflow may pull in keras itself; we add nothing
    paths, probe = json.loads(sys.stdin.read())
    out = {}
    for name, path in paths.items():
        module = tf.saved_model.load(path)
        text = tf.constant([p.encode("utf-8") for p in probe])
        ids = module.tokenize(text)
        ragged = module.tokenize_ragged(text)
        out[name] = {
            "ids": ids.numpy().tolist(),
            "values": ragged["values"].numpy().tolist(),
            "row_splits": ragged["row_splits"].numpy().tolist(),
            "text": [t.decode("utf-8") for t in module.detokenize(ids).numpy()],
        }
    new = set(sys.modules) - imported
    added = sorted(m for m in new if m.split(".")[0] in ("zoo", "keras", "keras_hub"))
    assert "zoo" not in sys.modules and not added, f"serving imported {added}"
    print(json.dumps(out))
    """
)


def test_saved_model_serves_without_zoo(tmp_path):
    paths, expected = {}, {}
    for name, make in TOKENIZERS.items():
        module = TokenizerModule(make())
        text = tf.constant(PROBE)
        ids = module.tokenize(text)
        ragged = module.tokenize_ragged(text)
        expected[name] = {
            "ids": ids.numpy().tolist(),
            "values": ragged["values"].numpy().tolist(),
            "row_splits": ragged["row_splits"].numpy().tolist(),
            "text": [t.decode("utf-8") for t in module.detokenize(ids).numpy()],
        }
        assert np.asarray(expected[name]["ids"]).shape == (len(PROBE), SEQUENCE_LENGTH)
        paths[name] = str(tmp_path / name)
        tf.saved_model.save(module, paths[name])

    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    # Run from an empty directory so the checkout's `zoo` cannot be imported by accident.
    result = subprocess.run(
        [sys.executable, "-c", SERVE],
        input=json.dumps([paths, PROBE]),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in env.items() if k != "PYTHONPATH"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    for name in TOKENIZERS:
        assert served[name] == expected[name], name
