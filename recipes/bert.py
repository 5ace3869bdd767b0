"""Pretrain BERT (masked LM + next-sentence prediction), fine-tune it, evaluate, export.

    python -m recipes bert                                  # bundled Russian + English
    python -m recipes bert --data ../shared/data/tinyshakespeare.txt --steps 3000
    python -m recipes bert --data wiki40b/ru --download --strategy tpu

Steps, top to bottom: documents (the bundled corpus: each translation pair is a
two-sentence document in a random order, so next-sentence prediction asks "is B the
translation of A?"; a text file: documents separated by empty lines; a TFDS name) ->
train a WordPiece tokenizer -> sentence pairs (50% random B), packed as
`[CLS] A [SEP] B [SEP]` and masked (15%, 80/10/10) once into arrays, `--dupe-factor`
copies with different pairs and masks (BERT's static masking;
`zoo.data.pretraining_arrays`) -> `BertPretrainer` under
a distribution strategy -> train with step-indexed batches and checkpoints (`--resume`
continues exactly) -> MLM and NSP accuracy on held-out documents -> fine-tune a copy of
the backbone as a classifier on a task built from the bundled corpus (is an English
sentence, its final punctuation removed, a question?) and report held-out accuracy ->
fill-mask examples -> `model.keras`, `classifier.keras` and a SavedModel with
`encode(text)` and `fill_mask(text)` signatures -> a JSON summary.
"""

import dataclasses
import os
import random
import re
import time

import keras
import numpy as np
import tensorflow as tf

import tpu
from recipes.common import (
    BERT_TOKENIZERS,
    TextSource,
    TransformerRun,
    WarmupCosine,
    flag,
    model_vocabulary_size,
    option,
    parse_config,
    read_lines,
    run_facts,
    run_tokenizer,
    start_run,
)
from recipes.training import compile_model, finish_run, save_and_export, save_model, train_run
from zoo.data import classification_arrays, corpus, load_text_dataset
from zoo.data import pretraining_arrays as zoo_pretraining_arrays
from zoo.export import BertModule
from zoo.models import Bert, BertClassifier, BertPretrainer
from zoo.optimizers import warmup_cosine_decay


@dataclasses.dataclass
class Config(TransformerRun, WarmupCosine, TextSource):
    """Pretrain BERT (MLM + NSP), fine-tune a classifier, evaluate and export."""

    data: str = option(
        "bundled",
        "'bundled', a text file (one sentence a line, empty lines between documents), or a "
        "TFDS text dataset name",
    )
    tokenizer: str = option("wordpiece", "tokenizer kind", choices=BERT_TOKENIZERS)
    vocabulary_size: int = 3000
    sequence_length: int = option(40, "tokens of a packed pair, special tokens included")
    dupe_factor: int = option(4, "copies of the data, each with its own pairs and masks")
    batch_size: int = flag(TransformerRun, "batch_size", 64)
    steps: int = option(800, "pretraining steps")
    finetune_steps: int = option(200, "classifier fine-tuning steps (0: skip)")
    finetune_learning_rate: float = 5e-4
    out: str = "runs/bert"


FILL_MASK_EXAMPLES = [
    "Я изучаю [MASK] обучение.",
    "Моя сестра читает [MASK] книгу.",
    "Где ты [MASK]?",
    "I study machine [MASK].",
    "My sister reads an interesting [MASK].",
    "Where do you [MASK]?",
]
_CYRILLIC = re.compile("[\u0400-\u04ff]")


# Small pure helpers ------------------------------------------------------------------------


def _group_documents(lines):
    """Lines -> documents (lists of sentences), split at empty lines."""
    documents, current = [], []
    for line in lines:
        if line:
            current.append(line)
        elif current:
            documents.append(current)
            current = []
    if current:
        documents.append(current)
    return documents


def load_documents(config, split):
    """Documents (lists of sentences) of `split` ("train" or "test")."""
    if config.data == "bundled":
        rng = random.Random(config.seed)
        documents = []
        for russian, english in corpus.load_pairs(split):
            documents.append([russian, english] if rng.random() < 0.5 else [english, russian])
        return documents
    if os.path.isfile(config.data):
        verbose = bool(config.verbose) and split == "train"
        lines = read_lines(config.data, config.max_bad_rows, verbose)
        documents = _group_documents(lines)
    else:
        dataset = load_text_dataset(
            config.data,
            split="train" if split == "train" else "test",
            skip_empty=False,
            split_lines=True,
            download=config.download,
        )
        documents = _group_documents(
            [line.decode("utf-8", "replace").strip() for line in dataset.as_numpy_iterator()]
        )
        return documents
    # A local file: the last 5% of the documents (of the sentences, for one document) are
    # held out.
    if len(documents) == 1:
        sentences = documents[0]
        cut = int(len(sentences) * 0.95)
        return [sentences[:cut]] if split == "train" else [sentences[cut:]]
    cut = max(1, int(len(documents) * 0.95))
    return documents[:cut] if split == "train" else documents[cut:]


def pretraining_arrays(config, tokenizer, documents, copies, seed):
    """`zoo.data.pretraining_arrays` of `config.sequence_length`: `(features, labels,
    weights, cross_language)`, the last True for pairs whose A and B differ in language
    (one Cyrillic, one not), where the language gives next-sentence prediction no hint.

    The masks are drawn once (stateless, seeded by copy and chunk), so the arrays are a
    function of the seed, and the batch of a step a function of the step.
    """
    features, labels, weights, (first, second) = zoo_pretraining_arrays(
        documents,
        tokenizer,
        config.sequence_length,
        copies=copies,
        seed=seed,
        return_pairs=True,
    )
    cross_language = np.array(
        [bool(_CYRILLIC.search(a)) != bool(_CYRILLIC.search(b)) for a, b in zip(first, second)]
    )
    return features, labels, weights, cross_language


def question_data(split, seed):
    """The fine-tuning task: is an English sentence (final punctuation removed) a question?

    Word order, do-support and wh-words tell; the '?' is gone. Statements are subsampled
    to as many as the questions (balanced: chance is 50%).
    """
    questions, statements = [], []
    for sentence in corpus.load_text("en", split):
        text = sentence.rstrip(".?!").strip()
        (questions if sentence.endswith("?") else statements).append(text)
    rng = random.Random(seed)
    statements = rng.sample(statements, min(len(statements), len(questions)))
    examples = [(t, 1) for t in questions] + [(t, 0) for t in statements]
    rng.shuffle(examples)
    return [t for t, _ in examples], np.array([label for _, label in examples], "int32")


def build_pretrainer(config, vocabulary_size, settings):
    """`BertPretrainer`, compiled: AdamW on a linear warm-up and cosine decay, MLM + NSP."""
    backbone = Bert(
        vocabulary_size=vocabulary_size,
        **config.model_size(),
        max_sequence_length=config.sequence_length,
    )
    return compile_model(
        BertPretrainer(backbone),
        settings,
        loss={
            "mlm_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "nsp_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
        learning_rate=warmup_cosine_decay(config.learning_rate, config.warmup_steps, config.steps),
        weight_decay=config.weight_decay,
        tuning=dataclasses.replace(config, lora_rank=0),  # LoRA is for the fine-tuning
        weighted_metrics={
            "mlm_logits": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            "nsp_logits": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        },
    )


def pretraining_accuracy(config, model, features, labels, weights, cross_language):
    """MLM accuracy (masked positions) and NSP accuracy (all, and cross-language pairs)."""
    outputs = tpu.predict(model, features, config.eval_batch_size)
    mlm_hits = np.argmax(outputs["mlm_logits"], axis=-1) == labels["mlm_logits"]
    mlm_weights = weights["mlm_logits"]
    nsp_hits = np.argmax(outputs["nsp_logits"], axis=-1) == labels["nsp_logits"]
    result = {
        "mlm_accuracy": round(float((mlm_hits * mlm_weights).sum() / mlm_weights.sum()), 4),
        "nsp_accuracy": round(float(nsp_hits.mean()), 4),
    }
    if cross_language.any() and not cross_language.all():
        # Where A and B are in different languages the language gives no hint.
        result["nsp_accuracy_cross_language"] = round(float(nsp_hits[cross_language].mean()), 4)
    return result


def most_frequent_token_accuracy(train_labels, train_weights, labels, weights):
    """The reference: always predict the most frequent masked token of the training data."""
    values, counts = np.unique(train_labels[train_weights > 0], return_counts=True)
    guess = values[np.argmax(counts)]
    hits = (labels["mlm_logits"] == guess) * weights["mlm_logits"]
    return round(float(hits.sum() / weights["mlm_logits"].sum()), 4)


def fine_tune(config, strategy, settings, backbone, tokenizer):
    """Fine-tune a copy of `backbone` on `question_data`; returns (classifier, results)."""
    train_texts, train_labels = question_data("train", config.seed)
    test_texts, test_labels = question_data("test", config.seed)
    train_features = classification_arrays(train_texts, tokenizer, config.sequence_length)
    test_features = classification_arrays(test_texts, tokenizer, config.sequence_length)
    with strategy.scope():
        copy = Bert.from_config(backbone.get_config())  # the pretrainer keeps its own
        copy.set_weights(backbone.get_weights())
        classifier = compile_model(
            BertClassifier(copy, num_classes=2, dropout=config.dropout),
            settings,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            learning_rate=warmup_cosine_decay(
                config.finetune_learning_rate, 30, config.finetune_steps
            ),
            weight_decay=config.weight_decay,
            tuning=config,
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
    train_run(
        classifier,
        (train_features, train_labels),
        config,
        settings.global_batch_size,
        total_steps=config.finetune_steps,
        out_dir=os.path.join(config.out, "finetune"),
        seed=config.seed + 1,
    )
    logits = tpu.predict(classifier, test_features, config.eval_batch_size)
    accuracy = float((np.argmax(logits, axis=-1) == test_labels).mean())
    return classifier, {
        "task": "is this English sentence (final punctuation removed) a question?",
        "train_examples": len(train_texts),
        "test_examples": len(test_texts),
        "accuracy": round(accuracy, 4),
        "chance": 0.5,
    }


# The job -----------------------------------------------------------------------------------


def run(config):
    started = time.time()
    strategy, settings = start_run(config, layout_map=Bert.layout_map)

    train_documents = load_documents(config, "train")
    test_documents = load_documents(config, "test")
    sentences = [sentence for document in train_documents for sentence in document]
    tokenizer = run_tokenizer(config, data=sentences)
    features, labels, weights, _ = pretraining_arrays(
        config, tokenizer, train_documents, config.dupe_factor, config.seed
    )
    test_arrays = pretraining_arrays(config, tokenizer, test_documents, 1, config.seed + 7919)
    if config.verbose:
        print(
            f"{len(train_documents)} training documents -> {len(labels['nsp_logits'])} "
            f"masked pairs ({config.dupe_factor} copies), {len(test_arrays[2]['nsp_logits'])} "
            f"held-out pairs, vocabulary {tokenizer.vocabulary_size()}, batch "
            f"{settings.global_batch_size}, {config.steps} steps"
        )

    with strategy.scope():
        pretrainer = build_pretrainer(config, model_vocabulary_size(tokenizer, strategy), settings)
    _, _, final_loss = train_run(
        pretrainer,
        (features, labels, weights),
        config,
        settings.global_batch_size,
    )
    pretrained = time.time()

    scores = pretraining_accuracy(config, pretrainer, *test_arrays)
    scores["mlm_most_frequent_token_accuracy"] = most_frequent_token_accuracy(
        labels["mlm_logits"], weights["mlm_logits"], test_arrays[1], test_arrays[2]
    )
    classification = None
    if config.finetune_steps:
        classifier, classification = fine_tune(
            config, strategy, settings, pretrainer.backbone, tokenizer
        )
        save_model(classifier, os.path.join(config.out, "classifier.keras"))
    finetuned = time.time()

    export_path = save_and_export(pretrainer, config, "bert")
    fill_mask = None
    if keras.backend.backend() == "tensorflow":
        module = BertModule(pretrainer, tokenizer, config.sequence_length)
        filled = module.fill_mask(tf.constant(FILL_MASK_EXAMPLES)).numpy()
    elif export_path:  # the TensorFlow graph cannot call a JAX model: ask the export
        signature = tf.saved_model.load(export_path).signatures["fill_mask"]
        filled = signature(text=tf.constant(FILL_MASK_EXAMPLES))["text"].numpy()
    else:
        filled = None
    if filled is not None:
        fill_mask = {t: f.decode("utf-8") for t, f in zip(FILL_MASK_EXAMPLES, filled)}

    summary = {
        "data": config.data,
        "pretraining_pairs": len(labels["nsp_logits"]),
        "test_pairs": len(test_arrays[2]["nsp_logits"]),
        **scores,
        "nsp_chance": 0.5,
        "classification": classification,
        "fill_mask": fill_mask,
        **run_facts(strategy, final_loss),
        "pretrain_seconds": round(pretrained - started, 1),
        "finetune_seconds": round(finetuned - pretrained, 1),
        "total_seconds": round(time.time() - started, 1),
        "saved_model": export_path,
    }
    report = [
        f"\nheld-out MLM accuracy {scores['mlm_accuracy']} (most frequent token: "
        f"{scores['mlm_most_frequent_token_accuracy']}), NSP accuracy "
        f"{scores['nsp_accuracy']} (chance 0.5)"
    ]
    if "nsp_accuracy_cross_language" in scores:
        report.append(
            f"NSP accuracy on cross-language pairs {scores['nsp_accuracy_cross_language']}"
        )
    if classification:
        report.append(f"fine-tuned question classifier: accuracy {classification['accuracy']}")
    report += [f"  {text}  ->  {result}" for text, result in (fill_mask or {}).items()]
    if fill_mask is None:
        report.append(
            f"fill-mask examples: under {keras.backend.backend()} they come from the "
            "SavedModel, and this run wrote none (--no-export)"
        )
    return finish_run(config, summary, report, "signatures 'encode', 'fill_mask'")


def main(argv=None):
    run(parse_config(Config, argv))
    return 0
