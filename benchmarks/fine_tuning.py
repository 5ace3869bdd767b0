"""Fine-tuning throughput: zoo `BertClassifier` vs keras-hub `BertTextClassifier.fit`.

Both sides start from the same checkpoint, made in the same run: a random keras-hub
`BertBackbone` (num_layers=4, hidden_dim=256, num_heads=4, intermediate_dim=1024,
vocabulary 8192, dropout 0.1 by default) and its `BertTokenizer` are written with
`save_to_preset` to a temporary directory; keras-hub loads it back with
`BertBackbone.from_preset(dir)` and zoo with `zoo.models.Bert.from_preset(dir)` (the
converter in `zoo.models.presets`), and `zoo.text.load_tokenizer(dir)` loads the
tokenizer. Each backbone gets its library's classifier head (pooled `[CLS]` -> dropout
0.1 -> dense, `--num-classes` logits): `zoo.models.BertClassifier` and
`keras_hub.models.BertTextClassifier(preprocessor=None)`.

Both are compiled the same way: AdamW(5e-5), `SparseCategoricalCrossentropy(from_logits=True)`,
accuracy, `jit_compile=True` (XLA; keras-hub's classifier supports it), and trained with
`fit` on the same token ids (random ids, every sequence padded to `--sequence-length`
from a random length between half of it and all of it, two segments), same batch size
and number of steps. tokens/s counts every position of a batch (batch x sequence),
padding included, as the model computes over all of them.

Two settings:

- full fine-tuning: every weight trainable;
- LoRA rank 8: keras-hub's `backbone.enable_lora(8)` (adapters on the query and value
  kernels, the rest of the backbone frozen) and zoo's `enable_lora(8, targets=("query",
  "value"))`, the same kernels (zoo's default adapts all six attention and feed-forward
  kernels; `--zoo-lora-targets all` times that). Both keep the classifier head
  trainable; trainable-parameter counts are printed for each side.

Timing: each timed run is one `fit(epochs=1)` call of `--steps + 1` steps; a callback
reads the loss of each step as a number (so the step has finished) and the run's time is
from the end of its first step to the end of its last: the iterator set-up and the first
step of each `fit` call are excluded. After one warm-up `fit` of each side (trace and XLA
compile), the timed runs alternate between the sides (zoo, keras-hub, zoo, ...); the
median of `--rounds` runs is reported, with the fastest run and the median over rounds
of the paired ratio (keras-hub's time / zoo's time in the same round), as in
`benchmarks/training.py`, whose backend selection, allocator setting and conventions
this script shares.

Measured (TF 2.21, Keras 3.15.1, keras-hub 0.32.0, XLA, the default size, 2 CPU cores,
load 2.2 -> 3.8, `--steps 5 --rounds 5`): full fine-tuning zoo 3,084 tokens/s against
keras-hub 2,559 (1.21x median, 1.32x best, 1.25x paired; zoo faster in each of the 5 rounds,
1.21-1.32x), 5,356,290 trainable parameters on both sides; LoRA rank 8 zoo 4,573 against
3,256 (1.40x median, 1.91x best, 1.33x paired; 1.30-1.96x per round), 70,146 trainable
parameters in zoo and 72,194 in keras-hub (which also trains the query and value biases).
Under a load of 5-10 (other processes on the 2 cores) the same script gave 1.28x / 1.14x
medians with runs varying 2-3x: compare paired ratios there, not single runs.

Backends: TensorFlow by default; `--backend jax` (or `KERAS_BACKEND=jax`) runs both sides
under JAX.

Usage:
    python benchmarks/fine_tuning.py [--steps 5] [--rounds 5] [--json results/fine_tuning.json]
    python benchmarks/fine_tuning.py --settings lora --backend jax

Prints a table with the zoo / keras-hub ratios and writes JSON. Other processes on the
machine change the numbers: the 1-minute load average is printed and stored.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, os.path.dirname(HERE))

BACKENDS = ("tensorflow", "jax")

# Keras fixes its backend when it is imported, so `--backend` is read here, before the import
# (benchmarks/training.py, imported below, imports Keras).
if __name__ == "__main__":
    _early = argparse.ArgumentParser(add_help=False)
    _early.add_argument("--backend", choices=BACKENDS, default=None)
    _flag = _early.parse_known_args()[0].backend
    _variable = os.environ.get("KERAS_BACKEND") or None
    if _flag and _variable and _flag != _variable:
        sys.exit(
            f"{os.path.basename(__file__)}: error: --backend {_flag} disagrees with"
            f" KERAS_BACKEND={_variable}; pass one of them, or the same backend to both"
        )
    os.environ["KERAS_BACKEND"] = _flag or _variable or "tensorflow"

from benchmarks._common import load_line, machine_facts, report_run, set_environment

# The BFC allocator keeps each step's buffers (see benchmarks/training.py, "Backends").
set_environment(TF_CPU_ALLOCATOR_USE_BFC="true")

import keras
import keras_hub
import numpy as np

from benchmarks.training import (
    _versions,
    add_model_size_arguments,
    add_ratios,
    backbone_kwargs,
    parse_with_backend,
    print_sides,
)
from zoo.models.bert import Bert, BertClassifier

SETTINGS = ("full", "lora")
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_size_arguments(parser)
    parser.add_argument("--num-classes", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--lora-rank", type=int, default=8)
    parser.add_argument(
        "--zoo-lora-targets",
        choices=("query_value", "all"),
        default="query_value",
        help="zoo's LoRA kernels: query_value (keras-hub's choice, the default) or all six",
    )
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=SETTINGS)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per run")
    parser.add_argument("--rounds", type=int, default=5, help="timed runs per side")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="Keras backend of both sides (default: KERAS_BACKEND, else tensorflow)",
    )
    parser.add_argument("--json", default=None, help="write the results here")
    args = parse_with_backend(parser, argv)
    for name in ("steps", "rounds", "batch_size", "sequence_length", "lora_rank"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.vocabulary_size <= len(SPECIAL_TOKENS):
        parser.error(f"--vocabulary-size must be more than {len(SPECIAL_TOKENS)}")
    return args


# ------------------------------------------------------------------------------ preset


def write_preset(args, directory):
    """A random keras-hub `BertBackbone` and `BertTokenizer`, saved with `save_to_preset`."""
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.BertBackbone(**backbone_kwargs(args))
    words = [f"w{index}" for index in range(args.vocabulary_size - len(SPECIAL_TOKENS))]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=SPECIAL_TOKENS + words)
    backbone.save_to_preset(directory)
    tokenizer.save_to_preset(directory)
    return directory


def data(args, steps):
    """`steps` batches of token ids, padding masks, segment ids and labels (numpy)."""
    rng = np.random.default_rng(0)
    rows, length = steps * args.batch_size, args.sequence_length
    lengths = rng.integers(max(2, length // 2), length + 1, rows)
    positions = np.arange(length)[None]
    padding_mask = (positions < lengths[:, None]).astype("int32")
    token_ids = rng.integers(len(SPECIAL_TOKENS), args.vocabulary_size, (rows, length))
    token_ids = np.where(padding_mask == 1, token_ids, 0).astype("int32")
    token_ids[:, 0] = SPECIAL_TOKENS.index("[CLS]")
    segment_ids = ((positions >= lengths[:, None] // 2) & (padding_mask == 1)).astype("int32")
    features = {"token_ids": token_ids, "padding_mask": padding_mask, "segment_ids": segment_ids}
    labels = rng.integers(0, args.num_classes, rows).astype("int32")
    return features, labels


def classifier(side, setting, args, preset):
    """The side's classifier from `preset`, LoRA-enabled for `setting == "lora"`."""
    keras.utils.set_random_seed(1)  # the same head initialization draw on both sides
    if side == "zoo":
        model = BertClassifier(Bert.from_preset(preset), args.num_classes, dropout=args.dropout)
        if setting == "lora":
            targets = ("query", "value") if args.zoo_lora_targets == "query_value" else "all"
            if targets == "all":
                model.enable_lora(args.lora_rank)
            else:
                model.enable_lora(args.lora_rank, targets=targets)
    else:
        backbone = keras_hub.models.BertBackbone.from_preset(preset)
        model = keras_hub.models.BertTextClassifier(
            backbone, args.num_classes, preprocessor=None, dropout=args.dropout
        )
        if setting == "lora":
            backbone.enable_lora(args.lora_rank)
    model.compile(
        optimizer=keras.optimizers.AdamW(5e-5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        jit_compile=True,
    )
    return model


def trainable_parameters(model):
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


class _StepClock(keras.callbacks.Callback):
    """Times from the end of a `fit` call's first step to the end of its last.

    Reading the loss as a number waits for the step to finish; both sides pay it.
    """

    def on_train_begin(self, logs=None):
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        float(keras.ops.convert_to_numpy(logs["loss"]))
        self.ends.append(time.perf_counter())

    @property
    def seconds(self):
        return self.ends[-1] - self.ends[0]


def timed_fit(model, batches, args):
    """Seconds of `--steps` steps inside one `fit` (its first step excluded)."""
    features, labels = batches
    clock = _StepClock()
    model.fit(
        features,
        labels,
        batch_size=args.batch_size,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[clock],
    )
    if len(clock.ends) != args.steps + 1:
        raise RuntimeError(f"fit ran {len(clock.ends)} steps, expected {args.steps + 1}")
    return clock.seconds


# -------------------------------------------------------------------------------- main


def run(args):
    load = os.getloadavg()[0]
    tokens = args.batch_size * args.sequence_length * args.steps
    batches = data(args, args.steps + 1)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        preset = write_preset(args, directory)
        from zoo.text import load_tokenizer

        tokenizer = load_tokenizer(preset)  # the preset's vocabulary as a zoo WordPiece
        tokenizer_size = int(tokenizer.vocabulary_size())
        for setting in args.settings:
            models = {
                side: classifier(side, setting, args, preset) for side in ("zoo", "keras_hub")
            }
            compile_s = {}
            for side, model in models.items():  # warm up: trace and XLA-compile
                start = time.perf_counter()
                timed_fit(model, batches, args)
                compile_s[side] = time.perf_counter() - start
            times = {side: [] for side in models}
            for _ in range(args.rounds):
                for side, model in models.items():  # alternate the sides
                    times[side].append(timed_fit(model, batches, args))
            row = {"setting": setting}
            for side, model in models.items():
                row[side] = {
                    "tokens_per_second": tokens / statistics.median(times[side]),
                    "best_tokens_per_second": tokens / min(times[side]),
                    "seconds_per_run": times[side],
                    "trainable_parameters": trainable_parameters(model),
                    "total_parameters": int(model.count_params()),
                    "first_fit_s": compile_s[side],
                }
            add_ratios(row, times)
            rows.append(row)
            del models
    return {
        "config": vars(args),
        "tokenizer_vocabulary_size": tokenizer_size,
        "machine": machine_facts(load),
        "keras_backend": keras.backend.backend(),
        "tf_cpu_allocator_use_bfc": os.environ.get("TF_CPU_ALLOCATOR_USE_BFC"),
        "versions": _versions(),
        "results": rows,
    }


def print_table(report):
    machine = report["machine"]
    config = report["config"]
    print(
        f"Keras backend: {report['keras_backend']}; XLA on; BERT {config['num_layers']} layers,"
        f" hidden {config['hidden_dim']}, sequence {config['sequence_length']}, batch"
        f" {config['batch_size']}; {load_line(machine)}"
    )

    def cells(row, side):
        entry = row[side]
        return (
            f"{row['setting']:<8} {side:<10} {entry['tokens_per_second']:>10.0f}"
            f" {entry['best_tokens_per_second']:>11.0f} {entry['trainable_parameters']:>11,}"
            f" {entry['total_parameters']:>11,} "
        )

    print_sides(
        report["results"],
        f"{'setting':<8} {'side':<10} {'tokens/s':>10} {'best tok/s':>11} {'trainable':>11}"
        f" {'total':>11} ",
        cells,
    )
    print(
        "tokens/s: median of the timed runs (batch x sequence per step, padding included);"
        " best: the fastest runs; paired: median over rounds of keras-hub's time / zoo's."
    )


def main(argv=None):
    args = parse_args(argv)
    if args.backend != keras.backend.backend():
        import subprocess

        argv = sys.argv[1:] if argv is None else list(argv)
        environ = {**os.environ, "KERAS_BACKEND": args.backend}
        subprocess.run([sys.executable, os.path.abspath(__file__), *argv], env=environ, check=True)
        return
    report_run(run, print_table, args)


if __name__ == "__main__":
    main()
