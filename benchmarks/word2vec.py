"""Word2Vec benchmark: training words/s of zoo vs gensim, and how alike their vectors are.

Both sides train skip-gram with negative sampling on the same token lists, with
gensim's settings of the reference: hidden_dim / vector_size 100, window 5, 5
negatives, min_count 3, sample 1e-3, 5 epochs, 2 gensim workers. Tokens: each line of
the file lowercased and split into words by zoo's `WordTokenizer` (punctuation tokens
dropped); zoo trains on the ids, gensim on the same tokens as strings.

Timed: zoo `Word2Vec.train()` (counting, tf.data pipeline, XLA compile, Keras `fit`:
SGD steps of `--batch-size` centers, `--steps-per-execution` of them per host call) and
gensim `build_vocab()` + `train()`. Runs alternate (zoo, gensim, zoo, gensim); the first
zoo run also pays TensorFlow's start-up and the step's XLA compile in the process
("cold"), the later ones are new models in a warm process ("warm": the best of them; with
word2vec's SGD they reuse the compiled step); gensim's best run is the reference.
words/s = corpus tokens x epochs / seconds, for both.

Similarity: Spearman correlation between zoo's and gensim's cosine similarities over
all pairs of the 200 most frequent words that are not stop words (stopwordsiso en + ru)
and have at least 2 characters.

Usage:
    python benchmarks/word2vec.py [english.txt russian.txt] [--json word2vec_benchmark.json]

Defaults: ../shared/data/tinyshakespeare.txt and ../shared/data/ru-literature-dostoevsky-besy.txt
beside the repository.
"""

import argparse
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(HERE), *(p for p in sys.path if os.path.abspath(p or ".") != HERE)]

from benchmarks._common import set_environment, write_json

set_environment(cpu_only=False)

import numpy as np
import tensorflow as tf

DATA = os.path.join(HERE, "..", "..", "shared", "data")
DEFAULT_PATHS = [
    os.path.join(DATA, "tinyshakespeare.txt"),
    os.path.join(DATA, "ru-literature-dostoevsky-besy.txt"),
]

from zoo.models.word2vec import Word2Vec
from zoo.text.tokenizers import WordTokenizer


def read_tokens(path):
    """(tokenizer, word ids as a ragged tensor, the same words as string lists)."""
    with open(path, encoding="utf-8", errors="replace") as file:
        lines = [line.strip() for line in file if line.strip()]
    tokenizer = WordTokenizer.train(lines, vocabulary_size=10**7, verbose=False)
    vocabulary = tokenizer.get_vocabulary()
    is_word = np.array([any(c.isalnum() for c in token) for token in vocabulary])
    is_word[: len(tokenizer.reserved_tokens)] = False
    ids = tokenizer(tf.constant(lines))
    ids = tf.ragged.boolean_mask(ids, tf.gather(tf.constant(is_word), ids))
    sentences = [[vocabulary[i] for i in row] for row in ids.to_list()]
    keep = [i for i, s in enumerate(sentences) if s]
    ids = tf.gather(ids, keep)
    sentences = [sentences[i] for i in keep]
    return tokenizer, ids, sentences


def spearman(a, b):
    try:
        from scipy.stats import spearmanr

        return float(spearmanr(a, b).correlation)
    except ImportError:  # ranks without ties handling: fine for continuous cosines
        ranks_a = np.argsort(np.argsort(a)).astype(float)
        ranks_b = np.argsort(np.argsort(b)).astype(float)
        return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


def word_pairs(sentences, count=200, min_count=3):
    import stopwordsiso

    stop = set(stopwordsiso.stopwords(["en", "ru"]))
    counts = {}
    for sentence in sentences:
        for word in sentence:
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [w for w, c in ranked if w not in stop and len(w) > 1 and c >= min_count][:count]


def unit(matrix):
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def run_zoo(tokenizer, ids, args, seed):
    model = Word2Vec(
        hidden_dim=args.hidden_dim,
        window=args.window,
        num_negatives=args.negatives,
        tokenizer=tokenizer,
    )
    start = time.perf_counter()
    history = model.train(
        ids,
        epochs=args.epochs,
        batch_size=args.batch_size,
        min_count=args.min_count,
        sample=args.sample,
        seed=seed,
        steps_per_execution=args.steps_per_execution,
        verbose=0,
    )
    return model, time.perf_counter() - start, history


def run_gensim(sentences, args, seed):
    from gensim.models import Word2Vec as GensimWord2Vec

    start = time.perf_counter()
    model = GensimWord2Vec(
        vector_size=args.hidden_dim,
        window=args.window,
        negative=args.negatives,
        min_count=args.min_count,
        sample=args.sample,
        workers=args.workers,
        sg=1,
        seed=seed,
    )
    model.build_vocab(sentences)
    model.train(sentences, total_examples=len(sentences), epochs=args.epochs)
    return model, time.perf_counter() - start


def pipeline_seconds(model, ids, args):
    """Seconds to produce every training batch of `model.train()` with no training."""
    data = model.training_data(ids, None, args.epochs, args.batch_size, args.sample, args.min_count)
    start = time.perf_counter()
    for _ in data.dataset():
        pass
    return time.perf_counter() - start


def benchmark(path, args):
    print(f"\n== {os.path.basename(path)}", flush=True)
    tokenizer, ids, sentences = read_tokens(path)
    num_tokens = int(ids.flat_values.shape[0])
    words = num_tokens * args.epochs
    print(f"{len(sentences)} lines, {num_tokens} word tokens, {tokenizer.vocabulary_size()} types")
    zoo_times, gensim_times, zoo_model, gensim_model, history = [], [], None, None, None
    for repeat in range(args.repeats):
        zoo_model, seconds, history = run_zoo(tokenizer, ids, args, seed=repeat)
        zoo_times.append(seconds)
        print(f"  zoo    run {repeat + 1}: {seconds:6.2f}s  {words / seconds / 1e3:7.0f}k words/s")
        gensim_model, seconds = run_gensim(sentences, args, seed=repeat + 1)
        gensim_times.append(seconds)
        print(f"  gensim run {repeat + 1}: {seconds:6.2f}s  {words / seconds / 1e3:7.0f}k words/s")
    pipeline = pipeline_seconds(zoo_model, ids, args)

    chosen = word_pairs(sentences, args.num_words, args.min_count)
    chosen = [w for w in chosen if w in gensim_model.wv.key_to_index]
    zoo_vectors = unit(zoo_model.embeddings[[tokenizer.token_to_id(w) for w in chosen]])
    gensim_vectors = unit(np.stack([gensim_model.wv[w] for w in chosen]))
    upper = np.triu_indices(len(chosen), 1)
    rho = spearman((zoo_vectors @ zoo_vectors.T)[upper], (gensim_vectors @ gensim_vectors.T)[upper])

    gensim_best = min(gensim_times)
    result = {
        "corpus": os.path.basename(path),
        "tokens": num_tokens,
        "epochs": args.epochs,
        "zoo_cold_seconds": zoo_times[0],
        "zoo_warm_seconds": min(zoo_times[1:]) if len(zoo_times) > 1 else None,
        "gensim_seconds": gensim_best,
        "zoo_cold_words_per_second": words / zoo_times[0],
        "zoo_warm_words_per_second": words / min(zoo_times[1:]) if len(zoo_times) > 1 else None,
        "gensim_words_per_second": words / gensim_best,
        "ratio_cold": gensim_best / zoo_times[0],
        "ratio_warm": gensim_best / min(zoo_times[1:]) if len(zoo_times) > 1 else None,
        "pipeline_only_words_per_second": words / pipeline,
        "zoo_final_loss": history["loss"][-1],
        "spearman": rho,
        "num_words": len(chosen),
        "num_pairs": len(upper[0]),
        "example_neighbours": {
            w: {
                "zoo": [t for t, _ in zoo_model.most_similar(w, k=5)],
                "gensim": [t for t, _ in gensim_model.wv.most_similar(w, topn=5)],
            }
            for w in chosen[:3]
        },
    }
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS, help="text files")
    parser.add_argument("--hidden-dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="gensim worker threads")
    parser.add_argument(
        "--batch-size", type=int, default=256, help="zoo centers per step (one SGD update)"
    )
    parser.add_argument(
        "--steps-per-execution", type=int, default=32, help="zoo steps per host call"
    )
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs per side")
    parser.add_argument("--num-words", type=int, default=200, help="words for the correlation")
    parser.add_argument("--json", default="word2vec_benchmark.json")
    args = parser.parse_args(argv)
    for path in args.paths:
        if not os.path.isfile(path):
            parser.error(f"{path} is not a file; pass the corpora as arguments")
    results = [benchmark(path, args) for path in args.paths]

    header = (
        f"{'corpus':<36} {'tokens':>8} {'zoo cold':>10} {'zoo warm':>10} {'gensim':>10} "
        f"{'cold/gensim':>11} {'warm/gensim':>11} {'spearman':>8}"
    )
    print("\nwords/s (corpus tokens x epochs / training seconds)\n" + header)
    print("-" * len(header))
    for r in results:
        warm = r["zoo_warm_words_per_second"]
        print(
            f"{r['corpus']:<36} {r['tokens']:>8} {r['zoo_cold_words_per_second'] / 1e3:>9.0f}k "
            f"{(warm or 0) / 1e3:>9.0f}k {r['gensim_words_per_second'] / 1e3:>9.0f}k "
            f"{r['ratio_cold']:>11.2f} {(r['ratio_warm'] or 0):>11.2f} {r['spearman']:>8.3f}"
        )
    report = {
        "settings": vars(args),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "tensorflow": tf.__version__,
        },
        "results": results,
    }
    write_json(report, args.json, ensure_ascii=False, lead="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
