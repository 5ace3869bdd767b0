"""Attention scaling benchmark: efficient attention layers vs full attention, n = 512 ... 16384.

Part 1, scaling. For every sequence length n and every variant (full `MultiHeadAttention`
and `SparseAttention`, `LongformerAttention`, `LinformerAttention`, `PerformerAttention`,
`ReformerAttention` from `zoo.layers.efficient_attention`) one self-attention layer with
batch 1, 4 heads of size 64 (hidden 256) runs forward + backward (gradients of
`sum(output²)` with respect to the input and every weight) in one XLA-compiled function.
`--model gpt` times a one-block `GPT` instead (that attention, hidden 256, feed-forward
1024, `--vocabulary-size` 1024 ids, dropout 0; causal): one training step's gradients of
the next-token cross-entropy with respect to every weight, so the projections, the
feed-forward network and the logits bound what a faster attention can gain. Each
(variant, n) runs in its own subprocess, so the peak memory is that configuration's own
and an out-of-memory kill loses one cell, not the run:

- time: median of `--repeats` calls after a compile / warm-up call, as wall-clock and as
  the process's CPU time (user + system over all threads: less moved by other processes
  on a shared machine than the wall-clock);
- memory: the process peak resident memory (VmHWM, reset through /proc/self/clear_refs
  just before the timed calls) minus the resident memory at that moment. The child runs
  with `MALLOC_MMAP_THRESHOLD_` fixed, so large buffers go back to the system when freed
  and one step's peak is measured, not what the allocator kept from the compile.
- a watchdog kills a child whose resident memory passes `--memory-limit-gib` (16): that
  cell reads "> limit"; full attention is not started where its score matrices alone
  (5 float32 `(heads, n, n)` buffers: logits, probabilities, their gradients and a
  temporary) would reach the limit, and reads "> limit (est.)".

The table gives ms and MiB per cell and, for every variant, its speed-up and memory
saving against full attention at the same n, measured in the same run, and the longest
n that ran within the limit.

Part 2, a long-sequence task at n = 4096 (`--task-length`): retrieval of a marked token.
A sequence of "noise" tokens (drawn from `--task-noise-types` ids, 1 by default: every
noise token is the same) holds one marked token (ids 3 + T ... 3 + T + V) at a random
position; from the `[CLS]` position (id 1, first) a tiny `Bert` (2 layers, hidden 32,
2 heads) with each attention must name the marked token's value (V classes, chance 1/V).
Only attention carries information from the marked position to `[CLS]`, so a variant that
cannot attend there stays at chance. With one noise type the marked token is the only
token that differs between sequences, which makes the gradient towards attending to it
consistent; with several, the varying noise tokens blur that signal (a harder task).
Every variant trains `--task-steps` Adam steps on fresh batches in its own subprocess,
or until `--task-time-budget` seconds have passed (equal wall-clock for every variant: at
n = 4096 full attention takes about 10x longer per step than the others on 2 cores);
accuracy is measured on 256 held-out sequences.

Options per variant (both parts): sparse strided with block 128 (≈ sqrt(16384)),
Longformer window ±128 with one global token, Linformer k = 256, Performer m = 256
features, Reformer 2 hash rounds, chunks of 64 and n / 128 buckets. The task uses
smaller ones (see `TASK_OPTIONS`).

Usage:
    python benchmarks/attention_scaling.py [--lengths 512 1024 ...] [--quick]
        [--causal] [--model layer|gpt] [--task-steps 150] [--task-time-budget 0]
        [--json results/attention_scaling.json]
    python benchmarks/attention_scaling.py --no-scaling --task-length 512 --task-steps 400
    python benchmarks/attention_scaling.py --no-scaling --task-steps 400 --task-batch-size 4 \
        --task-time-budget 120

Other processes on the machine change the times (the 1-minute load average is printed
and stored); memory is per process and much less sensitive.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

# Run as a script, this folder is sys.path[0], and benchmarks/tokenizers.py would shadow the
# HF `tokenizers` package: put the repository root there instead.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(HERE), *(p for p in sys.path if os.path.abspath(p or ".") != HERE)]

from benchmarks._common import attention_model, memory_status, set_environment, write_json

set_environment()

VARIANTS = ("full", "sparse", "longformer", "linformer", "performer", "reformer")
LINEAR = ("linformer", "performer", "sparse", "longformer", "reformer")
GIB = 1024**3
MIB = 1024**2


def scaling_options(variant, length):
    return {
        "full": {},
        "sparse": {"pattern": "strided", "block_size": 128},
        "longformer": {"attention_window": 128, "num_global_tokens": 1},
        "linformer": {"projection_dim": 256, "sequence_length": length},
        "performer": {"num_features": 256, "chunk_size": 64, "seed": 0},
        "reformer": {
            "num_buckets": max(2, length // 128),
            "num_hashes": 2,
            "chunk_size": 64,
            "seed": 0,
        },
    }[variant]


TASK_OPTIONS = {
    "full": {},
    "sparse": {"pattern": "strided", "block_size": 64},
    "longformer": {"attention_window": 64, "num_global_tokens": 1},
    "linformer": {"projection_dim": 128},
    "performer": {"num_features": 64, "chunk_size": 64, "seed": 0},
    "reformer": {"num_buckets": 32, "num_hashes": 2, "chunk_size": 64, "seed": 0},
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--lengths", type=int, nargs="+", default=[512, 1024, 2048, 4096, 8192, 16384]
    )
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--causal", action="store_true", help="causal masks (no Linformer)")
    parser.add_argument(
        "--model",
        choices=("layer", "gpt"),
        default="layer",
        help="time one attention layer, or a one-block GPT's training step (causal)",
    )
    parser.add_argument("--vocabulary-size", type=int, default=1024, help="GPT ids (--model gpt)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per cell")
    parser.add_argument("--memory-limit-gib", type=float, default=16.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per cell")
    parser.add_argument("--no-scaling", action="store_true", help="run the task only")
    parser.add_argument("--task-length", type=int, default=4096)
    parser.add_argument("--task-steps", type=int, default=150, help="0 skips the task")
    parser.add_argument("--task-batch-size", type=int, default=8)
    parser.add_argument(
        "--task-time-budget",
        type=float,
        default=0.0,
        help="also stop each variant's training after this many seconds (0: steps only)",
    )
    parser.add_argument("--task-values", type=int, default=4, help="classes V of the task")
    parser.add_argument(
        "--task-noise-types", type=int, default=1, help="distinct noise token ids T"
    )
    parser.add_argument(
        "--quick", action="store_true", help="lengths 512 2048 4096, 2 repeats, 40 task steps"
    )
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--variant", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--length", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for flag, values in (("--lengths", args.lengths), ("--repeats", [args.repeats])):
        if any(value < 1 for value in values):
            parser.error(f"{flag} {min(values)}: expected positive integers")
    if args.model == "gpt":
        args.causal = True  # GPT's attention is causal
    if args.quick:
        args.lengths, args.repeats = [512, 2048, 4096], 2
        args.task_steps = min(args.task_steps, 40)
    return args


# ------------------------------------------------------------------------------ workers


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")  # resets VmHWM to the current VmRSS
        return True
    except OSError:
        return False


def make_layer(variant, num_heads, head_dim, options):
    from zoo.layers.efficient_attention import make_attention

    return make_attention(variant, num_heads, head_dim, options, dropout=0.0, name=variant)


def scaling_worker(args):
    """One (variant, n): forward + backward time and peak memory; prints one JSON line.

    `--model layer`: one attention layer, gradients of `sum(output²)` with respect to the
    input and the layer's weights. `--model gpt`: a one-block `GPT` (hidden
    `num_heads * head_dim`, feed-forward 4x, `--vocabulary-size` ids, dropout 0), one
    training step's gradients of the next-token cross-entropy with respect to every weight.
    """
    import gc

    import numpy as np
    import tensorflow as tf

    hidden = args.num_heads * args.head_dim
    options = scaling_options(args.variant, args.length)
    rng = np.random.default_rng(0)
    if args.model == "gpt":
        from zoo.models.gpt import GPT

        model = attention_model(
            GPT, args.variant, options, args.vocabulary_size, args.length, 1, args.num_heads, hidden
        )
        tokens = rng.integers(0, args.vocabulary_size, size=(1, args.length + 1))
        x = {
            "token_ids": tf.constant(tokens[:, :-1], "int32"),
            "padding_mask": tf.ones((1, args.length), "int32"),
        }
        labels = tf.constant(tokens[:, 1:], "int32")
        weights = model.trainable_variables

        def loss_and_inputs(inputs):
            logits = model(inputs, training=True)
            loss = tf.reduce_mean(
                tf.keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
            )
            return loss, []

    else:
        layer = make_layer(args.variant, args.num_heads, args.head_dim, options)
        x = tf.constant(rng.normal(size=(1, args.length, hidden)), "float32")
        layer(x[:, :8])  # build (Linformer is told its sequence_length)
        weights = layer.trainable_variables

        def loss_and_inputs(inputs):
            output = layer(inputs, use_causal_mask=args.causal)
            return tf.reduce_sum(tf.square(output)), [inputs]

    @tf.function(jit_compile=True)
    def step(inputs):
        with tf.GradientTape() as tape:
            if not isinstance(inputs, dict):
                tape.watch(inputs)
            loss, sources = loss_and_inputs(inputs)
        return tape.gradient(loss, [*sources, *weights])

    start = time.perf_counter()
    [g.numpy() for g in step(x)]  # compile and warm up
    compile_seconds = time.perf_counter() - start
    gc.collect()
    reset = _reset_peak()
    baseline, _ = memory_status()
    times, cpu_times = [], []
    for _ in range(args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        [g.numpy() for g in step(x)]
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    _, peak = memory_status()
    print(
        json.dumps(
            {
                "ms": 1000 * statistics.median(times),
                "ms_best": 1000 * min(times),
                "cpu_ms": 1000 * statistics.median(cpu_times),
                "peak_mib": (peak - baseline) / MIB if reset else None,
                "compile_s": compile_seconds,
            }
        )
    )


def task_batch(rng, batch_size, length, values, noise_types=1):
    """Token ids `(batch, length)` with [CLS] first and one marked token; labels `(batch,)`."""
    import numpy as np

    labels = rng.integers(0, values, size=batch_size)
    tokens = rng.integers(3, 3 + noise_types, size=(batch_size, length))
    tokens[:, 0] = 1  # [CLS]
    positions = rng.integers(1, length, size=batch_size)
    tokens[np.arange(batch_size), positions] = 3 + noise_types + labels  # the marked token
    return tokens.astype("int32"), labels.astype("int32")


def task_worker(args):
    """Train a tiny Bert on the marked-token task with one attention; prints one JSON line."""
    import keras
    import numpy as np

    from zoo.models.bert import Bert

    length, values = args.task_length, args.task_values
    vocabulary_size = 3 + args.task_noise_types + values
    options = TASK_OPTIONS[args.variant]
    backbone = attention_model(
        Bert, args.variant, options, vocabulary_size, length, 2, 2, 32, intermediate_dim=64
    )
    inputs = {
        name: keras.Input((length,), dtype="int32", name=name)
        for name in ("token_ids", "padding_mask")
    }
    logits = keras.layers.Dense(values, name="logits")(backbone(inputs)["pooled_output"])
    model = keras.Model(inputs, logits)
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=True,
    )
    rng = np.random.default_rng(0)
    ones = np.ones((args.task_batch_size, length), "int32")
    start = began = time.perf_counter()
    losses = []
    for step in range(args.task_steps):
        if (
            args.task_time_budget
            and step > 1
            and time.perf_counter() - began > args.task_time_budget
        ):
            break
        tokens, labels = task_batch(
            rng, args.task_batch_size, length, values, args.task_noise_types
        )
        if step == 1:
            start = time.perf_counter()  # leave the compile out of the step time
        loss = model.train_on_batch({"token_ids": tokens, "padding_mask": ones}, labels)
        losses.append(float(loss[0] if isinstance(loss, list) else loss))
    seconds_per_step = (time.perf_counter() - start) / max(1, len(losses) - 1)
    eval_rng = np.random.default_rng(12345)
    correct = 0
    for _ in range(256 // 8):
        tokens, labels = task_batch(eval_rng, 8, length, values, args.task_noise_types)
        predicted = model.predict_on_batch(
            {"token_ids": tokens, "padding_mask": np.ones((8, length), "int32")}
        )
        correct += int(np.sum(np.argmax(predicted, -1) == labels))
    print(
        json.dumps(
            {
                "accuracy": correct / 256,
                "final_loss": float(np.mean(losses[-10:])),
                "s_per_step": seconds_per_step,
                "steps": len(losses),
            }
        )
    )


# ------------------------------------------------------------------------------- parent


def full_attention_estimate(length, num_heads):
    """Bytes of the float32 (heads, n, n) buffers full attention needs forward+backward.

    Logits, probabilities, their gradients and one temporary: 5 buffers (at n = 16384
    and 4 heads, 20 GiB; the run killed at 16 GiB showed 4 is not enough).
    """
    return 5 * num_heads * length * length * 4


def run_child(argv, memory_limit, timeout):
    """Run this script as a worker; returns (parsed JSON or None, status, peak RSS bytes)."""
    env = dict(os.environ)
    env["MALLOC_MMAP_THRESHOLD_"] = "1048576"  # big buffers mmapped: freed back at once
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    state = {"killed": False, "peak": 0}

    def watch():
        while process.poll() is None:
            try:
                with open(f"/proc/{process.pid}/status") as file:
                    for line in file:
                        if line.startswith("VmRSS:"):
                            rss = int(line.split()[1]) * 1024
                            state["peak"] = max(state["peak"], rss)
                            if rss > memory_limit:
                                state["killed"] = True
                                process.kill()
            except OSError:
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None, "timeout", state["peak"]
    watcher.join(timeout=1)
    if state["killed"]:
        return None, "memory", state["peak"]
    if process.returncode != 0:
        lines = (stderr or "").strip().splitlines()
        return None, f"error: {lines[-1] if lines else process.returncode}", state["peak"]
    return json.loads(stdout.strip().splitlines()[-1]), "ok", state["peak"]


def run_scaling(args):
    limit = args.memory_limit_gib * GIB
    cells = []
    for length in args.lengths:
        for variant in args.variants:
            cell = {
                "variant": variant,
                "length": length,
                "options": scaling_options(variant, length),
            }
            if variant == "linformer" and args.causal:
                cell["status"] = "no causal mode"
            elif variant == "full" and full_attention_estimate(length, args.num_heads) >= limit:
                cell["status"] = "over limit (est.)"
            else:
                argv = [
                    "--worker=scaling",
                    f"--variant={variant}",
                    f"--length={length}",
                    f"--num-heads={args.num_heads}",
                    f"--head-dim={args.head_dim}",
                    f"--repeats={args.repeats}",
                    *(["--causal"] if args.causal else []),
                    f"--model={args.model}",
                    f"--vocabulary-size={args.vocabulary_size}",
                ]
                result, status, peak_rss = run_child(argv, limit, args.timeout)
                cell.update(result or {})
                cell["status"] = status
                cell["process_peak_rss_mib"] = peak_rss / MIB
            cells.append(cell)
            print(f"  n={length:>6} {variant:<10} {_cell_text(cell)}", flush=True)
    return cells


def _cell_text(cell):
    if cell["status"] == "ok":
        memory = "?" if cell.get("peak_mib") is None else f"{cell['peak_mib']:.0f} MiB"
        return f"{cell['ms']:.1f} ms, {memory}"
    if cell["status"] in ("memory", "over limit (est.)"):
        return "> limit" + (" (est.)" if "est" in cell["status"] else "")
    return cell["status"]


def run_task(args):
    results = {}
    for variant in args.variants:
        argv = [
            "--worker=task",
            f"--variant={variant}",
            f"--task-length={args.task_length}",
            f"--task-steps={args.task_steps}",
            f"--task-batch-size={args.task_batch_size}",
            f"--task-values={args.task_values}",
            f"--task-noise-types={args.task_noise_types}",
            f"--task-time-budget={args.task_time_budget}",
        ]
        result, status, _ = run_child(argv, args.memory_limit_gib * GIB, 4 * args.timeout)
        results[variant] = {**(result or {}), "status": status}
        print(f"  task {variant:<10} {results[variant]}", flush=True)
    return results


def summarize(cells, args):
    by_key = {(c["variant"], c["length"]): c for c in cells}
    summary = {}
    for variant in args.variants:
        ran = [c["length"] for c in cells if c["variant"] == variant and c["status"] == "ok"]
        ratios = {}
        for length in args.lengths:
            cell, full = by_key.get((variant, length)), by_key.get(("full", length))
            if not (cell and full and cell["status"] == "ok" and full["status"] == "ok"):
                continue
            ratio = {"speedup": full["ms"] / cell["ms"]}
            if cell.get("cpu_ms") and full.get("cpu_ms"):
                ratio["cpu_speedup"] = full["cpu_ms"] / cell["cpu_ms"]
            if cell.get("peak_mib") and full.get("peak_mib"):
                ratio["memory_saving"] = full["peak_mib"] / cell["peak_mib"]
            ratios[length] = ratio
        summary[variant] = {
            "longest_length_within_limit": max(ran, default=None),
            **{f"vs_full_at_{length}": ratio for length, ratio in ratios.items()},
        }
    return summary


def print_report(report, args):
    machine = report["machine"]
    print()
    print(
        ("One-block GPT training step" if args.model == "gpt" else "Attention forward+backward")
        + f", batch 1, {args.num_heads} heads x {args.head_dim}, "
        f"{'causal' if args.causal else 'bidirectional'}, XLA on {machine['device']}; load "
        f"(1 min) {machine['load_average_1min_at_start']:.2f} -> "
        f"{machine['load_average_1min_at_end']:.2f}"
    )
    by_key = {(c["variant"], c["length"]): c for c in report["scaling"]}
    header = f"{'variant':<11}" + "".join(f"{'n=' + str(n):>22}" for n in args.lengths)
    print(header)
    print("-" * len(header))
    for variant in args.variants:
        row = f"{variant:<11}"
        for length in args.lengths:
            cell = by_key.get((variant, length))
            row += f"{_cell_text(cell) if cell else '-':>22}"
        print(row)
    print()
    print(
        "vs full attention at the same n (speed-up x, memory saving x); longest n within "
        f"{args.memory_limit_gib:g} GiB:"
    )
    for variant, summary in report["summary"].items():
        if variant == "full":
            print(f"  {variant:<11} longest n {summary['longest_length_within_limit']}")
            continue
        parts = []
        for length in args.lengths:
            ratio = summary.get(f"vs_full_at_{length}")
            if ratio:
                memory = ratio.get("memory_saving")
                memory = f"{memory:.1f}x mem" if memory else "? mem"
                cpu = ratio.get("cpu_speedup")
                cpu = f" ({cpu:.1f}x CPU time)" if cpu else ""
                parts.append(f"n={length}: {ratio['speedup']:.1f}x time{cpu}, {memory}")
        print(
            f"  {variant:<11} longest n {summary['longest_length_within_limit']}; "
            + ("; ".join(parts) or "no comparison")
        )
    if report.get("task"):
        print()
        print(
            f"Marked-token retrieval, n={args.task_length}, {args.task_values} classes (chance "
            f"{1 / args.task_values:.2f}), {args.task_noise_types} noise type(s), "
            f"at most {args.task_steps} steps of batch {args.task_batch_size}"
            + (f" or {args.task_time_budget:g} s" if args.task_time_budget else "")
            + ":"
        )
        for variant, result in report["task"].items():
            if result["status"] != "ok":
                print(f"  {variant:<11} {result['status']}")
                continue
            print(
                f"  {variant:<11} accuracy {result['accuracy']:.2f}  final loss "
                f"{result['final_loss']:.3f}  {result.get('steps', '?')} steps  "
                f"{result['s_per_step']:.2f} s/step"
            )


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return {"scaling": scaling_worker, "task": task_worker}[args.worker](args)
    import tensorflow as tf

    device = "GPU" if tf.config.list_physical_devices("GPU") else f"CPU ({os.cpu_count()} cores)"
    machine = {
        "device": device,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "load_average_1min_at_start": os.getloadavg()[0],
    }
    print("scaling (one subprocess per cell):", flush=True)
    cells = [] if args.no_scaling else run_scaling(args)
    task = run_task(args) if args.task_steps > 0 else {}
    machine["load_average_1min_at_end"] = os.getloadavg()[0]
    report = {
        "machine": machine,
        "settings": {
            key: value
            for key, value in vars(args).items()
            if key not in ("worker", "variant", "length", "json")
        },
        "task_options": {v: TASK_OPTIONS[v] for v in args.variants},
        "scaling": cells,
        "summary": summarize(cells, args),
        "task": task,
    }
    print_report(report, args)
    if args.json:
        write_json(report, args.json)
    return report


if __name__ == "__main__":
    main()
