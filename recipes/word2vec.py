"""Train Word2Vec on the bundled corpus or any text file; show what the vectors learned.

    python -m recipes word2vec                                  # bundled Russian + English
    python -m recipes word2vec --text ../shared/data/tinyshakespeare.txt --words king queen
    python -m recipes word2vec --tokenizer wordpiece --mode cbow --epochs 10

Reads top to bottom: the config, the corpus, a tokenizer, `zoo.models.Word2Vec` and its
step-indexed batches (`zoo.data.Word2VecData`), Keras `fit` in the shared loop of
`recipes/training.py` (checkpoints, `--resume`, TensorBoard logs), then what the lecture
shows: nearest neighbours, an analogy (a - b + c), a direction and the projection of
words on it, the nearest sentences to a sentence (mean of word vectors), TensorBoard
Embedding Projector files (`vectors.tsv`, `metadata.tsv`, `projector_config.pbtxt`) and
a 2-D PCA picture of chosen words (`pca.png`). Writes `config.json`, `checkpoints/`,
`logs/`, `model.keras` (the tokenizer inside), `tokenizer/` and `summary.json` into
`--out`.
"""

import dataclasses
import functools
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np

from recipes.common import (
    ScaleOut,
    check_out,
    is_chief,
    join_hosts,
    max_bad_rows_field,
    option,
    parse_config,
    read_lines,
    run_facts,
    run_tokenizer,
)

TOKENIZERS = ("word", "wordpiece", "bpe", "sentencepiece", "character")


@dataclasses.dataclass
class Config(ScaleOut):
    """Train Word2Vec and write nearest neighbours, an analogy, projector files and a PCA plot."""

    text: str = option(
        "bundled",
        'a text file (one document a line), "bundled" (Russian + English), '
        '"bundled:ru" or "bundled:en"',
    )
    tokenizer: str = option("word", "tokenizer kind", choices=TOKENIZERS)
    vocabulary_size: int = option(8000, "tokenizer vocabulary (reserved tokens included)")
    hidden_dim: int = option(100, "word vector size")
    window: int = option(5, "context window")
    num_negatives: int = option(5, "negatives per token")
    mode: str = option("skipgram", "training objective", choices=("skipgram", "cbow"))
    epochs: int = option(5, "passes over the text")
    batch_size: int = option(256, "center tokens per SGD step (global)")
    steps_per_execution: int = option(32, "SGD steps per host call", minimum=1)  # no 0 default
    learning_rate: float = option(0.025, "SGD step size, decays linearly to 1e-4")
    min_count: int = option(3, "tokens seen fewer times are not trained")
    sample: float = option(1e-3, "subsampling threshold of frequent tokens (0: off)")
    seed: int = option(0, "random seed")
    words: tuple[str, ...] = option(
        (
            "брат",
            "сестра",
            "мама",
            "папа",
            "сын",
            "дочь",
            "он",
            "она",
            "собака",
            "кошка",
            "brother",
            "sister",
            "mom",
            "dad",
            "son",
            "daughter",
            "he",
            "she",
            "dog",
            "cat",
        ),
        "words to plot (PCA) and to project on the direction",
    )
    neighbours: int = option(6, "how many words get their nearest neighbours printed")
    analogy: tuple[str, ...] = option(
        ("брат", "он", "она"), "three words a b c: prints the nearest words to a - b + c"
    )
    direction: tuple[str, ...] = option(
        ("он", "она", "брат", "сестра", "he", "she", "brother", "sister"),
        "word pairs x1 y1 x2 y2 ... whose mean difference is a direction",
    )
    max_projector_tokens: int = option(10000, "most frequent tokens written to vectors.tsv")
    out: str = option("runs/word2vec", "output folder")
    checkpoint_every: int = option(1000, "steps between checkpoints (0: only at the end)")
    resume: bool = option(False, "continue the run in --out from its newest checkpoint")
    time_budget: float = option(
        0.0, "stop training at the first step after this many seconds (0: off)"
    )
    max_bad_rows: int = max_bad_rows_field("a --text file")
    strategy: str = option(
        "auto",
        "devices: under KERAS_BACKEND=jax a keras.distribution.DataParallel mesh "
        "over the JAX devices of this kind (the centers of a step split over it); "
        "under TensorFlow one device",
        choices=("auto", "tpu", "gpu", "cpu"),
    )
    verbose: int = 1


# --------------------------------------------------------------------------- helpers
def load_corpus(text, max_bad_rows=0):
    """Documents of `--text`: a file's non-empty lines (validated: UTF-8 text, at most
    `max_bad_rows` bad lines, skipped), or the bundled sentences."""
    if text.startswith("bundled"):
        from zoo.data.corpus import load_text

        languages = {"bundled": ("ru", "en"), "bundled:ru": ("ru",), "bundled:en": ("en",)}
        if text not in languages:
            raise ValueError(
                f"--text {text!r} is not a bundled corpus. Expected bundled, bundled:ru, "
                "bundled:en or a path to a text file."
            )
        return [line for language in languages[text] for line in load_text(language, "train")]
    if not os.path.isfile(text):
        raise ValueError(f"--text {text!r} is not a file. Pass a path to a UTF-8 text file.")
    return [line for line in read_lines(text, max_bad_rows) if line]


def train_tokenizer(kind, texts, vocabulary_size):
    from zoo.text import tokenizers

    classes = {
        "word": tokenizers.WordTokenizer,
        "wordpiece": tokenizers.WordPieceTokenizer,
        "bpe": tokenizers.BytePairTokenizer,
        "sentencepiece": tokenizers.SentencePieceTokenizer,
        "character": tokenizers.CharacterTokenizer,
    }
    return classes[kind].train(texts, vocabulary_size=vocabulary_size, verbose=False)


def known(model, words):
    """The words the model can look up (others are reported and skipped)."""
    found, missing = [], []
    for word in words:
        try:
            model.vector(word)
            found.append(word)
        except ValueError:
            missing.append(word)
    if missing:
        print(f"  (not in the trained vocabulary, skipped: {', '.join(missing)})")
    return found


def pca_2d(vectors):
    """2-D PCA of row vectors with numpy's SVD: (count, 2) coordinates."""
    centered = vectors - vectors.mean(axis=0, keepdims=True)
    _, _, components = np.linalg.svd(centered, full_matrices=False)
    return centered @ components[:2].T


def plot_pca(words, vectors, path, title):
    """`zoo.plots.plot_pca`: labels that never overlap, a legend per language (Russian/English)."""
    from zoo.plots import plot_pca as draw

    return draw(words, vectors, path, title=title)


def write_projector(model, directory, max_tokens):
    """vectors.tsv + metadata.tsv (+ projector_config.pbtxt) of the trained tokens."""
    counts = np.asarray(model.token_counts)
    order = [i for i in np.argsort(-counts, kind="stable") if counts[i] > 0][:max_tokens]
    vocabulary = model.tokenizer.get_vocabulary()
    vectors = model.embeddings
    with open(os.path.join(directory, "vectors.tsv"), "w", encoding="utf-8") as file:
        for i in order:
            file.write("\t".join(f"{x:.5f}" for x in vectors[i]) + "\n")
    with open(os.path.join(directory, "metadata.tsv"), "w", encoding="utf-8") as file:
        file.write("token\tcount\n")
        for i in order:
            token = vocabulary[i].replace("\t", " ").replace("\n", " ")
            file.write(f"{token}\t{int(counts[i])}\n")
    with open(os.path.join(directory, "projector_config.pbtxt"), "w", encoding="utf-8") as file:
        file.write(
            'embeddings {\n  tensor_name: "word2vec"\n  tensor_path: "vectors.tsv"\n'
            '  metadata_path: "metadata.tsv"\n}\n'
        )
    return len(order)


def start_mesh(config):
    """The devices Word2Vec trains on: a JAX mesh (`tpu.get_strategy`), else one device.

    Word2Vec keeps its two embedding matrices whole on every device (a step touches a
    few rows of each), so `--model-parallel` above 1 has nothing to split. Under
    TensorFlow it trains on one device: a tf.distribute strategy would divide its summed
    loss, and so its SGD steps, by the number of replicas.
    """
    import keras

    import tpu

    check_out(config.out)
    keras.utils.set_random_seed(config.seed)
    if config.model_parallel != 1:
        raise ValueError(
            f"word2vec keeps its embedding matrices whole on every device and splits the "
            f"centers of a step over the mesh; received --model-parallel "
            f"{config.model_parallel}, pass 1."
        )
    join_hosts(config)
    if keras.backend.backend() != "jax":
        if config.strategy not in ("auto", "cpu"):
            raise ValueError(
                f"word2vec trains on one device under TensorFlow (a tf.distribute strategy "
                f"would scale its summed loss by the replicas); received --strategy "
                f"{config.strategy}. Run with KERAS_BACKEND=jax for a device mesh, or pass "
                "--strategy auto."
            )
        return tpu.Strategy("cpu", None, 1, True, "one device (TensorFlow's placement)")
    strategy = tpu.get_strategy(config.strategy, verbose=bool(config.verbose))
    tpu.check_batch_size(config.batch_size, strategy.num_replicas)
    return strategy


# ------------------------------------------------------------------------------ main
def main(argv=None):
    config = parse_config(Config, argv)
    if len(config.analogy) not in (0, 3):
        raise SystemExit(f"--analogy takes three words a b c, received {config.analogy}")
    if len(config.direction) % 2:
        raise SystemExit(f"--direction takes word pairs, received {config.direction}")
    strategy = start_mesh(config)

    import keras

    from recipes.training import save_model, train
    from zoo.models.word2vec import Word2Vec, word2vec_optimizer

    start = time.perf_counter()
    texts = load_corpus(config.text, config.max_bad_rows)
    print(f"corpus: {config.text}, {len(texts)} documents")
    tokenizer = run_tokenizer(  # loaded from --out on --resume
        config, lambda c, data: train_tokenizer(c.tokenizer, data, c.vocabulary_size), texts
    )
    with strategy.scope():
        model = Word2Vec(
            hidden_dim=config.hidden_dim,
            window=config.window,
            num_negatives=config.num_negatives,
            mode=config.mode,
            tokenizer=tokenizer,
        )
    corpus = model.training_data(
        texts,
        epochs=config.epochs,
        batch_size=config.batch_size,
        min_count=config.min_count,
        sample=config.sample,
        seed=config.seed,
    )
    model.add_token_counts(corpus)  # part of the model's state, so also of each checkpoint
    model.compile(
        optimizer=word2vec_optimizer(config.learning_rate, 1e-4, corpus.total_steps),
        jit_compile=strategy.jit_compile,
        steps_per_execution=config.steps_per_execution,
    )
    trained = time.perf_counter()
    _, start_step, final_loss = train(
        model,
        functools.partial(model.fit_dataset, corpus),  # each process: its rows of each step
        batch_size=config.batch_size,
        total_steps=corpus.total_steps,
        out_dir=config.out,
        config=config,
        resume=config.resume,
        checkpoint_every=config.checkpoint_every,
        verbose=config.verbose,
        time_budget=config.time_budget,
    )
    seconds = time.perf_counter() - trained
    steps_run = int(keras.ops.convert_to_numpy(model.optimizer.iterations)) - start_step
    words = corpus.num_tokens * config.epochs * steps_run / corpus.total_steps

    save_model(model, os.path.join(config.out, "model.keras"))  # every process calls it
    if not is_chief():  # process 0 of a multi-host run reports and writes the rest
        return 0

    print("\nnearest neighbours (cosine):")
    neighbours = {}
    for word in known(model, config.words)[: config.neighbours]:
        neighbours[word] = model.most_similar(word, k=6)
        print(f"  {word}: " + ", ".join(f"{w} {s:.2f}" for w, s in neighbours[word]))
    analogy = None
    if config.analogy and len(known(model, config.analogy)) == 3:
        a, b, c = config.analogy
        analogy = model.analogy(a, b, c, k=5)
        print(f"\nanalogy {a} - {b} + {c}: " + ", ".join(f"{w} {s:.2f}" for w, s in analogy))
    projections = {}
    pairs = list(zip(config.direction[0::2], config.direction[1::2]))
    pairs = [p for p in pairs if len(known(model, p)) == 2]
    plotted = known(model, config.words)
    if pairs and plotted:
        direction = model.direction(pairs)
        projections = dict(zip(plotted, model.project(plotted, direction).tolist()))
        print(f"\nprojection on the direction {pairs[0][0]} - {pairs[0][1]} (+{len(pairs) - 1}):")
        print("  " + ", ".join(f"{w} {p:+.2f}" for w, p in projections.items()))
    query = texts[0]
    hits = _nearest_sentences(model, texts, query)
    print(f"\nsentences nearest to {query!r} (SIF-weighted mean of word vectors):")
    for sentence, score in hits:
        print(f"  {score:.2f}  {sentence}")

    num_projector = write_projector(model, config.out, config.max_projector_tokens)
    if len(plotted) >= 2:
        plot_pca(
            plotted,
            np.stack([model.vector(w) for w in plotted]),
            os.path.join(config.out, "pca.png"),
            f"Word2Vec ({config.mode}, {config.text}): PCA of word vectors",
        )
    summary = {
        "text": config.text,
        "documents": len(texts),
        "tokens": corpus.num_tokens,
        "vocabulary_size": model.vocabulary_size,
        "trained_tokens": int(np.count_nonzero(np.asarray(model.token_counts))),
        "steps": corpus.total_steps,
        "start_step": start_step,
        **run_facts(strategy, final_loss),
        "words_per_second": words / max(seconds, 1e-9),
        "train_seconds": seconds,
        "total_seconds": time.perf_counter() - start,
        "neighbours": {w: [[t, round(s, 4)] for t, s in n] for w, n in neighbours.items()},
        "analogy": None if analogy is None else [[t, round(s, 4)] for t, s in analogy],
        "projections": {w: round(p, 4) for w, p in projections.items()},
        "nearest_sentences": [[t, round(s, 4)] for t, s in hits],
        "projector_tokens": num_projector,
        "files": sorted(os.listdir(config.out)) + ["summary.json"],
    }
    with open(os.path.join(config.out, "summary.json"), "w", encoding="utf-8") as file:
        json.dump(summary, file, indent=2, ensure_ascii=False)
    loss = "none" if final_loss is None else f"{final_loss:.3f}"
    print(
        f"\n{summary['tokens']} tokens x {config.epochs} epochs: {steps_run} of "
        f"{corpus.total_steps} steps in {seconds:.1f}s "
        f"({summary['words_per_second'] / 1e3:.0f}k words/s), last step's loss {loss}; "
        f"{summary['trained_tokens']} trained tokens; wrote {config.out}/"
        "{config.json, checkpoints/, logs/, model.keras, tokenizer/, vectors.tsv, "
        "metadata.tsv, pca.png, summary.json}"
    )
    return 0


def _nearest_sentences(model, texts, query, k=3, limit=5000):
    from zoo.layers.sentence_embedding import SentenceIndex

    sentences = list(dict.fromkeys(texts))[:limit]
    index = SentenceIndex(sentences, encoder=lambda t: model.encode(t, frequency_weighting=True))
    return [hit for hit in index.search(query, k=k + 1) if hit[0] != query][:k]


if __name__ == "__main__":
    raise SystemExit(main())
