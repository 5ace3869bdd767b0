import os

# Quiet, CPU-only, TensorFlow backend unless the caller chose another one.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras
import pytest

from tests.test_case import tiny_model


@pytest.fixture(autouse=True)
def _seed_and_policy():
    """Every test starts from the same seed and the float32 policy."""
    keras.utils.set_random_seed(1337)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture(scope="session")
def shared_data_dir():
    """`../shared/data` beside the checkout (real corpora), or skip where absent."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.abspath(os.path.join(here, "..", "..", "shared", "data"))
    if not os.path.isdir(path):
        pytest.skip(f"real corpora not found at {path}")
    return path


@pytest.fixture(scope="module")
def tiny_bert():
    """A 1-layer BERT pretrainer (hidden 16, length 16) and a 400-piece WordPiece tokenizer
    trained on 150 Russian and 150 English corpus lines: the export tests' model."""
    from zoo.data.corpus import load_text
    from zoo.models import Bert, BertPretrainer
    from zoo.text import WordPieceTokenizer

    texts = load_text("ru", "train")[:150] + load_text("en", "train")[:150]
    tokenizer = WordPieceTokenizer.train(texts, 400, verbose=False)
    backbone = tiny_model(Bert, tokenizer.vocabulary_size(), seed=0)
    return BertPretrainer(backbone), tokenizer
