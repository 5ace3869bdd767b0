"""keras-hub -> zoo weight import: small random keras-hub backbones (no presets, no downloads)."""

import keras
import keras_hub
import numpy as np
import pytest

from tests.test_case import TINY, assert_all_close
from zoo.models.bert import Bert
from zoo.models.gpt import GPT

CONFIG = {**TINY, "vocabulary_size": 60, "num_layers": 2, "max_sequence_length": 12}


def _batch(segments=True):
    rng = np.random.default_rng(0)
    mask = np.arange(10)[None] < np.array([10, 6])[:, None]
    batch = {
        "token_ids": (rng.integers(1, 60, (2, 10)) * mask).astype("int32"),
        "padding_mask": mask.astype("int32"),
    }
    if segments:
        batch["segment_ids"] = ((np.arange(10)[None] >= 4) & mask).astype("int32")
    return batch


def _randomize(model):
    """Non-trivial LayerNorm parameters and biases (keras-hub starts them at 1 / 0)."""
    rng = np.random.default_rng(1)
    for weight in model.weights:
        if weight.path.endswith(("gamma", "beta", "bias")):
            weight.assign(rng.normal(scale=0.5, size=weight.shape).astype("float32"))


def test_bert_from_keras_hub_matches():
    reference = keras_hub.models.BertBackbone(**CONFIG)
    _randomize(reference)
    model = Bert.from_keras_hub(reference)
    assert model.layer_norm_epsilon == 1e-12 and model.activation == "gelu_approximate"
    batch = _batch()
    assert_all_close(model(batch), reference(batch), atol=1e-5, rtol=1e-5)
    assert model.count_params() == reference.count_params()


def test_gpt_from_keras_hub_matches():
    reference = keras_hub.models.GPT2Backbone(**CONFIG)
    _randomize(reference)
    model = GPT.from_keras_hub(reference)
    batch = _batch(segments=False)
    hidden = reference(batch)
    expected = reference.token_embedding(hidden, reverse=True)
    assert_all_close(model(batch), expected, atol=1e-5, rtol=1e-5)
    assert model.count_params() == reference.count_params()


def test_overrides_and_wrong_types():
    reference = keras_hub.models.GPT2Backbone(**CONFIG)
    model = GPT.from_keras_hub(reference, dtype="mixed_bfloat16")
    assert keras.backend.standardize_dtype(model(_batch(segments=False)).dtype) == "float32"
    with pytest.raises(ValueError, match="GPT2Backbone"):
        GPT.from_keras_hub(keras_hub.models.BertBackbone(**CONFIG))
    with pytest.raises(ValueError, match="BertBackbone"):
        Bert.from_keras_hub(reference)
