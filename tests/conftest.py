import os

# Quiet, CPU-only, TensorFlow backend unless the caller chose another one.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras
import pytest


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
    keras.utils.set_random_seed(0)
    backbone = Bert(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=1,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=16,
    )
    return BertPretrainer(backbone), tokenizer
