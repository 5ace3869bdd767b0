"""Long-context quality of causal attention: what each attention learns in equal wall-clock time.

`benchmarks/attention_scaling.py` times the layers; this script asks what a `GPT` built
with each causal attention (`full`, `sparse`, `longformer`, `performer`, `reformer`;
Linformer has no causal mode) learns when every variant gets the same seconds of training
on this machine. Each variant trains in its own subprocess, from the same seed.

Part 1, causal retrieval at n = 4096 (`--retrieval-length`). A sequence of noise tokens
(ids 3 ... 3 + T - 1, `--noise-types` T, 1 by default) holds one marked token (ids 3 + T
... 3 + T + V - 1, value v of V classes) at a uniformly drawn position before the last
one; the last token is the query (id 2). A tiny GPT (2 layers, hidden 32, 2 heads) must
predict v at the query position; the loss is taken there only. The marked token can sit
anywhere from the first position to the one before the query, so a variant only solves
the task if its causal attention reaches back across the whole sequence (Longformer's
global token is position 0, which the marked token rarely is; its window is local).
Accuracy is measured on 256 held-out sequences of the task's length (chance 1 / V).

Trained at n = 4096 from the start, no variant learned it within several minutes on 2
cores (every final loss ln V): at the query, one marked key among 4,095 identical noise
keys gets 1/4096 of the attention at first, so its gradient is too weak. So each variant
climbs a curriculum (`--retrieval-curriculum`, 64, 256 then 1024 by default): it trains at
the shortest length until the mean loss of its last `--advance-window` (50) steps falls
below `--advance-loss` (0.05 nats; chance is ln V), then moves to the next length, and
ends at `--retrieval-length` for what is left of its budget. With 0.3 instead, Sparse and
Performer moved on while they told only 3 of the 4 values apart, and stayed on that
plateau at 4096 (0.72-0.76 after 150 s, and still after 360 s); at 0.05 they learn all
four at the short lengths, where steps are cheap. The rule is the same for
every variant, and the compile at each new length is not counted. A variant that cannot
reach back across a length stays there; one that learned the content match at a short
length carries it to 4096 (full attention learned n = 256 in about 450 steps and then
scored 1.0 at 4096 without a step there). Sparse attention (block 64) needs the first
stage: started at 256 it stayed at chance for 10,000 steps, started at 64 (one block,
where it equals full attention) it reached 4096. The report gives each stage's steps,
seconds, final loss and held-out accuracy at its length. `--retrieval-curriculum` with no
lengths trains at n = 4096 only.

Part 2, language modelling at n = 2048 (`--lm-length`) on real text files (`--data`, by
path, e.g. ../shared/data/tinyshakespeare.txt ../shared/data/ru-literature-dostoevsky-besy.txt).
A SentencePiece tokenizer (`--lm-vocabulary`) is trained on the first 90% of every file;
the last 10% is held out. A GPT (`--lm-layers` 2, hidden 128, 4 heads) trains on random
windows of the training stream (batch `--lm-batch-size`) for `--lm-time-budget` seconds,
then reports the held-out perplexity over every full window of the held-out stream.

Options per variant: sparse strided, block 64; Longformer window 64, one global token;
Performer 64 features (retrieval) / 128 (language model), chunks of 64; Reformer buckets
of 64 positions, 2 hashes, chunks of 64.

Usage:
    python benchmarks/long_context.py --data ../shared/data/tinyshakespeare.txt \\
        ../shared/data/ru-literature-dostoevsky-besy.txt
    python benchmarks/long_context.py --parts retrieval --retrieval-time-budget 120
    python benchmarks/long_context.py --parts lm --data FILE --lm-time-budget 60 \\
        --variants full performer

Other processes on the machine change how many steps a variant gets in its budget (the
1-minute load average is printed and stored with the results).
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

# Run as a script, this folder is sys.path[0], and benchmarks/tokenizers.py would shadow the
# HF `tokenizers` package: put the repository root there instead.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, os.path.dirname(HERE))

from benchmarks._common import attention_model

VARIANTS = ("full", "sparse", "longformer", "performer", "reformer")
QUERY_ID = 2


def attention_options(variant, length, features):
    return {
        "full": {},
        "sparse": {"pattern": "strided", "block_size": 64},
        "longformer": {"attention_window": 64, "num_global_tokens": 1},
        "performer": {"num_features": features, "chunk_size": 64, "seed": 0},
        "reformer": {
            "num_buckets": max(2, length // 64),
            "num_hashes": 2,
            "chunk_size": 64,
            "seed": 0,
        },
    }[variant]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--parts", nargs="+", default=["retrieval", "lm"], choices=("retrieval", "lm")
    )
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--retrieval-length", type=int, default=4096)
    parser.add_argument("--retrieval-batch-size", type=int, default=4)
    parser.add_argument("--retrieval-time-budget", type=float, default=150.0)
    parser.add_argument("--retrieval-max-steps", type=int, default=100000)
    parser.add_argument(
        "--retrieval-curriculum",
        nargs="*",
        type=int,
        default=[64, 256, 1024],
        metavar="N",
        help="shorter lengths trained first, in order; none: --retrieval-length from the start",
    )
    parser.add_argument(
        "--advance-loss",
        type=float,
        default=0.05,
        help="move to the next length when the mean loss of the last --advance-window steps "
        "is below this",
    )
    parser.add_argument("--advance-window", type=int, default=50)
    parser.add_argument("--values", type=int, default=8, help="classes of the marked token")
    parser.add_argument("--noise-types", type=int, default=1)
    parser.add_argument("--data", nargs="*", default=[], help="text files (part 2)")
    parser.add_argument("--lm-length", type=int, default=2048)
    parser.add_argument("--lm-batch-size", type=int, default=2)
    parser.add_argument("--lm-time-budget", type=float, default=120.0)
    parser.add_argument("--lm-max-steps", type=int, default=100000)
    parser.add_argument("--lm-vocabulary", type=int, default=4000)
    parser.add_argument("--lm-layers", type=int, default=2)
    parser.add_argument("--lm-hidden", type=int, default=128)
    parser.add_argument("--lm-eval-windows", type=int, default=32, help="at most, held out")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per variant")
    parser.add_argument("--json", default="results/long_context.json")
    # worker-only
    parser.add_argument("--worker", choices=("retrieval", "lm"), help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--arrays", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.retrieval_curriculum = sorted(set(args.retrieval_curriculum))
    if args.worker is None:
        for name in ("retrieval_length", "retrieval_batch_size", "lm_length", "lm_batch_size"):
            if getattr(args, name) < 2:
                parser.error(f"--{name.replace('_', '-')} must be at least 2")
        too_long = [n for n in args.retrieval_curriculum if not 2 <= n < args.retrieval_length]
        if too_long:
            parser.error(
                f"--retrieval-curriculum {' '.join(map(str, too_long))}: each length must be "
                f"at least 2 and shorter than --retrieval-length {args.retrieval_length}"
            )
        if args.advance_window < 1 or args.advance_loss <= 0:
            parser.error("--advance-window must be at least 1 and --advance-loss above 0")
        if args.values < 2 or args.noise_types < 1:
            parser.error("--values must be at least 2 and --noise-types at least 1")
        if "lm" in args.parts:
            if not args.data:
                parser.error("part 'lm' needs --data FILE [FILE ...] (e.g. ../shared/data/*.txt)")
            missing = [path for path in args.data if not os.path.isfile(path)]
            if missing:
                parser.error(f"--data: no such file: {', '.join(missing)}")
    return args


# ------------------------------------------------------------------------------- workers


def retrieval_batch(rng, batch_size, length, values, noise_types):
    """Token ids `(batch, length)`: noise, one marked token before the query at the end."""
    import numpy as np

    labels = rng.integers(0, values, size=batch_size)
    tokens = rng.integers(3, 3 + noise_types, size=(batch_size, length))
    positions = rng.integers(0, length - 1, size=batch_size)
    tokens[np.arange(batch_size), positions] = 3 + noise_types + labels
    tokens[:, -1] = QUERY_ID
    return tokens.astype("int32"), labels.astype("int32")


def _gpt(variant, vocabulary_size, length, layers, hidden, heads, features):
    from zoo.models import GPT

    options = attention_options(variant, length, features)
    return attention_model(GPT, variant, options, vocabulary_size, length, layers, heads, hidden)


def _train_for(budget, max_steps, step, done=None):
    """Call `step(i)` until `budget` seconds pass (compile excluded), `max_steps` steps
    are taken or `done(losses)` holds; (steps, s/step, losses)."""
    losses = [step(0)]  # compiles
    began = time.perf_counter()
    while (
        len(losses) < max_steps
        and time.perf_counter() - began < budget
        and not (done and done(losses))
    ):
        losses.append(step(len(losses)))
    seconds = time.perf_counter() - began
    return len(losses), seconds / max(1, len(losses) - 1), losses


def retrieval_worker(args):
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    length, values = args.retrieval_length, args.values
    gpt = _gpt(args.variant, 3 + args.noise_types + values, length, 2, 32, 2, features=64)
    first_value = 3 + args.noise_types

    class Readout(keras.Model):  # the values' logits at the query; traced per length
        def __init__(self):
            super().__init__()
            self.gpt = gpt

        def call(self, inputs):
            return self.gpt(inputs)[:, -1, first_value:]

    model = Readout()
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    rng = np.random.default_rng(0)
    lengths = [*(n for n in args.retrieval_curriculum if n < length), length]
    stages = [{"length": n, "steps": 0, "seconds": 0.0, "losses": []} for n in lengths]
    window = args.advance_window

    def run(stage, budget):
        """Train at `stage`'s length for `budget` s (compile excluded) or until it is
        learned (mean loss of the last `window` steps below `--advance-loss`)."""
        n, ones = stage["length"], np.ones((args.retrieval_batch_size, stage["length"]), "int32")
        last = stage is stages[-1]
        # A new function per length: Keras' relaxes a second shape to an unknown length,
        # which Sparse, Longformer and Reformer refuse (they need it static).
        model.make_train_function(force=True)

        def step(_):
            tokens, labels = retrieval_batch(
                rng, args.retrieval_batch_size, n, values, args.noise_types
            )
            loss = model.train_on_batch({"token_ids": tokens, "padding_mask": ones}, labels)
            return float(loss[0] if isinstance(loss, list) else loss)

        def learned(losses):
            return (
                not last
                and len(losses) >= window
                and float(np.mean(losses[-window:])) < args.advance_loss
            )

        steps, seconds_per_step, losses = _train_for(
            budget, args.retrieval_max_steps - sum(s["steps"] for s in stages), step, learned
        )
        stage.update(steps=steps, seconds=seconds_per_step * max(0, steps - 1), losses=losses)
        return learned(losses)

    remaining = args.retrieval_time_budget
    for stage in stages:
        if not run(stage, remaining) or stage is stages[-1]:
            break
        remaining -= stage["seconds"]
    trained = [stage for stage in stages if stage["steps"]]

    accuracies = {}  # held-out accuracy by length, each measured once

    def accuracy(n):
        if n not in accuracies:
            model.make_predict_function(force=True)  # as above
            eval_rng, correct = np.random.default_rng(12345), 0
            for _ in range(256 // 8):
                tokens, labels = retrieval_batch(eval_rng, 8, n, values, args.noise_types)
                logits = model.predict_on_batch(
                    {"token_ids": tokens, "padding_mask": np.ones_like(tokens)}
                )
                correct += int(np.sum(np.argmax(logits, -1) == labels))
            accuracies[n] = correct / 256
        return accuracies[n]

    steps = sum(stage["steps"] for stage in trained)
    print(
        json.dumps(
            {
                "accuracy": accuracy(length),
                "chance": 1 / values,
                "final_loss": float(np.mean(trained[-1]["losses"][-10:])),
                "steps": steps,
                "s_per_step": sum(stage["seconds"] for stage in trained) / max(1, steps - 1),
                "reached_length": trained[-1]["length"],
                "stages": [
                    {
                        "length": stage["length"],
                        "steps": stage["steps"],
                        "seconds": stage["seconds"],
                        "final_loss": float(np.mean(stage["losses"][-10:])),
                        "accuracy": accuracy(stage["length"]),
                    }
                    for stage in trained
                ],
            }
        )
    )


def lm_worker(args):
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    with np.load(args.arrays) as arrays:
        train_stream, test_stream = arrays["train"], arrays["test"]
        vocabulary_size = int(arrays["vocabulary_size"])
    length, batch = args.lm_length, args.lm_batch_size
    model = _gpt(
        args.variant, vocabulary_size, length, args.lm_layers, args.lm_hidden, 4, features=128
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-3, weight_decay=0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    rng = np.random.default_rng(0)
    ones = np.ones((batch, length), "int32")

    def step(_):
        starts = rng.integers(0, len(train_stream) - length - 1, size=batch)
        windows = np.stack([train_stream[s : s + length + 1] for s in starts])
        loss = model.train_on_batch(
            {"token_ids": windows[:, :-1], "padding_mask": ones}, windows[:, 1:]
        )
        return float(loss[0] if isinstance(loss, list) else loss)

    steps, seconds_per_step, losses = _train_for(args.lm_time_budget, args.lm_max_steps, step)
    count = min(args.lm_eval_windows, (len(test_stream) - 1) // length)
    total, tokens = 0.0, 0
    for k in range(count):
        window = test_stream[k * length : k * length + length + 1][None]
        logits = model.predict_on_batch(
            {"token_ids": window[:, :-1], "padding_mask": np.ones((1, length), "int32")}
        )
        logits = logits.astype("float64")
        top = logits.max(-1, keepdims=True)
        log_norm = top[..., 0] + np.log(np.exp(logits - top).sum(-1))
        picked = np.take_along_axis(logits, window[:, 1:, None].astype("int64"), -1)[..., 0]
        total += float((log_norm - picked).sum())
        tokens += length
    print(
        json.dumps(
            {
                "perplexity": math.exp(total / tokens),
                "held_out_tokens": tokens,
                "final_train_loss": float(np.mean(losses[-10:])),
                "steps": steps,
                "s_per_step": seconds_per_step,
            }
        )
    )


# -------------------------------------------------------------------------------- parent


def lm_arrays(args, directory):
    """Tokenize `--data` (90% train / 10% held out per file) into `<directory>/lm.npz`."""
    import numpy as np

    from zoo.text.tokenizers import SentencePieceTokenizer

    train_texts, test_texts = [], []
    for path in args.data:
        with open(path, encoding="utf-8") as file:
            text = file.read()
        cut = int(len(text) * 0.9)
        cut = text.rfind("\n", 0, cut) + 1 or cut  # at a line boundary
        train_texts.append(text[:cut])
        test_texts.append(text[cut:])
    lines = [line for text in train_texts for line in text.splitlines() if line.strip()]
    tokenizer = SentencePieceTokenizer.train(lines, args.lm_vocabulary, verbose=False)

    def stream(texts):  # every non-empty line's ids, in order
        lines = [line for text in texts for line in text.splitlines() if line.strip()]
        return np.asarray(tokenizer.tokenize(lines).flat_values, "int32")

    train, test = stream(train_texts), stream(test_texts)
    if len(test) < args.lm_length + 1:
        raise SystemExit(
            f"error: the held-out 10% of --data has {len(test)} tokens, fewer than "
            f"--lm-length + 1 = {args.lm_length + 1}; pass longer files or a shorter length"
        )
    path = os.path.join(directory, "lm.npz")
    size = int(tokenizer.vocabulary_size())
    np.savez(path, train=train, test=test, vocabulary_size=size)
    return path, {"train_tokens": len(train), "test_tokens": len(test), "vocabulary_size": size}


def run_child(argv, timeout):
    """Run this script as a worker; (parsed last JSON line or None, status)."""
    try:
        result = subprocess.run(
            [sys.executable, os.path.abspath(__file__), *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if result.returncode != 0:
        lines = (result.stderr or "").strip().splitlines()
        return None, f"error: {lines[-1] if lines else result.returncode}"
    return json.loads(result.stdout.strip().splitlines()[-1]), "ok"


def forwarded(args, names):
    return [f"--{name.replace('_', '-')}={getattr(args, name)}" for name in names]


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return {"retrieval": retrieval_worker, "lm": lm_worker}[args.worker](args)

    import tempfile

    report = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "backend": os.environ["KERAS_BACKEND"],
            "load_average_1min_at_start": os.getloadavg()[0],
        },
        "args": {k: v for k, v in vars(args).items() if k not in ("worker", "variant", "arrays")},
    }
    if "retrieval" in args.parts:
        print(
            f"causal retrieval, n = {args.retrieval_length}, {args.values} values, "
            f"{args.retrieval_time_budget:.0f} s of training per variant"
            + (
                f" (from n = {', '.join(map(str, args.retrieval_curriculum))}; "
                f"next length below a loss of {args.advance_loss} over {args.advance_window} steps)"
                if args.retrieval_curriculum
                else ""
            ),
            flush=True,
        )
        names = ("retrieval_length", "retrieval_batch_size", "retrieval_time_budget",
                 "retrieval_max_steps", "values", "noise_types", "advance_loss",
                 "advance_window")  # fmt: skip
        curriculum = ["--retrieval-curriculum", *map(str, args.retrieval_curriculum)]
        report["retrieval"] = {}
        for variant in args.variants:
            argv = [
                "--worker=retrieval",
                f"--variant={variant}",
                *forwarded(args, names),
                *curriculum,
            ]
            result, status = run_child(argv, args.timeout)
            report["retrieval"][variant] = {**(result or {}), "status": status}
            print(f"  {variant:<11} {_retrieval_text(report['retrieval'][variant])}", flush=True)
    if "lm" in args.parts:
        with tempfile.TemporaryDirectory() as directory:
            path, facts = lm_arrays(args, directory)
            report["lm_data"] = {"files": args.data, **facts}
            print(
                f"language model, n = {args.lm_length}, {facts['train_tokens']} training / "
                f"{facts['test_tokens']} held-out tokens, {args.lm_time_budget:.0f} s per variant",
                flush=True,
            )
            names = ("lm_length", "lm_batch_size", "lm_time_budget", "lm_max_steps",
                     "lm_layers", "lm_hidden", "lm_eval_windows")  # fmt: skip
            report["lm"] = {}
            for variant in args.variants:
                argv = [
                    "--worker=lm",
                    f"--variant={variant}",
                    f"--arrays={path}",
                    *forwarded(args, names),
                ]
                result, status = run_child(argv, args.timeout)
                report["lm"][variant] = {**(result or {}), "status": status}
                print(f"  {variant:<11} {_lm_text(report['lm'][variant])}", flush=True)
    report["machine"]["load_average_1min_at_end"] = os.getloadavg()[0]
    print(
        f"load (1 min) {report['machine']['load_average_1min_at_start']:.2f} -> "
        f"{report['machine']['load_average_1min_at_end']:.2f}"
    )
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2)
        print(f"wrote {args.json}")
    return report


def _retrieval_text(cell):
    if cell["status"] != "ok":
        return cell["status"]
    stages = ", ".join(
        f"n={stage['length']}: {stage['steps']} steps, {stage['seconds']:.0f} s, "
        f"loss {stage['final_loss']:.3f}, accuracy {stage['accuracy']:.3f}"
        for stage in cell["stages"]
    )
    return f"accuracy {cell['accuracy']:.3f} (chance {cell['chance']:.3f}); {stages}"


def _lm_text(cell):
    if cell["status"] != "ok":
        return cell["status"]
    return (
        f"held-out perplexity {cell['perplexity']:.1f}, {cell['steps']} steps at "
        f"{cell['s_per_step']:.2f} s, final training loss {cell['final_train_loss']:.3f}"
    )


if __name__ == "__main__":
    main()
