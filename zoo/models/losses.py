"""Losses of the zoo models.

- `LabelSmoothedCrossEntropy`: label-smoothed (0.1 in the Transformer paper) cross-entropy
  on logits that ignores padding; the translation recipe's loss.
"""

import keras
from keras import ops

__all__ = ["LabelSmoothedCrossEntropy"]


@keras.saving.register_keras_serializable(package="zoo")
class LabelSmoothedCrossEntropy(keras.losses.Loss):
    """Cross-entropy on logits with label smoothing, averaged over non-padding tokens.

    The target distribution puts `1 - label_smoothing` on the label and spreads
    `label_smoothing` uniformly over the vocabulary; positions whose label is
    `pad_token_id` are ignored, and the loss is the mean over the remaining tokens
    (times any `sample_weight`).

    Reference: Szegedy et al., 2016, https://arxiv.org/abs/1512.00567 (section 7);
    Vaswani et al., 2017 (section 5.4, label smoothing 0.1).

    Args:
        label_smoothing: the mass spread over the vocabulary (0.1 in the paper).
        pad_token_id: label id to ignore; `None` to count every position.
        **kwargs: `name`, `dtype`.

    Example:

    >>> import numpy as np
    >>> loss = LabelSmoothedCrossEntropy(0.1)
    >>> labels = np.array([[3, 2, 0]])
    >>> logits = np.zeros((1, 3, 5), "float32")
    >>> round(float(loss(labels, logits)), 4)  # log(5)
    1.6094
    """

    def __init__(self, label_smoothing=0.1, pad_token_id=0, **kwargs):
        kwargs.setdefault("reduction", "mean_with_sample_weight")
        super().__init__(**kwargs)
        if not isinstance(label_smoothing, (int, float)) or not 0 <= label_smoothing < 1:
            raise ValueError(
                f"LabelSmoothedCrossEntropy received label_smoothing={label_smoothing!r}. "
                "Expected a float in [0, 1), e.g. 0.1."
            )
        self.label_smoothing = label_smoothing
        self.pad_token_id = pad_token_id

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.pad_token_id is not None:
            mask = ops.cast(ops.not_equal(y_true, self.pad_token_id), "float32")
            sample_weight = mask if sample_weight is None else mask * sample_weight
        elif sample_weight is None:
            sample_weight = ops.ones(ops.shape(y_true), "float32")
        return super().__call__(y_true, y_pred, sample_weight=sample_weight)

    def call(self, y_true, y_pred):
        # With log p = z - logsumexp(z): nll = lse - z[label] and the smoothing term
        # -mean(log p) = lse - mean(z). Written this way the (tokens, vocabulary) log-softmax
        # is never materialized, which halves the loss's forward + backward time on CPU.
        logits = ops.cast(y_pred, "float32")
        lse = ops.logsumexp(logits, axis=-1)
        labels = ops.expand_dims(ops.cast(y_true, "int32"), -1)
        label_logit = ops.squeeze(ops.take_along_axis(logits, labels, axis=-1), -1)
        smooth = self.label_smoothing
        return lse - (1.0 - smooth) * label_logit - smooth * ops.mean(logits, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"label_smoothing": self.label_smoothing, "pad_token_id": self.pad_token_id})
        return config
