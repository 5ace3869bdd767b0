"""Tests for the bundled Russian-English corpus (zoo.data.corpus)."""

import re

import pytest

from zoo.data import _lexicon as lex
from zoo.data import corpus
from zoo.data._grammar import (
    EnVerb,
    RuVerb,
    en_article,
    en_plural,
    en_possessive,
    ru_preposition,
)
from zoo.data.corpus import (
    CORPUS_SPLITS,
    count_phrase,
    en_clause,
    generate_pairs,
    load_pairs,
    load_text,
    np_forms,
    write_corpus,
)

NOUN = {noun.lemma: noun for noun in lex.NOUNS + lex.PLACE_NOUNS}


@pytest.fixture(scope="module")
def pairs():
    return generate_pairs()


@pytest.fixture(scope="module")
def pair_set(pairs):
    return set(pairs)


# ------------------------------------------------------------------------------- the API


def test_deterministic_for_a_seed():
    assert generate_pairs(500, seed=3) == generate_pairs(500, seed=3)
    assert generate_pairs(seed=7) == generate_pairs(seed=7)


def test_seed_changes_order_and_sample_not_content(pairs):
    other = generate_pairs(seed=1)
    assert other != pairs
    assert sorted(other) == sorted(pairs)
    assert generate_pairs(200, seed=0) != generate_pairs(200, seed=1)


def test_sample_is_part_of_the_corpus(pair_set):
    sample = generate_pairs(1000, seed=5)
    assert len(sample) == 1000
    assert len(set(sample)) == 1000
    assert set(sample) <= pair_set
    assert generate_pairs(0) == []


def test_size_and_distinct_pairs(pairs):
    assert len(pairs) >= 12_000
    assert len(set(pairs)) == len(pairs)
    assert len({russian for russian, _ in pairs}) >= 12_000
    assert len({english for _, english in pairs}) >= 10_000


@pytest.mark.parametrize("bad", [-1, 10**9, 2.5, "10", True])
def test_bad_num_pairs(bad):
    with pytest.raises(ValueError, match="num_pairs"):
        generate_pairs(bad)


def test_splits_are_disjoint_on_the_english_side(pairs):
    splits = {split: load_pairs(split) for split in CORPUS_SPLITS}
    english = {split: {en for _, en in rows} for split, rows in splits.items()}
    assert not english["train"] & english["validation"]
    assert not english["train"] & english["test"]
    assert not english["validation"] & english["test"]
    union = [pair for rows in splits.values() for pair in rows]
    assert sorted(union) == sorted(pairs)
    total = len(pairs)
    assert len(splits["train"]) > 0.85 * total
    for split in ("validation", "test"):
        assert 0.03 * total < len(splits[split]) < 0.07 * total


def test_split_membership_does_not_depend_on_seed_or_order():
    assert set(load_pairs("test", seed=1)) == set(load_pairs("test", seed=2))
    assert load_pairs("validation", seed=4) == load_pairs("validation", seed=4)
    members = {split: set(load_pairs(split)) for split in CORPUS_SPLITS}
    for russian, english in generate_pairs(300, seed=9):
        assert (russian, english) in members[corpus.split_of(english)]


def test_lecture_example_is_in_a_split(pair_set):
    example = ("Я изучаю машинное обучение.", "I study machine learning.")
    assert example in pair_set
    assert any(example in load_pairs(split) for split in CORPUS_SPLITS)


def test_direction_swaps_the_tuple():
    ru_en = load_pairs("validation", "ru-en")
    en_ru = load_pairs("validation", "en-ru")
    assert en_ru == [(en, ru) for ru, en in ru_en]


@pytest.mark.parametrize(
    ("load", "arguments", "valid_values"),
    [
        (load_pairs, ("dev",), "train.*validation.*test"),
        (load_pairs, ("train", "ru-de"), "ru-en.*en-ru"),
        (load_text, ("de",), "'ru'.*'en'"),
        (load_text, ("ru", "dev"), "train.*validation.*test"),
    ],
)
def test_unknown_arguments_raise_and_list_the_valid_values(load, arguments, valid_values):
    with pytest.raises(ValueError, match=valid_values):
        load(*arguments)


def test_load_text_gives_distinct_sentences_of_one_side():
    for language, side in (("ru", 0), ("en", 1)):
        text = load_text(language, "test")
        assert len(text) == len(set(text))
        assert set(text) == {pair[side] for pair in load_pairs("test")}


def test_write_corpus(tmp_path):
    paths = write_corpus(tmp_path / "corpus")
    assert sorted(paths) == sorted(CORPUS_SPLITS)
    for split, path in paths.items():
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        assert len(lines) == len(load_pairs(split))
        assert all(line.count("\t") == 1 for line in lines)
        assert tuple(lines[0].split("\t")) == load_pairs(split)[0]


# ----------------------------------------------------------------------- sentence hygiene


def test_every_sentence_is_capitalized_punctuated_and_clean(pairs):
    for russian, english in pairs:
        for sentence in (russian, english):
            assert sentence[0].isupper(), sentence
            assert sentence[-1] in ".?!", sentence
            assert "  " not in sentence, sentence
            assert sentence == sentence.strip(), sentence
            assert " ." not in sentence and " ?" not in sentence, sentence
        assert russian[-1] == english[-1], (russian, english)
        # Russian: Cyrillic letters, digits, punctuation and the hyphen of "по-русски" only.
        assert re.fullmatch(r"[А-Яа-яЁё0-9 ,.?!-]+", russian), russian
        assert re.fullmatch(r"[A-Za-z0-9 ,.?!'-]+", english), english


def test_all_three_final_marks_occur(pairs):
    assert {russian[-1] for russian, _ in pairs} == {".", "?", "!"}


def test_no_one_is_named_twice(pairs):
    """ "Марию зовут Анна." would contradict itself."""
    accusatives = {noun("acc") for noun in lex.NAMES}
    for russian, _ in pairs:
        if " зовут " in russian:
            assert russian.split()[0] not in accusatives, russian


def test_english_pronoun_i_is_capitalized(pairs):
    for _, english in pairs:
        assert not re.search(r"\bi\b", english), english


# ----------------------------------------------------------- morphology: corpus sentences


@pytest.mark.parametrize(
    "pair",
    [
        ("Я изучаю машинное обучение.", "I study machine learning."),
        ("Мы изучаем нейронные сети.", "We study neural networks."),
        ("Она изучает обработку естественного языка.", "She studies natural language processing."),
        # numerals: один/одна, два/две, 2-4 + genitive singular, 5+ / 11 + genitive plural
        ("У меня есть одна книга.", "I have one book."),
        ("У меня есть две книги.", "I have two books."),
        ("У меня есть пять книг.", "I have five books."),
        ("У меня есть одиннадцать книг.", "I have eleven books."),
        ("У меня есть двадцать одна книга.", "I have twenty-one books."),
        ("У неё есть три яблока.", "She has three apples."),
        ("У нас есть пять стульев.", "We have five chairs."),
        ("У него есть два брата.", "He has two brothers."),
        ("У неё есть два ребёнка.", "She has two children."),
        ("У них есть пять детей.", "They have five children."),
        # past tense by gender, and word-order variants with one English side
        ("Вчера она читала книгу.", "She read a book yesterday."),
        ("Она вчера читала книгу.", "She read a book yesterday."),
        ("Вчера он читал газету.", "He read a newspaper yesterday."),
        ("Я вчера читала письмо.", "I read a letter yesterday."),
        ("Вчера они читали журнал.", "They read a magazine yesterday."),
        # animate accusative (masculine singular, all plurals) vs inanimate
        ("Я вижу брата.", "I see my brother."),
        ("Я вижу кота.", "I see a cat."),
        ("Она видит собаку.", "She sees a dog."),
        ("Мы видим кошек.", "We see cats."),
        ("Он видит медведей.", "He sees bears."),
        ("Я жду папу.", "I am waiting for Dad."),
        # prepositional case after в / на
        ("Я живу в городе.", "I live in the city."),
        ("Мы живём в деревне.", "We live in the village."),
        ("Он живёт в Москве.", "He lives in Moscow."),
        # wh-questions with do-support
        ("Где ты живёшь?", "Where do you live?"),
        ("Где он живёт?", "Where does he live?"),
        # English agreement: third-person -s, a/an, progressive
        ("Она читает книги каждый день.", "She reads books every day."),
        ("Я ем яблоко.", "I am eating an apple."),
        ("Он ест апельсин.", "He is eating an orange."),
        # negation and possession, genitive after нет
        ("Я не люблю кофе.", "I don't like coffee."),
        ("Она не любит кошек.", "She doesn't like cats."),
        ("У меня есть собака.", "I have a dog."),
        ("У него нет машины.", "He doesn't have a car."),
        ("У неё нет сестры.", "She doesn't have a sister."),
        # exclamations: "какой" agrees like an adjective; English "what a/an"
        ("Какая интересная книга!", "What an interesting book!"),
        ("Какое вкусное яблоко!", "What a delicious apple!"),
        ("Какие вкусные яблоки!", "What delicious apples!"),
        ("Какой горячий кофе!", "What hot coffee!"),
    ],
)
def test_spot_checks_in_corpus(pair, pair_set):
    assert pair in pair_set


# ------------------------------------------------------------ morphology: the generator


@pytest.mark.parametrize(
    ("number", "lemma", "case", "adjective", "russian", "english"),
    [
        (1, "книга", "nom", None, "одна книга", "one book"),
        (1, "книга", "acc", None, "одну книгу", "one book"),
        (1, "стул", "nom", None, "один стул", "one chair"),
        (1, "яблоко", "nom", None, "одно яблоко", "one apple"),
        (2, "книга", "nom", None, "две книги", "two books"),
        (2, "стул", "nom", None, "два стула", "two chairs"),
        (4, "окно", "nom", None, "четыре окна", "four windows"),
        (5, "книга", "nom", None, "пять книг", "five books"),
        (12, "карандаш", "nom", None, "двенадцать карандашей", "twelve pencils"),
        (21, "книга", "nom", None, "двадцать одна книга", "twenty-one books"),
        (22, "книга", "nom", "новый", "двадцать две новые книги", "twenty-two new books"),
        (3, "стул", "nom", "новый", "три новых стула", "three new chairs"),
        (5, "книга", "nom", "новый", "пять новых книг", "five new books"),
        (2, "ребёнок", "nom", None, "два ребёнка", "two children"),
        (6, "ребёнок", "nom", None, "шесть детей", "six children"),
        (3, "мышь", "nom", None, "три мыши", "three mice"),
        (2, "год", "nom", None, "два года", "two years"),
        (25, "год", "nom", None, "двадцать пять лет", "twenty-five years"),
        (44, "рубль", "nom", None, "сорок четыре рубля", "forty-four rubles"),
        (100, "рубль", "nom", None, "сто рублей", "one hundred rubles"),
    ],
)
def test_numeral_agreement(number, lemma, case, adjective, russian, english):
    adj = lex.ADJ[adjective] if adjective else None
    assert count_phrase(number, NOUN[lemma], case, adj) == (russian, english)


def test_noun_paradigms():
    book, brother, table, child = NOUN["книга"], NOUN["брат"], NOUN["стол"], NOUN["ребёнок"]
    assert [book(case) for case in ("nom", "gen", "dat", "acc", "ins", "prep")] == [
        "книга",
        "книги",
        "книге",
        "книгу",
        "книгой",
        "книге",
    ]
    assert brother("acc") == "брата"  # animate
    assert table("acc") == "стол"  # inanimate
    assert brother("nom", "pl") == "братья"
    assert brother("acc", "pl") == "братьев"
    assert child("ins", "pl") == "детьми"
    assert NOUN["дочь"]("ins") == "дочерью"
    assert NOUN["тетрадь"]("ins") == "тетрадью"
    assert lex.TOPIC_NOUNS["история"]("prep") == "истории"
    assert lex.TOPIC_NOUNS["история"]("ins") == "историей"
    assert NOUN["лекция"]("prep") == "лекции"
    assert NOUN["сообщение"]("prep") == "сообщении"
    assert NOUN["музей"]("ins") == "музеем"
    assert NOUN["учитель"]("nom", "pl") == "учителя"
    assert NOUN["лес"].loc == "лесу"
    assert NOUN["кошка"]("gen", "pl") == "кошек"
    assert NOUN["кафе"]("prep") == "кафе"


def test_adjective_agreement():
    big, blue, good, russian = (lex.ADJ[a] for a in ("большой", "синий", "хороший", "русский"))
    assert np_forms(NOUN["собака"], adj=big)["acc"] == "большую собаку"
    assert np_forms(NOUN["кот"], adj=big)["acc"] == "большого кота"  # animate accusative
    assert np_forms(NOUN["стол"], adj=big)["acc"] == "большой стол"
    assert np_forms(NOUN["город"], adj=big)["prep"] == "большом городе"
    assert np_forms(NOUN["окно"], adj=blue)["ins"] == "синим окном"
    assert np_forms(NOUN["машина"], adj=blue)["gen"] == "синей машины"
    assert np_forms(NOUN["сумка"], "pl", adj=blue)["prep"] == "синих сумках"
    assert np_forms(NOUN["письмо"], adj=good)["nom"] == "хорошее письмо"
    assert np_forms(NOUN["фильм"], adj=good)["gen"] == "хорошего фильма"
    assert np_forms(NOUN["книга"], adj=russian)["ins"] == "русской книгой"
    assert np_forms(NOUN["брат"], "pl", lex.POSSESSIVES["my"])["acc"] == "моих братьев"
    assert np_forms(NOUN["сестра"], det=lex.POSSESSIVES["your"])["acc"] == "твою сестру"
    assert np_forms(NOUN["окно"], det=lex.POSSESSIVES["our"])["prep"] == "нашем окне"
    assert np_forms(NOUN["книга"], "pl", lex.THIS)["gen"] == "этих книг"


def test_verb_paradigms():
    live = RuVerb("жить: живу живёшь живут; жил")
    forms = [live.pres(p, n) for p, n in (("1", "sg"), ("2", "sg"), ("3", "sg"))]
    forms += [live.pres(p, n) for p, n in (("1", "pl"), ("2", "pl"), ("3", "pl"))]
    assert forms == ["живу", "живёшь", "живёт", "живём", "живёте", "живут"]
    assert [live.past(g) for g in ("m", "f", "n")] + [live.past("m", "pl")] == [
        "жил",
        "жила",
        "жило",
        "жили",
    ]
    assert lex.GO_FOOT.past("f") == "шла"
    assert lex.STUDY_AT.pres("2", "pl") == "учитесь"
    assert lex.STUDY_AT.past("f") == "училась"
    assert lex.WANT.pres("3", "sg") == "хочет"
    assert lex.CAN.pres("3", "pl") == "могут"
    assert lex.PLEASE.pres("3", "pl") == "нравятся"
    eat = lex.TRANSITIVE[6]
    assert eat.ipf.pres("3", "sg") == "ест" and eat.pf.pres("3", "pl") == "съедят"


def test_pronouns_in_cases():
    forms = lex.PRONOUNS["я"][0].split()
    assert forms[:7:] == ["я", "меня", "меня", "мне", "мне", "меня", "мной"]
    assert lex.PRONOUNS["он"][0].split()[2] == "него"  # "у него"
    assert ru_preposition("о", "мне") == "обо мне"
    assert ru_preposition("с", "мной") == "со мной"
    assert ru_preposition("о", "истории") == "об истории"
    assert ru_preposition("о", "машинном обучении") == "о машинном обучении"
    assert ru_preposition("в", "Франции") == "во Франции"
    assert ru_preposition("с", "студентом") == "со студентом"
    assert ru_preposition("с", "сестрой") == "с сестрой"


def test_english_morphology():
    assert en_plural("child") == "children"
    assert en_plural("box") == "boxes"
    assert en_plural("city") == "cities"
    assert en_plural("red apple") == "red apples"
    assert en_plural("mouse") == "mice"
    assert [en_article(w) for w in ("apple", "university", "hour", "book", "old car")] == [
        "an",
        "a",
        "an",
        "a",
        "an",
    ]
    assert en_possessive("my brother") == "my brother's"
    assert en_possessive("my parents") == "my parents'"
    read, go, study = EnVerb("read", "read", "read"), EnVerb("go", "went", "gone"), EnVerb("study")
    assert en_clause("she", "3sg", read, "simple", "books") == "she reads books"
    assert en_clause("he", "3sg", go, "simple") == "he goes"
    assert en_clause("she", "3sg", study, "simple", "math") == "she studies math"
    assert en_clause("he", "3sg", EnVerb("live"), "simple", question=True, wh="where") == (
        "where does he live"
    )
    assert en_clause("I", "1sg", read, "prog", "a book") == "I am reading a book"
    assert en_clause("you", "pl", read, "past", "it", question=True) == "did you read it"
    assert en_clause("we", "pl", go, "past", "home") == "we went home"
    assert en_clause("they", "pl", go, "fut", neg=True) == "they won't go"
    assert en_clause("she", "3sg", read, "simple", "it", neg=True) == "she doesn't read it"
    assert en_clause("he", "3sg", read, "perf", "it") == "he has already read it"
    sleep = EnVerb("sleep", "slept", "slept")
    assert en_clause("he", "3sg", sleep, "prog", neg=True, question=True, wh="why") == (
        "why isn't he sleeping"
    )


def test_russian_words_are_real_words(pairs):
    """Every Russian word form of the corpus is known to an independent dictionary."""
    pymorphy3 = pytest.importorskip("pymorphy3")
    analyzer = pymorphy3.MorphAnalyzer()
    words = {w.lower() for russian, _ in pairs for w in re.findall(r"[А-Яа-яЁё-]+", russian)}
    unknown = sorted(w for w in words if not analyzer.word_is_known(w))
    assert not unknown
