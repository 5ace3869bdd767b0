import numpy as np
import pytest

from zoo.data import entity_f1, entity_spans, read_conll, split_words, tagging_arrays

TAGS = {"O": 0, "B-PER": 1, "I-PER": 2, "B-LOC": 3, "I-LOC": 4}


@pytest.fixture(scope="module")
def tokenizer():
    from zoo.text import WordPieceTokenizer

    texts = ["Anna lives in Paris", "Oleg visits Novosibirsk often"] * 5
    return WordPieceTokenizer.train(texts, 40, verbose=False)


def test_first_subword_is_labelled_and_the_rest_ignored(tokenizer):
    words = ["Anna", "visits", "Novosibirsk"]
    features, labels, weights, positions = tagging_arrays(
        [words], [["B-PER", "O", "B-LOC"]], tokenizer, 32, TAGS, return_positions=True
    )
    pieces = [len(tokenizer.tokenize([word]).to_list()[0]) for word in words]
    assert max(pieces) > 1  # a small vocabulary splits some word into several pieces
    ids = features["token_ids"][0]
    assert ids[0] == tokenizer.cls_token_id
    expected = [1 + sum(pieces[:i]) for i in range(3)]
    assert positions == [expected]
    assert ids[1 + sum(pieces)] == tokenizer.sep_token_id
    assert features["padding_mask"][0].sum() == 2 + sum(pieces)
    assert labels[0, expected].tolist() == [1, 0, 3]
    assert weights[0, expected].tolist() == [1.0, 1.0, 1.0]
    assert weights.sum() == 3  # continuation pieces, [CLS], [SEP] and padding: weight 0
    others = np.ones(32, bool)
    others[expected] = False
    assert (labels[0, others] == -100).all()


def test_long_sentences_are_cut_before_sep(tokenizer):
    words = ["Anna", "lives", "in", "Paris"] * 10
    features, _, weights, positions = tagging_arrays(
        [words], [["B-PER", "O", "O", "B-LOC"] * 10], tokenizer, 8, TAGS, return_positions=True
    )
    assert features["padding_mask"][0].sum() == 8
    assert features["token_ids"][0, -1] == tokenizer.sep_token_id
    assert positions[0][-1] == -1 and weights.sum() == sum(p >= 0 for p in positions[0])


def test_unknown_tags_and_mismatched_lengths_are_refused(tokenizer):
    with pytest.raises(ValueError, match="B-ORG"):
        tagging_arrays([["Anna"]], [["B-ORG"]], tokenizer, 8, TAGS)
    with pytest.raises(ValueError, match="one tag per word"):
        tagging_arrays([["Anna", "lives"]], [["B-PER"]], tokenizer, 8, TAGS)


def test_entity_spans_follow_seqeval():
    assert entity_spans(["B-PER", "I-PER", "O"]) == {("PER", 0, 2)}
    # I- without B- starts an entity
    assert entity_spans(["O", "I-LOC", "I-LOC"]) == {("LOC", 1, 3)}
    # adjacent entities: B- after B-, and a type change inside I-
    assert entity_spans(["B-PER", "B-PER", "I-PER"]) == {("PER", 0, 1), ("PER", 1, 3)}
    assert entity_spans(["B-PER", "I-LOC"]) == {("PER", 0, 1), ("LOC", 1, 2)}
    assert entity_spans(["O", "O"]) == set()


def test_entity_f1_counts_exact_matches_only():
    truth = [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "B-LOC"]]
    guess = [["B-PER", "O", "O", "B-LOC"], ["B-LOC", "B-LOC"]]
    scores = entity_f1(truth, guess)
    assert scores["true_entities"] == 4 and scores["predicted_entities"] == 4
    assert scores["correct_entities"] == 3  # the short PER span is a wrong boundary
    assert scores["precision"] == scores["recall"] == scores["f1"] == 0.75
    assert entity_f1(truth, truth)["f1"] == 1.0
    assert entity_f1([["O"]], [["O"]])["f1"] == 0.0
    assert entity_f1([["B-PER"]], [["B-LOC"]])["f1"] == 0.0
    with pytest.raises(ValueError):
        entity_f1([["O"]], [["O", "O"]])


def test_split_words_splits_punctuation():
    assert split_words("Анна живёт в Москве, да?") == [
        "Анна",
        "живёт",
        "в",
        "Москве",
        ",",
        "да",
        "?",
    ]


def test_read_conll_skips_docstart_and_counts_bad_lines(tmp_path):
    path = tmp_path / "train.conll"
    path.write_text(
        "-DOCSTART- -X- O O\n\nAnna NNP B-PER\nlives VBZ O\n\nParis NNP B-LOC\nbroken\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="1 bad line"):
        read_conll(str(path))
    report = []
    with pytest.warns(UserWarning, match="skipped 1 bad"):
        sentences, tags = read_conll(str(path), max_bad_rows=1, report=report)
    assert sentences == [["Anna", "lives"], ["Paris"]]
    assert tags == [["B-PER", "O"], ["B-LOC"]]
    assert report[0][1:] == (1, 7)
