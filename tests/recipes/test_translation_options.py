"""The translation recipe's benchmark options: a wall-clock budget, the crc32 split, plots."""

import time
import zlib

import keras
import numpy as np
import pytest

from recipes import training
from recipes.translation import Config, load_pairs
from tests.recipes._recipe_runs import checkpoint_step
from zoo.optimizers import BudgetCosineDecay


def _tiny_model():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="adam", loss="mse")
    return model


class _SlowSteps(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.05)


def test_time_budget_stops_at_a_step_and_checkpoints_it(tmp_path):
    model = _tiny_model()
    arrays = (np.zeros((64, 4), "float32"), np.zeros((64, 2), "float32"))
    training.train(
        model,
        arrays,
        batch_size=8,
        total_steps=10_000,
        out_dir=str(tmp_path),
        checkpoint_every=0,
        callbacks=[_SlowSteps()],
        verbose=0,
        time_budget=0.3,
    )
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    assert 1 <= steps < 1000  # stopped by the clock, far before total_steps
    assert checkpoint_step(tmp_path) == steps  # the step reached is saved, not total_steps


def test_time_budget_rejects_negative_seconds():
    with pytest.raises(ValueError, match="seconds >= 0"):
        training.TimeBudget(-1)


def test_without_a_budget_every_step_runs(tmp_path):
    model = _tiny_model()
    arrays = (np.zeros((16, 4), "float32"), np.zeros((16, 2), "float32"))
    training.train(model, arrays, 8, 5, str(tmp_path), checkpoint_every=0, verbose=0)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 5


def test_crc32_split_takes_the_russian_side(tmp_path):
    lines = [(f"Sentence {i}.", f"Предложение {i}.") for i in range(60)]
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{en}\t{ru}\tsource\n" for en, ru in lines), encoding="utf-8")
    test_ru = {ru for _, ru in lines if zlib.crc32(ru.encode("utf-8")) % 10 == 0}
    assert 0 < len(test_ru) < 60
    for direction in ("ru-en", "en-ru"):
        config = Config(data=str(path), direction=direction, split_rule="crc32-ru-mod10")
        train, test = load_pairs(config, "train"), load_pairs(config, "test")
        side = 0 if direction == "ru-en" else 1
        assert {pair[side] for pair in test} == test_ru
        assert len(train) + len(test) == 60 and not {p[side] for p in train} & test_ru


def test_crc32_split_needs_a_file():
    config = Config(data="ted_hrlr_translate/ru_to_en", split_rule="crc32-ru-mod10")
    with pytest.raises(ValueError, match="not a file"):
        load_pairs(config, "train")


def test_cosine_schedule_keeps_the_peak_and_ends_at_a_tenth():
    from recipes.translation import learning_rate_schedule

    settings = {"hidden_dim": 16, "warmup_steps": 10, "steps": 100, "learning_rate_scale": 0.5}
    paper = learning_rate_schedule(Config(**settings))
    cosine = learning_rate_schedule(Config(**settings, schedule="cosine"))
    peak = float(paper(9))
    assert peak == pytest.approx(0.5 * 16**-0.5 * 10**-0.5, rel=1e-5)
    assert float(cosine(10)) == pytest.approx(peak, rel=1e-3)
    assert float(cosine(3)) < float(cosine(6)) < peak  # the same linear warm-up
    assert float(cosine(100)) == pytest.approx(peak / 10, rel=1e-3)
    assert float(cosine(55)) < float(cosine(10))  # decaying after the peak
    assert float(cosine(100)) < float(paper(100))  # and ends below the paper's schedule


def test_unknown_schedule_is_rejected():
    from recipes.translation import learning_rate_schedule

    with pytest.raises(ValueError, match="schedule 'linear'"):
        learning_rate_schedule(Config(schedule="linear"))


def test_the_budget_schedule_is_a_callback_with_the_cosine_peak_and_needs_a_budget():
    from recipes.translation import learning_rate_schedule

    settings = {"hidden_dim": 16, "warmup_steps": 10, "steps": 100, "learning_rate_scale": 0.5}
    cosine = learning_rate_schedule(Config(**settings, schedule="cosine"))
    budget = learning_rate_schedule(Config(**settings, schedule="cosine_budget", time_budget=60))
    assert isinstance(budget, BudgetCosineDecay) and budget.seconds == 60
    for step in (5, 10, 50, 100):  # a budget that does not bind: the same rates
        assert budget.rate(step, 0.0) == pytest.approx(float(cosine(step)), rel=1e-5)
    with pytest.raises(ValueError, match="--time-budget SECONDS"):
        learning_rate_schedule(Config(**settings, schedule="cosine_budget"))


def test_split_sentences_translates_sentence_by_sentence_in_order(monkeypatch):
    import recipes.translation as translation

    calls = []

    def fake_segments(config, model, tokenizer, texts, target_tokenizer=None):
        calls.append(list(texts))
        return [f"<{text}>" for text in texts]

    monkeypatch.setattr(translation, "_translate_segments", fake_segments)
    texts = ["Он не глупый. Он глухой.", "Привет!", "Первое. Второе. Третье."]
    split = translation.translate_texts(Config(split_sentences=True), None, None, texts)
    assert split == ["<Он не глупый.> <Он глухой.>", "<Привет!>", "<Первое.> <Второе.> <Третье.>"]
    assert len(calls) == 1 and len(calls[0]) == 6  # one batched call for all the pieces
    whole = translation.translate_texts(Config(), None, None, texts)
    assert whole == [f"<{text}>" for text in texts]


def test_lengths_default_to_what_fits_99_percent_of_the_pairs(capsys):
    from recipes.translation import fit_lengths, token_counts, tokenize
    from zoo.text import CharacterTokenizer

    pairs = load_pairs(Config(), "train")[:2000]
    pairs += [("Он пришёл домой. " * 3 + "Всё.", "He came home. " * 3 + "That is all.")]
    pairs += [("Очень " * 40 + "длинно.", "Very " * 40 + "long.")]
    tokenizer = CharacterTokenizer.train([text for pair in pairs for text in pair], 300)
    config, kept, (source_ids, target_ids), report = fit_lengths(Config(), tokenizer, pairs)
    sources = token_counts(tokenizer, [s for s, _ in pairs])
    targets = token_counts(tokenizer, [t for _, t in pairs])
    fits = (sources <= config.source_length) & (targets + 1 <= config.target_length)
    assert report["covered"] == round(fits.mean(), 4) and fits.mean() >= 0.99
    assert (report["source_length"], report["target_length"]) == (
        config.source_length,
        config.target_length,
    )
    # Every kept pair fits; the four-sentence pair is split, the one-sentence one dropped.
    assert all(token_counts(tokenizer, [s for s, _ in kept]) <= config.source_length)
    assert all(token_counts(tokenizer, [t for _, t in kept]) < config.target_length)
    assert ("Всё.", "That is all.") in kept
    assert not any(source.startswith("Очень") for source, _ in kept)
    assert report["split"] >= 1 and report["dropped"] >= 1
    # The kept pairs' ids, each text tokenized once, are those of tokenizing them now.
    assert source_ids.to_list() == tokenize(tokenizer, [s for s, _ in kept]).to_list()
    assert target_ids.to_list() == tokenize(tokenizer, [t for _, t in kept]).to_list()
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(f"lengths {config.source_length}/{config.target_length} cover ")
    assert "split at sentence boundaries" in line and "dropped" in line
    # Lengths given on the command line are kept, and the pairs are fitted to them.
    fixed, kept, _, _ = fit_lengths(Config(source_length=30, target_length=31), tokenizer, pairs)
    assert (fixed.source_length, fixed.target_length) == (30, 31)
    assert all(token_counts(tokenizer, [s for s, _ in kept]) <= 30)
