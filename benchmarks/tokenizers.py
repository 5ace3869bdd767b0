"""Tokenizer benchmark: vocabulary training time and tokenization throughput.

Each subword tokenizer of `zoo.text` is trained to the same vocabulary size on the
given corpora, then tokenizes every line of them, batched, through `tf.data`:

- WordPiece: zoo `WordPieceTokenizer` vs the raw `tensorflow_text.FastWordpieceTokenizer`
  op, HF `tokenizers` WordPiece `encode_batch` and keras-hub's `WordPieceTokenizer`.
- Byte-level BPE: zoo `BytePairTokenizer` vs HF byte-level BPE `encode_batch` (same
  vocabulary, and HF's own `ByteLevelBPETokenizer`) and keras-hub's `BytePairTokenizer`.
- SentencePiece: zoo `SentencePieceTokenizer` vs the raw
  `tensorflow_text.SentencepieceTokenizer` op, the `sentencepiece` library and keras-hub.

In-graph tokenizers run as `dataset.batch(B).map(tokenizer, AUTOTUNE).prefetch()`; HF
runs `encode_batch` on the same batches (its own thread pool). Timed runs of the sides
of a comparison alternate, and the best of `--repeats` runs is kept.

Usage:
    python benchmarks/tokenizers.py \
        --data ../shared/data/tinyshakespeare.txt ../shared/data/ru-literature-dostoevsky-besy.txt

Prints a table with the ratios the targets name and writes JSON (`--json`).
"""

import argparse
import os
import platform
import sys
import time

# This file is named like the HF `tokenizers` package; running it as a script puts its
# folder first on sys.path, which would shadow that package: the repository root goes there.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(HERE), *(p for p in sys.path if os.path.abspath(p or ".") != HERE)]

from benchmarks._common import set_environment, write_json

set_environment(cpu_only=False)

import tensorflow as tf
import tensorflow_text as tf_text

DEFAULT_DATA = [
    os.path.join(HERE, "..", "..", "shared", "data", "tinyshakespeare.txt"),
    os.path.join(HERE, "..", "..", "shared", "data", "ru-literature-dostoevsky-besy.txt"),
]


def read_lines(paths):
    lines = []
    for path in paths:
        with open(path, encoding="utf-8") as file:
            lines.extend(line.rstrip("\n") for line in file if line.strip())
    return lines


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def graph_runner(fn, lines, batch_size):
    """A callable that pushes every line through `fn` in tf.data and returns seconds."""
    dataset = (
        tf.data.Dataset.from_tensor_slices(tf.constant(lines))
        .batch(batch_size)
        .map(fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )

    def run():
        start = time.perf_counter()
        for _ in dataset:
            pass
        return time.perf_counter() - start

    return run


def hf_runner(hf_tokenizer, lines, batch_size):
    """`python_runner` of a Hugging Face tokenizer's `encode_batch`."""
    return python_runner(hf_tokenizer.encode_batch, lines, batch_size)


def python_runner(encode, lines, batch_size):
    """A callable that calls `encode` on each batch of `lines` in Python and returns seconds."""
    batches = [lines[i : i + batch_size] for i in range(0, len(lines), batch_size)]

    def run():
        start = time.perf_counter()
        for batch in batches:
            encode(batch)
        return time.perf_counter() - start

    return run


def race(runners, repeats):
    """Alternate the runners `repeats` times after one warm-up each; best seconds each."""
    best = {name: float("inf") for name in runners}
    for run in runners.values():
        run()  # warm-up: tracing, table initialization, thread pools
    for _ in range(repeats):
        for name, run in runners.items():
            time.sleep(1.0)  # let the previous side's worker threads go idle
            best[name] = min(best[name], run())
    return best


def build_wordpiece(lines, vocabulary_size, batch_size, train_references):
    import keras_hub
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models, normalizers, pre_tokenizers, trainers

    from zoo.text import WordPieceTokenizer

    zoo_tokenizer, zoo_seconds = timed(
        lambda: WordPieceTokenizer.train(lines, vocabulary_size=vocabulary_size, verbose=False)
    )
    vocabulary = zoo_tokenizer.get_vocabulary()
    training = {"zoo WordPieceTokenizer.train": zoo_seconds}

    def hf_train():
        tokenizer = HFTokenizer(models.WordPiece(unk_token="[UNK]"))
        tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        trainer = trainers.WordPieceTrainer(
            vocab_size=vocabulary_size, special_tokens=["[PAD]", "[UNK]"], show_progress=False
        )
        tokenizer.train_from_iterator(lines, trainer=trainer)
        return tokenizer

    _, training["HF tokenizers WordPieceTrainer"] = timed(hf_train)
    if train_references:
        _, training["keras-hub compute_word_piece_vocabulary"] = timed(
            lambda: keras_hub.tokenizers.compute_word_piece_vocabulary(
                tf.data.Dataset.from_tensor_slices(lines).batch(1000),
                vocabulary_size=vocabulary_size,
                lowercase=True,
                reserved_tokens=["[PAD]", "[UNK]"],
            )
        )

    # References tokenize with the very same vocabulary.
    hf = HFTokenizer(
        models.WordPiece({token: i for i, token in enumerate(vocabulary)}, unk_token="[UNK]")
    )
    hf.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    hf.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    raw = tf_text.FastWordpieceTokenizer(
        vocab=vocabulary, token_out_type=tf.int32, no_pretokenization=False, unknown_token="[UNK]"
    )
    hub = keras_hub.tokenizers.WordPieceTokenizer(vocabulary=vocabulary, lowercase=True)

    def raw_op(batch):
        # The same normalization zoo applies (NFKC case folding), then the op.
        return raw.tokenize(tf_text.case_fold_utf8(batch))

    runners = {
        "zoo WordPieceTokenizer": graph_runner(zoo_tokenizer, lines, batch_size),
        "tensorflow-text FastWordpieceTokenizer (raw op)": graph_runner(raw_op, lines, batch_size),
        "HF tokenizers WordPiece encode_batch": hf_runner(hf, lines, batch_size),
        "keras-hub WordPieceTokenizer": graph_runner(hub, lines, batch_size),
    }
    return training, runners


def build_byte_pair(lines, vocabulary_size, batch_size, train_references):
    import keras_hub

    from zoo.text import BytePairTokenizer

    zoo_tokenizer, zoo_seconds = timed(
        lambda: BytePairTokenizer.train(lines, vocabulary_size=vocabulary_size, verbose=False)
    )
    training = {"zoo BytePairTokenizer.train": zoo_seconds}
    from tokenizers import ByteLevelBPETokenizer

    def hf_train():
        tokenizer = ByteLevelBPETokenizer()
        tokenizer.train_from_iterator(lines, vocab_size=vocabulary_size, show_progress=False)
        return tokenizer

    hf_own, training["HF tokenizers ByteLevelBPETokenizer train"] = timed(hf_train)

    # The same vocabulary and merges in HF (zoo's parity reference) and in keras-hub.
    vocabulary, merges = zoo_tokenizer.vocabulary, zoo_tokenizer.merges
    hf_same = BytePairTokenizer.hf_tokenizer(vocabulary, merges, zoo_tokenizer.reserved_tokens)
    hub = keras_hub.tokenizers.BytePairTokenizer(
        vocabulary={token: index for index, token in enumerate(vocabulary)}, merges=merges
    )
    runners = {
        "zoo BytePairTokenizer": graph_runner(zoo_tokenizer, lines, batch_size),
        "HF byte-level BPE encode_batch (same vocabulary)": hf_runner(hf_same, lines, batch_size),
        "HF ByteLevelBPETokenizer encode_batch (own training)": hf_runner(
            hf_own, lines, batch_size
        ),
        "keras-hub BytePairTokenizer (same vocabulary)": graph_runner(hub, lines, batch_size),
    }
    return training, runners


def build_sentence_piece(lines, vocabulary_size, batch_size, train_references):
    import keras_hub
    import sentencepiece

    from zoo.text import SentencePieceTokenizer

    zoo_tokenizer, zoo_seconds = timed(
        lambda: SentencePieceTokenizer.train(
            lines, vocabulary_size=vocabulary_size, model_type="bpe", verbose=False
        )
    )
    training = {"zoo SentencePieceTokenizer.train (bpe)": zoo_seconds}
    proto = zoo_tokenizer.proto
    raw = tf_text.SentencepieceTokenizer(model=proto, out_type=tf.int32)
    processor = sentencepiece.SentencePieceProcessor(model_proto=proto)
    hub = keras_hub.tokenizers.SentencePieceTokenizer(proto=proto)
    runners = {
        "zoo SentencePieceTokenizer": graph_runner(zoo_tokenizer, lines, batch_size),
        "tensorflow-text SentencepieceTokenizer (raw op)": graph_runner(
            raw.tokenize, lines, batch_size
        ),
        "sentencepiece library encode": python_runner(processor.encode, lines, batch_size),
        "keras-hub SentencePieceTokenizer": graph_runner(hub, lines, batch_size),
    }
    return training, runners


FAMILIES = {
    "wordpiece": build_wordpiece,
    "bpe": build_byte_pair,
    "sentencepiece": build_sentence_piece,
}
# Per family: (subject, reference, least throughput ratio subject / reference).
TARGETS = {
    "wordpiece": [
        ("zoo WordPieceTokenizer", "HF tokenizers WordPiece encode_batch", 5.0),
        ("zoo WordPieceTokenizer", "tensorflow-text FastWordpieceTokenizer (raw op)", 0.8),
    ],
    "bpe": [
        ("zoo BytePairTokenizer", "HF byte-level BPE encode_batch (same vocabulary)", 1.0),
        ("zoo BytePairTokenizer", "HF ByteLevelBPETokenizer encode_batch (own training)", 1.0),
    ],
    "sentencepiece": [
        ("zoo SentencePieceTokenizer", "tensorflow-text SentencepieceTokenizer (raw op)", 0.8)
    ],
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", default=DEFAULT_DATA, help="text files (by path)")
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument(
        "--train-references",
        action="store_true",
        help="also time keras-hub's WordPiece vocabulary learner (slow)",
    )
    parser.add_argument("--json", default="tokenizers_benchmark.json")
    args = parser.parse_args(argv)

    lines = read_lines(args.data)
    megabytes = sum(len(line.encode("utf-8")) for line in lines) / 1e6
    names = ", ".join(os.path.basename(path) for path in args.data)
    print(f"{len(lines):,} lines, {megabytes:.2f} MB from {names}")
    print(f"vocabulary {args.vocabulary_size}, batch {args.batch_size}, best of {args.repeats}")
    machine = platform.processor() or platform.machine()
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, {machine}")

    report = {
        "lines": len(lines),
        "megabytes": megabytes,
        "vocabulary_size": args.vocabulary_size,
        "batch_size": args.batch_size,
        "families": {},
    }
    for family in args.families:
        training, runners = FAMILIES[family](
            lines, args.vocabulary_size, args.batch_size, args.train_references
        )
        targets = TARGETS[family]
        best = race(runners, args.repeats)
        print(f"\n## {family}")
        print(f"{'vocabulary training':<52} {'seconds':>10}")
        for name, seconds in training.items():
            print(f"{name:<52} {seconds:>10.2f}")
        print(f"\n{'tokenization':<52} {'lines/s':>12} {'MB/s':>8}")
        rows = {}
        for name, seconds in best.items():
            rows[name] = {
                "seconds": seconds,
                "lines_per_second": len(lines) / seconds,
                "megabytes_per_second": megabytes / seconds,
            }
            print(f"{name:<52} {len(lines) / seconds:>12,.0f} {megabytes / seconds:>8.2f}")
        checks = []
        for subject, reference, target in targets:
            ratio = best[reference] / best[subject]
            verdict = "met" if ratio >= target else "MISSED"
            checks.append(
                {"subject": subject, "reference": reference, "ratio": ratio, "target": target}
            )
            print(f"{subject} / {reference}: {ratio:.2f}x (target >= {target:.1f}x: {verdict})")
        report["families"][family] = {
            "training_seconds": training,
            "throughput": rows,
            "ratios": checks,
        }

    write_json(report, args.json, lead="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
