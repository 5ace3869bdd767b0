"""Train the encoder-decoder Transformer to translate, evaluate it, export it.

    python -m recipes translation                         # ru->en on the bundled corpus
    python -m recipes translation --direction en-ru
    python -m recipes translation --data ../shared/data/tatoeba-rus-eng.tsv --columns en ru
    python -m recipes translation --data ted_hrlr_translate/ru_to_en --download
    python -m recipes translation --data ../shared/data/tatoeba-rus-eng.tsv --columns en ru \
        --split-rule crc32-ru-mod10 --time-budget 600 --plot-attention "Я изучаю машинное обучение."
    python -m recipes translation --init runs/translation --steps 300 --out runs/tuned
    python -m recipes translation --init path/to/opus-mt-ru-en --steps 300   # a Marian model

`--init` fine-tunes a pretrained encoder-decoder instead of training one from scratch: the
`--out` of an earlier translation run (its `model.keras` and `tokenizer/`, and its lengths
unless given), or a Marian (opus-mt) Hugging Face directory or "hf://org/name" (its
weights through `Transformer.from_preset`, its `source.spm` / `target.spm` as two
tokenizers, its decoding rules: start from and never emit the pad id). No tokenizer is
trained; the model's vocabulary and sizes replace --tokenizer, --vocabulary-size and the
size flags, and the lengths must fit its max_sequence_length.

Steps, top to bottom: load pairs -> train one shared bilingual tokenizer on the training
pairs -> tokenize everything once into fixed-length arrays -> build the Transformer under
a distribution strategy -> train with step-indexed batches and checkpoints (`--resume`
continues exactly) -> translate the held-out pairs with cached greedy (or beam) decoding
and score them with sacreBLEU -> export a SavedModel whose `translate` signature maps
raw strings to translated strings -> print and save a JSON summary.
"""

import dataclasses
import json
import os
import time

import keras
import numpy as np
import sacrebleu
import tensorflow as tf

from recipes.common import (
    TextSource,
    TransformerRun,
    flag,
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
from zoo.data import corpus, load_translation_pairs, translation_arrays
from zoo.data.lengths import covering_lengths, fit_pairs
from zoo.data.steps import length_buckets
from zoo.models import Transformer
from zoo.models.generation import translate
from zoo.models.losses import LabelSmoothedCrossEntropy
from zoo.optimizers import BudgetCosineDecay, TransformerSchedule, warmup_cosine_decay
from zoo.plots import plot_model_attention
from zoo.text.sentences import split_sentences

SPLIT_RULES = ("hash", "crc32-ru-mod10")


@dataclasses.dataclass
class Config(TransformerRun, TextSource):
    """Train, evaluate and export a Transformer translation model."""

    data: str = option(
        "bundled", "'bundled', a TSV path, or a TFDS name (ted_hrlr_translate/ru_to_en)"
    )
    columns: tuple[str, ...] = option(
        ("en", "ru"), "languages of a TSV file's columns, in order (the shared files: en ru)"
    )
    direction: str = option("ru-en", "source-target", choices=("ru-en", "en-ru"))
    split_rule: str = option(
        "hash",
        "local files: 'hash' (80/10/10 by a hash of the source) or 'crc32-ru-mod10' (test: "
        "zlib.crc32(russian UTF-8) %% 10 == 0, train: the rest; the Tatoeba benchmark)",
        choices=SPLIT_RULES,
    )
    tokenizer: str = option(
        "sentencepiece", "shared bilingual tokenizer", choices=("sentencepiece", "bpe", "wordpiece")
    )
    vocabulary_size: int = 4000
    source_length: int = option(
        0,
        "source tokens the model reads; 0: the shortest length that, with --target-length, "
        "fits 99%% of the training pairs whole (printed). Longer pairs are split at sentence "
        "boundaries or dropped, never cut",
    )
    target_length: int = option(
        0, "decoder positions, [BOS]/[EOS] included; 0: chosen with --source-length"
    )
    label_smoothing: float = 0.1
    warmup_steps: int = 400
    learning_rate_scale: float = option(
        1.0,
        "multiplier on the learning rate; peak = scale * hidden_dim^-0.5 * warmup_steps^-0.5 "
        "for both schedules",
    )
    schedule: str = option(
        "inverse_sqrt",
        "'inverse_sqrt': the paper's warm-up then 1/sqrt(step) decay; 'cosine': the same "
        "warm-up and peak, then cosine decay to a tenth of the peak at --steps (for a run "
        "whose length is known: it ends on a low learning rate); 'cosine_budget': the same, "
        "ended early when --time-budget runs out before --steps (the rate then depends on "
        "the machine's speed)",
        choices=("inverse_sqrt", "cosine", "cosine_budget"),
    )
    ema_momentum: float = option(
        0.0,
        "keep an exponential moving average of the weights with this momentum (e.g. 0.995: "
        "about the last 200 steps) and evaluate and export the average; 0: off. The average "
        "is saved with the optimizer, so --resume stays exact",
    )
    batch_size: int = flag(TransformerRun, "batch_size", 64)
    time_budget: float = option(
        0.0, "stop training at the first step after this many seconds (0: off)"
    )
    length_buckets: int = option(
        4,
        "train on batches of similar length cropped to one of this many widths (quantiles "
        "of the pair lengths); 0 or 1: every batch at the full length. Off on a TPU and "
        "with --steps-per-execution > 1, which need one shape",
    )
    checkpoint_every: int = 300
    out: str = "runs/translation"
    sampler: str = option("greedy", "decoding", choices=("greedy", "beam"))
    num_beams: int = 4
    length_penalty: float = option(
        1.0,
        "beam search ranks finished beams by sum log p / length^this (0: the plain sum, "
        "which favours short translations)",
    )
    split_sentences: bool = option(
        False,
        "when evaluating, translate a text of several sentences sentence by sentence and "
        "join the translations (a model trained on single sentences of --source-length "
        "tokens otherwise truncates it)",
    )
    eval_limit: int = option(0, "translate at most this many held-out pairs (0: all)")
    plot_attention: str = option(
        "", "after training, plot the attention of this sentence to <out>/attention"
    )
    init: str = option(
        "",
        "fine-tune a pretrained model: the --out of a translation run, or a Marian (opus-mt) "
        "Hugging Face directory or hf://org/name; its tokenizer(s), vocabulary and sizes "
        "replace --tokenizer, --vocabulary-size and the size flags",
    )


SAMPLE_SENTENCES = {
    "ru-en": [
        "Я изучаю машинное обучение.",
        "Где ты живёшь?",
        "Моя сестра читает интересную книгу.",
    ],
    "en-ru": [
        "I study machine learning.",
        "Where do you live?",
        "My sister reads books every day.",
    ],
}


# Small pure helpers ------------------------------------------------------------------------


def load_pairs(config, split):
    """(source, target) string pairs of one split as Python lists."""
    report = []  # files with bad rows skipped (--max-bad-rows)
    if config.data == "bundled":
        pairs = corpus.load_pairs(split, direction=config.direction)
    elif config.split_rule == "crc32-ru-mod10":
        if not os.path.exists(config.data):
            raise ValueError(
                f"--split-rule crc32-ru-mod10 splits a local TSV file; received --data "
                f"{config.data!r}, which is not a file. Pass a path or --split-rule hash."
            )
        dataset = load_translation_pairs(
            config.data,
            split=split,
            direction=config.direction,
            columns=tuple(config.columns),
            # Test: zlib.crc32 of the Russian side's UTF-8 is 0 mod 10; train: the rest.
            split_key="source" if config.direction.startswith("ru") else "target",
            split_rule="crc32-mod10",
            max_bad_rows=config.max_bad_rows,
            report=report,
        )
        pairs = [(s.decode("utf-8"), t.decode("utf-8")) for s, t in dataset.as_numpy_iterator()]
    else:
        tfds_split = {"validation": "validation", "test": "test"}.get(split, "train")
        dataset = load_translation_pairs(
            config.data,
            split=tfds_split,
            direction=config.direction,
            columns=tuple(config.columns) if os.path.exists(config.data) else None,
            download=config.download,
            max_bad_rows=config.max_bad_rows,
            report=report,
        )
        pairs = [(s.decode("utf-8"), t.decode("utf-8")) for s, t in dataset.as_numpy_iterator()]
    if split == "train":
        say_bad_rows(report, bool(config.verbose))
    if not pairs:
        raise ValueError(f"No {split} pairs in {config.data!r}; check --data and --columns.")
    return pairs


COVERAGE = 0.99  # of the training pairs that --source-length / --target-length 0 fit whole


def tokenize(tokenizer, texts):
    """The token ids of each text: a ragged `(texts, None)` int32 tensor."""
    ids = tokenizer.tokenize(tf.constant(texts, tf.string))
    return ids.merge_dims(1, -1) if ids.ragged_rank > 1 else ids


def token_counts(tokenizer, texts):
    """Tokens per text, as an int array."""
    return tokenize(tokenizer, texts).row_lengths().numpy()


def fit_lengths(config, tokenizer, pairs, target_tokenizer=None):
    """Choose the lengths the config leaves at 0, and make every training pair fit them.

    Every text is tokenized once, here: for the token counts that choose the lengths, for
    the sentence pieces of over-long pairs, and for the kept pairs' ids.

    Returns the config with both lengths set, the pairs (over-long ones split at sentence
    boundaries or dropped: `zoo.data.fit_pairs`), their token ids `(source_ids,
    target_ids)` (ragged, for `zoo.data.translation_arrays`) and a report for summary.json.
    The targets are tokenized with `target_tokenizer` when given (a Marian model's own).
    """
    tokenizers = {"source": tokenizer, "target": target_tokenizer or tokenizer}
    token_ids = {"source": {}, "target": {}}  # side -> text -> its ids

    def counts(texts, side="source"):
        known = token_ids[side]
        new = [text for text in dict.fromkeys(texts) if text not in known]
        if new:
            known.update(zip(new, tokenize(tokenizers[side], new).to_list()))
        return np.array([len(known[text]) for text in texts], np.int64)

    def ragged(texts, side):
        rows = [token_ids[side][text] for text in texts]
        values = np.fromiter((i for row in rows for i in row), np.int32)
        return tf.RaggedTensor.from_row_lengths(values, [len(row) for row in rows])

    source_counts = counts([source for source, _ in pairs])
    target_counts = counts([target for _, target in pairs], "target")
    source_length, target_length, _ = covering_lengths(source_counts, target_counts, COVERAGE)
    config = dataclasses.replace(
        config,
        source_length=config.source_length or source_length,
        target_length=config.target_length or target_length,
    )
    fitting = (source_counts <= config.source_length) & (target_counts < config.target_length)

    def fits(sources, targets):
        return (counts(sources) <= config.source_length) & (
            counts(targets, "target") < config.target_length
        )

    kept, report = fit_pairs(pairs, fits)
    if not kept:
        raise ValueError(
            f"No training pair fits --source-length {config.source_length} and "
            f"--target-length {config.target_length}; pass 0 for both to fit the data."
        )
    ids = (
        ragged([source for source, _ in kept], "source"),
        ragged([target for _, target in kept], "target"),
    )
    report = {
        "source_length": config.source_length,
        "target_length": config.target_length,
        "covered": round(float(fitting.mean()), 4),
        **report,
    }
    if config.verbose:
        parts = []
        if report["split"]:
            parts.append(
                f"{report['split']} split at sentence boundaries into {report['from_split']} pairs"
            )
        if report["dropped"]:
            parts.append(f"{report['dropped']} too long with no sentence split, dropped")
        print(
            f"lengths {config.source_length}/{config.target_length} cover "
            f"{fitting.mean():.1%} of pairs; {1 - fitting.mean():.1%} cut"
            + (f": {', '.join(parts)}" if parts else "")
        )
        if fitting.mean() < COVERAGE:
            print(
                f"  the lengths given fit only {fitting.mean():.1%} of the pairs whole; "
                f"--source-length 0 --target-length 0 would choose {source_length}/"
                f"{target_length}, which fit {COVERAGE:.0%}"
            )
    return config, kept, ids, report


def pair_lengths(features, labels):
    """Positions each pair uses: its longer side (source tokens, or target tokens + 1)."""
    return np.maximum.reduce(
        [
            np.asarray(features["encoder_padding_mask"]).sum(axis=1),
            np.asarray(features["decoder_padding_mask"]).sum(axis=1),
            (np.asarray(labels) != 0).sum(axis=1),
        ]
    )


def learning_rate_schedule(config):
    """The paper's inverse-sqrt schedule, or the same warm-up and peak then cosine decay.

    For `cosine_budget`, a `zoo.optimizers.BudgetCosineDecay` callback that sets the
    optimizer's learning rate before each step (the cosine, ended early when
    `--time-budget` runs out first); the optimizer then starts from a float rate.
    """
    schedule = TransformerSchedule(
        config.hidden_dim, config.warmup_steps, scale=config.learning_rate_scale
    )
    if config.schedule == "inverse_sqrt":
        return schedule
    if config.schedule in ("cosine", "cosine_budget"):
        peak = float(schedule(config.warmup_steps - 1))  # the inverse-sqrt schedule's peak
        if config.schedule == "cosine":
            return warmup_cosine_decay(peak, config.warmup_steps, config.steps)
        return BudgetCosineDecay(peak, config.warmup_steps, config.steps, config.time_budget)
    raise ValueError(
        f"Unknown schedule {config.schedule!r}. Expected 'inverse_sqrt' (the paper's), "
        "'cosine' (decays to a tenth of the peak at --steps) or 'cosine_budget' (the same, "
        "ended early when --time-budget runs out first)."
    )


def build_model(config, vocabulary_size, settings, schedule, model=None, pad_token_id=0):
    """`Transformer`, compiled: the paper's Adam on `schedule` (`learning_rate_schedule`; a
    callback sets the rate itself), label-smoothed cross-entropy; optionally a weight
    average (`--ema-momentum`). `model`: a loaded one (`--init`) instead of a new one;
    `pad_token_id`: the target padding the loss ignores."""
    if model is None:
        model = Transformer(
            vocabulary_size=vocabulary_size,
            **config.model_size(),
            max_sequence_length=max(config.source_length, config.target_length),
        )
    if not 0.0 <= config.ema_momentum < 1.0:
        raise ValueError(
            f"--ema-momentum must be in [0, 1), received {config.ema_momentum}. Use 0 to turn "
            "the weight average off, or a value such as 0.995."
        )
    if isinstance(schedule, keras.callbacks.Callback):
        schedule = 0.0  # set before each step by the callback (`run` passes it to `train`)
    return compile_model(
        model,
        settings,
        loss=LabelSmoothedCrossEntropy(config.label_smoothing, pad_token_id=pad_token_id),
        learning_rate=schedule,
        optimizer_options={
            "beta_1": 0.9,
            "beta_2": 0.98,
            "epsilon": 1e-9,
            "use_ema": config.ema_momentum > 0,
            "ema_momentum": config.ema_momentum or 0.99,
        },
        tuning=config,
    )


def translate_texts(config, model, tokenizer, texts, target_tokenizer=None):
    """Translate a list of strings; with `config.split_sentences`, sentence by sentence.

    `target_tokenizer` (default: `tokenizer`) detokenizes the output; the model's own
    `generation_config` (a Marian model's start and pad ids) wins over the tokenizer's."""
    if not getattr(config, "split_sentences", False):
        return _translate_segments(config, model, tokenizer, texts, target_tokenizer)
    pieces = [
        [sentence.decode("utf-8") for sentence in row]
        for row in split_sentences(tf.constant(texts, tf.string)).to_list()
    ]
    flat = _translate_segments(
        config, model, tokenizer, [p for text in pieces for p in text], target_tokenizer
    )
    outputs, start = [], 0
    for text in pieces:
        outputs.append(" ".join(flat[start : start + len(text)]))
        start += len(text)
    return outputs


def _translate_segments(config, model, tokenizer, texts, target_tokenizer=None):
    """Translate a list of strings with cached decoding; fixed batch shape.

    As the exported `translate` does with a sentence: a text longer than
    `--source-length` tokens is cut at token boundaries into consecutive pieces of that
    many, each piece is translated, and the translations are joined with a space."""
    length = config.source_length
    ids = tokenizer.tokenize(tf.constant(texts, tf.string))
    rows = (ids.merge_dims(1, -1) if ids.ragged_rank > 1 else ids).to_list()
    pieces = [[row[i : i + length] for i in range(0, len(row), length)] or [[]] for row in rows]
    flat = [piece for text in pieces for piece in text]
    unknown = {tokenizer.pad_token_id, tokenizer.unk_token_id}
    target_tokenizer = target_tokenizer or tokenizer
    special = {
        "bos_token_id": target_tokenizer.bos_token_id,
        "end_token_id": target_tokenizer.eos_token_id,
        "pad_token_id": target_tokenizer.pad_token_id,
        **(getattr(model, "generation_config", None) or {}),
    }
    translations = []
    batch_size = config.eval_batch_size
    for start in range(0, len(flat), batch_size):
        chunk = flat[start : start + batch_size]
        ids = np.full((batch_size, length), tokenizer.pad_token_id, np.int32)  # one shape
        for row, piece in enumerate(chunk):
            ids[row, : len(piece)] = piece
        target = translate(
            model,
            ids,
            ids != tokenizer.pad_token_id,
            **special,
            max_length=config.target_length,
            sampler=config.sampler,
            num_beams=config.num_beams,
            length_penalty=config.length_penalty,
        )
        # Ids past the tokenizer's vocabulary (one padded for --model-parallel) are dropped.
        text = np.asarray(target_tokenizer.detokenize(np.asarray(target)[:, 1:], errors="replace"))
        # A piece with nothing to translate (blank, or only unknown pieces) translates to
        # "", as the exported `translate` answers it.
        translations.extend(
            t.decode("utf-8").strip() if set(piece) - unknown else ""
            for t, piece in zip(text[: len(chunk)], chunk)
        )
    outputs, start = [], 0
    for text in pieces:
        outputs.append(" ".join(t for t in translations[start : start + len(text)] if t))
        start += len(text)
    return outputs


def init_model(config):
    """`(model, tokenizer, target_tokenizer, config)` of `--init`.

    A run directory (the `--out` of an earlier translation run) gives its `model.keras`
    Transformer, its `tokenizer/` (and `target_tokenizer/` when it has one), and its
    `--source-length` / `--target-length` where this run leaves them at 0. Anything else
    goes to `Transformer.from_preset` (a Marian checkpoint directory or "hf://org/name")
    and `zoo.text.load_tokenizer(path, side="source" / "target")`; the target tokenizer
    then gets the model's decoder start id (Marian's pad id) as its BOS, so the decoder
    inputs start as Marian's do. `target_tokenizer` is None for one shared tokenizer. The
    size flags of the returned config are the model's.

    Raises:
        ValueError: a path that is neither, a run directory without `tokenizer/` or
            without a Transformer, a checkpoint that is not an encoder-decoder Zoo loads.
    """
    from zoo.text import load_tokenizer

    path, target = config.init, None
    if os.path.isfile(os.path.join(path, "model.keras")):
        if not os.path.isdir(os.path.join(path, "tokenizer")):
            raise ValueError(f"--init {path}: a run directory needs tokenizer/ too.")
        model = keras.saving.load_model(os.path.join(path, "model.keras"), compile=False)
        if not isinstance(model, Transformer):
            raise ValueError(
                f"--init {path}: its model.keras holds a {type(model).__name__}, not a "
                "Transformer; pass the --out of `python -m recipes translation` or a Marian "
                "checkpoint."
            )
        tokenizer = load_tokenizer(os.path.join(path, "tokenizer"))
        if os.path.isdir(os.path.join(path, "target_tokenizer")):
            target = load_tokenizer(os.path.join(path, "target_tokenizer"))
        earlier = {}
        if os.path.isfile(os.path.join(path, "config.json")):
            with open(os.path.join(path, "config.json"), encoding="utf-8") as file:
                earlier = json.load(file)
        config = dataclasses.replace(
            config,
            source_length=config.source_length or int(earlier.get("source_length") or 0),
            target_length=config.target_length or int(earlier.get("target_length") or 0),
        )
    elif path.startswith("hf://") or os.path.isdir(path):
        model = Transformer.from_preset(path)
        tokenizer = load_tokenizer(path, side="source")
        target = load_tokenizer(path, side="target")
    else:
        raise ValueError(
            f"--init {path}: no such directory. Pass the --out of a translation run, a Marian "
            "(opus-mt) checkpoint directory or hf://org/name."
        )
    start = (model.generation_config or {}).get("bos_token_id")
    if target is not None and target.bos_token_id is None and start is not None:
        roles = dict(target.special_tokens_map or {})
        roles["bos"] = target.get_vocabulary()[start]
        target.special_tokens_map = roles  # decoder rows start with it, as Marian's do
    shape = {
        "num_layers": max(model.num_encoder_layers, model.num_decoder_layers),
        "num_heads": model.num_heads,
        "hidden_dim": model.hidden_dim,
        "intermediate_dim": model.intermediate_dim,
        "dropout": model.dropout,
    }
    return model, tokenizer, target, dataclasses.replace(config, **shape)


def init_tokenizers(config, tokenizer, target):
    """Keep `--init`'s tokenizer(s) in `<out>/tokenizer` (and `<out>/target_tokenizer`),
    where the export reads them; on `--resume`, the kept ones."""
    from zoo.text import load_tokenizer

    kept = os.path.join(config.out, "tokenizer"), os.path.join(config.out, "target_tokenizer")
    if config.resume and os.path.isdir(kept[0]):
        return tuple(load_tokenizer(d) if os.path.isdir(d) else None for d in kept)
    if is_chief():
        tokenizer.save(kept[0])
        if target is not None:
            target.save(kept[1])
    return tokenizer, target


def check_init_lengths(config, model):
    """The lengths chosen must fit the loaded model's positions."""
    longest = max(config.source_length, config.target_length)
    if longest > model.max_sequence_length:
        raise ValueError(
            f"--source-length {config.source_length} / --target-length "
            f"{config.target_length} exceed --init {config.init}'s max_sequence_length "
            f"{model.max_sequence_length}; pass lengths of at most that."
        )


def score(hypotheses, references):
    bleu = sacrebleu.corpus_bleu(hypotheses, [references])
    chrf = sacrebleu.corpus_chrf(hypotheses, [references])
    return {"bleu": round(bleu.score, 2), "chrf": round(chrf.score, 2), "signature": str(bleu)}


# The job -----------------------------------------------------------------------------------


def run(config):
    started = time.time()
    strategy, settings = start_run(config, layout_map=Transformer.layout_map)

    train_pairs = load_pairs(config, "train")
    test_pairs = load_pairs(config, "test")
    loaded, target_tokenizer = None, None
    if config.init:  # a pretrained model with its tokenizer(s); no tokenizer training
        with strategy.scope():  # the model's variables belong to the run's strategy
            loaded, tokenizer, target_tokenizer, config = init_model(config)
        tokenizer, target_tokenizer = init_tokenizers(config, tokenizer, target_tokenizer)
    else:
        # One tokenizer over both languages (the lecture: two languages double the
        # vocabulary); case kept, so a WordPiece vocabulary does not lowercase either side.
        texts = [text for pair in train_pairs for text in pair]
        tokenizer = run_tokenizer(config, data=texts, lowercase=False)
    config, train_pairs, train_ids, lengths_report = fit_lengths(
        config, tokenizer, train_pairs, target_tokenizer
    )
    if loaded is not None:
        check_init_lengths(config, loaded)
    features, labels = translation_arrays(
        train_ids,
        tokenizer,
        target_tokenizer,
        source_length=config.source_length,
        target_length=config.target_length,
    )
    if config.verbose:
        print(
            f"{len(train_pairs)} training pairs, {len(test_pairs)} test pairs, "
            f"vocabulary {tokenizer.vocabulary_size()}, batch {settings.global_batch_size}, "
            f"{config.steps} steps"
        )

    schedule = learning_rate_schedule(config)  # a callback for 'cosine_budget'
    with strategy.scope():
        vocabulary_size = model_vocabulary_size(tokenizer, strategy)
        target_pad = (target_tokenizer or tokenizer).pad_token_id or 0
        model = build_model(config, vocabulary_size, settings, schedule, loaded, target_pad)

    lengths, buckets = pair_lengths(features, labels), None
    if config.length_buckets > 1 and strategy.kind != "tpu" and settings.steps_per_execution == 1:
        full_length = max(config.source_length, config.target_length)
        buckets = length_buckets(lengths, full_length, config.length_buckets)
        if config.verbose:
            fewer = (
                f"; {config.length_buckets} asked, but length quantiles coincide"
                if len(buckets) < config.length_buckets
                else ""
            )
            print(f"length buckets {buckets} (widths of the training batches{fewer})")
    fit_started = time.time()
    _, _, final_loss = train_run(
        model,
        (features, labels),
        config,
        settings.global_batch_size,
        lengths=lengths,
        buckets=buckets,
        callbacks=[schedule] if isinstance(schedule, keras.callbacks.Callback) else [],
    )
    trained = time.time()
    steps_reached = int(keras.ops.convert_to_numpy(model.optimizer.iterations))

    if config.eval_limit:
        test_pairs = test_pairs[: config.eval_limit]
    hypotheses = translate_texts(
        config, model, tokenizer, [source for source, _ in test_pairs], target_tokenizer
    )
    scores = score(hypotheses, [target for _, target in test_pairs])
    chief = is_chief()  # process 0 of a multi-host run writes; the others only train
    if chief:
        os.makedirs(config.out, exist_ok=True)
        with open(os.path.join(config.out, "test_translations.tsv"), "w", encoding="utf-8") as file:
            for (source, target), hypothesis in zip(test_pairs, hypotheses):
                cells = (
                    text.replace("\t", " ").replace("\n", " ")
                    for text in (source, target, hypothesis)
                )
                file.write("\t".join(cells) + "\n")
    samples = SAMPLE_SENTENCES[config.direction]
    sample_translations = dict(
        zip(samples, translate_texts(config, model, tokenizer, samples, target_tokenizer))
    )
    evaluated = time.time()

    export_path = save_and_export(model, config, "translation")

    attention_plots = []
    if config.plot_attention and chief and target_tokenizer is None:  # one shared tokenizer
        attention_plots = plot_model_attention(
            model,
            tokenizer,
            config.plot_attention,
            os.path.join(config.out, "attention"),
            source_length=config.source_length,
            target_length=config.target_length,
        )

    summary = {
        "direction": config.direction,
        "data": config.data,
        "init": config.init or None,
        "test_pairs": len(test_pairs),
        **scores,
        "samples": sample_translations,
        "examples": [
            {"source": s, "reference": t, "hypothesis": h}
            for (s, t), h in list(zip(test_pairs, hypotheses))[:5]
        ],
        "lengths": lengths_report,
        "steps": steps_reached,
        **run_facts(strategy, final_loss),
        "train_seconds": round(trained - started, 1),  # with the tokenizer and encoding
        "fit_seconds": round(trained - fit_started, 1),  # training steps and checkpoints only
        "eval_seconds": round(evaluated - trained, 1),
        "total_seconds": round(time.time() - started, 1),
        "test_translations": os.path.join(config.out, "test_translations.tsv"),
        "saved_model": export_path,
        "attention_plots": attention_plots,
    }
    report = [
        f"\nsacreBLEU {scores['bleu']}  chrF {scores['chrf']}  on {len(test_pairs)} pairs",
        *(f"  {source}  ->  {translation}" for source, translation in sample_translations.items()),
    ]
    signature = "signature 'translate': text of any length -> translation, truncated"
    return finish_run(config, summary, report, signature)


def main(argv=None):
    run(parse_config(Config, argv))
    return 0
