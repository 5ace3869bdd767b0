"""BERT: a bidirectional Transformer encoder, its pretraining heads, and a classifier.

- `Bert`: the backbone. Token + learned position + segment embeddings (summed, LayerNorm,
  dropout), a stack of post-LN encoder blocks, and the pooled `[CLS]` vector (dense +
  tanh). Outputs `{"sequence_output", "pooled_output"}`.
- `BertMaskedLMHead`: the masked-language-model head: dense + activation + LayerNorm, then
  logits tied to the token embeddings plus a bias, at the masked positions.
- `BertPretrainer`: backbone + MLM head + next-sentence-prediction head; outputs
  `{"mlm_logits", "nsp_logits"}` for batches of `zoo.data.pretraining`.
- `BertClassifier`: backbone + dropout + dense on the pooled output, for fine-tuning.
- `Bert.from_keras_hub(backbone)` copies the weights of a `keras_hub.models.BertBackbone`;
  `Bert.from_preset(preset)` loads a keras-hub preset or a Hugging Face checkpoint.
"""

import keras
from keras import ops

from zoo._arguments import deserialize_entry
from zoo._checks import check_int
from zoo.layers.feed_forward import ACTIVATIONS
from zoo.layers.transformer import TransformerEncoderBlock
from zoo.models.backbone import (
    BACKBONE_ARGUMENTS,
    FunctionalModel,
    block_stack,
    check_stack_arguments,
    float32_logits,
    int_input,
    learned_embeddings,
    truncated_normal_initializer,
)
from zoo.models.layout import check_stack_parallel, stack_layout_map

__all__ = ["Bert", "BertClassifier", "BertMaskedLMHead", "BertPretrainer"]


@keras.saving.register_keras_serializable(package="zoo")
class Bert(FunctionalModel):
    """BERT backbone: a bidirectional Transformer encoder with segment embeddings.

    Every token attends to every non-padded token in both directions. The input is one
    or two segments (`[CLS] A [SEP] B [SEP]`), told apart by `segment_ids`. The
    embeddings of tokens, positions (learned) and segments are summed, normalized
    (LayerNorm) and dropped out; `num_layers` post-LN encoder blocks follow. The pooled
    output is `tanh(W h_[CLS] + b)`, the sentence representation used by NSP and
    classifiers.

    The defaults match keras-hub's `BertBackbone` (GELU with the tanh approximation,
    LayerNorm epsilon 1e-12, truncated-normal(0.02) initializers), so
    `Bert.from_keras_hub(backbone)` reproduces its outputs.

    Reference: Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for
    Language Understanding", 2018, https://arxiv.org/abs/1810.04805.

    Args:
        vocabulary_size: number of token ids.
        num_layers: number of encoder blocks.
        num_heads: attention heads per block; must divide `hidden_dim`.
        hidden_dim: model width.
        intermediate_dim: feed-forward width (4 * hidden_dim in the paper).
        dropout: dropout on embeddings, sub-layer outputs and attention probabilities.
        max_sequence_length: number of learned positions (longest input).
        num_segments: number of segment ids (2: sentence A and B).
        activation: feed-forward activation (`"gelu_approximate"`, as BERT's code).
        layer_norm_epsilon: LayerNorm epsilon.
        attention: self-attention of every block: `"full"`, `"sparse"`, `"longformer"`,
            `"linformer"`, `"performer"` or `"reformer"`.
        attention_options: dict of that attention's own arguments, see
            `zoo.layers.efficient_attention`. `"linformer"` gets
            `sequence_length=max_sequence_length` unless given.
        dtype: dtype policy, e.g. `"mixed_bfloat16"`.
        **kwargs: `name`, `trainable`.

    Call arguments (a dict):
        token_ids: int `(batch, sequence)`.
        padding_mask: `(batch, sequence)`, truthy for real tokens.
        segment_ids: int `(batch, sequence)`; optional (zeros: one segment).

    Returns:
        `{"sequence_output": (batch, sequence, hidden_dim), "pooled_output": (batch,
        hidden_dim)}`.

    Token ids outside `[0, vocabulary_size)` and segment ids outside `[0,
    num_segments)`: a call on concrete values (NumPy arrays, eager tensors) raises a
    ValueError naming the id. Inside traced or compiled code (`fit`, `predict`) the
    values are unknown when the program is built and nothing checks them: under XLA the
    embedding lookup clamps them to a valid row, without XLA TensorFlow's gather fails
    on CPU (returns zeros on GPU), and negative ids count from the end. Feed ids from
    the model's tokenizer.

    Example:

    >>> import numpy as np
    >>> model = Bert(vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=16,
    ...              intermediate_dim=32, max_sequence_length=16)
    >>> outputs = model({"token_ids": np.array([[2, 10, 11, 3, 0]]),
    ...                  "padding_mask": np.array([[1, 1, 1, 1, 0]]),
    ...                  "segment_ids": np.zeros((1, 5), "int32")})
    >>> tuple(outputs["sequence_output"].shape), tuple(outputs["pooled_output"].shape)
    ((1, 5, 16), (1, 16))
    """

    _optional_inputs = ("segment_ids",)
    _config_arguments = (
        *BACKBONE_ARGUMENTS,
        "num_segments",
        "activation",
        "layer_norm_epsilon",
        "attention",
        "attention_options",
    )

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.1,
        max_sequence_length=512,
        num_segments=2,
        activation="gelu_approximate",
        layer_norm_epsilon=1e-12,
        attention="full",
        attention_options=None,
        dtype=None,
        **kwargs,
    ):
        attention_options = check_stack_arguments(
            type(self).__name__, locals(), num_segments=num_segments
        )
        block_attention_options = dict(attention_options)
        if attention == "linformer":  # projections sized for the longest input
            block_attention_options.setdefault("sequence_length", max_sequence_length)
        check_stack_parallel(
            type(self).__name__,
            vocabulary_size,
            num_layers,
            hidden_dim,
            num_heads,
            intermediate_dim,
        )

        # === Layers ===
        self.embeddings = learned_embeddings(
            vocabulary_size,
            max_sequence_length,
            hidden_dim,
            dropout,
            dtype,
            num_segments=num_segments,
            layer_norm=True,
            layer_norm_epsilon=layer_norm_epsilon,
        )
        self.transformer_layers = block_stack(
            TransformerEncoderBlock, locals(), attention_options=block_attention_options
        )
        self.pooled_dense = keras.layers.Dense(
            hidden_dim,
            activation="tanh",
            kernel_initializer=truncated_normal_initializer(),
            dtype=dtype,
            name="pooled_dense",
        )

        # === Functional model ===
        inputs = {
            "token_ids": int_input("token_ids"),
            "padding_mask": int_input("padding_mask"),
            "segment_ids": int_input("segment_ids", optional=True),
        }
        x = self.embeddings(inputs["token_ids"], segment_ids=inputs["segment_ids"])
        for block in self.transformer_layers:
            x = block(x, padding_mask=inputs["padding_mask"])  # (batch, sequence, hidden)
        pooled = self.pooled_dense(x[:, 0, :])  # (batch, hidden), the [CLS] position
        super().__init__(
            inputs=inputs,
            outputs={"sequence_output": x, "pooled_output": pooled},
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self._keep_arguments(locals())

    def _id_limits(self):
        return {
            "token_ids": getattr(self, "vocabulary_size", None),
            "segment_ids": getattr(self, "num_segments", None),
        }

    @property
    def token_embedding(self):
        """The token `Embedding` layer (its matrix ties the MLM output projection)."""
        return self.embeddings

    @classmethod
    def from_keras_hub(cls, backbone, **kwargs):
        """A `Bert` with the config and weights of a `keras_hub.models.BertBackbone`.

        Works with any keras-hub BERT, e.g. one made by `BertBackbone.from_preset(...)` on
        Colab; the zoo model then gives the same outputs (within float tolerance).
        Keyword arguments (e.g. `dtype`, `dropout`) override the copied config.
        """
        from zoo.models.interop import bert_from_keras_hub

        return bert_from_keras_hub(cls, backbone, **kwargs)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """A `Bert` with the config and weights of a pretrained checkpoint.

        `preset`: a keras-hub preset directory (`save_to_preset` of a `BertBackbone` or
        `RobertaBackbone`) or name, or a Hugging Face "bert" / "roberta" checkpoint
        directory (`config.json` + `model.safetensors`) or "hf://org/name". Names and
        "hf://" ids download; directories load offline. A config field Zoo cannot
        reproduce is a ValueError naming it. Keyword arguments (e.g. `dtype`, `dropout`)
        override the mapped config. See `zoo.models.presets`.
        """
        from zoo.models.presets import load_preset

        return load_preset(cls, "bert", preset, **kwargs)

    @classmethod
    def layout_map(cls, device_mesh, model_axis="model", batch_axis="batch"):
        """A Megatron-style `keras.distribution.LayoutMap` for `ModelParallel` (JAX).

        Splits over `model_axis`, and replicates over `batch_axis`:

        - `embeddings/token_embedding/embeddings` `(vocabulary, hidden)`: `(model, None)`,
          also the MLM head's tied projection, which reuses that matrix;
        - in every `transformer_layer_<i>/self_attention`: the `query` / `key` / `value`
          kernels `(hidden, heads, head_dim)` as `(None, model, None)` and biases
          `(heads, head_dim)` as `(model, None)` (column-parallel), the `attention_output`
          kernel `(heads, head_dim, hidden)` as `(model, None, None)` (row-parallel);
        - in every `transformer_layer_<i>/feed_forward`: `intermediate_dense` kernel
          `(None, model)` and bias `(model,)`, `output_dense` kernel `(model, None)`.

        Everything else is replicated: LayerNorms, position and segment embeddings, the
        row-parallel layers' output biases, `pooled_dense`, and the heads of
        `BertPretrainer` / `BertClassifier` (the map applies to them as they are, their
        backbone variables keep these paths). With an efficient attention
        (`attention="linformer"`, ...) the standard `query` / `key` / `value` /
        `attention_output` kernels are split the same way and the attention's own
        variables (e.g. Linformer's `key_projection`) are replicated.

        `vocabulary_size`, `num_heads` and `intermediate_dim` must be divisible by the
        size of `model_axis`; building a `Bert` under a `ModelParallel` with this map
        raises a ValueError naming the argument otherwise (pad the vocabulary).

        The arguments are those of `zoo.models.build_layout_map` (less `rules`):
        `device_mesh`, a `keras.distribution.DeviceMesh` such as `(2, 4)` over
        `("batch", "model")`, and the names of its `model_axis` and `batch_axis`. The
        `zoo.models.layout` module doc shows the map under `ModelParallel`; with `mesh`:

        >>> Bert.layout_map(mesh)["transformer_layer_0/self_attention/query/kernel"].axes
        (None, 'model', None)
        """
        return stack_layout_map(device_mesh, model_axis, batch_axis)


@keras.saving.register_keras_serializable(package="zoo")
class BertMaskedLMHead(keras.layers.Layer):
    """BERT's masked-LM head: logits over the vocabulary at the masked positions.

    Gathers the hidden states at `mask_positions`, applies dense + activation +
    LayerNorm, then multiplies by the transposed token embedding matrix (tied weights,
    Press & Wolf 2016) and adds a per-token bias. Logits are float32.

    Reference: Devlin et al., 2018, https://arxiv.org/abs/1810.04805 (section 3.1, task
    1), and BERT's `get_masked_lm_output`.

    Args:
        token_embedding: the backbone's `TokenAndPositionEmbedding` (its matrix is the
            output projection). Not serialized: the owner model passes it again.
        activation: activation of the transform (BERT: `"gelu_approximate"`).
        layer_norm_epsilon: LayerNorm epsilon.
        kernel_initializer: initializer of the transform's kernel.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: hidden states `(batch, sequence, hidden_dim)`.
        mask_positions: int `(batch, num_predictions)`; `None` for every position.

    Example:

    >>> import numpy as np
    >>> from zoo.layers import TokenAndPositionEmbedding
    >>> embedding = TokenAndPositionEmbedding(100, max_sequence_length=8, hidden_dim=16)
    >>> hidden = embedding(np.array([[2, 5, 4, 3]]))
    >>> head = BertMaskedLMHead(token_embedding=embedding)
    >>> tuple(head(hidden, mask_positions=np.array([[2]])).shape)
    (1, 1, 100)
    """

    def __init__(
        self,
        token_embedding=None,
        activation="gelu_approximate",
        layer_norm_epsilon=1e-12,
        kernel_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ValueError(
                f"BertMaskedLMHead received activation={activation!r}. "
                f"Expected one of {sorted(ACTIVATIONS)}."
            )
        self.token_embedding = token_embedding
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or truncated_normal_initializer()
        )
        self._activation_fn = ACTIVATIONS[activation]

    def build(self, inputs_shape, mask_positions_shape=None):
        if self.token_embedding is None:
            raise ValueError(
                "BertMaskedLMHead needs `token_embedding=` (the backbone's token embedding "
                "layer), whose matrix ties the output projection. Received None."
            )
        hidden_dim = inputs_shape[-1]
        self._dense = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="transform_dense",
        )
        self._dense.build(inputs_shape)
        self._layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="transform_layer_norm"
        )
        self._layer_norm.build(inputs_shape)
        self.bias = self.add_weight(
            name="output_bias",
            shape=(self.token_embedding.vocabulary_size,),
            initializer="zeros",
        )

    def call(self, inputs, mask_positions=None):
        x = inputs
        if mask_positions is not None:
            index = ops.expand_dims(ops.cast(mask_positions, "int32"), -1)  # (batch, P, 1)
            x = ops.take_along_axis(x, index, axis=1)  # (batch, P, hidden)
        x = self._layer_norm(self._activation_fn(self._dense(x)))
        logits = self.token_embedding.logits(x) + ops.cast(self.bias, self.compute_dtype)
        return float32_logits(logits)  # (batch, P, vocabulary)

    def compute_output_shape(self, inputs_shape, mask_positions_shape=None):
        length = inputs_shape[1] if mask_positions_shape is None else mask_positions_shape[1]
        return (inputs_shape[0], length, self.token_embedding.vocabulary_size)

    def compute_output_spec(self, inputs, mask_positions=None):
        shape = self.compute_output_shape(
            inputs.shape, None if mask_positions is None else mask_positions.shape
        )
        return keras.KerasTensor(shape, dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config


def _check_backbone(owner, backbone):
    if not isinstance(backbone, Bert):
        raise ValueError(
            f"{owner} needs a zoo `Bert` backbone. Received: {type(backbone).__name__}. "
            "Build one with zoo.models.bert.Bert(...) or Bert.from_keras_hub(...)."
        )


def _backbone_inputs():
    return {
        "token_ids": int_input("token_ids"),
        "padding_mask": int_input("padding_mask"),
        "segment_ids": int_input("segment_ids", optional=True),
    }


class _Task(FunctionalModel):
    """A model around a `Bert` backbone; the backbone is serialized inside the config."""

    _optional_inputs = ("segment_ids",)

    def _id_limits(self):
        backbone = getattr(self, "backbone", None)
        return backbone._id_limits() if backbone is not None else {}

    def _base_config(self):
        config = super()._base_config()
        config["backbone"] = keras.saving.serialize_keras_object(self.backbone)
        return config

    @classmethod
    def from_config(cls, config):
        return super().from_config(deserialize_entry(config, "backbone"))


@keras.saving.register_keras_serializable(package="zoo")
class BertPretrainer(_Task):
    """BERT pretraining: masked-LM logits at `mask_positions` and next-sentence logits.

    The MLM head is a `BertMaskedLMHead` tied to the backbone's token embeddings; the
    NSP head is a dense layer with 2 outputs on the pooled `[CLS]` vector (0: B follows
    A, 1: B is random). Train it on `zoo.data.pretraining.bert_pretraining_dataset`
    with sparse cross-entropy on both outputs (MLM weighted by `mask_weights`).

    Reference: Devlin et al., 2018, https://arxiv.org/abs/1810.04805 (section 3.1).

    Args:
        backbone: a zoo `Bert`.
        dtype: dtype policy of the heads (defaults to the backbone's).
        **kwargs: `name`, `trainable`.

    Call arguments (a dict): `token_ids`, `padding_mask`, `segment_ids` (optional) as for
        `Bert`, and `mask_positions` int `(batch, num_predictions)`.

    Returns:
        `{"mlm_logits": float32 (batch, num_predictions, vocabulary_size),
        "nsp_logits": float32 (batch, 2)}`.

    Example:

    >>> import numpy as np
    >>> backbone = Bert(vocabulary_size=100, num_layers=1, num_heads=2, hidden_dim=16,
    ...                 intermediate_dim=32, max_sequence_length=16)
    >>> pretrainer = BertPretrainer(backbone)
    >>> outputs = pretrainer({"token_ids": np.array([[2, 4, 11, 3, 12, 3]]),
    ...                       "padding_mask": np.ones((1, 6), "int32"),
    ...                       "segment_ids": np.array([[0, 0, 0, 0, 1, 1]]),
    ...                       "mask_positions": np.array([[1]])})
    >>> tuple(outputs["mlm_logits"].shape), tuple(outputs["nsp_logits"].shape)
    ((1, 1, 100), (1, 2))
    """

    def __init__(self, backbone, dtype=None, **kwargs):
        _check_backbone(type(self).__name__, backbone)
        dtype = dtype or backbone.dtype_policy

        # === Layers ===
        self.backbone = backbone
        self.masked_lm_head = BertMaskedLMHead(
            token_embedding=backbone.embeddings,
            activation=backbone.activation,
            layer_norm_epsilon=backbone.layer_norm_epsilon,
            dtype=dtype,
            name="masked_lm_head",
        )
        self.next_sentence_head = keras.layers.Dense(
            2,
            kernel_initializer=truncated_normal_initializer(),
            dtype=dtype,
            name="next_sentence_head",
        )

        # === Functional model ===
        inputs = {**_backbone_inputs(), "mask_positions": int_input("mask_positions")}
        outputs = backbone(
            {key: inputs[key] for key in ("token_ids", "padding_mask", "segment_ids")}
        )
        mlm_logits = self.masked_lm_head(
            outputs["sequence_output"], mask_positions=inputs["mask_positions"]
        )
        nsp_logits = float32_logits(self.next_sentence_head(outputs["pooled_output"]))
        super().__init__(
            inputs=inputs,
            outputs={"mlm_logits": mlm_logits, "nsp_logits": nsp_logits},
            dtype=dtype,
            **kwargs,
        )


class _DenseHeadTask(_Task):
    """Dropout + a dense layer of `num_classes` logits on one backbone output."""

    _FEATURES = "pooled_output"  # the backbone output the head reads
    _config_arguments = ("num_classes", "dropout")

    def __init__(self, backbone, num_classes, dropout=0.1, dtype=None, **kwargs):
        _check_backbone(type(self).__name__, backbone)
        check_int(num_classes, "num_classes", type(self).__name__)
        dtype = dtype or backbone.dtype_policy

        # === Layers ===
        self.backbone = backbone
        self.output_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="output_dropout")
        self.output_dense = keras.layers.Dense(
            num_classes,
            kernel_initializer=truncated_normal_initializer(),
            dtype=dtype,
            name="logits",
        )

        # === Functional model ===
        inputs = _backbone_inputs()
        features = backbone(inputs)[self._FEATURES]
        logits = float32_logits(self.output_dense(self.output_dropout(features)))
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

        # === Config ===
        self._keep_arguments(locals())


@keras.saving.register_keras_serializable(package="zoo")
class BertClassifier(_DenseHeadTask):
    """BERT fine-tuned for classification: dropout + dense on the pooled `[CLS]` output.

    Reference: Devlin et al., 2018, https://arxiv.org/abs/1810.04805 (section 4).

    Args:
        backbone: a zoo `Bert` (pretrained, or from `Bert.from_keras_hub`).
        num_classes: number of classes.
        dropout: dropout before the output layer.
        dtype: dtype policy of the head (defaults to the backbone's).
        **kwargs: `name`, `trainable`.

    Call arguments (a dict): `token_ids`, `padding_mask`, `segment_ids` (optional), as
        yielded by `zoo.data.classification_dataset`.

    Returns:
        float32 logits `(batch, num_classes)`.

    Example:

    >>> import numpy as np
    >>> backbone = Bert(vocabulary_size=100, num_layers=1, num_heads=2, hidden_dim=16,
    ...                 intermediate_dim=32, max_sequence_length=16)
    >>> classifier = BertClassifier(backbone, num_classes=3)
    >>> logits = classifier({"token_ids": np.array([[2, 10, 3]]),
    ...                      "padding_mask": np.ones((1, 3), "int32")})
    >>> tuple(logits.shape)
    (1, 3)
    """


@keras.saving.register_keras_serializable(package="zoo")
class BertTokenClassifier(_DenseHeadTask):
    """BERT fine-tuned for token classification (tagging): dropout + dense on every position.

    Reference: Devlin et al., 2018, https://arxiv.org/abs/1810.04805 (section 5.3, named
    entities: the first subword of each word carries the word's label).

    Args:
        backbone: a zoo `Bert` (pretrained, or from `Bert.from_keras_hub`).
        num_classes: number of tags.
        dropout: dropout before the output layer.
        dtype: dtype policy of the head (defaults to the backbone's).
        **kwargs: `name`, `trainable`.

    Call arguments (a dict): `token_ids`, `padding_mask`, `segment_ids` (optional).

    Returns:
        float32 logits `(batch, sequence_length, num_classes)`.

    Example:

    >>> import numpy as np
    >>> backbone = Bert(vocabulary_size=100, num_layers=1, num_heads=2, hidden_dim=16,
    ...                 intermediate_dim=32, max_sequence_length=16)
    >>> tagger = BertTokenClassifier(backbone, num_classes=5)
    >>> logits = tagger({"token_ids": np.array([[2, 10, 11, 3]]),
    ...                  "padding_mask": np.ones((1, 4), "int32")})
    >>> tuple(logits.shape)
    (1, 4, 5)
    """

    _FEATURES = "sequence_output"
