import keras
import numpy as np
import pytest

from tests.test_case import assert_all_close, random_ids, run_saving_test, tiny_model
from zoo.models.bert import Bert, BertClassifier, BertMaskedLMHead, BertPretrainer

VOCABULARY, LENGTH = 50, 8


def _backbone(vocabulary_size=VOCABULARY, **kwargs):
    sizes = {"num_layers": 2, "max_sequence_length": 12}
    return tiny_model(Bert, vocabulary_size, None, **{**sizes, **kwargs})


def _batch(seed=0, lengths=(8, 5)):
    token_ids, mask = random_ids(np.random.default_rng(seed), VOCABULARY, LENGTH, lengths)
    return {
        "token_ids": token_ids,
        "padding_mask": mask,
        "segment_ids": ((np.arange(LENGTH)[None] >= 3) & (mask > 0)).astype("int32"),
    }


def test_backbone_outputs():
    outputs = _backbone()(_batch())
    assert set(outputs) == {"sequence_output", "pooled_output"}
    assert tuple(outputs["sequence_output"].shape) == (2, LENGTH, 16)
    assert tuple(outputs["pooled_output"].shape) == (2, 16)


def test_segment_ids_are_optional():
    model = _backbone()
    batch = _batch()
    zeros = {**batch, "segment_ids": np.zeros_like(batch["segment_ids"])}
    without = {key: batch[key] for key in ("token_ids", "padding_mask")}
    assert_all_close(model(without), model(zeros))
    assert not np.allclose(model(batch)["pooled_output"], model(zeros)["pooled_output"])


def test_saving_backbone_pretrainer_and_classifier():
    backbone = _backbone()
    batch = _batch()
    run_saving_test(backbone, batch)
    pretrainer = BertPretrainer(backbone)
    run_saving_test(pretrainer, {**batch, "mask_positions": np.array([[1, 2], [3, 0]])})
    classifier = BertClassifier(backbone, num_classes=3)
    loaded = run_saving_test(classifier, batch)
    assert loaded.get_config()["num_classes"] == 3


def test_padding_does_not_change_real_positions():
    model = _backbone()
    batch = _batch()
    expected = model(batch)
    noise = np.random.default_rng(3).integers(7, VOCABULARY, batch["token_ids"].shape)
    changed = {
        **batch,
        "token_ids": np.where(batch["padding_mask"] == 1, batch["token_ids"], noise),
    }
    actual = model(changed)
    real = batch["padding_mask"].astype(bool)
    assert_all_close(
        keras.ops.convert_to_numpy(actual["sequence_output"])[real],
        keras.ops.convert_to_numpy(expected["sequence_output"])[real],
        atol=1e-5,
        rtol=1e-5,
    )
    assert_all_close(actual["pooled_output"], expected["pooled_output"], atol=1e-5, rtol=1e-5)


def test_masked_lm_head_is_tied_to_the_token_embeddings():
    backbone = _backbone()
    pretrainer = BertPretrainer(backbone)
    batch = {**_batch(), "mask_positions": np.array([[1, 4], [2, 0]])}
    outputs = pretrainer(batch)
    assert tuple(outputs["mlm_logits"].shape) == (2, 2, VOCABULARY)
    assert tuple(outputs["nsp_logits"].shape) == (2, 2)
    head = pretrainer.masked_lm_head
    # Own weights: transform dense (2), LayerNorm (2), output bias (1); no output matrix.
    assert len(head.trainable_weights) - len(head.token_embedding.trainable_weights) == 5
    assert len(pretrainer.trainable_weights) == len(backbone.trainable_weights) + 5 + 2
    # The logits at a position are the head applied to that position's hidden state.
    inputs = {key: batch[key] for key in ("token_ids", "padding_mask", "segment_ids")}
    sequence = backbone(inputs)["sequence_output"]
    hidden = keras.ops.convert_to_numpy(sequence)[0, 4]
    x = hidden @ head._dense.kernel.numpy() + head._dense.bias.numpy()
    x = keras.ops.convert_to_numpy(keras.activations.gelu(x, approximate=True))
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-12) * head._layer_norm.gamma.numpy()
    x = x + head._layer_norm.beta.numpy()
    expected = x @ backbone.embeddings.embeddings.numpy().T + head.bias.numpy()
    assert_all_close(outputs["mlm_logits"][0, 1], expected, atol=1e-4, rtol=1e-4)


def test_pretrainer_xla_fit_step():
    pretrainer = BertPretrainer(_backbone(num_layers=1))
    pretrainer.compile(
        optimizer=keras.optimizers.AdamW(1e-3),
        loss={
            "mlm_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "nsp_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
        jit_compile=True,
    )
    batch = {**_batch(), "mask_positions": np.array([[1, 4], [2, 0]])}
    labels = {"mlm_logits": np.array([[9, 10], [11, 0]]), "nsp_logits": np.array([0, 1])}
    weights = {"mlm_logits": np.array([[1.0, 1.0], [1.0, 0.0]]), "nsp_logits": np.ones(2)}
    before = [w.numpy() for w in pretrainer.trainable_weights]
    history = pretrainer.fit(batch, labels, sample_weight=weights, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = [w.numpy() for w in pretrainer.trainable_weights]
    # Every weight moves except the key biases: they add q.b_k to all scores of a query,
    # which the softmax cancels, so their gradient is exactly zero.
    for weight, b, a in zip(pretrainer.trainable_weights, before, after):
        assert weight.path.endswith("key/bias") or not np.allclose(b, a), weight.path


def test_classifier_xla_fit_step_without_segment_ids():
    classifier = BertClassifier(_backbone(num_layers=1), num_classes=3)
    classifier.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    batch = {key: _batch()[key] for key in ("token_ids", "padding_mask")}
    history = classifier.fit(batch, np.array([0, 2]), batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_mixed_bfloat16():
    backbone = _backbone(dtype="mixed_bfloat16")
    outputs = backbone(_batch())
    assert keras.backend.standardize_dtype(outputs["sequence_output"].dtype) == "bfloat16"
    pretrainer = BertPretrainer(backbone)
    logits = pretrainer({**_batch(), "mask_positions": np.array([[1], [2]])})
    assert keras.backend.standardize_dtype(logits["mlm_logits"].dtype) == "float32"
    assert keras.backend.standardize_dtype(logits["nsp_logits"].dtype) == "float32"
    assert all(w.dtype == "float32" for w in pretrainer.weights)


def test_tasks_need_a_zoo_backbone():
    with pytest.raises(ValueError, match="zoo `Bert` backbone"):
        BertClassifier(keras.layers.Dense(2), num_classes=2)
    with pytest.raises(ValueError, match="activation"):
        BertMaskedLMHead(activation="nope")
