import json
import os
import subprocess
import sys

import numpy as np
import pytest

from recipes.translation import Config, main
from tests.recipes._recipe_runs import check_resume, checkpoint_step, run_python

TINY = [
    "--steps", "24", "--batch-size", "32", "--vocabulary-size", "400",
    "--num-layers", "1", "--num-heads", "2", "--hidden-dim", "32", "--intermediate-dim", "64",
    "--source-length", "16", "--target-length", "16", "--checkpoint-every", "12",
    "--eval-limit", "40", "--eval-batch-size", "16", "--strategy", "cpu", "--verbose", "0",
    "--ema-momentum", "0.9",
]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("translation")
    sentence = "Я изучаю машинное обучение"
    assert main([*TINY, "--out", str(out), "--plot-attention", sentence]) == 0
    return out


def test_plot_attention_writes_one_png_per_kind_and_layer(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    kinds = ("encoder_self_attention", "decoder_self_attention", "cross_attention")
    names = sorted(f"{kind}_layer_0.png" for kind in kinds)
    assert sorted(p.name for p in (run_dir / "attention").iterdir()) == names
    assert sorted(os.path.basename(p) for p in summary["attention_plots"]) == names
    assert summary["steps"] == 24
    assert all((run_dir / "attention" / name).stat().st_size > 1000 for name in names)


def test_the_recipe_trains_evaluates_and_writes_its_files(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["test_pairs"] == 40
    lengths = summary["lengths"]  # --source-length / --target-length 16: pairs fitted to them
    assert (lengths["source_length"], lengths["target_length"]) == (16, 16)
    assert 0.0 < lengths["covered"] < 0.5  # 16 tokens of a 400-piece vocabulary: few fit
    assert lengths["dropped"] > 0 and lengths["from_split"] >= 0
    assert 0.0 <= summary["bleu"] <= 100.0 and 0.0 <= summary["chrf"] <= 100.0
    assert "Я изучаю машинное обучение." in summary["samples"]
    for name in ("config.json", "model.keras", "tokenizer", "saved_model", "logs"):
        assert (run_dir / name).exists(), name
    assert checkpoint_step(run_dir) == 24
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    assert config["steps"] == 24 and config["direction"] == "ru-en"
    # every scored translation, one (source, reference, hypothesis) row per held-out pair
    rows = (run_dir / "test_translations.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 40 and all(row.count("\t") == 2 for row in rows)
    first = summary["examples"][0]
    assert rows[0].split("\t") == [first["source"], first["reference"], first["hypothesis"]]


def test_the_saved_model_serves_text_without_zoo(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    sources = list(summary["samples"])
    code = (
        "import json, sys, tensorflow as tf, tensorflow_text\n"
        "model = tf.saved_model.load(sys.argv[1])\n"
        "texts = [t.encode('utf-8') for t in json.loads(sys.argv[2])] + [b'\\xff\\xfe bad']\n"
        "out = model.signatures['translate'](text=tf.constant(texts))['translation']\n"
        "print(json.dumps([t.decode('utf-8') for t in out.numpy()]))\n"
        "print('zoo' in sys.modules)\n"
    )
    inputs = [
        *sources,
        "",
        "\udcff".encode("utf-8", "surrogatepass").decode("latin-1"),
        "слово " * 500,
    ]
    lines = run_python(code, str(run_dir / "saved_model"), json.dumps(inputs))
    served = json.loads(lines[0])
    assert lines[1] == "False"
    assert len(served) == len(inputs) + 1  # and the invalid UTF-8 string
    assert served[: len(sources)] == [summary["samples"][s] for s in sources]


def test_resume_continues_to_more_steps(run_dir):
    check_resume(main, TINY, run_dir, steps=30, refused=False)


def test_the_weight_average_is_what_the_run_evaluates_and_saves(run_dir):
    import keras

    model = keras.saving.load_model(run_dir / "model.keras")
    averages = model.optimizer._model_variables_moving_average
    assert model.optimizer.use_ema and len(averages) == len(model.trainable_variables)
    for variable, average in zip(model.trainable_variables, averages):
        np.testing.assert_array_equal(np.asarray(variable), np.asarray(average))


def test_an_invalid_ema_momentum_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"--ema-momentum 1.0 is out of range.*\[0, 1\)"):
        main([*TINY, "--out", str(tmp_path), "--ema-momentum", "1.0"])


def test_a_second_run_into_the_same_directory_needs_resume(run_dir):
    with pytest.raises(ValueError, match="--resume"):
        main([*TINY, "--out", str(run_dir)])


def test_every_config_field_is_a_flag():
    import dataclasses

    from recipes.common import parse_config

    config = parse_config(Config, ["--direction", "en-ru", "--columns", "ru", "en"])
    assert config.direction == "en-ru" and config.columns == ("ru", "en")
    assert {f.name for f in dataclasses.fields(Config)} >= {"steps", "batch_size", "out", "resume"}
    with pytest.raises(SystemExit):
        parse_config(Config, ["--direction", "xx-yy"])
    assert os.path.basename(Config().out) == "translation"


def test_saved_model_cli_runs_the_export_in_a_tf1_session(run_dir, tmp_path):
    # `saved_model_cli run` and TensorFlow Serving load SavedModels into a TF1 session,
    # which restores only the variables the exported module tracks itself.
    import tensorflow as tf

    sources = ["Я изучаю машинное обучение.", "Где ты живёшь?", ""]
    loaded = tf.saved_model.load(str(run_dir / "saved_model"))
    expected = loaded.signatures["translate"](text=tf.constant(sources))["translation"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoo.saved_model_cli",
            "run",
            "--dir",
            str(run_dir / "saved_model"),
            "--tag_set",
            "serve",
            "--signature_def",
            "translate",
            "--input_exprs",
            f"text={json.dumps(sources, ensure_ascii=False)}",
            "--outdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    served = np.load(tmp_path / "translation.npy", allow_pickle=True)
    assert list(served) == list(expected.numpy())


def test_the_export_decodes_with_the_recipes_beam_search(run_dir):
    # `--sampler beam` is evaluated in memory and exported: both must pick the same beams,
    # with the same length penalty.
    import keras
    import tensorflow as tf

    from recipes.translation import translate_texts
    from zoo.export import TranslatorModule
    from zoo.text import load_tokenizer

    model = keras.saving.load_model(run_dir / "model.keras")
    tokenizer = load_tokenizer(str(run_dir / "tokenizer"))
    texts = ["Я изучаю машинное обучение.", "Где ты живёшь?", "Моя сестра читает.", ""]
    settings = {"sampler": "beam", "num_beams": 3, "length_penalty": 1.0}
    config = Config(source_length=16, target_length=16, eval_batch_size=4, **settings)
    expected = translate_texts(config, model, tokenizer, texts)
    module = TranslatorModule(model, tokenizer, 16, 16, serving_batch_size=4, **settings)
    assert module._generator.sampler.length_penalty == 1.0
    served = [t.decode("utf-8") for t in module.translate(tf.constant(texts)).numpy()]
    assert served == expected


def test_init_from_a_translation_run_directory(run_dir, tmp_path):
    """`--init` an earlier run: its model, tokenizer and lengths; two steps fine-tune it."""
    import keras

    from zoo.text import load_tokenizer

    out = tmp_path / "tuned"
    tune = ["--steps", "2", "--batch-size", "16", "--eval-limit", "8", "--eval-batch-size", "8"]
    tune += ["--strategy", "cpu", "--verbose", "0", "--length-buckets", "0", "--no-export"]
    assert main([*tune, "--init", str(run_dir), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["init"] == str(run_dir) and summary["steps"] == 2
    assert (summary["lengths"]["source_length"], summary["lengths"]["target_length"]) == (16, 16)
    kept, earlier = (load_tokenizer(str(d / "tokenizer")) for d in (out, run_dir))
    assert kept.get_vocabulary() == earlier.get_vocabulary()  # no tokenizer trained
    assert not (out / "target_tokenizer").exists()
    before = keras.saving.load_model(str(run_dir / "model.keras"), compile=False)
    after = keras.saving.load_model(str(out / "model.keras"), compile=False)
    assert after.get_config()["hidden_dim"] == 32  # the model's size, not the flags' default
    # Two small steps from the earlier weights: close to them, not a fresh initialization.
    start = {w.path: np.asarray(w) for w in before.weights}
    distance = max(np.abs(np.asarray(w) - start[w.path]).max() for w in after.weights)
    assert 0 < distance < 0.05
