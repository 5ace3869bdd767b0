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

With `--context N` it measures long-context decoding instead: a zoo `GPT` (same sizes,
`max_sequence_length` N + new tokens) with full attention and its key/value cache against
the same GPT with Performer attention (its recurrent state, `(heads, features, head_dim +
1)` per layer, whatever the context) and Longformer attention (a ring cache). Each
attention runs in its own subprocess: the N-token prompt goes in through `call_with_cache`
in chunks of `--prefill-chunk` tokens (one compiled loop, timed apart with its compile), then
`--new-tokens` greedy steps run in one XLA-compiled loop, timed (median of `--repeats`);
memory is the cache's size and the process's peak resident memory during decoding above
its resident memory before it. Longformer's cache is a ring of its global tokens and last
`attention_window` positions.

Usage:
    python benchmarks/generation.py [--repeats 5] [--json generation_benchmark.json]
    python benchmarks/generation.py --context 16384 [--new-tokens 64] [--repeats 3]
"""

import argparse
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
sys.path[:] = [os.path.dirname(HERE), *(p for p in sys.path if os.path.abspath(p or ".") != HERE)]

from benchmarks._common import memory_status, set_environment, write_json

set_environment(cpu_only=False)

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


# --------------------------------------------------------------- long-context decoding

CONTEXT_OPTIONS = {
    "full": {},
    "performer": {"num_features": 256, "chunk_size": 64, "seed": 0},
    "longformer": {"attention_window": 128, "num_global_tokens": 1},
}


def gpt_size(args, max_sequence_length):
    """Both sides' GPT size: `--vocabulary-size`, `--num-layers`, `--num-heads`,
    `--hidden-dim`, a feed-forward of 4 x hidden_dim, no dropout."""
    names = ("vocabulary_size", "num_layers", "num_heads", "hidden_dim")
    return {
        **{name: getattr(args, name) for name in names},
        "intermediate_dim": 4 * args.hidden_dim,
        "dropout": 0.0,
        "max_sequence_length": max_sequence_length,
    }


def context_worker(args):
    """One attention: prefill `--context` tokens, time greedy decoding; prints one JSON line."""
    import json

    from keras import ops

    batch, context, new_tokens = args.context_batch_size, args.context, args.new_tokens
    keras.utils.set_random_seed(0)
    gpt = GPT(
        **gpt_size(args, context + new_tokens),
        attention=args.worker,
        attention_options=CONTEXT_OPTIONS[args.worker],
    )
    rng = np.random.default_rng(0)
    prompt = rng.integers(1, args.vocabulary_size, size=(batch, context)).astype("int32")
    cache = gpt.init_layer_caches(batch, context + new_tokens)
    cache_bytes = sum(int(np.prod(c.shape)) * c.dtype.size for c in cache)

    chunk = min(args.prefill_chunk, context)
    if context % chunk:
        raise SystemExit(f"--prefill-chunk {chunk} must divide --context {context}")

    @tf.function(jit_compile=True)
    def prefill(prompt, cache):
        # One compiled loop over the chunks: a chunk offset passed from Python as a
        # tensor would still make XLA compile once per value.
        def body(index, logits, cache):
            token_ids = ops.slice(prompt, [0, index], [batch, chunk])
            logits, _, cache = gpt.call_with_cache(token_ids, cache, index)
            return index + chunk, ops.cast(logits[:, -1], "float32"), cache

        logits = ops.zeros((batch, args.vocabulary_size), "float32")
        _, logits, cache = ops.while_loop(
            lambda index, *_: index < context,
            body,
            (ops.convert_to_tensor(0, "int32"), logits, cache),
            maximum_iterations=context // chunk,
        )
        return logits, cache

    @tf.function(jit_compile=True)
    def decode(logits, cache, start):
        def body(index, logits, cache, tokens):
            token = ops.cast(ops.argmax(logits, axis=-1), "int32")[:, None]  # greedy
            tokens = ops.slice_update(tokens, [0, index - start], token)
            logits, _, cache = gpt.call_with_cache(token, cache, index)
            return index + 1, ops.cast(logits[:, 0], "float32"), cache, tokens

        tokens = ops.zeros((batch, new_tokens), "int32")
        _, _, _, tokens = ops.while_loop(
            lambda index, *_: index < start + new_tokens,
            body,
            (start, logits, cache, tokens),
            maximum_iterations=new_tokens,
        )
        return tokens

    prefill_start = time.perf_counter()
    logits, cache = prefill(prompt, cache)
    np.asarray(logits)
    prefill_seconds = time.perf_counter() - prefill_start  # with its compile
    start = tf.constant(context)
    first_start = time.perf_counter()
    tokens = np.asarray(decode(logits, cache, start))  # compile + warm-up
    first_call = time.perf_counter() - first_start
    reset = True
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")  # VmHWM := VmRSS
    except OSError:
        reset = False
    baseline, _ = memory_status()
    times = []
    for _ in range(args.repeats):
        begin = time.perf_counter()
        np.asarray(decode(logits, cache, start))
        times.append(time.perf_counter() - begin)
    _, peak = memory_status()
    print(
        json.dumps(
            {
                "attention": args.worker,
                "prefill_seconds": prefill_seconds,
                "decode_seconds": statistics.median(times),
                "decode_seconds_best": min(times),
                "first_decode_call_seconds": first_call,
                "new_tokens_per_second": batch * new_tokens / statistics.median(times),
                "cache_mib": cache_bytes / 2**20,
                "decode_peak_mib": (peak - baseline) / 2**20 if reset else None,
                "rss_mib": baseline / 2**20,
                "tokens": tokens[0, :16].tolist(),
            }
        )
    )


def long_context(args):
    import json

    load_before = uptime()
    results = {}
    for attention in args.attentions:
        command = [sys.executable, os.path.abspath(__file__), f"--worker={attention}"]
        command += [
            f"--context={args.context}",
            f"--new-tokens={args.new_tokens}",
            f"--context-batch-size={args.context_batch_size}",
            f"--prefill-chunk={args.prefill_chunk}",
            f"--repeats={args.repeats}",
            f"--num-layers={args.num_layers}",
            f"--hidden-dim={args.hidden_dim}",
            f"--num-heads={args.num_heads}",
            f"--vocabulary-size={args.vocabulary_size}",
        ]
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="1048576")  # freed buffers go back
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode:
            lines = done.stderr.strip().splitlines()
            results[attention] = {"error": lines[-1] if lines else done.returncode}
        else:
            results[attention] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {attention:<10} {results[attention]}", flush=True)
    load_after = uptime()
    print(
        f"\nGreedy decoding after a {args.context}-token prompt: batch "
        f"{args.context_batch_size}, {args.new_tokens} new tokens; GPT {args.num_layers} "
        f"layers, hidden {args.hidden_dim}, {args.num_heads} heads, vocabulary "
        f"{args.vocabulary_size}; float32, XLA; median of {args.repeats} runs"
    )
    header = (
        f"{'attention':<11} {'new tok/s':>10} {'vs full':>8} {'cache MiB':>10} "
        f"{'decode peak MiB':>16} {'prefill s*':>10}"
    )
    print(header)
    print("-" * len(header))
    full = results.get("full", {}).get("new_tokens_per_second")
    for attention, row in results.items():
        if "error" in row:
            print(f"{attention:<11} {row['error']}")
            continue
        ratio = f"{row['new_tokens_per_second'] / full:.2f}x" if full else "-"
        peak = row["decode_peak_mib"]
        print(
            f"{attention:<11} {row['new_tokens_per_second']:10.1f} {ratio:>8} "
            f"{row['cache_mib']:10.1f} {'?' if peak is None else f'{peak:.0f}':>16} "
            f"{row['prefill_seconds']:10.1f}"
        )
    print("* the prompt's prefill, its XLA compile included")
    print(f"load before: {load_before}\nload after:  {load_after}")
    report = {
        "config": {k: v for k, v in vars(args).items() if k != "worker"},
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "tensorflow": tf.__version__,
            "load_before": load_before,
            "load_after": load_after,
        },
        "options": {name: CONTEXT_OPTIONS[name] for name in args.attentions},
        "results": results,
    }
    write_json(report, args.json, lead="\n")
    return report


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
    parser.add_argument(
        "--context", type=int, default=0, help="long-context mode: prompt tokens (e.g. 16384)"
    )
    parser.add_argument(
        "--attentions", nargs="+", default=list(CONTEXT_OPTIONS), choices=list(CONTEXT_OPTIONS)
    )
    parser.add_argument("--context-batch-size", type=int, default=1)
    parser.add_argument("--prefill-chunk", type=int, default=512)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return context_worker(args)
    if args.context:
        return long_context(args)

    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.GPT2Backbone(**gpt_size(args, args.max_sequence_length))
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
    write_json(report, args.json, lead="\n")


if __name__ == "__main__":
    main()
