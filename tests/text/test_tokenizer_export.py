"""Tokenizers exported in a SavedModel serve in a process without zoo or keras."""

import numpy as np
import tensorflow as tf

from tests.text.serving import SEQUENCE_LENGTH, TokenizerModule, outputs, serve
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


def test_saved_model_serves_without_zoo(tmp_path):
    modules = {name: TokenizerModule(make()) for name, make in TOKENIZERS.items()}
    expected = {name: outputs(module, tf.constant(PROBE)) for name, module in modules.items()}
    for name in TOKENIZERS:
        assert np.asarray(expected[name]["ids"]).shape == (len(PROBE), SEQUENCE_LENGTH)
    served = serve(modules, PROBE, tmp_path)
    for name in TOKENIZERS:
        assert served[name] == expected[name], name
