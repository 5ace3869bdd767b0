"""zoo.models.losses: the label-smoothed cross-entropy."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.models.losses import LabelSmoothedCrossEntropy


def test_label_smoothed_loss_matches_numpy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 5)).astype("float32")
    labels = np.array([[1, 2, 0], [4, 0, 0]])
    loss = float(LabelSmoothedCrossEntropy(0.1)(labels, logits))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, labels[..., None], -1)[..., 0]
    per_token = 0.9 * nll + 0.1 * -log_probs.mean(-1)
    mask = labels != 0
    assert loss == pytest.approx(per_token[mask].mean(), rel=1e-5)


def test_label_smoothed_loss_gradient_and_large_logits():
    # d loss / d logits = softmax - ((1 - eps) * one_hot + eps / V) at every counted token,
    # and logits far from zero neither overflow nor lose the answer.
    rng = np.random.default_rng(1)
    logits = (rng.normal(size=(2, 3, 5)) * 50).astype("float32")
    labels = np.array([[1, 2, 3], [4, 0, 1]])
    loss_fn = LabelSmoothedCrossEntropy(0.1, pad_token_id=None)
    variable = keras.Variable(logits)
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, variable)
    gradient = tape.gradient(loss, variable).numpy()
    shifted = logits - logits.max(-1, keepdims=True)
    softmax = np.exp(shifted) / np.exp(shifted).sum(-1, keepdims=True)
    target = 0.9 * np.eye(5)[labels] + 0.1 / 5
    np.testing.assert_allclose(gradient, (softmax - target) / labels.size, atol=1e-6)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    expected = (0.9 * -np.take_along_axis(log_probs, labels[..., None], -1)[..., 0]) + (
        0.1 * -log_probs.mean(-1)
    )
    assert np.isfinite(float(loss))
    assert float(loss) == pytest.approx(expected.mean(), rel=1e-5)


def test_loss_saved_under_its_old_module_still_loads():
    # `.keras` files written before the loss moved out of zoo.models.transformer name that
    # module; the registered name ("zoo>LabelSmoothedCrossEntropy") is what finds the class.
    config = keras.saving.serialize_keras_object(LabelSmoothedCrossEntropy(0.2, pad_token_id=3))
    assert config["registered_name"] == "zoo>LabelSmoothedCrossEntropy"
    revived = keras.saving.deserialize_keras_object({**config, "module": "zoo.models.transformer"})
    assert isinstance(revived, LabelSmoothedCrossEntropy)
    assert (revived.label_smoothing, revived.pad_token_id) == (0.2, 3)
