"""Fine-tune BERT as a text classifier, evaluate it on held-out data, export it.

    python -m recipes classify                                      # bundled sentence types
    python -m recipes classify --init runs/bert                     # from `recipes bert`
    python -m recipes classify --data reviews.tsv --init path/to/bert-checkpoint
    python -m recipes classify --data glue/sst2 --download --init hf://bert-base-uncased

Steps, top to bottom: labelled texts (the bundled corpus: is an English sentence, its final
punctuation removed, a question, a negation or an affirmative statement? Balanced, so
chance is 1/3; a `text<TAB>label` file, held out by `zoo.data.hash_split` of the text; a
TFDS dataset with a `label` feature, its "validation" split held out, else "test") -> the
backbone and tokenizer: `--init` a Zoo run directory (its `model.keras` backbone and
`tokenizer/`, transfer learning offline) or any preset `Bert.from_preset` and
`zoo.text.load_tokenizer` read; without `--init` a WordPiece tokenizer and a small `Bert`
trained from scratch -> `BertClassifier` under a distribution strategy -> train with
step-indexed batches and checkpoints (`--resume` continues exactly) -> held-out accuracy
and macro F1 -> `model.keras`, `labels.json` and a SavedModel whose `classify(text)`
returns `label`, `probabilities` and `windows` -> a JSON summary.
"""

import dataclasses
import json
import os
import random
import re
import time

import keras
import numpy as np

import tpu
from recipes.common import (
    BERT_TOKENIZERS,
    TextSource,
    TransformerRun,
    WarmupCosine,
    flag,
    init_bert,
    is_chief,
    model_vocabulary_size,
    option,
    parse_config,
    run_facts,
    run_tokenizer,
    say_bad_rows,
    start_run,
)
from recipes.training import compile_model, finish_run, save_and_export, train_run
from zoo.data import classification_arrays, corpus, hash_split, load_translation_pairs
from zoo.models import Bert, BertClassifier
from zoo.optimizers import warmup_cosine_decay


@dataclasses.dataclass
class Config(TransformerRun, WarmupCosine, TextSource):
    """Fine-tune a BERT text classifier (TSV, TFDS or bundled data), evaluate and export."""

    data: str = option(
        "bundled",
        "'bundled' (sentence types of the generated corpus), a text<TAB>label file, or a "
        "TFDS name with a 'label' feature (imdb_reviews, glue/sst2)",
    )
    test_fraction: float = option(0.1, "a --data file: the share held out (by text hash)")
    init: str = option(
        "",
        "start from: a Zoo run directory (model.keras + tokenizer/, e.g. runs/bert), or a "
        "preset Bert.from_preset reads (keras-hub or Hugging Face directory, hf://org/name); "
        "empty: train a tokenizer and a Bert from scratch",
    )
    tokenizer: str = option("wordpiece", "tokenizer kind (from scratch)", choices=BERT_TOKENIZERS)
    vocabulary_size: int = 3000
    sequence_length: int = option(40, "tokens of a window, [CLS] and [SEP] included")
    learning_rate: float = flag(WarmupCosine, "learning_rate", 5e-4)
    warmup_steps: int = 30
    steps: int = 300
    out: str = "runs/classify"


BUNDLED_LABELS = ("affirmative", "negative", "question")
BUNDLED_TASK = (
    "is an English sentence (final punctuation removed) a question, a negation or an "
    "affirmative statement?"
)
_NEGATION = re.compile(r"n't\b|\b(not|never|no|nobody|nothing)\b", re.IGNORECASE)
LABELS_FILE = "labels.json"
_TFDS_NAME = re.compile(r"[a-z][a-z0-9_]*(/[A-Za-z0-9_\-]+)?(:[0-9.*]+)?")


# Data --------------------------------------------------------------------------------------


def sentence_type(sentence):
    """The bundled task's label of an English sentence: question, negative or affirmative."""
    if sentence.rstrip().endswith("?"):
        return "question"
    return "negative" if _NEGATION.search(sentence) else "affirmative"


def bundled_examples(split, seed):
    """`(texts, label names)` of the bundled task, each class subsampled to the smallest."""
    by_label = {label: [] for label in BUNDLED_LABELS}
    for sentence in corpus.load_text("en", split):
        by_label[sentence_type(sentence)].append(sentence.rstrip(".?!").strip())
    rng = random.Random(seed)
    size = min(len(texts) for texts in by_label.values())
    examples = [(t, label) for label in BUNDLED_LABELS for t in rng.sample(by_label[label], size)]
    rng.shuffle(examples)
    return [t for t, _ in examples], [label for _, label in examples]


def tsv_examples(config):
    """`{"train": (texts, labels), "test": (texts, labels)}` of a `text<TAB>label` file,
    split by `hash_split` of the text (a text and its duplicates land on one side)."""
    if not 0 < config.test_fraction < 1:
        raise ValueError(
            f"--test-fraction {config.test_fraction} is out of range: it takes a fraction in "
            "(0, 1) (default 0.1)."
        )
    report = []
    dataset = load_translation_pairs(
        config.data,
        split="all",
        source_column=0,
        target_column=1,
        max_bad_rows=config.max_bad_rows,
        report=report,
    )
    say_bad_rows(report, bool(config.verbose))
    fractions = (1 - config.test_fraction, 0.0, config.test_fraction)
    splits = {"train": ([], []), "test": ([], [])}
    for text, label in dataset.as_numpy_iterator():
        text, label = text.decode("utf-8").strip(), label.decode("utf-8").strip()
        side = "test" if hash_split(text, fractions) == "test" else "train"
        splits[side][0].append(text)
        splits[side][1].append(label)
    return splits


def tfds_examples(config):
    """`{"train": ..., "test": ...}` of a TFDS dataset with one text feature and a
    `label` class feature; the held-out split is "validation" when there is one (GLUE's
    test labels are hidden), else "test". Also returns the label names."""
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(config.data)
    except tfds.core.registered.DatasetNotFoundError as error:
        raise ValueError(
            f"--data {config.data}: not a file and not a TFDS dataset "
            f"({str(error).splitlines()[0]}). Pass a text<TAB>label file, a TFDS name, or "
            "'bundled'."
        ) from None
    if config.download:
        builder.download_and_prepare()
    features = builder.info.features
    label_feature = dict(features.items()).get("label")  # a FeaturesDict has no .get
    if not isinstance(label_feature, tfds.features.ClassLabel):
        raise ValueError(f"TFDS dataset {config.data!r} has no 'label' class feature.")
    texts_keys = [
        key
        for key, feature in features.items()
        if isinstance(feature, tfds.features.Text) and key != "label"
    ]
    if len(texts_keys) != 1:
        raise ValueError(
            f"TFDS dataset {config.data!r} has text features {texts_keys}; the classify "
            "recipe reads datasets with exactly one."
        )
    held_out = "validation" if "validation" in builder.info.splits else "test"
    splits = {}
    for side, name in (("train", "train"), ("test", held_out)):
        try:
            dataset = builder.as_dataset(split=name, shuffle_files=False)
        except AssertionError:
            raise ValueError(
                f"TFDS dataset {config.data!r} is not prepared; pass --download to download "
                "and prepare it (needs network access)."
            ) from None
        texts, labels = [], []
        for example in dataset.as_numpy_iterator():
            if example["label"] < 0:  # hidden labels
                continue
            texts.append(example[texts_keys[0]].decode("utf-8", "replace"))
            labels.append(label_feature.names[int(example["label"])])
        splits[side] = (texts, labels)
    return splits, list(label_feature.names)


def load_examples(config):
    """`(splits, label_names)`: splits `{"train", "test"}` of `(texts, int32 labels)`."""
    if config.data == "bundled":
        splits = {
            "train": bundled_examples("train", config.seed),
            "test": bundled_examples("test", config.seed),
        }
        names = list(BUNDLED_LABELS)
    elif os.path.isfile(config.data):
        splits = tsv_examples(config)
        names = sorted(set(splits["train"][1]) | set(splits["test"][1]))
    elif not _TFDS_NAME.fullmatch(config.data):
        raise FileNotFoundError(
            f"--data {config.data}: no such file (and not a TFDS name such as glue/sst2)"
        )
    else:
        splits, names = tfds_examples(config)
    if len(names) < 2:
        raise ValueError(
            f"--data {config.data} has {len(names)} label(s) {names}; a classifier needs 2 or more."
        )
    for side in ("train", "test"):
        if not splits[side][0]:
            raise ValueError(f"--data {config.data} leaves no {side} examples.")
    index = {name: i for i, name in enumerate(names)}
    return {
        side: (texts, np.array([index[label] for label in labels], "int32"))
        for side, (texts, labels) in splits.items()
    }, names


# Model -------------------------------------------------------------------------------------


def build_classifier(config, backbone, num_classes, settings):
    """`BertClassifier` on `backbone`, compiled: AdamW, linear warm-up and cosine decay."""
    return compile_model(
        BertClassifier(backbone, num_classes=num_classes, dropout=config.dropout),
        settings,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        learning_rate=warmup_cosine_decay(config.learning_rate, config.warmup_steps, config.steps),
        weight_decay=config.weight_decay,
        tuning=config,
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )


def scores(predictions, labels, num_classes):
    """Accuracy and macro F1 (each class's F1, averaged; a class never predicted nor
    present counts 0 only when it is present)."""
    f1s = []
    for label in range(num_classes):
        true_positive = np.sum((predictions == label) & (labels == label))
        predicted, actual = np.sum(predictions == label), np.sum(labels == label)
        if actual == 0 and predicted == 0:
            continue
        f1s.append(2 * true_positive / (predicted + actual))
    return {
        "accuracy": round(float(np.mean(predictions == labels)), 4),
        "macro_f1": round(float(np.mean(f1s)), 4),
    }


# The job -----------------------------------------------------------------------------------


def run(config):
    started = time.time()
    splits, names = load_examples(config)  # a bad --data is refused before any work
    strategy, settings = start_run(config, layout_map=Bert.layout_map)
    (train_texts, train_labels), (test_texts, test_labels) = splits["train"], splits["test"]

    with strategy.scope():
        if config.init:
            backbone, tokenizer = init_bert(config)
        else:
            tokenizer = run_tokenizer(config, data=train_texts)
            backbone = Bert(
                vocabulary_size=model_vocabulary_size(tokenizer, strategy),
                **config.model_size(),
                max_sequence_length=config.sequence_length,
            )
        classifier = build_classifier(config, backbone, len(names), settings)
    if is_chief():
        with open(os.path.join(config.out, LABELS_FILE), "w", encoding="utf-8") as file:
            json.dump(names, file, indent=2, ensure_ascii=False)
    train_features = classification_arrays(train_texts, tokenizer, config.sequence_length)
    test_features = classification_arrays(test_texts, tokenizer, config.sequence_length)
    if config.verbose:
        print(
            f"{len(train_texts)} training and {len(test_texts)} held-out texts, "
            f"{len(names)} labels, vocabulary {tokenizer.vocabulary_size()}, "
            f"{'from ' + config.init if config.init else 'from scratch'}, batch "
            f"{settings.global_batch_size}, {config.steps} steps"
        )
    _, _, final_loss = train_run(
        classifier,
        (train_features, train_labels),
        config,
        settings.global_batch_size,
    )
    trained = time.time()

    logits = tpu.predict(classifier, test_features, config.eval_batch_size)
    predictions = np.argmax(logits, axis=-1)
    result = scores(predictions, test_labels, len(names))
    counts = np.bincount(train_labels, minlength=len(names))
    majority = round(float(np.mean(test_labels == np.argmax(counts))), 4)
    examples = {t: names[int(p)] for t, p in zip(test_texts[:6], predictions[:6])}

    export_path = save_and_export(classifier, config, "classify")

    summary = {
        "data": config.data,
        "task": BUNDLED_TASK if config.data == "bundled" else None,
        "init": config.init or None,
        "labels": names,
        "train_examples": len(train_texts),
        "test_examples": len(test_texts),
        **result,
        "majority_class_accuracy": majority,
        "examples": examples,
        **run_facts(strategy, final_loss),
        "train_seconds": round(trained - started, 1),
        "total_seconds": round(time.time() - started, 1),
        "saved_model": export_path,
    }
    report = [
        f"\nheld-out accuracy {result['accuracy']}, macro F1 {result['macro_f1']} "
        f"(majority class: {majority})",
        *(f"  {text}  ->  {label}" for text, label in examples.items()),
    ]
    return finish_run(config, summary, report, "signature 'classify'")


def main(argv=None):
    run(parse_config(Config, argv))
    return 0
