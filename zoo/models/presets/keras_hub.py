"""keras-hub presets -> zoo models: a `save_to_preset` directory, a preset name, a handle.

keras-hub loads its own backbone (`keras_hub.models.Backbone.from_preset`, which reads
`config.json` and `model.weights.h5`, or downloads a named preset), then the weights are
copied by meaning with `zoo.models.interop` (the path of `Bert.from_keras_hub` /
`GPT.from_keras_hub`), each with its shape checked:

- `BertBackbone` -> `Bert`: GELU (tanh approximation), LayerNorm epsilon 1e-12;
- `RobertaBackbone` -> `Bert`: `num_segments=1` with a zero segment row, exact GELU,
  epsilon 1e-5; keras-hub has no pooler, so `pooled_dense` keeps its initialization;
- `GPT2Backbone` -> `GPT`: GELU (tanh approximation), LayerNorm epsilon 1e-5.

Any other backbone class is a ValueError naming `class_name`. keras-hub has no backbone
that `Transformer` reproduces (its `BartBackbone` has learned positions and an
embedding LayerNorm); load a Marian checkpoint from its Hugging Face directory.

keras-hub is imported lazily, and downloads only for a preset name or handle.
"""

import os

__all__ = ["is_keras_hub_config", "load", "load_name"]

# zoo family -> the keras-hub backbone classes it converts.
BACKBONES = {
    "bert": ("BertBackbone", "RobertaBackbone"),
    "gpt": ("GPT2Backbone",),
    "transformer": (),
}
_HINTS = {
    "BertBackbone": "Bert",
    "RobertaBackbone": "Bert",
    "GPT2Backbone": "GPT",
}


def is_keras_hub_config(config):
    """Whether a `config.json` is a serialized keras-hub object (`save_to_preset`)."""
    return "registered_name" in config or ("class_name" in config and "config" in config)


def _check_class(cls, family, class_name, where):
    if class_name in BACKBONES[family]:
        return
    other = _HINTS.get(class_name)
    hint = (
        f" Load it with zoo.models.{other}.from_preset instead."
        if other
        else " Zoo converts keras-hub's BertBackbone, RobertaBackbone and GPT2Backbone."
    )
    if family == "transformer":
        hint += (
            " keras-hub has no backbone Transformer reproduces; a Marian (opus-mt) "
            "translation model loads from its Hugging Face checkpoint directory."
        )
    raise ValueError(
        f"{cls.__name__}.from_preset() found the keras-hub class_name={class_name!r} in "
        f"{where}, which {cls.__name__} cannot load.{hint}"
    )


def _import_keras_hub(owner, preset):
    try:
        import keras_hub
    except ImportError as error:
        raise ValueError(
            f"{owner} received preset={preset!r}, a keras-hub preset, which needs keras-hub "
            "(`pip install keras-hub`)."
        ) from error
    return keras_hub


def _convert(cls, backbone, kwargs):
    from zoo.models.interop import bert_from_keras_hub, gpt_from_keras_hub

    if type(backbone).__name__ == "GPT2Backbone":
        return gpt_from_keras_hub(cls, backbone, **kwargs)
    return bert_from_keras_hub(cls, backbone, **kwargs)


def load(cls, family, path, config, **kwargs):
    """`cls` from a keras-hub preset directory (its parsed `config.json` given)."""
    owner = f"{cls.__name__}.from_preset()"
    class_name = config.get("class_name") or str(config.get("registered_name")).split(">")[-1]
    _check_class(cls, family, class_name, os.path.join(path, "config.json"))
    if not any(
        os.path.isfile(os.path.join(path, name))
        for name in ("model.weights.h5", "model.weights.json")
    ):
        raise ValueError(
            f"{owner} found a keras-hub config.json in {path!r} but no model.weights.h5 "
            "(nor sharded model.weights.json). Write the preset with "
            "`backbone.save_to_preset(path)`."
        )
    keras_hub = _import_keras_hub(owner, path)
    backbone = keras_hub.models.Backbone.from_preset(path)
    return _convert(cls, backbone, kwargs)


def load_name(cls, family, preset, **kwargs):
    """`cls` from a keras-hub preset name or "kaggle://" handle (keras-hub downloads it)."""
    owner = f"{cls.__name__}.from_preset()"
    keras_hub = _import_keras_hub(owner, preset)
    if not preset.startswith("kaggle://"):
        known = {}
        for class_name in BACKBONES[family]:
            known.update(getattr(keras_hub.models, class_name).presets)
        if preset not in known:
            raise ValueError(
                f"{owner} received preset={preset!r}, which is neither a directory nor a "
                f"keras-hub preset name of {list(BACKBONES[family]) or 'this model'} (e.g. "
                f"{sorted(known)[:3]!r}). Pass a directory, 'hf://org/name', or a name from "
                "keras_hub.models.<Backbone>.presets."
            )
    try:
        backbone = keras_hub.models.Backbone.from_preset(preset)
    except Exception as error:  # network, authentication, missing files
        raise ValueError(
            f"{owner} could not load the keras-hub preset {preset!r} "
            f"({type(error).__name__}: {error}). keras-hub downloads presets from Kaggle; "
            "without network, pass a preset directory written by save_to_preset."
        ) from error
    _check_class(cls, family, type(backbone).__name__, repr(preset))
    return _convert(cls, backbone, kwargs)
