"""The checks `Bert` and `GPT` share: their arguments (`check_model_arguments`) and the
longest input their embeddings take."""

import numpy as np
import pytest

from tests.test_case import random_ids, tiny_model
from zoo.models.bert import Bert
from zoo.models.gpt import GPT

VOCABULARY = 50


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (Bert, {"hidden_dim": 18, "num_heads": 4}, "divisible by num_heads"),
        (Bert, {"activation": "gelu_fast"}, "activation"),
        (Bert, {"num_layers": 0}, "num_layers"),
        (Bert, {"num_segments": -1}, "num_segments"),
        (GPT, {"hidden_dim": 18, "num_heads": 4}, "divisible by num_heads"),
        (GPT, {"activation": "relu6"}, "activation"),
        (GPT, {"vocabulary_size": 0}, "vocabulary_size"),
        (GPT, {"max_sequence_length": None}, "max_sequence_length"),
    ],
)
def test_invalid_configs_raise(cls, kwargs, message):
    kwargs = {"vocabulary_size": VOCABULARY, **kwargs}
    with pytest.raises(ValueError, match=message):
        tiny_model(cls, seed=None, **kwargs)


@pytest.mark.parametrize("cls", [Bert, GPT])
def test_sequence_too_long_raises(cls):
    token_ids, mask = random_ids(np.random.default_rng(0), VOCABULARY, 8, (8, 5))
    model = tiny_model(cls, VOCABULARY, seed=None, max_sequence_length=6)
    with pytest.raises(ValueError, match="max_sequence_length"):
        model({"token_ids": token_ids, "padding_mask": mask})
