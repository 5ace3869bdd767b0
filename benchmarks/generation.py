"""Generation benchmark: new tokens/s of zoo `GPT` vs `keras_hub.models.GPT2CausalLM`.

Same config and weights on both sides: a small random `keras_hub.models.GPT2Backbone`
(default: 4 layers, hidden 256, 4 heads, vocabulary 8000, max length 256) wrapped in a
`GPT2CausalLM(backbone, preprocessor=None)`, and its weights copied into zoo with
`GPT.from_keras_hub(backbone)`. Greedy decoding of a batch of 8 prompts of 16 tokens,
128 new tokens, XLA on both sides, no stop token (every run writes all 128 tokens):

- keras-hub: `causal_lm.generate({"token_ids", "padding_mask"}, stop_token_ids=None)`
  with token ids `(8, 16 + 128)` (the prompt, then padding), as keras-hub expects
  without a preprocessor;
- zoo: `zoo.models.generation.Generator(gpt, max_new_tokens=128)` on the `(8, 16)`
  prompts, with the key/value cache, and without it (`use_cache=False`: the whole
  model re-runs on the fixed-size buffer every step).

Both sides are warmed up first (compile time is reported apart), then their timed runs
alternate; the median and the best of `--repeats` runs are kept (`--uncached-repeats`
for the slow no-cache side), and the median of the per-round keras-hub / zoo time
ratios. The generated tokens of both sides are compared (same weights, greedy: they
should agree, up to float near-ties).

Usage:
    python benchmarks/generation.py [--repeats 5] [--json generation_benchmark.json]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

# Running this file as a script puts benchmarks/ first on sys.path, where tokenizers.py
# would shadow the HF `tokenizers` package that keras-hub imports; the repository root
# goes there instead, so `zoo` imports from the checkout.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, os.path.dirname(HERE))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import keras_hub
import numpy as np
import tensorflow as tf

from zoo.models.generation import Generator
from zoo.models.gpt import GPT


def uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--prompt-length", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--num-layers", type=int, default=4)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--max-sequence-length", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--uncached-repeats", type=int, default=2)
    parser.add_argument("--skip-uncached", action="store_true")
    parser.add_argument("--json", default="generation_benchmark.json")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=args.vocabulary_size,
        num_layers=args.num_layers,
        num_heads=args.num_heads,
        hidden_dim=args.hidden_dim,
        intermediate_dim=4 * args.hidden_dim,
        dropout=0.0,
        max_sequence_length=args.max_sequence_length,
    )
    causal_lm = keras_hub.models.GPT2CausalLM(backbone, preprocessor=None)
    causal_lm.compile(sampler="greedy")  # jit_compile defaults to True
    gpt = GPT.from_keras_hub(backbone)

    batch, prompt_length, new_tokens = args.batch_size, args.prompt_length, args.new_tokens
    total = prompt_length + new_tokens
    rng = np.random.default_rng(0)
    prompts = rng.integers(1, args.vocabulary_size, size=(batch, prompt_length)).astype("int32")
    hub_inputs = {
        "token_ids": np.pad(prompts, [(0, 0), (0, new_tokens)]),
        "padding_mask": np.arange(total)[None, :].repeat(batch, 0) < prompt_length,
    }

    # Same weights: the logits of both models on the prompts.
    zoo_logits = np.asarray(gpt({"token_ids": prompts, "padding_mask": np.ones_like(prompts)}))
    hub_logits = np.asarray(
        causal_lm({"token_ids": prompts, "padding_mask": np.ones_like(prompts, dtype=bool)})
    )
    logits_difference = float(np.max(np.abs(zoo_logits - hub_logits)))

    def run_hub():
        return np.asarray(causal_lm.generate(hub_inputs, stop_token_ids=None)["token_ids"])

    cached = Generator(gpt, max_new_tokens=new_tokens)
    sides = {
        "keras-hub GPT2CausalLM.generate": run_hub,
        "zoo Generator (cache)": lambda: cached(prompts),
    }
    if not args.skip_uncached:
        uncached = Generator(gpt, max_new_tokens=new_tokens, use_cache=False)
        sides["zoo Generator (no cache)"] = lambda: uncached(prompts)

    compile_seconds, outputs = {}, {}
    for name, function in sides.items():  # warm-up: trace + XLA compile
        outputs[name], compile_seconds[name] = timed(function)
    load_before = uptime()
    times = {name: [] for name in sides}
    for repeat in range(args.repeats):  # alternate the sides
        for name, function in sides.items():
            if "no cache" in name and repeat >= args.uncached_repeats:
                continue  # ~20x slower: fewer runs
            times[name].append(timed(function)[1])
    load_after = uptime()

    names = list(sides)
    hub_tokens = outputs[names[0]]
    rows = []
    for name in names:
        seconds = statistics.median(times[name])
        rows.append(
            {
                "side": name,
                "median_seconds": seconds,
                "min_seconds": min(times[name]),
                "new_tokens_per_second": batch * new_tokens / seconds,
                "first_call_seconds": compile_seconds[name],
                "tokens_equal_keras_hub": float(np.mean(outputs[name] == hub_tokens)),
            }
        )
    by_name = {row["side"]: row for row in rows}
    # Medians, best runs, and the median of per-round ratios (the two sides ran back to
    # back in each round, so load that drifts over minutes cancels out).
    ratios = {
        "zoo cache / keras-hub (medians)": by_name[names[1]]["new_tokens_per_second"]
        / by_name[names[0]]["new_tokens_per_second"],
        "zoo cache / keras-hub (best runs)": by_name[names[0]]["min_seconds"]
        / by_name[names[1]]["min_seconds"],
        "zoo cache / keras-hub (median of per-round ratios)": statistics.median(
            hub / zoo for hub, zoo in zip(times[names[0]], times[names[1]])
        ),
    }
    if not args.skip_uncached:
        ratios["zoo cache / zoo no cache"] = (
            by_name[names[1]]["new_tokens_per_second"] / by_name[names[2]]["new_tokens_per_second"]
        )

    print(
        f"\nGreedy generation: batch {batch}, prompt {prompt_length}, {new_tokens} new tokens; "
        f"GPT-2 {args.num_layers} layers, hidden {args.hidden_dim}, {args.num_heads} heads, "
        f"vocabulary {args.vocabulary_size}; float32, XLA; median of {args.repeats} runs"
    )
    print(f"max |logits zoo - keras-hub| = {logits_difference:.2e}")
    header = (
        f"{'side':34s} {'new tok/s':>10s} {'median s':>9s} {'min s':>7s} "
        f"{'1st call s':>10s} {'= hub':>6s}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['side']:34s} {row['new_tokens_per_second']:10.0f} {row['median_seconds']:9.3f} "
            f"{row['min_seconds']:7.3f} {row['first_call_seconds']:10.1f} "
            f"{row['tokens_equal_keras_hub']:6.1%}"
        )
    for name, value in ratios.items():
        print(f"{name:52s} {value:.2f}x")
    print(f"load before: {load_before}\nload after:  {load_after}")

    report = {
        "config": vars(args),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "keras_hub": keras_hub.__version__,
            "load_before": load_before,
            "load_after": load_after,
        },
        "max_logits_difference": logits_difference,
        "rows": rows,
        "ratios": ratios,
        "times": times,
    }
    with open(args.json, "w", encoding="utf-8") as file:
        json.dump(report, file, indent=2)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
