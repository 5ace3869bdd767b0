"""Pretrained checkpoints -> zoo models: `from_preset` of `Bert`, `GPT` and `Transformer`.

`load_preset(cls, family, preset, **kwargs)` finds what `preset` is and hands it to the
converter of its source format (one module per format, each mapping names explicitly):

- a keras-hub preset directory (written by `save_to_preset`: `config.json` with
  `registered_name`, and `model.weights.h5`), a keras-hub preset name
  ("bert_base_en_uncased") or a "kaggle://" handle: `zoo.models.presets.keras_hub` loads
  the keras-hub backbone with keras-hub and copies it by `from_keras_hub`
  (`BertBackbone` / `RobertaBackbone` -> `Bert`, `GPT2Backbone` -> `GPT`);
- a Hugging Face checkpoint directory (`config.json` with `model_type`, and
  `model.safetensors` or a sharded `model.safetensors.index.json`) or "hf://org/name":
  `zoo.models.presets.huggingface` reads the safetensors weights itself ("bert",
  "roberta" -> `Bert`; "gpt2" -> `GPT`; "marian" -> `Transformer`).

Names and "hf://" ids are downloaded (by keras-hub, `huggingface_hub`) only when passed
here; directories are read offline. A config field Zoo cannot reproduce exactly (an
unknown `model_type`, an unsupported activation or position scheme, ...) is a
`ValueError` naming the field and its value, never a model that silently computes
something else. Keyword arguments override the mapped config (`dtype`, `dropout`,
`attention`, ...); one that changes a weight's shape fails with the weight's name.
"""

import json
import os

from zoo._checks import check_preset_name

__all__ = ["SUPPORTED_MODEL_TYPES", "load_preset"]

# Hugging Face model_type -> the zoo class that loads it.
SUPPORTED_MODEL_TYPES = {"bert": "Bert", "roberta": "Bert", "gpt2": "GPT", "marian": "Transformer"}


def load_preset(cls, family, preset, **kwargs):
    """A `cls` model with the config and weights of `preset`.

    Args:
        cls: the zoo model class (`Bert`, `GPT`, `Transformer` or a subclass).
        family: "bert", "gpt" or "transformer": which converters apply.
        preset: a directory, "hf://org/name", a keras-hub preset name or "kaggle://..."
            handle (see the module docstring).
        **kwargs: constructor arguments that override the mapped config.

    Returns:
        The model, built and holding the checkpoint's weights.
    """
    from zoo.models.presets import huggingface, keras_hub

    owner = f"{cls.__name__}.from_preset()"
    preset = check_preset_name(
        preset,
        owner,
        "a directory (a keras-hub preset or a Hugging Face checkpoint), 'hf://org/name' or a "
        "keras-hub preset name",
    )
    if preset.startswith("hf://"):
        path = huggingface.download(preset, owner)
        return huggingface.load(cls, family, path, preset, **kwargs)
    if os.path.isdir(preset):
        config = read_config(preset, owner)
        if keras_hub.is_keras_hub_config(config):
            return keras_hub.load(cls, family, preset, config, **kwargs)
        if "model_type" in config:
            return huggingface.load(cls, family, preset, preset, config=config, **kwargs)
        raise ValueError(
            f"{owner} found a config.json in {preset!r} with neither `registered_name` (a "
            "keras-hub preset from save_to_preset) nor `model_type` (a Hugging Face "
            f"checkpoint); its keys: {sorted(config)[:12]}. A zoo run directory is not a "
            "preset: load the model it saved with keras.saving.load_model."
        )
    if preset.startswith("kaggle://") or _looks_like_name(preset):
        return keras_hub.load_name(cls, family, preset, **kwargs)
    raise ValueError(
        f"{owner} received preset={preset!r}, which is not a directory. Expected a "
        "directory (a keras-hub preset written by save_to_preset, or a Hugging Face "
        "checkpoint with config.json and model.safetensors), 'hf://org/name', or a "
        "keras-hub preset name."
    )


def read_config(path, owner):
    """The `config.json` of directory `path` as a dict, or a ValueError saying why not."""
    file = os.path.join(path, "config.json")
    if not os.path.isfile(file):
        raise ValueError(
            f"{owner} found no config.json in {path!r}. A keras-hub preset directory "
            "(save_to_preset) and a Hugging Face checkpoint directory both have one."
        )
    try:
        with open(file, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{owner} could not read {file!r} as JSON: {error}.") from error
    if not isinstance(config, dict):
        raise ValueError(
            f"{owner} expected {file!r} to hold a JSON object. Received a {type(config).__name__}."
        )
    return config


def _looks_like_name(preset):
    return "/" not in preset and os.sep not in preset and not preset.startswith(".")
