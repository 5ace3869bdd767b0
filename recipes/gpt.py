"""Pretrain a GPT language model, measure its perplexity, sample from it, export it.

    python -m recipes gpt                                    # bundled Russian + English
    python -m recipes gpt --data ../shared/data/tinyshakespeare.txt --steps 3000
    python -m recipes gpt --data tiny_shakespeare --download --strategy tpu

Steps, top to bottom: texts (the bundled corpus's Russian and English sentences, a text
file with one document a line, or a TFDS name) -> train a SentencePiece tokenizer ->
tokenize once into one token stream with `[EOS]` after every document, cut into windows
of `sequence_length + 1` tokens, inputs and next-token labels
(`zoo.data.language_model_windows`) -> `GPT` under a distribution strategy -> train with
step-indexed batches (`zoo.data.step_dataset`) and checkpoints (`--resume` continues
exactly) -> perplexity on held-out text, next to a unigram model's -> samples
from Russian and English prompts (cached decoding) -> `model.keras` and a SavedModel with
a `generate(prompt, max_new_tokens)` signature -> a JSON summary.
"""

import dataclasses
import math
import random
import time

import keras
import numpy as np

import tpu
from recipes.common import (
    TextSource,
    TransformerRun,
    WarmupCosine,
    flag,
    model_vocabulary_size,
    option,
    parse_config,
    run_facts,
    run_tokenizer,
    say_bad_rows,
    start_run,
)
from recipes.training import compile_model, finish_run, save_and_export, train_run
from zoo.data import language_model_windows, load_text_dataset
from zoo.data.corpus import load_text
from zoo.models import GPT
from zoo.models.generation import generate
from zoo.optimizers import warmup_cosine_decay


@dataclasses.dataclass
class Config(TransformerRun, WarmupCosine, TextSource):
    """Pretrain a GPT language model, evaluate perplexity, sample and export."""

    data: str = option(
        "bundled", "'bundled', a text file (one document a line), or a TFDS text name"
    )
    tokenizer: str = option(
        "sentencepiece", "tokenizer kind", choices=("sentencepiece", "bpe", "wordpiece")
    )
    vocabulary_size: int = 3000
    sequence_length: int = option(64, "context length (training windows, prompt + new tokens)")
    learning_rate: float = flag(WarmupCosine, "learning_rate", 2e-3)
    out: str = "runs/gpt"
    prompts: tuple[str, ...] = option(
        ("Я изучаю", "Моя сестра", "Вчера мы", "I study", "My sister", "Yesterday we"),
        "prompts to sample from",
    )
    prompt_length: int = option(16, "prompt tokens kept (start token included)")
    max_new_tokens: int = option(32, "new tokens per sample (the SavedModel's cap)")
    sampler: str = option("top_p", "sampling", choices=("greedy", "top_k", "top_p"))
    top_p: float = 0.9
    temperature: float = 0.8
    eval_batch_size: int = 128


# Small pure helpers ------------------------------------------------------------------------


def load_texts(config, split):
    """Documents of `split` ("train" or "test") as a list of strings."""
    if config.data == "bundled":
        texts = load_text("ru", split) + load_text("en", split)
        random.Random(config.seed).shuffle(texts)
        return texts
    report = []
    dataset = load_text_dataset(
        config.data,
        split=split,
        split_lines=True,
        download=config.download,
        max_bad_rows=config.max_bad_rows,
        report=report,
    )
    texts = [line.decode("utf-8", "replace") for line in dataset.as_numpy_iterator()]
    if split == "train":
        say_bad_rows(report, bool(config.verbose))
    if not texts:
        raise ValueError(f"No {split} text in {config.data!r}; check --data.")
    return texts


def language_model_arrays(config, tokenizer, texts):
    """`zoo.data.language_model_windows` of `config.sequence_length`: `({"token_ids",
    "padding_mask"}, labels)`, every token after the first a label once."""
    return language_model_windows(texts, tokenizer, config.sequence_length)


def unigram_perplexity(train_labels, test_labels, vocabulary_size):
    """The reference: a unigram model (add-one smoothed) fit on the training tokens."""
    counts = np.bincount(train_labels.ravel(), minlength=vocabulary_size) + 1.0
    log_probability = np.log(counts / counts.sum())
    return float(np.exp(-log_probability[test_labels.ravel()].mean()))


def build_model(config, vocabulary_size, settings):
    """`GPT`, compiled: AdamW on a linear warm-up and cosine decay, next-token cross-entropy."""
    model = GPT(
        vocabulary_size=vocabulary_size,
        **config.model_size(),
        max_sequence_length=config.sequence_length,
    )
    return compile_model(
        model,
        settings,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        learning_rate=warmup_cosine_decay(config.learning_rate, config.warmup_steps, config.steps),
        weight_decay=config.weight_decay,
        tuning=config,
        # Weighted, so an evaluation padded to the device mesh counts real tokens only.
        weighted_metrics=[
            keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="cross_entropy"),
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
        ],
    )


def sample(config, model, tokenizer, prompts, seed):
    """Continuations of `prompts` (each started with `[EOS]`, the document separator)."""
    keep = config.prompt_length - 1
    rows = [
        [tokenizer.eos_token_id, *ids[len(ids) - keep :]]
        for ids in (tokenizer.tokenize(list(prompts)).to_list())
    ]
    lengths = np.array([len(row) for row in rows])
    token_ids = np.zeros((len(rows), lengths.max()), "int32")
    for i, row in enumerate(rows):
        token_ids[i, : len(row)] = row
    tokens = generate(
        model,
        token_ids,
        prompt_padding_mask=np.arange(token_ids.shape[1])[None, :] < lengths[:, None],
        max_new_tokens=config.max_new_tokens,
        sampler=config.sampler,
        temperature=config.temperature,
        p=config.top_p,
        end_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id or 0,
        seed=seed,
    )
    new = [row[length : length + config.max_new_tokens] for row, length in zip(tokens, lengths)]
    width = max(1, max(len(row) for row in new))
    padded = np.zeros((len(new), width), "int32")
    for i, row in enumerate(new):
        padded[i, : len(row)] = row
    # Ids past the tokenizer's vocabulary (one padded for --model-parallel) are dropped.
    texts = tokenizer.detokenize(padded, errors="replace").numpy()
    return {prompt: text.decode("utf-8") for prompt, text in zip(prompts, texts)}


# The job -----------------------------------------------------------------------------------


def run(config):
    if config.prompt_length + config.max_new_tokens > config.sequence_length:
        raise ValueError(
            f"--prompt-length {config.prompt_length} + --max-new-tokens "
            f"{config.max_new_tokens} = {config.prompt_length + config.max_new_tokens} exceeds "
            f"--sequence-length {config.sequence_length}, the model's context (samples and "
            "the export need both to fit); lower them or raise --sequence-length."
        )
    started = time.time()
    strategy, settings = start_run(config, layout_map=GPT.layout_map)

    train_texts = load_texts(config, "train")
    test_texts = load_texts(config, "test")
    tokenizer = run_tokenizer(config, data=train_texts)
    features, labels = language_model_arrays(config, tokenizer, train_texts)
    test_features, test_labels = language_model_arrays(config, tokenizer, test_texts)
    if config.verbose:
        print(
            f"{len(train_texts)} training documents -> {labels.size} tokens in "
            f"{len(labels)} windows, {test_labels.size} held-out tokens, vocabulary "
            f"{tokenizer.vocabulary_size()}, batch {settings.global_batch_size}, "
            f"{config.steps} steps"
        )

    with strategy.scope():
        model = build_model(config, model_vocabulary_size(tokenizer, strategy), settings)
    _, _, final_loss = train_run(
        model,
        (features, labels),
        config,
        settings.global_batch_size,
    )
    trained = time.time()

    evaluation = tpu.evaluate(model, test_features, test_labels, config.eval_batch_size)
    perplexity = math.exp(evaluation["cross_entropy"])
    reference = unigram_perplexity(labels, test_labels, tokenizer.vocabulary_size())
    samples = sample(config, model, tokenizer, config.prompts, seed=config.seed)
    evaluated = time.time()

    export_path = save_and_export(model, config, "gpt")

    summary = {
        "data": config.data,
        "train_tokens": int(labels.size),
        "test_tokens": int(test_labels.size),
        "perplexity": round(perplexity, 3),
        "next_token_accuracy": round(float(evaluation["accuracy"]), 4),
        "unigram_perplexity": round(reference, 3),
        "samples": samples,
        "sampler": {"name": config.sampler, "temperature": config.temperature, "p": config.top_p},
        **run_facts(strategy, final_loss),
        "train_seconds": round(trained - started, 1),
        "eval_seconds": round(evaluated - trained, 1),
        "total_seconds": round(time.time() - started, 1),
        "saved_model": export_path,
    }
    report = [
        f"\nheld-out perplexity {summary['perplexity']} (unigram model: "
        f"{summary['unigram_perplexity']}), next-token accuracy {summary['next_token_accuracy']}",
        *(f"  {prompt} ... {text}" for prompt, text in samples.items()),
    ]
    return finish_run(config, summary, report, "signature 'generate': prompt, max_new_tokens")


def main(argv=None):
    run(parse_config(Config, argv))
    return 0
