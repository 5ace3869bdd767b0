"""Token ids outside a model's vocabulary: a clear error where the values are concrete."""

import numpy as np
import pytest

from zoo.models import GPT, Bert, BertClassifier, Transformer

SMALL = dict(num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16, max_sequence_length=8)


def _gpt_inputs(ids):
    ids = np.array([ids])
    return {"token_ids": ids, "padding_mask": np.ones_like(ids)}


def test_gpt_rejects_concrete_ids_outside_the_vocabulary():
    model = GPT(vocabulary_size=20, **SMALL)
    assert model(_gpt_inputs([1, 19, 3])).shape == (1, 3, 20)
    for bad in (20, 99999, -4):
        with pytest.raises(ValueError, match=rf"token_ids with id {bad} outside \[0, 20\)"):
            model(_gpt_inputs([1, bad, 3]))


def test_bert_checks_token_and_segment_ids():
    backbone = Bert(vocabulary_size=20, **SMALL)
    inputs = {"token_ids": np.array([[2, 5, 3]]), "padding_mask": np.ones((1, 3), "int32")}
    backbone(inputs)
    with pytest.raises(ValueError, match=r"Bert received token_ids with id 25 outside \[0, 20\)"):
        backbone({**inputs, "token_ids": np.array([[2, 25, 3]])})
    with pytest.raises(ValueError, match=r"segment_ids with id 2 outside \[0, 2\)"):
        backbone({**inputs, "segment_ids": np.array([[0, 1, 2]])})
    classifier = BertClassifier(backbone, num_classes=2)
    with pytest.raises(ValueError, match=r"BertClassifier received token_ids with id -1"):
        classifier({**inputs, "token_ids": np.array([[2, -1, 3]])})


def test_transformer_checks_each_side_against_its_vocabulary():
    model = Transformer(
        source_vocabulary_size=10, target_vocabulary_size=30, share_embeddings=False, **SMALL
    )
    inputs = {
        "encoder_token_ids": np.array([[1, 9]]),
        "encoder_padding_mask": np.ones((1, 2), "int32"),
        "decoder_token_ids": np.array([[1, 29]]),
        "decoder_padding_mask": np.ones((1, 2), "int32"),
    }
    assert model(inputs).shape == (1, 2, 30)
    with pytest.raises(ValueError, match=r"encoder_token_ids with id 12 outside \[0, 10\)"):
        model({**inputs, "encoder_token_ids": np.array([[1, 12]])})
    with pytest.raises(ValueError, match=r"decoder_token_ids with id 30 outside \[0, 30\)"):
        model({**inputs, "decoder_token_ids": np.array([[1, 30]])})
