"""zoo.text.sentences: the in-graph sentence rule for Russian and English."""

import pytest
import tensorflow as tf

from zoo.text.sentences import split_sentences


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("Он не глупый. Он глухой.", ["Он не глупый.", "Он глухой."]),
        ("95 лет! Боже, храни королеву!", ["95 лет!", "Боже, храни королеву!"]),
        ("«Готово? Я жду». — «Нет».", ["«Готово?", "Я жду».", "— «Нет»."]),
        ("Wait... What?", ["Wait...", "What?"]),
        ("Ну… Ладно.", ["Ну…", "Ладно."]),
        ("Это было в 1990 г. Потом он уехал.", ["Это было в 1990 г. Потом он уехал."]),
        ("Mr. Smith left. He was tired.", ["Mr. Smith left.", "He was tired."]),
        ("А. С. Пушкин родился в Москве. Он поэт.", ["А. С. Пушкин родился в Москве.", "Он поэт."]),
        (
            "J. R. R. Tolkien wrote it. Then he slept.",
            ["J. R. R. Tolkien wrote it.", "Then he slept."],
        ),
        ("Смотри рис. 5 и т.е. всё. Дальше.", ["Смотри рис. 5 и т.е. всё.", "Дальше."]),
        ("Я ем. Ты спишь.", ["Я ем.", "Ты спишь."]),
        ('He said "Go." Then he left.', ['He said "Go."', "Then he left."]),
        ("In 2020. 2021 was worse.", ["In 2020.", "2021 was worse."]),
        ("(Yes.) No.", ["(Yes.)", "No."]),
        ("Hi!\nThere.", ["Hi!", "There."]),
        ("one. two", ["one. two"]),  # no capital after the dot: one sentence
        ("no end at all", ["no end at all"]),
        ("", [""]),
        ("  Hi!  ", ["Hi!"]),
        ("a\x1ebc. Cd", ["a bc.", "Cd"]),  # the reserved mark character is read as a space
    ],
)
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences


def test_a_batch_gives_one_row_per_text():
    texts = tf.constant(["Он пришёл. Он ушёл.", "", "Один."])
    ragged = split_sentences(texts)
    assert isinstance(ragged, tf.RaggedTensor)
    assert ragged.row_lengths().numpy().tolist() == [2, 1, 1]
    assert ragged[0].numpy().tolist() == ["Он пришёл.".encode(), "Он ушёл.".encode()]
    traced = tf.function(split_sentences, input_signature=[tf.TensorSpec([None], tf.string)])
    assert traced(texts).to_list() == ragged.to_list()  # a graph op too


def test_split_sentences_refuses_what_it_cannot_read():
    with pytest.raises(TypeError, match="expects strings, received int32"):
        split_sentences(tf.constant([1, 2]))
    with pytest.raises(ValueError, match=r"a \(batch,\) string tensor or a str"):
        split_sentences(tf.constant([["a"]]))
