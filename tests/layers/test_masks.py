import numpy as np
import pytest
from keras import ops

from tests.test_case import assert_all_close
from zoo.layers import compute_causal_mask, merge_padding_and_attention_mask


def test_no_masks_give_none():
    assert merge_padding_and_attention_mask(np.zeros((2, 3, 4)), None, None) is None


def test_padding_mask_hides_padded_keys_from_every_query():
    padding_mask = np.array([[1, 1, 0], [1, 0, 0]])
    mask = merge_padding_and_attention_mask(np.zeros((2, 4, 8)), padding_mask, None)
    assert tuple(mask.shape) == (2, 4, 3)
    assert ops.convert_to_numpy(mask).dtype == bool
    expected = np.broadcast_to(padding_mask[:, None, :].astype(bool), (2, 4, 3))
    assert_all_close(mask, expected)
    # An int query length works like a query tensor.
    assert_all_close(merge_padding_and_attention_mask(4, padding_mask, None), expected)


def test_attention_mask_alone_and_merged():
    attention_mask = np.tril(np.ones((3, 3), "int32"))[None].repeat(2, axis=0)
    alone = merge_padding_and_attention_mask(3, None, attention_mask)
    assert_all_close(alone, attention_mask.astype(bool))
    padding_mask = np.array([[True, True, True], [True, True, False]])
    merged = merge_padding_and_attention_mask(3, padding_mask, attention_mask)
    expected = attention_mask.astype(bool) & padding_mask[:, None, :]
    assert_all_close(merged, expected)


@pytest.mark.parametrize(
    "padding_mask, attention_mask, message",
    [
        (np.ones((2, 3, 3)), None, "padding_mask` must have rank 2"),
        (None, np.ones((2, 3)), "attention_mask` must have rank 3"),
    ],
)
def test_masks_of_the_wrong_rank_raise(padding_mask, attention_mask, message):
    with pytest.raises(ValueError, match=message):
        merge_padding_and_attention_mask(3, padding_mask, attention_mask)


def test_causal_mask_is_lower_triangular():
    mask = compute_causal_mask(2, 4, 4)
    assert tuple(mask.shape) == (2, 4, 4)
    assert_all_close(mask, np.tril(np.ones((4, 4), bool))[None].repeat(2, axis=0))


def test_causal_mask_with_a_cache_offsets_the_queries():
    # Two new tokens at positions 3 and 4 of a cache of length 6.
    mask = compute_causal_mask(1, 2, 6, cache_index=3)
    expected = np.array([[[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0]]], bool)
    assert_all_close(mask, expected)
    tensor_index = compute_causal_mask(1, 2, 6, cache_index=ops.convert_to_tensor(3))
    assert_all_close(tensor_index, expected)
