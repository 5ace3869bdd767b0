"""Input pipeline benchmark: each recipe's tf.data rate vs the rate its train step consumes.

For each recipe (translation, bert, gpt), with the recipe's default config (model sizes,
sequence lengths, batch size) on the bundled corpus:

- prepare: the recipe's own functions train its tokenizer and tokenize / pack / mask the
  training data once into arrays (`zoo.data.translation_arrays`,
  `recipes.bert.pretraining_arrays`, `recipes.gpt.language_model_arrays`); the seconds
  are reported (a one-time cost, not per step);
- input: `recipes.training.step_dataset` over those arrays, the dataset `train` feeds to
  `fit`, iterated alone after `--warmup` batches: examples/s;
- step: the recipe's model, optimizer and loss, compiled as the recipe compiles them
  (`jit_compile=True`, XLA), trained with `train_on_batch` on `--steps` batches taken
  from that dataset beforehand (so no input work is timed): examples/s, the median of
  `--rounds` runs after a compile/warm-up run.

The ratio input / step says how many times faster the pipeline produces batches than the
step consumes them; the target is >= 3x, so the input is never the bottleneck. The two
are measured one after the other, each with the whole machine; in training they share
it (tf.data runs on background threads while the step runs). Other processes change the
numbers: the 1-minute load average is printed and stored.

Usage:
    python benchmarks/input_pipeline.py [--recipes translation bert gpt] [--json out.json]
"""

import argparse
import os
import statistics
import sys
import time

# Run as a script, this folder is sys.path[0], and benchmarks/tokenizers.py would shadow the
# HF `tokenizers` package: put the repository root there instead.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(HERE), *(p for p in sys.path if os.path.abspath(p or ".") != HERE)]

from benchmarks._common import load_line, machine_facts, print_header, report_run, set_environment

set_environment()

import keras
import tensorflow as tf

import tpu
from recipes import bert as bert_recipe
from recipes import gpt as gpt_recipe
from recipes import translation as translation_recipe
from recipes.common import parse_config, train_tokenizer
from recipes.training import step_dataset
from zoo.data import translation_arrays

RECIPES = ("translation", "bert", "gpt")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=RECIPES)
    parser.add_argument("--batches", type=int, default=200, help="input batches timed")
    parser.add_argument("--warmup", type=int, default=20, help="input batches before timing")
    parser.add_argument("--steps", type=int, default=10, help="train steps per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of the step")
    parser.add_argument("--json", default=None, help="write the results here")
    return parser.parse_args(argv)


# ------------------------------------------------------------------- the recipes' own parts


def prepare_translation(settings):
    config = parse_config(translation_recipe.Config, [])
    pairs = translation_recipe.load_pairs(config, "train")
    texts = [text for pair in pairs for text in pair]
    tokenizer = train_tokenizer(config.tokenizer, texts, config.vocabulary_size, lowercase=False)
    config, pairs, ids, _ = translation_recipe.fit_lengths(config, tokenizer, pairs)
    arrays = translation_arrays(
        ids, tokenizer, source_length=config.source_length, target_length=config.target_length
    )
    schedule = translation_recipe.learning_rate_schedule(config)
    model = translation_recipe.build_model(config, tokenizer.vocabulary_size(), settings, schedule)
    return config, arrays, model


def prepare_bert(settings):
    config = parse_config(bert_recipe.Config, [])
    documents = bert_recipe.load_documents(config, "train")
    sentences = [sentence for document in documents for sentence in document]
    tokenizer = train_tokenizer(config.tokenizer, sentences, config.vocabulary_size)
    features, labels, weights, _ = bert_recipe.pretraining_arrays(
        config, tokenizer, documents, config.dupe_factor, config.seed
    )
    model = bert_recipe.build_pretrainer(config, tokenizer.vocabulary_size(), settings)
    return config, (features, labels, weights), model


def prepare_gpt(settings):
    config = parse_config(gpt_recipe.Config, [])
    texts = gpt_recipe.load_texts(config, "train")
    tokenizer = train_tokenizer(config.tokenizer, texts, config.vocabulary_size)
    arrays = gpt_recipe.language_model_arrays(config, tokenizer, texts)
    model = gpt_recipe.build_model(config, tokenizer.vocabulary_size(), settings)
    return config, arrays, model


PREPARE = {"translation": prepare_translation, "bert": prepare_bert, "gpt": prepare_gpt}


# ------------------------------------------------------------------------------- timing


def input_rate(arrays, batch_size, seed, warmup, batches):
    """Examples/s of `step_dataset` alone, after `warmup` batches."""
    dataset = step_dataset(arrays, batch_size, seed, 0, warmup + batches)
    iterator = iter(dataset)
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        batch = next(iterator)
    tf.nest.map_structure(lambda t: t.numpy(), batch)  # the last batch is complete
    return batches * batch_size / (time.perf_counter() - start)


def step_rate(model, arrays, batch_size, seed, steps, rounds):
    """Examples/s of compiled train steps on batches materialized beforehand (median)."""
    batches = list(step_dataset(arrays, batch_size, seed, 0, steps).take(steps))

    def run():
        start = time.perf_counter()
        for batch in batches:
            model.train_on_batch(*batch)  # returns numpy: synchronized
        return time.perf_counter() - start

    run()  # compile + warm up
    times = [run() for _ in range(rounds)]
    return steps * batch_size / statistics.median(times), steps * batch_size / min(times)


def run(args):
    load = os.getloadavg()[0]
    strategy = tpu.get_strategy("cpu", verbose=False)
    rows = []
    for name in args.recipes:
        default = {"translation": translation_recipe, "bert": bert_recipe, "gpt": gpt_recipe}
        settings = tpu.training_settings(strategy, default[name].Config().batch_size)
        keras.utils.set_random_seed(0)
        start = time.perf_counter()
        with strategy.scope():
            config, arrays, model = PREPARE[name](settings)
        prepare_seconds = time.perf_counter() - start
        batch_size = settings.global_batch_size
        examples = int(tf.nest.flatten(arrays)[0].shape[0])
        produced = input_rate(arrays, batch_size, config.seed, args.warmup, args.batches)
        consumed, best_consumed = step_rate(
            model, arrays, batch_size, config.seed, args.steps, args.rounds
        )
        rows.append(
            {
                "recipe": name,
                "batch_size": batch_size,
                "examples": examples,
                "prepare_seconds": prepare_seconds,
                "input_examples_per_second": produced,
                "step_examples_per_second": consumed,
                "best_step_examples_per_second": best_consumed,
                "ratio": produced / consumed,
                "meets_3x": produced >= 3 * consumed,
            }
        )
        del model
        keras.backend.clear_session()
    return {
        "config": vars(args),
        "machine": machine_facts(load),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "results": rows,
    }


def print_table(report):
    machine = report["machine"]
    print(load_line(machine))
    print_header(
        f"{'recipe':<12} {'batch':>5} {'examples':>9} {'prepare s':>9} {'input ex/s':>11} ",
        f"{'step ex/s':>10} {'best step':>10} {'input/step':>10} {'>=3x':>5}",
    )
    for row in report["results"]:
        print(
            f"{row['recipe']:<12} {row['batch_size']:>5} {row['examples']:>9} "
            f"{row['prepare_seconds']:>9.1f} {row['input_examples_per_second']:>11.0f} "
            f"{row['step_examples_per_second']:>10.0f} "
            f"{row['best_step_examples_per_second']:>10.0f} {row['ratio']:>9.1f}x "
            f"{'yes' if row['meets_3x'] else 'NO':>5}"
        )
    print(
        "input: step_dataset alone; step: median compiled train step on materialized batches; "
        "prepare: tokenizer + arrays, once per run."
    )


def main(argv=None):
    args = parse_args(argv)
    report_run(run, print_table, args)


if __name__ == "__main__":
    main()
