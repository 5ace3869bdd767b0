"""The fine-tuning fine_tuning's options, data, preset round trip and parameter counts, on a
tiny config (the timing itself is not asserted)."""

import numpy as np
import pytest

from tests.test_case import load_benchmark

TINY = ["--num-layers", "1", "--hidden-dim", "16", "--num-heads", "2",
        "--intermediate-dim", "32", "--vocabulary-size", "64", "--sequence-length", "16",
        "--batch-size", "3", "--steps", "1", "--rounds", "1", "--lora-rank", "2"]  # fmt: skip


@pytest.fixture(scope="module")
def fine_tuning():
    return load_benchmark("fine_tuning")


@pytest.mark.parametrize("flag", ["--steps", "--rounds", "--lora-rank"])
def test_counts_below_one_are_refused(fine_tuning, flag, capsys):
    with pytest.raises(SystemExit):
        fine_tuning.parse_args([*TINY, flag, "0"])
    assert f"{flag} must be at least 1" in capsys.readouterr().err


def test_the_data_is_padded_segmented_and_starts_with_cls(fine_tuning):
    args = fine_tuning.parse_args(TINY)
    features, labels = fine_tuning.data(args, steps=4)
    mask, ids, segments = features["padding_mask"], features["token_ids"], features["segment_ids"]
    assert ids.shape == mask.shape == segments.shape == (12, 16) and labels.shape == (12,)
    lengths = mask.sum(1)
    assert lengths.min() >= 8 and lengths.max() <= 16 and len(set(lengths)) > 1
    assert np.all(ids[:, 0] == fine_tuning.SPECIAL_TOKENS.index("[CLS]"))
    assert np.all(ids[mask == 0] == 0) and np.all(ids[mask == 1] > 0)
    assert np.all(segments[mask == 0] == 0) and np.all(segments.max(1) == 1)
    assert set(labels) <= {0, 1}


def test_both_sides_load_one_preset_and_lora_freezes_the_same_weights(fine_tuning, tmp_path):
    import keras

    args = fine_tuning.parse_args(TINY)
    preset = fine_tuning.write_preset(args, str(tmp_path))
    zoo = fine_tuning.classifier("zoo", "full", args, preset)
    hub = fine_tuning.classifier("keras_hub", "full", args, preset)
    assert fine_tuning.trainable_parameters(zoo) == fine_tuning.trainable_parameters(hub)
    features, _ = fine_tuning.data(args, steps=1)
    # The same checkpoint: the same pooled [CLS] features under both heads.
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(zoo.backbone(features)["pooled_output"]),
        keras.ops.convert_to_numpy(hub.backbone(features)["pooled_output"]),
        atol=1e-4,
    )
    zoo = fine_tuning.classifier("zoo", "lora", args, preset)
    hub = fine_tuning.classifier("keras_hub", "lora", args, preset)
    assert zoo.backbone.lora_rank == 2
    # Rank-2 adapters on query and value on both sides; keras-hub also trains those two
    # layers' biases (2 x hidden per layer), zoo freezes every bias.
    assert fine_tuning.trainable_parameters(hub) - fine_tuning.trainable_parameters(zoo) == 2 * 16
