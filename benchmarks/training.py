"""Training throughput benchmark: zoo `Bert` / `GPT` vs keras-hub `BertBackbone` / `GPT2Backbone`.

Both sides of a comparison get the same configuration (num_layers=4, hidden_dim=256,
num_heads=4, intermediate_dim=1024, dropout 0.1, sequence 128, batch 32 by default), the
same head, the same inputs and the same training setup. The vocabulary is 8192 by default
(`--vocabulary-size`; the task names none): the output projection is the same on both
sides, and the larger the vocabulary, the larger its share of the step.

- BERT: backbone -> `sequence_output` gathered at `mask_positions` -> one
  `keras.layers.Dense(vocabulary_size)` (a dense MLM head: the same gather and layer
  class on both sides). As in BERT pre-training, which masks 15% of the tokens, the head
  scores 15% of each sequence by default (20 of 128 positions, drawn at random per
  sequence, the same for both sides); the backbone runs over every token, and tokens/s
  counts every token. `--mlm-positions 0` scores every position instead: the head, the
  same code on both sides, is then 38% of the step's FLOPs instead of 9% and pulls the
  ratio towards 1 (on a 2-core machine, BERT 1.17-1.23x in four runs, against 1.26x and
  1.28x in two runs at 20 positions).
- GPT: backbone -> logits tied to the token embeddings (`h E^T`; zoo's `GPT` does it
  inside, keras-hub's through `token_embedding(h, reverse=True)`).
- each wrapped in a `keras.Model` over the same input dict, compiled with AdamW(1e-4),
  `SparseCategoricalCrossentropy(from_logits=True)` and `jit_compile=True` (XLA), and
  trained with `train_on_batch` on the same (random) batch.

Timed runs alternate between the sides (zoo, keras-hub, zoo, keras-hub, ...) after a
compile/warm-up run of each; the median of `--rounds` runs is reported, and the fastest run
beside it (the least disturbed by other processes) (DESIGN.md, "Timing": build order alone
moved identical models by up to 46%). A third ratio pairs the two runs of each round
(keras-hub's time / zoo's time) and takes the median over rounds: a slow spell of the
machine that spans a round then slows both sides of that pair.

Where zoo saves time (TF 2.21, XLA on CPU; both sides drop out at the same places with the
same rate): `zoo.layers.Dropout` makes its masks with a counter-based integer hash (one fused
pass) instead of Keras's Philox `tf.random.stateless_uniform`, and zoo's self-attention
projects Q, K and V with one matmul (the three kernels stacked at call time, weights
unchanged). zoo's tied GPT logits contract `h` with the embedding matrix as stored
(`einsum("nh,vh->nv")`), where keras-hub's `ReversibleEmbedding` multiplies by its
transpose, and in CPU training compute the matrix's gradient from a written-out `h^T`
(`zoo.layers.cpu_matmul`: 93 ms instead of 138 ms for that product here); same values.
Both models are otherwise close to matmul-bound at this size.

MFU = achieved FLOP/s / peak FLOP/s, with

    FLOPs per token = 6 * P_matmul + 12 * num_layers * sequence_length * hidden_dim

where P_matmul counts the weights used in matrix multiplies per token (per block:
4 d^2 for Q, K, V, output + 2 d * intermediate_dim for the feed-forward; plus the
d * vocabulary_size output projection, times the scored share of the positions for
BERT's gathered head) and the second term is the attention score and
value products (Q K^T and P V, 2 * 2 * n * d per token per layer forward, times 3 for
forward + backward), counted in full also for causal attention. Embedding lookups,
LayerNorm, softmax, dropout and the optimizer are not counted. The peak is measured in
the same process: a jit-compiled loop of float32 2048x2048 matmuls, best of 5.

Backends: TensorFlow by default; `--backend jax` (or `KERAS_BACKEND=jax`) runs both sides
under JAX (XLA as well). Keras fixes its backend when it is imported, so the script reads
`--backend` before importing Keras; a `--backend` that disagrees with `KERAS_BACKEND` is an
error. The script sets `TF_CPU_ALLOCATOR_USE_BFC=true` unless it is set: TensorFlow's
default CPU allocator returned each step's large buffers to the OS and faulted them in
again (about 200,000 minor page faults and 0.7 s of system time per BERT step on 2
cores, on both sides), which also made identical models differ by up to 23% between
processes and favoured the side built first (zoo/keras-hub BERT 1.06-1.18x with zoo
built first, 1.08x with keras-hub first, the same morning). With BFC the faults are gone
and the two orders agreed within 1.5%; `--build-order` picks the order.
JAX allocates its buffers with glibc's malloc, which hands chunks this large back to the
OS (mmap/munmap) and faults them in again: about 158,000 (zoo) and 201,000 (keras-hub)
minor faults per BERT step, 305,000-316,000 per GPT step, 0.29 s of system time per BERT
step of zoo. `--jax-malloc keep` makes malloc keep freed memory (one arena, no mmap, no
trimming; set before Keras is imported, so only when run as a script): 0 and 3,900 faults
per BERT step, 30,000-45,000 per GPT step, 0.008 s of system time. That is the default
(`--jax-malloc default` keeps glibc's settings). On a quiet machine it is what separated
JAX's MFU from TensorFlow's: zoo's GPT ran at 2,676 tokens/s (47% MFU) with glibc's
settings, 3,847-4,057 (65-69%) with `keep`, against 4,018 (64%) under TensorFlow with
BFC; keras-hub's GPT at 2,314, 3,153-3,278 and 3,112 (same machine, one session, load
1-2). Under load the timed runs of `keep` varied 3x, so compare it on a quiet machine.
The other difference between the backends is the matmul library: JAX's XLA:CPU (jaxlib
0.10) hands dots and reductions to YNNPACK (`__ynn_fusion` in the optimized HLO: 132 of
them in zoo's GPT step), TensorFlow's calls Eigen. With YNNPACK off
(`XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=individual_convolution`, and glibc's
settings) zoo's GPT ran 14% faster (3,064 tokens/s) and keras-hub's 12% slower (2,031),
so the zoo/keras-hub ratio under JAX depends on it: GPT 1.51x, BERT 1.26x, against
1.16x and 1.19x with XLA's defaults. The benchmark keeps XLA's defaults. The report
stores the malloc settings made and each side's minor page faults per step.

XLA compile time per input shape: a new `(batch, sequence)` shape costs one trace and one
XLA compile of Keras's train step. The script times the first `train_on_batch` of each side
(trace + lowering + XLA compile + one step; it returns numpy, so it has finished) and reports
`compile s` = that time minus the median step of the timed runs. Under JAX it also stores
JAX's own durations of the stages inside that call (`jax_stages_s`: jaxpr trace, lowering to
MLIR, XLA backend compile, summed over the functions compiled there), from
`jax.monitoring`; TensorFlow has no such public hook, so there only the difference is given.

Usage:
    python benchmarks/training.py [--steps 5] [--rounds 5] [--json results/training.json]
    python benchmarks/training.py --models bert --mlm-positions 0   # head at every position
    python benchmarks/training.py --backend jax      # or KERAS_BACKEND=jax python ...

Prints a table with the zoo / keras-hub ratios and writes JSON. Other processes on the
machine change the numbers: the 1-minute load average is printed and stored.
"""

import argparse
import math
import os
import statistics
import sys
import time

BACKENDS = ("tensorflow", "jax")


def requested_backend(flag, environ):
    """The backend to run: `--backend` if given, else `KERAS_BACKEND`, else TensorFlow.

    Raises ValueError when both are given and disagree, or `KERAS_BACKEND` names a backend
    the benchmark does not run.
    """
    variable = environ.get("KERAS_BACKEND") or None
    if flag is not None and variable is not None and flag != variable:
        raise ValueError(
            f"--backend {flag} disagrees with KERAS_BACKEND={variable}; pass one of them,"
            " or the same backend to both"
        )
    backend = flag or variable or "tensorflow"
    if backend not in BACKENDS:
        raise ValueError(
            f"KERAS_BACKEND={backend} is not one of {', '.join(BACKENDS)}: the benchmark"
            " compiles with XLA under TensorFlow or JAX"
        )
    return backend


def parse_with_backend(parser, argv=None):
    """`parser.parse_args(argv)` with `args.backend` resolved by `requested_backend` from
    the `--backend` flag and `KERAS_BACKEND`; a disagreement is a usage error."""
    args = parser.parse_args(argv)
    try:
        args.backend = requested_backend(args.backend, os.environ)
    except ValueError as error:
        parser.error(str(error))
    return args


# mallopt(3) parameters of glibc (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8
GLIBC_MALLOC_SETTINGS = {"M_ARENA_MAX": 1, "M_MMAP_MAX": 0, "M_TRIM_THRESHOLD": 2**31 - 1}


def keep_freed_memory():
    """Make glibc's malloc keep freed memory for reuse (`--jax-malloc keep`, see "Backends").

    One arena, no mmap-ed chunks, no trimming: a step's large buffers are freed into the
    heap and the next step's are carved from it again, instead of being unmapped and
    faulted in anew. Must run before the threads that allocate exist (before importing
    Keras). Returns the settings made, or None where the C library is not glibc.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    codes = {"M_ARENA_MAX": _M_ARENA_MAX, "M_MMAP_MAX": _M_MMAP_MAX}
    codes["M_TRIM_THRESHOLD"] = _M_TRIM_THRESHOLD
    for name, value in GLIBC_MALLOC_SETTINGS.items():
        if mallopt(codes[name], value) != 1:
            return None
    return dict(GLIBC_MALLOC_SETTINGS)


_glibc_malloc = None  # what `keep_freed_memory` set, stored in the report

# Keras fixes its backend when it is imported, so `--backend` is read here, before the import.
# (Imported as a module, the script keeps the backend of the process; `main` runs the script
# anew in a child process when its `--backend` asks for another one.)
if __name__ == "__main__":
    _early = argparse.ArgumentParser(add_help=False)
    _early.add_argument("--backend", choices=BACKENDS, default=None)
    _early.add_argument("--jax-malloc", choices=("keep", "default"), default="keep")
    _early_args = _early.parse_known_args()[0]
    try:
        os.environ["KERAS_BACKEND"] = requested_backend(_early_args.backend, os.environ)
    except ValueError as error:
        sys.exit(f"{os.path.basename(__file__)}: error: {error}")
    if os.environ["KERAS_BACKEND"] == "jax" and _early_args.jax_malloc == "keep":
        _glibc_malloc = keep_freed_memory()

# Run as a script, this folder is sys.path[0], and benchmarks/tokenizers.py would shadow the
# HF `tokenizers` package that keras-hub imports: put the repository root there instead.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(HERE), *(p for p in sys.path if os.path.abspath(p or ".") != HERE)]

from benchmarks._common import load_line, machine_facts, print_header, report_run, set_environment

# The BFC allocator keeps each step's buffers (see "Backends" above); read when TF starts.
set_environment(TF_CPU_ALLOCATOR_USE_BFC="true")

import keras
import keras_hub
import numpy as np

from zoo.models.bert import Bert
from zoo.models.gpt import GPT


def add_model_size_arguments(parser):
    """The model and batch sizes both training benchmarks take (BERT-small-like defaults)."""
    parser.add_argument("--num-layers", type=int, default=4)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--intermediate-dim", type=int, default=1024)
    parser.add_argument("--vocabulary-size", type=int, default=8192)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_size_arguments(parser)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument(
        "--mlm-positions",
        type=int,
        default=None,
        help="BERT: the MLM head scores this many gathered positions per sequence (default:"
        " 15%% of --sequence-length rounded up, 20 of 128, as BERT pre-training masks);"
        " 0 scores every position",
    )
    parser.add_argument("--steps", type=int, default=5, help="training steps per timed run")
    parser.add_argument("--rounds", type=int, default=5, help="timed runs per model")
    parser.add_argument("--models", nargs="+", default=["bert", "gpt"], choices=["bert", "gpt"])
    parser.add_argument(
        "--build-order",
        default="zoo_first",
        choices=["zoo_first", "keras_hub_first"],
        help="which side is built, compiled and timed first in each round",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="Keras backend of both sides (default: KERAS_BACKEND, else tensorflow); an error"
        " if KERAS_BACKEND names another",
    )
    parser.add_argument(
        "--jax-malloc",
        choices=("keep", "default"),
        default="keep",
        help="under JAX, run as a script: keep (the default): glibc malloc keeps freed memory"
        " for reuse (fewer page faults per step, see Backends); default: glibc's own settings",
    )
    parser.add_argument("--json", default=None, help="write the results here")
    args = parse_with_backend(parser, argv)
    if args.mlm_positions is None:
        args.mlm_positions = math.ceil(0.15 * args.sequence_length)
    if not 0 <= args.mlm_positions <= args.sequence_length:
        parser.error(
            f"--mlm-positions must be between 0 and --sequence-length ({args.sequence_length});"
            f" got {args.mlm_positions}"
        )
    return args


# ------------------------------------------------------------------------------- FLOPs


def flops_per_token(args, family):
    d, n, layers = args.hidden_dim, args.sequence_length, args.num_layers
    matmul_params = layers * (4 * d * d + 2 * d * args.intermediate_dim)
    head = d * args.vocabulary_size  # the output projection (dense or tied)
    if family == "bert" and args.mlm_positions:
        head = head * args.mlm_positions / n  # scored at the gathered positions only
    return 6 * (matmul_params + head) + 12 * layers * n * d


def _jit(function):
    """`function` compiled with XLA by the active Keras backend."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function)
    import tensorflow as tf

    return tf.function(function, jit_compile=True)


def measure_peak_flops(size=2048, iterations=10, repeats=5):
    """float32 matmul FLOP/s of this machine: a jit-compiled chain of size x size matmuls."""
    rng = np.random.default_rng(0)
    a, b = (
        keras.ops.convert_to_tensor(rng.normal(0, size**-0.5, (size, size)).astype("float32"))
        for _ in range(2)
    )

    def chain(x, y):
        for _ in range(iterations):
            x = keras.ops.matmul(x, y)
        return x

    chain = _jit(chain)
    keras.ops.convert_to_numpy(chain(a, b))  # compile
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        keras.ops.convert_to_numpy(chain(a, b))
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 * iterations / best


# ------------------------------------------------------------------------------ models


def backbone_kwargs(args):
    return {
        "vocabulary_size": args.vocabulary_size,
        "num_layers": args.num_layers,
        "num_heads": args.num_heads,
        "hidden_dim": args.hidden_dim,
        "intermediate_dim": args.intermediate_dim,
        "dropout": args.dropout,
        "max_sequence_length": args.sequence_length,
    }


def int_inputs(*names):
    return {name: keras.Input((None,), dtype="int32", name=name) for name in names}


def bert_model(side, args):
    inputs = int_inputs("token_ids", "padding_mask", "segment_ids")
    if side == "zoo":
        backbone = Bert(**backbone_kwargs(args))
    else:
        backbone = keras_hub.models.BertBackbone(**backbone_kwargs(args))
    sequence_output = backbone(inputs)["sequence_output"]
    if args.mlm_positions:
        inputs = {**inputs, **int_inputs("mask_positions")}
        index = keras.ops.expand_dims(inputs["mask_positions"], -1)  # (batch, positions, 1)
        sequence_output = keras.ops.take_along_axis(sequence_output, index, axis=1)
    head = keras.layers.Dense(args.vocabulary_size, name="mlm_dense")
    return keras.Model(inputs, head(sequence_output))


class _TiedLogits(keras.layers.Layer):
    """keras-hub side: `h E^T` with the backbone's `ReversibleEmbedding`."""

    def __init__(self, embedding, **kwargs):
        super().__init__(**kwargs)
        self.embedding = embedding

    def call(self, hidden):
        return self.embedding(hidden, reverse=True)


def gpt_model(side, args):
    inputs = int_inputs("token_ids", "padding_mask")
    if side == "zoo":
        logits = GPT(**backbone_kwargs(args))(inputs)  # tied projection inside
    else:
        backbone = keras_hub.models.GPT2Backbone(**backbone_kwargs(args))
        logits = _TiedLogits(backbone.token_embedding)(backbone(inputs))
    return keras.Model(inputs, logits)


def batch(args, family):
    rng = np.random.default_rng(0)
    shape = (args.batch_size, args.sequence_length)
    features = {
        "token_ids": rng.integers(7, args.vocabulary_size, shape).astype("int32"),
        "padding_mask": np.ones(shape, "int32"),
    }
    if family == "bert":
        features["segment_ids"] = (
            (np.arange(args.sequence_length) >= shape[1] // 2)
            .astype("int32")[None]
            .repeat(args.batch_size, 0)
        )
    if family == "bert" and args.mlm_positions:
        features["mask_positions"] = np.sort(
            [rng.permutation(args.sequence_length)[: args.mlm_positions] for _ in range(shape[0])]
        ).astype("int32")
        shape = features["mask_positions"].shape
    labels = rng.integers(0, args.vocabulary_size, shape).astype("int32")
    return features, labels


def compiled(family, side, args):
    keras.utils.set_random_seed(0)
    model = (bert_model if family == "bert" else gpt_model)(side, args)
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    features, labels = batch(args, family)
    features = {key: keras.ops.convert_to_tensor(value) for key, value in features.items()}
    return model, (features, keras.ops.convert_to_tensor(labels))


_JAX_COMPILE_STAGES = {
    "/jax/core/compile/jaxpr_trace_duration": "trace_s",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower_s",
    "/jax/core/compile/backend_compile_duration": "xla_compile_s",
}


class _JaxCompileStages:
    """Seconds JAX itself reports for each compile stage inside the block, summed over the
    functions it compiles there (Keras's train step and any small helpers); `{}` under
    TensorFlow, which has no such hook."""

    def __enter__(self):
        self.seconds = {}
        if keras.backend.backend() == "jax":
            import jax.monitoring

            jax.monitoring.register_event_duration_secs_listener(self._record)
        return self

    def _record(self, event, duration_secs, **kwargs):
        stage = _JAX_COMPILE_STAGES.get(event)
        if stage:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + duration_secs

    def __exit__(self, *exc_info):
        if keras.backend.backend() == "jax":
            import jax.monitoring

            jax.monitoring.unregister_event_duration_listener(self._record)
        return False


def first_step(model, data):
    """Wall seconds of the first `train_on_batch` (trace, lower, XLA-compile and run the
    step for this input shape) and JAX's own per-stage compile seconds within it."""
    features, labels = data
    with _JaxCompileStages() as stages:
        start = time.perf_counter()
        model.train_on_batch(features, labels)
        seconds = time.perf_counter() - start
    return seconds, stages.seconds


def input_shape(data):
    """The `(batch, sequence)` shape of the token ids: what a new compile is keyed on."""
    return [int(dim) for dim in data[0]["token_ids"].shape]


def timed_steps(model, data, steps):
    """Seconds for `steps` compiled training steps (`train_on_batch` returns numpy: synced).

    `fit` is not used for timing: on this setup its per-epoch iterator set-up rounded every
    run to the same multiple of about 1.28 s, hiding the differences between models.
    """
    features, labels = data
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(features, labels)
    return time.perf_counter() - start


def _minor_faults():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


# -------------------------------------------------------------------------------- main


def run(args):
    load = os.getloadavg()[0]
    tokens_per_step = args.batch_size * args.sequence_length
    peak = measure_peak_flops()
    rows = []
    for family in args.models:
        per_token = flops_per_token(args, family)
        order = ("zoo", "keras_hub")
        if args.build_order == "keras_hub_first":
            order = order[::-1]
        sides = {side: compiled(family, side, args) for side in order}
        first = {side: first_step(*sides[side]) for side in order}  # compile + 1 step
        for model, data in sides.values():  # warm up
            timed_steps(model, data, 1)
        times = {side: [] for side in sides}
        faults = {side: 0 for side in sides}
        for _ in range(args.rounds):
            for side, (model, data) in sides.items():  # alternate the sides
                before = _minor_faults()
                times[side].append(timed_steps(model, data, args.steps))
                faults[side] += _minor_faults() - before
        result = {"family": family, "flops_per_token": per_token}
        for side in sides:
            tokens = tokens_per_step * args.steps
            tokens_per_second = tokens / statistics.median(times[side])
            first_seconds, stages = first[side]
            steady = statistics.median(times[side]) / args.steps
            result[side] = {
                "tokens_per_second": tokens_per_second,
                "best_tokens_per_second": tokens / min(times[side]),
                "mfu": tokens_per_second * per_token / peak,
                "seconds_per_run": times[side],
                "parameters": sides[side][0].count_params(),
                "minor_page_faults_per_step": faults[side] / (args.rounds * args.steps),
                "compile": {
                    "input_shape": input_shape(sides[side][1]),
                    "first_step_s": first_seconds,
                    "steady_step_s": steady,
                    # The one-time cost of a new input shape: first step minus a steady one.
                    "compile_s": first_seconds - steady,
                    "jax_stages_s": stages,
                },
            }
        add_ratios(result, times)
        rows.append(result)
        del sides
    return {
        "config": vars(args),
        "machine": machine_facts(load, peak_fp32_matmul_flops=peak),
        "keras_backend": keras.backend.backend(),
        "compile_time_measure": COMPILE_TIME_MEASURE,
        "tf_cpu_allocator_use_bfc": os.environ.get("TF_CPU_ALLOCATOR_USE_BFC"),
        "glibc_malloc": _glibc_malloc,
        "versions": _versions(),
        "results": rows,
    }


def add_ratios(result, times):
    """Add zoo's speed over keras-hub's to `result`, whose "zoo" and "keras_hub" entries
    hold `tokens_per_second` (the median run) and `best_tokens_per_second`: `ratio`,
    `best_ratio`, and `paired_ratios`, each round's keras-hub time over the zoo time of
    the same round (`times`: each side's seconds per round), with their median. A
    disturbance that lasts longer than a round slows both sides, so the pairs vary less
    than the runs."""
    zoo, hub = result["zoo"], result["keras_hub"]
    result["ratio"] = zoo["tokens_per_second"] / hub["tokens_per_second"]
    result["best_ratio"] = zoo["best_tokens_per_second"] / hub["best_tokens_per_second"]
    paired = [h / z for z, h in zip(times["zoo"], times["keras_hub"])]
    result["paired_ratios"] = paired
    result["median_paired_ratio"] = statistics.median(paired)


def print_sides(results, header, cells):
    """Print a zoo / keras-hub table (this benchmark's and the fine-tuning one's): `header`,
    the columns before the ratios, ruled; then each result's zoo line and keras-hub line,
    `cells(result, side)` followed by the `add_ratios` figures (on the zoo line only)."""
    print_header(header, f"{'zoo/hub':>8} {'best':>6} {'paired':>7}")
    keys = ("ratio", "best_ratio", "median_paired_ratio")
    for result in results:
        for side in ("zoo", "keras_hub"):
            ratio, best, paired = (f"{result[key]:.2f}x" if side == "zoo" else "" for key in keys)
            print(f"{cells(result, side)}{ratio:>8} {best:>6} {paired:>7}")


COMPILE_TIME_MEASURE = (
    "compile_s = wall time of the first train_on_batch at the input shape (Python trace of"
    " Keras's train step, lowering, XLA compile, one step) minus the median step time of the"
    " timed runs; jax_stages_s: JAX's own trace / lowering / XLA-compile durations inside that"
    " first call (JAX only)"
)


def _versions():
    import importlib.metadata

    names = ["keras", "keras-hub", "tensorflow"]
    if keras.backend.backend() == "jax":
        names += ["jax", "jaxlib"]
    return {name: importlib.metadata.version(name) for name in names}


def print_table(report):
    machine = report["machine"]
    print(f"Keras backend: {report['keras_backend']}; XLA on CPU")
    print(
        f"peak fp32 matmul: {machine['peak_fp32_matmul_flops'] / 1e9:.1f} GFLOP/s; "
        "FLOPs/token: "
        + ", ".join(
            f"{row['family']} {row['flops_per_token'] / 1e6:.2f} M" for row in report["results"]
        )
        + f"; {load_line(machine)}"
    )

    def cells(row, side):
        entry = row[side]
        return (
            f"{row['family']:<6} {side:<10} {entry['tokens_per_second']:>10.0f} "
            f"{entry['mfu']:>6.1%} {entry['best_tokens_per_second']:>11.0f} "
            f"{entry['parameters']:>11,} {entry['compile']['compile_s']:>9.1f} "
        )

    print_sides(
        report["results"],
        f"{'model':<6} {'side':<10} {'tokens/s':>10} {'MFU':>7} {'best tok/s':>11} "
        f"{'params':>11} {'compile s':>9} ",
        cells,
    )
    print(
        "tokens/s and MFU: median of the timed runs; best: the fastest runs (least disturbed);"
        " paired: median over rounds of keras-hub's time / zoo's time in the same round."
    )
    print(
        "compile s: for the input shape (batch, sequence) = "
        + ", ".join(
            f"{row['family']} {tuple(row['zoo']['compile']['input_shape'])}"
            for row in report["results"]
        )
        + ", the first training step's wall time minus a steady step's (trace + lowering +"
        " XLA compile)."
    )
    for row in report["results"]:
        for side in ("zoo", "keras_hub"):
            stages = row[side]["compile"]["jax_stages_s"]
            if stages:
                print(
                    f"  {row['family']} {side}: JAX "
                    + ", ".join(f"{name[:-2]} {value:.1f} s" for name, value in stages.items())
                )


def main(argv=None):
    args = parse_args(argv)
    if args.backend != keras.backend.backend():
        # Keras was imported with another backend (the script imported as a module): run it
        # anew in a process that imports Keras with the one asked for.
        import subprocess

        argv = sys.argv[1:] if argv is None else list(argv)
        environ = {**os.environ, "KERAS_BACKEND": args.backend}
        command = [sys.executable, os.path.abspath(__file__), *argv]
        subprocess.run(command, env=environ, check=True)
        return
    report_run(run, print_table, args)


if __name__ == "__main__":
    main()
