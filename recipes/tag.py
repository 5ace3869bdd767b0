"""Fine-tune BERT for token classification (tagging), report entity F1, export `tag(text)`.

    python -m recipes tag                                   # bundled: names and places
    python -m recipes tag --init runs/bert                  # from `python -m recipes bert`
    python -m recipes tag --data conll/ --init PRESET       # train*/test* CoNLL files
    python -m recipes tag --data train.conll --test-data test.conll

Steps, top to bottom: tagged sentences (the bundled corpus: every Russian and English
sentence split into words, `B-PER` on people's names and `B-LOC` on cities and countries
of the corpus lexicon, in every case form; or CoNLL-style files: one token a line, its
tag in the last column) -> a held-out split (`--test-data`, a directory's test file, or
`zoo.data.hash_split` of each sentence) -> the tokenizer and backbone (`--init`: a Zoo
run directory or a preset `Bert.from_preset` takes; else a WordPiece tokenizer and a
small `Bert` from scratch) -> subword-aligned arrays (`zoo.data.tagging_arrays`: a word's
first piece carries its tag, the other pieces are ignored by the loss) ->
`BertTokenClassifier` trained with checkpoints (`--resume` continues exactly) ->
entity-level precision, recall and F1 (seqeval-style) on the held-out words ->
`model.keras`, `tags.json`, a SavedModel with `tag(text) -> tokens, tags, lengths` -> a
JSON summary.
"""

import dataclasses
import json
import os
import time

import keras
import numpy as np

import tpu
from recipes.common import (
    TransformerRun,
    WarmupCosine,
    flag,
    init_bert,
    is_chief,
    max_bad_rows_field,
    model_vocabulary_size,
    option,
    parse_config,
    run_facts,
    run_tokenizer,
    start_run,
)
from recipes.training import compile_model, finish_run, save_and_export, train_run
from zoo.data import corpus, entity_f1, hash_split, read_conll, split_words, tagging_arrays
from zoo.models import Bert, BertTokenClassifier
from zoo.optimizers import warmup_cosine_decay


@dataclasses.dataclass
class Config(TransformerRun, WarmupCosine):
    """Fine-tune BERT to tag words (names, places, CoNLL entities); entity F1; export."""

    data: str = option(
        "bundled",
        "'bundled' (names and places tagged in the bundled corpus), a CoNLL-style file "
        "(token ... tag a line, blank lines between sentences) or a directory holding a "
        "*train* and a *test* file",
    )
    test_data: str = option("", "held-out CoNLL file (default: a hash split of --data)")
    max_bad_rows: int = max_bad_rows_field("the CoNLL files")
    init: str = option(
        "",
        "start from a Zoo run directory (runs/bert) or a preset Bert.from_preset takes; "
        "empty: a WordPiece tokenizer and a small Bert from scratch",
    )
    tokenizer: str = option("wordpiece", "tokenizer kind (from scratch)", choices=("wordpiece",))
    vocabulary_size: int = 3000
    sequence_length: int = option(40, "pieces of a sentence, [CLS] and [SEP] included")
    learning_rate: float = flag(WarmupCosine, "learning_rate", 5e-4)
    warmup_steps: int = 30
    batch_size: int = flag(TransformerRun, "batch_size", 64)
    steps: int = 300
    out: str = "runs/tag"


BUNDLED_TAGS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


# Small pure helpers ------------------------------------------------------------------------


def _entity_forms():
    """{lowercased word form: entity type} of the lexicon's names (PER) and cities and
    countries (LOC): the English name and every Russian case form."""
    from zoo.data import _lexicon

    forms = {}
    for kind, nouns in (("LOC", _lexicon.CITIES), ("PER", _lexicon.NAMES)):
        for noun in nouns:
            for form in [noun.lemma, noun.en, noun.loc, *noun.forms.values()]:
                if form:
                    forms[form.lower()] = kind
    return forms


def bundled_tags(words, forms=None):
    """BIO tags of one sentence's words: a capitalized word that is a form of a lexicon
    name is `B-PER`, of a city or country `B-LOC`; everything else `O`.

    >>> bundled_tags(["Anna", "lives", "in", "Paris", "."])
    ['B-PER', 'O', 'O', 'B-LOC', 'O']
    """
    forms = _entity_forms() if forms is None else forms
    tags = []
    for word in words:
        kind = forms.get(word.lower()) if word[:1].isupper() else None
        tags.append(f"B-{kind}" if kind else "O")
    return tags


def bundled_sentences():
    """Every sentence of the bundled corpus (both languages), split into words and tagged."""
    forms = _entity_forms()
    sentences, tags = [], []
    for split in corpus.CORPUS_SPLITS:
        for pair in corpus.load_pairs(split):
            for text in pair:
                words = split_words(text)
                sentences.append(words)
                tags.append(bundled_tags(words, forms))
    return sentences, tags


def _held_out(sentences, tags):
    """(train, test): `zoo.data.hash_split` of each sentence's words; "validation" and
    "test" are held out."""
    train_part, test_part = ([], []), ([], [])
    for words, labels in zip(sentences, tags):
        part = train_part if hash_split(" ".join(words)) == "train" else test_part
        part[0].append(words)
        part[1].append(labels)
    return train_part, test_part


def _directory_files(directory):
    names = sorted(os.listdir(directory))
    train_files = [n for n in names if "train" in n.lower()]
    test_files = [n for n in names if "test" in n.lower()] or [
        n for n in names if "dev" in n.lower() or "valid" in n.lower()
    ]
    if not train_files or not test_files:
        raise ValueError(
            f"--data {directory}: expected a file with 'train' and one with 'test' (or 'dev', "
            f"'valid') in its name; found {names or 'nothing'}."
        )
    return os.path.join(directory, train_files[0]), os.path.join(directory, test_files[0])


def load_tagged(config):
    """`((train sentences, train tags), (test sentences, test tags))` of `--data`."""
    if config.data == "bundled":
        return _held_out(*bundled_sentences())
    if not os.path.exists(config.data):
        raise FileNotFoundError(
            f"--data {config.data}: no such file or directory; pass 'bundled', a CoNLL file "
            "or a directory holding train and test files."
        )
    verbose = bool(config.verbose)
    if os.path.isdir(config.data):
        train_file, test_file = _directory_files(config.data)
    else:
        train_file, test_file = config.data, config.test_data or None
    report = []
    train_part = read_conll(train_file, config.max_bad_rows, report)
    if test_file is None:
        train_part, test_part = _held_out(*train_part)
    else:
        if not os.path.exists(test_file):
            raise FileNotFoundError(f"--test-data {test_file}: no such file.")
        test_part = read_conll(test_file, config.max_bad_rows, report)
    for path, bad, first in report:
        if bad and verbose:
            print(f"{path}: skipped {bad} bad line(s) (first: line {first})")
    if not train_part[0] or not test_part[0]:
        raise ValueError(
            f"--data {config.data}: the split left no training or no held-out sentence; "
            "pass --test-data or more sentences."
        )
    return train_part, test_part


def tag_names(config, train_tags):
    """The tag names in the order of the model's outputs: "O" first, then sorted."""
    if config.data == "bundled":
        return list(BUNDLED_TAGS)
    names = sorted({tag for tags in train_tags for tag in tags} - {"O"})
    return ["O", *names]


def word_predictions(logits, positions, names):
    """Each word's predicted tag: the argmax at its first piece ("O" for a word cut off)."""
    best = np.argmax(logits, axis=-1)
    return [
        [names[best[row, place]] if place >= 0 else "O" for place in places]
        for row, places in enumerate(positions)
    ]


# The job -----------------------------------------------------------------------------------


def run(config):
    started = time.time()
    # The data first: a missing or malformed file is an error before any device starts.
    (train_sentences, train_tags), (test_sentences, test_tags) = load_tagged(config)
    strategy, settings = start_run(config, layout_map=Bert.layout_map)
    names = tag_names(config, train_tags)
    tag_ids = {name: index for index, name in enumerate(names)}

    backbone = None
    if config.init:
        backbone, tokenizer = init_bert(config)
    else:
        texts = [" ".join(words) for words in train_sentences]
        tokenizer = run_tokenizer(config, data=texts)
    features, labels, weights = tagging_arrays(
        train_sentences, train_tags, tokenizer, config.sequence_length, tag_ids
    )
    known = [[tag if tag in tag_ids else "O" for tag in tags] for tags in test_tags]
    test_features, _, _, positions = tagging_arrays(
        test_sentences, known, tokenizer, config.sequence_length, tag_ids, return_positions=True
    )
    if config.verbose:
        print(
            f"{len(train_sentences)} training and {len(test_sentences)} held-out sentences, "
            f"{len(names)} tags, vocabulary {tokenizer.vocabulary_size()}, batch "
            f"{settings.global_batch_size}, {config.steps} steps"
            + (f", from {config.init}" if config.init else ", from scratch")
        )

    with strategy.scope():
        if backbone is None:
            backbone = Bert(
                vocabulary_size=model_vocabulary_size(tokenizer, strategy),
                **config.model_size(),
                max_sequence_length=config.sequence_length,
            )
        tagger = compile_model(
            BertTokenClassifier(backbone, num_classes=len(names), dropout=config.dropout),
            settings,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            learning_rate=warmup_cosine_decay(
                config.learning_rate, config.warmup_steps, config.steps
            ),
            weight_decay=config.weight_decay,
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            tuning=config,
        )
    # Ignored positions (-100) keep weight 0; the loss needs a valid class id there.
    train_labels = np.maximum(labels, 0)
    _, _, final_loss = train_run(
        tagger,
        (features, train_labels, weights),
        config,
        settings.global_batch_size,
    )
    trained = time.time()

    logits = tpu.predict(tagger, test_features, config.eval_batch_size)
    predicted = word_predictions(np.asarray(logits), positions, names)
    scores = {
        k: round(v, 4) if isinstance(v, float) else v
        for k, v in entity_f1(test_tags, predicted).items()
    }
    words = sum(len(tags) for tags in test_tags)
    hits = sum(t == p for truth, guess in zip(test_tags, predicted) for t, p in zip(truth, guess))

    if is_chief():  # the export reads tags.json
        with open(os.path.join(config.out, "tags.json"), "w", encoding="utf-8") as file:
            json.dump(names, file, indent=2, ensure_ascii=False)
    export_path = save_and_export(tagger, config, "tag")
    summary = {
        "data": config.data,
        "init": config.init or None,
        "tags": names,
        "train_sentences": len(train_sentences),
        "test_sentences": len(test_sentences),
        **scores,
        "word_accuracy": round(hits / max(words, 1), 4),
        **run_facts(strategy, final_loss),
        "train_seconds": round(trained - started, 1),
        "total_seconds": round(time.time() - started, 1),
        "saved_model": export_path,
    }
    report = [
        f"\nheld-out entity F1 {scores['f1']} (precision {scores['precision']}, recall "
        f"{scores['recall']}, {scores['true_entities']} entities), word accuracy "
        f"{summary['word_accuracy']}"
    ]
    return finish_run(config, summary, report, "signature 'tag'")


def main(argv=None):
    run(parse_config(Config, argv))
    return 0
