"""Pieces every recipe shares: dataclass config <-> command-line flags, config files."""

import argparse
import dataclasses
import json
import os
import typing

__all__ = ["can_export", "load_config", "parse_config", "save_config"]


def _flag(name):
    return "--" + name.replace("_", "-")


def _parse_bool(text):
    lowered = str(text).lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, received {text!r}")


def _field_type(config_cls, field):
    """(type, origin) of a dataclass field, with Optional[X] unwrapped to X."""
    kind = typing.get_type_hints(config_cls)[field.name]
    origin = typing.get_origin(kind)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        arguments = [a for a in typing.get_args(kind) if a is not type(None)]
        kind = arguments[0]
        origin = typing.get_origin(kind)
    return kind, origin


def parse_config(config_cls, argv=None, description=None):
    """Build `config_cls` (a dataclass) from command-line flags.

    Every field becomes `--field-name` with the field's default and type; booleans take
    `--flag/--no-flag`; tuple/list fields take several values. The field's
    `metadata["help"]` is the flag's help text.
    """
    parser = argparse.ArgumentParser(
        description=description or (config_cls.__doc__ or "").strip().split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for field in dataclasses.fields(config_cls):
        default = (
            field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
        )
        kind, origin = _field_type(config_cls, field)
        help_text = field.metadata.get("help", " ")
        if kind is bool:
            parser.add_argument(
                _flag(field.name),
                default=default,
                action=argparse.BooleanOptionalAction,
                help=help_text,
            )
        elif origin in (tuple, list):
            item = typing.get_args(kind)[0] if typing.get_args(kind) else str
            parser.add_argument(
                _flag(field.name), default=default, nargs="*", type=item, help=help_text
            )
        else:
            parser.add_argument(
                _flag(field.name),
                default=default,
                type=kind,
                help=help_text,
                choices=field.metadata.get("choices"),
            )
    arguments = parser.parse_args(argv)
    values = {}
    for field in dataclasses.fields(config_cls):
        value = getattr(arguments, field.name)
        _, origin = _field_type(config_cls, field)
        if origin is tuple and value is not None:
            value = tuple(value)
        values[field.name] = value
    return config_cls(**values)


def save_config(config, path):
    """Write a dataclass config as JSON (beside each checkpoint and in the run folder)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        json.dump(dataclasses.asdict(config), file, indent=2, ensure_ascii=False)


def load_config(config_cls, path):
    """Read a config written by `save_config`; unknown keys are an error."""
    with open(path, encoding="utf-8") as file:
        values = json.load(file)
    names = {field.name for field in dataclasses.fields(config_cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(
            f"{path} has keys {unknown} that {config_cls.__name__} does not know; "
            "was it written by another recipe or version?"
        )
    for field in dataclasses.fields(config_cls):
        if field.name in values and isinstance(values[field.name], list):
            _, origin = _field_type(config_cls, field)
            if origin is tuple:
                values[field.name] = tuple(values[field.name])
    return config_cls(**values)


def can_export(recipe, verbose=True):
    """Whether this process can write the SavedModel: only the TensorFlow backend can.

    Under another backend (JAX on a TPU) the recipe still saves `model.keras` and its
    checkpoints; the message says how to export from them with TensorFlow.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        return True
    if verbose:
        print(
            f"SavedModel export skipped: it needs the TensorFlow backend, and this run used "
            f"{backend!r}. Export from the last checkpoint with the same flags plus --resume:\n"
            f"  KERAS_BACKEND=tensorflow python -m recipes {recipe} <same flags> --resume"
        )
    return False


def start_run(config):
    """Seed everything, pick the strategy and apply the TPU defaults for a recipe's run.

    Returns `(strategy, settings)` from `tpu.get_strategy` and `tpu.training_settings`
    (`config.batch_size` is per replica; `config.steps_per_execution` 0 means the
    strategy's default).
    """
    import keras

    import tpu

    keras.utils.set_random_seed(config.seed)
    strategy = tpu.get_strategy(config.strategy, verbose=bool(config.verbose))
    settings = tpu.training_settings(
        strategy, config.batch_size, steps_per_execution=config.steps_per_execution or None
    )
    return strategy, settings


def run_tokenizer(config, train_tokenizer, data):
    """The run's tokenizer: loaded from `<out>/tokenizer` on `--resume`, else trained on
    `data` with `train_tokenizer(config, data)` and saved there."""
    from zoo.text import load_tokenizer

    directory = os.path.join(config.out, "tokenizer")
    if config.resume and os.path.exists(directory):
        return load_tokenizer(directory)
    tokenizer = train_tokenizer(config, data)
    tokenizer.save(directory)
    return tokenizer


def learning_rate(peak, warmup_steps, total_steps):
    """Linear warmup to `peak`, then cosine decay to a tenth of it."""
    import keras

    warmup_steps = max(0, min(warmup_steps, total_steps - 1))
    return keras.optimizers.schedules.CosineDecay(
        0.0 if warmup_steps else peak,
        decay_steps=max(1, total_steps - warmup_steps),
        alpha=0.1,
        warmup_target=peak if warmup_steps else None,
        warmup_steps=warmup_steps,
    )
