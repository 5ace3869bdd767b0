"""Pieces every recipe shares: dataclass config <-> command-line flags, config files,
the run's start, its tokenizer and the facts of its summary.

`python -m recipes` imports this module before TensorFlow loads (`quiet_tensorflow` then
loads it without its start-up log, and after the dispatcher has set its environment), so
what needs TensorFlow or Keras (`keras`, `tpu`, `zoo`) is imported inside the function
that uses it.
"""

import argparse
import dataclasses
import glob
import json
import os
import sys
import time
import typing

__all__ = [
    "BERT_TOKENIZERS",
    "PRECISIONS",
    "FineTuning",
    "RunLoop",
    "ScaleOut",
    "TextSource",
    "TransformerRun",
    "TransformerShape",
    "WarmupCosine",
    "check_out",
    "flag",
    "init_bert",
    "is_chief",
    "join_hosts",
    "load_config",
    "max_bad_rows_field",
    "model_vocabulary_size",
    "option",
    "parse_config",
    "quiet_tensorflow",
    "read_lines",
    "resume_history",
    "run_facts",
    "save_config",
    "say_bad_rows",
    "start_run",
    "train_tokenizer",
]


def quiet_tensorflow():
    """Load TensorFlow without its C++ start-up log, unless the user set its log level.

    TensorFlow reads `TF_CPP_MIN_LOG_LEVEL` when it loads: 2 hides its info and warning
    lines, and on a machine without an NVIDIA device 3 also hides the error-level CUDA
    probe ("failed call to cuInit"). A few lines come before absl reads any level, so
    standard error is closed while TensorFlow and tensorflow-text load; an import error
    is raised again afterwards, by the caller's own import, with its message. The level
    set here is marked (`ZOO_QUIET_TENSORFLOW`), so a subprocess that inherits it, such as
    the SavedModel export of a JAX run, loads quietly too.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ and not os.environ.get("ZOO_QUIET_TENSORFLOW"):
        return
    has_gpu = bool(glob.glob("/dev/nvidia[0-9]*"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2" if has_gpu else "3")
    os.environ["ZOO_QUIET_TENSORFLOW"] = "1"
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
        import tensorflow_text  # noqa: F401
    except ImportError:
        pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


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
    config = config_cls(**values)
    check_config(config)
    return config


# The least value of each count a recipe takes; checked when the flags are read, before
# any work starts (a field a recipe does not have is not checked).
MINIMUM = {
    **dict.fromkeys(
        (
            "steps", "batch_size", "eval_batch_size", "epochs", "vocabulary_size",
            "sequence_length", "prompt_length",
            "max_new_tokens", "num_layers", "num_heads", "hidden_dim", "intermediate_dim",
            "num_beams", "dupe_factor", "window", "num_negatives", "model_parallel",
            "num_processes", "coordinator_timeout", "max_projector_tokens",
            "accumulation_steps",
        ),
        1,
    ),
    **dict.fromkeys(
        (
            "warmup_steps", "checkpoint_every", "steps_per_execution", "finetune_steps",
            "eval_limit", "length_buckets", "process_id", "time_budget", "min_count",
            "neighbours", "learning_rate", "finetune_learning_rate", "weight_decay",
            "learning_rate_scale", "sample", "max_bad_rows", "source_length", "lora_rank",
            "target_length",
        ),
        0,
    ),
}  # fmt: skip
# Fractions: at least 0 and below 1.
FRACTIONS = ("dropout", "label_smoothing", "ema_momentum")


def option(default, help, choices=None, minimum=None):
    """A config field: its `default`, the flag's `help` text and, where given, its
    `choices` and its least value (the field's metadata that `parse_config` and
    `check_config` read; `minimum` overrides `MINIMUM` for this recipe's field).

    `steps: int = option(800, "pretraining steps")` is
    `dataclasses.field(default=800, metadata={"help": "pretraining steps"})`.
    """
    metadata = {"help": help}
    if choices is not None:
        metadata["choices"] = choices
    if minimum is not None:
        metadata["minimum"] = minimum
    return dataclasses.field(default=default, metadata=metadata)


def max_bad_rows_field(what="a local --data file"):
    """The `max_bad_rows` config field of a recipe that reads files (`zoo.data` loaders)."""
    return option(
        0,
        f"bad rows (invalid UTF-8, control characters, wrong column count, empty field) "
        f"{what} may have; they are skipped and counted, more are an error",
    )


def check_config(config):
    """Refuse counts below their least value and fractions outside [0, 1), naming the flag.

    Raises:
        ValueError: one line: the flag, what it received, what it takes.
    """
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        least = field.metadata.get("minimum", MINIMUM.get(field.name))
        if least is not None and value < least:
            raise ValueError(
                f"{_flag(field.name)} {value} is out of range: it takes a number >= {least}"
                f" (default {field.default})."
            )
        if field.name in FRACTIONS and not 0 <= value < 1:
            raise ValueError(
                f"{_flag(field.name)} {value} is out of range: it takes a fraction in [0, 1) "
                f"(default {field.default})."
            )


def save_config(config, path, history=None):
    """Write a dataclass config as JSON (beside each checkpoint and in the run folder);
    `history`, a list of the run's invocations, is kept under the key "history"."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    values = dataclasses.asdict(config)
    if history is not None:
        values["history"] = history
    with open(path, "w", encoding="utf-8") as file:
        json.dump(values, file, indent=2, ensure_ascii=False)


# Fields a resumed run may change: they decide how long to train, where and how to run
# and what to report, not what a step computes. Any other difference is refused. The
# per-replica batch may change with the mesh; the global batch may not.
RESUME_MAY_CHANGE = frozenset(
    (
        "steps", "finetune_steps", "resume", "verbose", "export", "checkpoint_every",
        "time_budget", "strategy",
        "steps_per_execution", "model_parallel", "coordinator_address", "num_processes",
        "process_id", "coordinator_timeout", "batch_size", "eval_batch_size", "eval_limit",
        "prompts", "plot_attention", "split_sentences", "sampler", "num_beams",
        "length_penalty", "top_p", "temperature", "download", "out", "words", "neighbours",
        "analogy", "max_projector_tokens",  # word2vec's --direction is translation's too
    )
)  # fmt: skip


def resume_history(config, path, global_batch_size, start_step):
    """Check a resumed run's config against the one saved at `path`; return its history.

    Args:
        config: this invocation's config.
        path: the run's `config.json`.
        global_batch_size: this invocation's global batch (per-replica batch x replicas).
        start_step: the step it resumes at.

    Returns:
        The run's history with this invocation appended: each entry records when it
        started, at which step, its global batch and the fields it changed.

    Raises:
        ValueError: the fields that would change what a step computes, with both values.
    """
    with open(path, encoding="utf-8") as file:
        saved = json.load(file)
    history = list(saved.pop("history", []))
    saved_batch = history[-1]["global_batch_size"] if history else None
    changed, refused = {}, []
    for field in dataclasses.fields(config):
        if field.name not in saved:
            continue
        old, new = saved[field.name], getattr(config, field.name)
        if isinstance(new, tuple):
            new = list(new)
        if old == new:
            continue
        changed[field.name] = [old, new]
        if field.name not in RESUME_MAY_CHANGE:
            refused.append(f"{_flag(field.name)} {old!r} -> {new!r}")
    if saved_batch is not None and saved_batch != global_batch_size:
        refused.append(f"global batch {saved_batch} -> {global_batch_size}")
    if refused:
        raise ValueError(
            f"--resume would change what the run in {os.path.dirname(path) or '.'} computes: "
            f"{'; '.join(refused)}. Resume with the saved values (see its config.json), or "
            "start a new run with another --out."
        )
    entry = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "step": int(start_step)}
    entry.update(global_batch_size=int(global_batch_size), changed=changed)
    return [*history, entry]


def load_config(config_cls, path):
    """Read a config written by `save_config`; unknown keys are an error."""
    with open(path, encoding="utf-8") as file:
        values = json.load(file)
    values.pop("history", None)  # the run's invocations (`resume_history`), not a field
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


@dataclasses.dataclass
class ScaleOut:
    """The flags of every recipe that spread a run over devices and hosts (JAX backend)."""

    model_parallel: int = option(
        1,
        "devices per model replica (JAX): a ('batch', 'model') mesh of shape "
        "(devices / N, N), the model family's Megatron-style layout map",
    )
    coordinator_address: str = option(
        "", "HOST:PORT of process 0 for a multi-host JAX run (none on a TPU pod)"
    )
    num_processes: int = option(1, "processes (hosts) in a multi-host JAX run")
    process_id: int = option(0, "this process, 0 .. num-processes - 1")
    coordinator_timeout: int = option(300, "seconds to wait for the coordinator and every process")


PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


@dataclasses.dataclass
class FineTuning:
    """The flags of every recipe that trains a Transformer: how its steps fit in memory."""

    lora_rank: int = option(
        0,
        "train rank-N LoRA adapters on the attention and feed-forward kernels with the rest "
        "of the backbone frozen (0: train everything); the export merges them",
    )
    accumulation_steps: int = option(
        1,
        "average the gradients of this many batches before each update (the optimizer's "
        "gradient_accumulation_steps): an N-times larger batch in the memory of one; "
        "--steps still counts batches",
    )
    precision: str = option(
        "float32",
        "Keras dtype policy of the model; mixed_float16 trains with dynamic loss scaling, "
        "mixed_bfloat16 (TPU) needs none",
        choices=PRECISIONS,
    )


def flag(flags_cls, name, default):
    """The field `name` of `flags_cls` (its help and choices) with another default.

    For a recipe's `Config` that keeps a shared flag but starts from its own value:
    `steps: int = flag(RunLoop, "steps", 300)`.
    """
    metadata = flags_cls.__dataclass_fields__[name].metadata
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass
class TransformerShape:
    """The size flags of every recipe that builds a Transformer from scratch."""

    num_layers: int = 2
    num_heads: int = 4
    hidden_dim: int = 128
    intermediate_dim: int = 512
    dropout: float = 0.1

    def model_size(self):
        """These flags as the keyword arguments of `Bert`, `GPT` and `Transformer`."""
        return {
            field.name: getattr(self, field.name) for field in dataclasses.fields(TransformerShape)
        }


@dataclasses.dataclass
class WarmupCosine:
    """The optimizer flags of the recipes trained with AdamW and `warmup_cosine_decay`."""

    learning_rate: float = option(1e-3, "peak learning rate (linear warmup, cosine decay)")
    warmup_steps: int = 100
    weight_decay: float = 0.01


@dataclasses.dataclass
class RunLoop:
    """The flags of every Transformer recipe's loop: batches, steps, strategy, the run
    directory, evaluation and export."""

    batch_size: int = option(32, "per replica")
    steps: int = 1000
    steps_per_execution: int = option(0, "0: the strategy's default (32 on TPU, else 1)")
    strategy: str = option(
        "auto", "distribution", choices=("auto", "tpu", "gpu", "cpu", "multi_worker")
    )
    checkpoint_every: int = 500
    resume: bool = False
    out: str = "runs/run"
    seed: int = 0
    eval_batch_size: int = 256
    export: bool = option(True, "write a SavedModel")
    verbose: int = 1


@dataclasses.dataclass
class TransformerRun(RunLoop, TransformerShape, ScaleOut, FineTuning):
    """Every flag the Transformer recipes share: the loop, the model's size, scale-out
    (JAX meshes and hosts) and fine-tuning (LoRA, accumulation, precision)."""


@dataclasses.dataclass
class TextSource:
    """The flags of a recipe whose `--data` is a local file or a TFDS name."""

    max_bad_rows: int = max_bad_rows_field()
    download: bool = option(False, "let TFDS download a named dataset")


def check_out(out):
    """Make the run directory `out` now, and refuse one that cannot be written.

    Raises:
        ValueError: one line naming the directory and why (a file in its path, no
            permission, a read-only disk), before any work starts.
    """
    probe = os.path.join(out, f".write-test-{os.getpid()}")
    try:
        os.makedirs(out, exist_ok=True)
        with open(probe, "w", encoding="utf-8") as file:
            file.write("ok")
        os.remove(probe)
    except OSError as error:
        raise ValueError(
            f"--out {out}: cannot write there ({error.strerror or error}); pass a directory "
            "you can write, e.g. --out runs/mine."
        ) from None


def read_lines(path, max_bad_rows=0, verbose=True):
    """The lines of a local text file, validated by `zoo.data.load_text_dataset` (UTF-8
    text, not binary; at most `max_bad_rows` bad lines, skipped and counted), stripped,
    empty lines kept (they separate documents)."""
    from zoo.data import load_text_dataset

    report = []
    dataset = load_text_dataset(
        path, split="all", skip_empty=False, split_lines=True, max_bad_rows=max_bad_rows,
        report=report,
    )  # fmt: skip
    say_bad_rows(report, verbose)
    return [line.decode("utf-8").strip() for line in dataset.as_numpy_iterator()]


def say_bad_rows(report, verbose=True):
    """Print each file of a loader's `report` that had bad rows skipped (`--max-bad-rows`)."""
    for entry in report:
        if entry.bad_rows and verbose:
            print(entry)


def join_hosts(config):
    """`tpu.initialize_processes` with a `ScaleOut` config's flags (nothing for one host)."""
    import tpu

    return tpu.initialize_processes(
        config.coordinator_address,
        config.num_processes,
        config.process_id,
        config.coordinator_timeout,
        verbose=bool(config.verbose),
    )


def start_run(config, layout_map=None):
    """Join the hosts, seed everything, pick the strategy and apply the TPU defaults.

    Args:
        config: the recipe's config (a `ScaleOut` with `seed`, `strategy`,
            `batch_size` per replica and `steps_per_execution`, 0 meaning the
            strategy's default).
        layout_map: the model family's `layout_map(device_mesh)`, used with
            `--model-parallel` above 1.

    Returns `(strategy, settings)` from `tpu.get_strategy` and `tpu.training_settings`.
    """
    import keras

    import tpu

    check_out(config.out)
    join_hosts(config)
    keras.utils.set_random_seed(config.seed)
    # The models built from here on compute in this policy (FineTuning.precision).
    keras.mixed_precision.set_dtype_policy(getattr(config, "precision", "float32"))
    strategy = tpu.get_strategy(
        config.strategy,
        verbose=bool(config.verbose),
        model_parallel=config.model_parallel,
        layout_map=layout_map,
    )
    settings = tpu.training_settings(
        strategy, config.batch_size, steps_per_execution=config.steps_per_execution or None
    )
    tpu.check_batch_size(settings.global_batch_size, replicas=strategy.num_replicas)
    return strategy, settings


def model_vocabulary_size(tokenizer, strategy):
    """The model's vocabulary: the tokenizer's, rounded up to a multiple of the mesh's
    model axis when the embedding is split over it (`--model-parallel`). The extra ids
    are never inputs or labels; training pushes their logits down like any unseen id."""
    size = tokenizer.vocabulary_size()
    parts = strategy.mesh.get("model", 1)
    return -(-size // parts) * parts


def is_chief():
    """Whether this process writes the run's files: process 0 of a multi-host run."""
    import tpu

    return tpu.process_shard()[0] == 0


def run_facts(strategy, final_loss):
    """What `summary.json` says of every run's devices: `strategy` (the strategy's reason),
    `final_loss` (the training loss of the last step, None when no step ran), `devices`,
    `mesh` (axis sizes), `processes`."""
    return {
        "strategy": strategy.reason,
        "final_loss": None if final_loss is None else float(final_loss),
        "devices": strategy.num_devices,
        "mesh": dict(strategy.mesh),
        "processes": strategy.processes,
    }


TOKENIZERS = ("sentencepiece", "bpe", "wordpiece", "word", "character")
# The `--tokenizer` kinds a BERT recipe (bert, classify) trains from scratch, its default first.
BERT_TOKENIZERS = ("wordpiece", "sentencepiece", "bpe")


def train_tokenizer(kind, texts, size, **options):
    """A `zoo.text` tokenizer of `kind` trained on `texts`, with at most `size` ids.

    Args:
        kind: one of `TOKENIZERS`: "sentencepiece" (unigram), "bpe" (byte-level BPE),
            "wordpiece", "word" or "character".
        texts: the training texts, a list of strings.
        size: the vocabulary size asked for (the trainer may find fewer pieces).
        **options: the trainer's own arguments, e.g. `lowercase=False` (WordPiece and
            word tokenizers lowercase by default; the others do not).

    Raises:
        ValueError: an unknown `kind`, naming the choices.
    """
    from zoo.text import tokenizers  # TensorFlow: see the module docstring

    classes = {
        "sentencepiece": tokenizers.SentencePieceTokenizer,
        "bpe": tokenizers.BytePairTokenizer,
        "wordpiece": tokenizers.WordPieceTokenizer,
        "word": tokenizers.WordTokenizer,
        "character": tokenizers.CharacterTokenizer,
    }
    if kind not in classes:
        raise ValueError(f"Unknown tokenizer {kind!r}. Expected one of {', '.join(TOKENIZERS)}.")
    return classes[kind].train(texts, size, verbose=False, **options)


def init_bert(config):
    """`(backbone, tokenizer)` of `--init`: a Zoo run directory or a preset.

    A run directory (`python -m recipes bert --out DIR`) gives the `Bert` of its
    `model.keras` (the model itself or its `backbone`) and its `tokenizer/`; anything else
    goes to `Bert.from_preset` and `zoo.text.load_tokenizer` (keras-hub or Hugging Face
    checkpoints, `hf://` ids). The tokenizer is kept in `<out>/tokenizer` (where the
    export reads it), and loaded from there on `--resume`.

    Raises:
        ValueError: a run directory without `tokenizer/`, a model without a `Bert`, or
            a `--sequence-length` past the backbone's positions.
    """
    import keras  # TensorFlow: see the module docstring

    import zoo.models  # registers zoo's classes for load_model
    from zoo.text import load_tokenizer

    path = config.init
    if os.path.isfile(os.path.join(path, "model.keras")):
        if not os.path.isdir(os.path.join(path, "tokenizer")):
            raise ValueError(f"--init {path}: a run directory needs tokenizer/ too.")
        model = keras.saving.load_model(os.path.join(path, "model.keras"), compile=False)
        backbone = getattr(model, "backbone", model)
        if not isinstance(backbone, zoo.models.Bert):
            raise ValueError(
                f"--init {path}: its model.keras holds a {type(model).__name__}, not a BERT "
                "model; pass the --out of `python -m recipes bert` or a BERT preset."
            )
        tokenizer = load_tokenizer(os.path.join(path, "tokenizer"))
    else:
        backbone, tokenizer = zoo.models.Bert.from_preset(path), load_tokenizer(path)
    if config.sequence_length > backbone.max_sequence_length:
        raise ValueError(
            f"--sequence-length {config.sequence_length} is longer than --init {path}'s "
            f"max_sequence_length {backbone.max_sequence_length}; pass at most that."
        )
    kept = os.path.join(config.out, "tokenizer")
    if config.resume and os.path.exists(kept):
        return backbone, load_tokenizer(kept)
    if is_chief():
        tokenizer.save(kept)
    return backbone, tokenizer


def run_tokenizer(config, train=None, data=None, **options):
    """The run's tokenizer: loaded from `<out>/tokenizer` on `--resume`, else trained on
    `data` and saved there.

    It is trained with `train_tokenizer(config.tokenizer, data, config.vocabulary_size,
    **options)`, or with `train(config, data)` when a function is given.
    """
    from zoo.text import load_tokenizer  # TensorFlow: see the module docstring

    directory = os.path.join(config.out, "tokenizer")
    if config.resume and os.path.exists(directory):
        return load_tokenizer(directory)
    if train is None:
        tokenizer = train_tokenizer(config.tokenizer, data, config.vocabulary_size, **options)
    else:
        tokenizer = train(config, data, **options)
    got, asked = tokenizer.vocabulary_size(), getattr(config, "vocabulary_size", None)
    if asked and got < asked and getattr(config, "verbose", 1):
        print(
            f"vocabulary {got} of the {asked} asked: the {type(tokenizer).__name__} trainer "
            "found no more pieces worth a place in this training text"
        )
    if is_chief():  # every process trains the same one; process 0 writes it
        tokenizer.save(directory)
    return tokenizer
