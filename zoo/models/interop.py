"""Weight import from keras-hub: `BertBackbone` / `RobertaBackbone` -> zoo `Bert`,
`GPT2Backbone` -> zoo `GPT`.

Called through `Bert.from_keras_hub(backbone)` and `GPT.from_keras_hub(backbone)` (and by
`from_preset` on a keras-hub preset). The zoo model is built with the keras-hub config
(activation `"gelu_approximate"`, LayerNorm epsilon 1e-12 for BERT and 1e-5 for GPT-2,
BERT post-LN with an embedding LayerNorm, GPT-2 pre-LN with a final LayerNorm; RoBERTa:
exact GELU, epsilon 1e-5, one segment whose embedding row is zero, and no pooler in
keras-hub, so `pooled_dense` keeps its initialization), then every weight is copied by
meaning, with its shape checked, so the outputs agree to float tolerance.

keras-hub is imported lazily: only these functions need it.
"""

import numpy as np

from zoo._compat import keras_hub_block_layers
from zoo.models.backbone import BACKBONE_ARGUMENTS

__all__ = ["bert_from_keras_hub", "gpt_from_keras_hub"]


def _check_type(backbone, class_names, zoo_name):
    import keras_hub

    expected = tuple(getattr(keras_hub.models, name) for name in class_names)
    if not isinstance(backbone, expected):
        wanted = " or ".join(f"keras_hub.models.{name}" for name in class_names)
        raise ValueError(
            f"{zoo_name}.from_keras_hub needs a {wanted}. Received: "
            f"{type(backbone).__name__}. Load one with keras_hub.models.{class_names[0]}"
            ".from_preset(...) or build it from its arguments."
        )


def _assign(target, source, what):
    """Copy one variable, checking the shape."""
    value = np.asarray(source.numpy() if hasattr(source, "numpy") else source)
    if tuple(target.shape) != value.shape:
        raise ValueError(
            f"Cannot copy {what}: keras-hub shape {value.shape}, zoo shape {tuple(target.shape)}."
        )
    target.assign(value)


def _copy_layer(target, source, what):
    """Copy all weights of a Dense / EinsumDense / LayerNorm / Embedding, in order."""
    if len(target.weights) != len(source.weights):
        raise ValueError(
            f"Cannot copy {what}: keras-hub has {len(source.weights)} weights, zoo "
            f"{len(target.weights)}."
        )
    for target_weight, source_weight in zip(target.weights, source.weights):
        _assign(target_weight, source_weight, f"{what}/{source_weight.name}")


def _copy_attention(target, source, what):
    """keras `MultiHeadAttention` (its public `query_dense`, ...) -> zoo
    `MultiHeadAttention` (same einsum layouts)."""
    for name in ("query_dense", "key_dense", "value_dense", "output_dense"):
        _copy_layer(getattr(target, f"_{name}"), getattr(source, name), f"{what}_{name}")


def _copy_block(target, source, what):
    """A keras-hub TransformerEncoder / TransformerDecoder (no cross-attention) -> zoo block.

    keras-hub keeps the sublayers in private attributes: `zoo._compat` reads them.
    """
    source = keras_hub_block_layers(source)
    _copy_attention(target._self_attention_layer, source["self_attention_layer"], what)
    for zoo_layer, name, label in (
        (target._self_attention_layer_norm, "self_attention_layer_norm", None),
        (
            target._feed_forward._intermediate_dense,
            "feedforward_intermediate_dense",
            "intermediate_dense",
        ),
        (target._feed_forward._output_dense, "feedforward_output_dense", "output_dense"),
        (target._feed_forward_layer_norm, "feedforward_layer_norm", "feed_forward_layer_norm"),
    ):
        _copy_layer(zoo_layer, source[name], f"{what}/{label or name}")


def _common_config(backbone):
    """The arguments keras-hub's backbones name as zoo's do, and GPT-2's / BERT's GELU."""
    config = {name: getattr(backbone, name) for name in BACKBONE_ARGUMENTS}
    return {**config, "activation": "gelu_approximate"}


def bert_from_keras_hub(cls, backbone, **kwargs):
    """Build `cls` (zoo `Bert`) from a `keras_hub.models.BertBackbone` (or
    `RobertaBackbone`), weights included."""
    _check_type(backbone, ("BertBackbone", "RobertaBackbone"), cls.__name__)
    if type(backbone).__name__ == "RobertaBackbone":
        return _roberta_from_keras_hub(cls, backbone, **kwargs)
    config = {
        "num_segments": backbone.num_segments,
        "layer_norm_epsilon": backbone.embeddings_layer_norm.epsilon,
        **kwargs,
    }
    model = _copy_stack(cls, backbone, backbone.position_embedding, config)
    embeddings = model.embeddings
    _copy_layer(embeddings._segment_embedding, backbone.segment_embedding, "segment_embedding")
    _copy_layer(embeddings._layer_norm, backbone.embeddings_layer_norm, "embeddings_layer_norm")
    _copy_layer(model.pooled_dense, backbone.pooled_dense, "pooled_dense")
    return model


def _roberta_from_keras_hub(cls, backbone, **kwargs):
    """RoBERTa: keras-hub has no segment embedding and no pooler; exact GELU, epsilon 1e-5."""
    config = {
        "num_segments": 1,
        "activation": "gelu",  # keras-hub's TransformerEncoder("gelu"): the exact (erf) GELU
        "layer_norm_epsilon": backbone.embeddings_layer_norm.epsilon,
        **kwargs,
    }
    model = _copy_stack(cls, backbone, backbone.embeddings.position_embedding, config)
    embeddings = model.embeddings
    segment = embeddings._segment_embedding.embeddings
    _assign(segment, np.zeros(tuple(segment.shape), "float32"), "segment_embedding")
    _copy_layer(embeddings._layer_norm, backbone.embeddings_layer_norm, "embeddings_layer_norm")
    return model


def gpt_from_keras_hub(cls, backbone, **kwargs):
    """Build `cls` (zoo `GPT`) from a `keras_hub.models.GPT2Backbone`, weights included."""
    _check_type(backbone, ("GPT2Backbone",), cls.__name__)
    config = {"layer_norm_epsilon": backbone.layer_norm.epsilon, **kwargs}
    model = _copy_stack(cls, backbone, backbone.position_embedding, config)
    _copy_layer(model.layer_norm, backbone.layer_norm, "layer_norm")
    return model


def _copy_stack(cls, backbone, position_embedding, config):
    """`cls` (`Bert`, `GPT`) built from the keras-hub `backbone`'s shared arguments and
    `config`, with its token and (learned) position embeddings (`position_embedding`,
    the keras-hub layer holding them) and its blocks copied from `backbone`."""
    model = cls(**{**_common_config(backbone), **config})
    embeddings = model.embeddings
    _assign(embeddings.embeddings, backbone.token_embedding.embeddings, "token_embedding")
    _assign(
        embeddings._position_embedding.position_embeddings,
        position_embedding.position_embeddings,
        "position_embedding",
    )
    for i, (target, source) in enumerate(
        zip(model.transformer_layers, backbone.transformer_layers)
    ):
        _copy_block(target, source, f"transformer_layer_{i}")
    return model
