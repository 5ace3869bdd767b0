"""Building blocks of the corpus sentences: participants, the English clause, objects,
time adverbs. Private to `zoo.data.corpus`."""

from __future__ import annotations

import dataclasses
import functools

from zoo.data import _lexicon as lex
from zoo.data._grammar import Noun, capitalize, en_with_article, ru_preposition

# ----------------------------------------------------------------------------- participants


@dataclasses.dataclass(eq=False)  # compared by identity, as before
class Person:
    """A participant: a pronoun, a name or a noun phrase, in every case, with its English.

    `ru[case]` gives the form; `ru["gen_p"]` etc. the form after a preposition ("у него").
    `genders` lists the genders a past-tense verb can take ("я" -> m and f).
    """

    key: str
    ru: dict
    person: str
    number: str
    genders: tuple
    en: str
    en_obj: str
    poss: tuple | None  # (person, number) of a possessive inside the phrase, or None
    animate: bool = True

    def __post_init__(self):
        self.is_pronoun = self.key in lex.PRONOUNS

    @property
    def agr(self):
        if self.number == "sg" and self.person == "1":
            return "1sg"
        if self.number == "sg" and self.person == "3":
            return "3sg"
        return "pl"

    def prep(self, preposition, case):
        form = self.ru.get(case + "_p", self.ru[case])
        return ru_preposition(preposition, form)


def _pronoun(key):
    forms, person, number, genders, en, en_obj, _ = lex.PRONOUNS[key]
    names = ("nom", "gen", "gen_p", "dat", "dat_p", "acc", "ins", "ins_p", "prep")
    ru = dict(zip(names, forms.split()))
    genders = ("pl",) if genders == "p" else tuple(genders)
    return Person(key, ru, person, number, genders, en, en_obj, None)


def np_forms(noun, number="sg", det=None, adj=None, tail=""):
    """Russian noun phrase in all cases: {case: "моего старшего брата", ...}."""
    forms = {}
    for case in ("nom", "gen", "dat", "acc", "ins", "prep"):
        words = []
        if det is not None:
            words.append(det(case, noun.gender, number, noun.animate))
        if adj is not None:
            words.append(adj(case, noun.gender, number, noun.animate))
        words.append(noun(case, number))
        if tail:
            words.append(tail)
        forms[case] = " ".join(words)
    return forms


def en_np(noun, number="sg", det=None, adj=None, article=True):
    """English noun phrase: "a new book", "my older brother", "these apples", "coffee"."""
    head = noun.en if number == "sg" else noun.en_pl
    phrase = f"{adj.en} {head}" if adj is not None else head
    if det is not None:
        return f"{det.en if number == 'sg' else det.en_pl} {phrase}"
    if article and number == "sg" and not noun.mass:
        return en_with_article(phrase)
    return phrase


_NOUN = {n.lemma: n for n in lex.NOUNS}
_PLACE = {n.lemma: n for n in lex.PLACE_NOUNS}
_NAMES = {n.lemma: n for n in lex.NAMES}
_MY = lex.POSSESSIVES


def _noun_person(noun, det_key=None, number="sg", adj=None, en=None):
    det = _MY[det_key] if det_key else None
    forms = np_forms(noun, number, det, adj)
    english = en or en_np(noun, number, det, adj)
    genders = ("pl",) if number == "pl" else (noun.gender,)
    key = f"{det_key}:{noun.lemma}:{number}"
    return Person(key, forms, "3", number, genders, english, english, det and det.person)


def _people():
    pronouns = [_pronoun(k) for k in lex.PRONOUNS]
    # "determiner:noun ...": "my:брат" is "мой брат", and "my:друг:pl" "мои друзья".
    table = """
        my:брат my:сестра my:друг my:подруга my:отец my:сын my:дочь my:бабушка my:сосед
        our:учитель your:брат your:сестра your:друг my:друг:pl our:ребёнок:pl
    """
    phrases = []
    for entry in table.split():
        det_key, lemma, number = (entry + ":sg").split(":")[:3]
        phrases.append(_noun_person(_NOUN[lemma], det_key, number))
    parents = Noun("родитель", "m", "parent", animate=True)
    phrases.append(_noun_person(parents, "my", "pl"))
    phrases.append(_noun_person(_NOUN["мама"], en="Mom"))
    phrases.append(_noun_person(_NOUN["папа"], en="Dad"))
    this = lex.THIS
    for lemma in ("студент", "студентка"):
        noun = _NOUN[lemma]
        person = _noun_person(noun)
        person.ru = np_forms(noun, "sg", this)
        person.en = person.en_obj = f"this {noun.en}"
        person.key = f"this:{lemma}"
        phrases.append(person)
    names = [_noun_person(n, en=n.en) for n in lex.NAMES]
    for person, noun in zip(names, lex.NAMES):
        person.key = noun.lemma
    return pronouns, phrases, names


PRONOUN_PEOPLE, PHRASE_PEOPLE, NAME_PEOPLE = _people()
ALL_PEOPLE = PRONOUN_PEOPLE + PHRASE_PEOPLE + NAME_PEOPLE
_BY_KEY = {p.key: p for p in ALL_PEOPLE}


# ---------------------------------------------------------------------------------- English

_BE = {"1sg": "am", "3sg": "is", "pl": "are"}
_BE_PAST = {"1sg": "was", "3sg": "was", "pl": "were"}
_DO = {"1sg": "do", "3sg": "does", "pl": "do"}
_HAVE = {"1sg": "have", "3sg": "has", "pl": "have"}


def en_clause(subject, agr, verb, tense, rest="", neg=False, question=False, wh="", freq=""):
    """English clause without final punctuation.

    tense: "simple" (present), "prog" (present progressive), "past", "fut", "perf".
    question: a yes/no question, or with `wh` a wh-question about the object or place.
    freq: a frequency adverb that goes before the main verb ("usually", "never").
    """
    f = f"{freq} " if freq else ""
    if tense == "simple":
        if question:
            words = [wh, _DO[agr] + ("n't" if neg else ""), subject, f + verb.form("base"), rest]
        elif neg:
            words = [subject, _DO[agr] + "n't", verb.form("base"), rest]
        else:
            words = [subject, f + verb.form("third" if agr == "3sg" else "base"), rest]
    elif tense == "prog":
        be = _BE[agr]
        if question and neg:
            aux = "am I not" if agr == "1sg" else f"{be}n't {subject}"
            words = [wh, aux, verb.form("ing"), rest]
        elif question:
            words = [wh, be, subject, verb.form("ing"), rest]
        else:
            words = [subject, be + (" not" if neg else ""), verb.form("ing"), rest]
    elif tense == "past":
        if question:
            words = [wh, "didn't" if neg else "did", subject, verb.form("base"), rest]
        elif neg:
            words = [subject, "didn't", verb.form("base"), rest]
        else:
            words = [subject, f + verb.form("past"), rest]
    elif tense == "fut":
        if question:
            words = [wh, "will", subject, verb.form("base"), rest]
        else:
            words = [subject, "won't" if neg else "will", verb.form("base"), rest]
    elif tense == "perf":
        words = [subject, _HAVE[agr], "already", verb.form("participle"), rest]
    else:
        raise ValueError(tense)
    return " ".join(w for w in words if w)


def _clause(who, verb, tense, rest="", **options):
    """`en_clause` with `who`'s English subject and agreement (a `Person`)."""
    return en_clause(who.en, who.agr, verb, tense, rest, **options)


def _sentence(text, mark="."):
    return capitalize(" ".join(text.split())) + mark


def _pair(ru, en, mark="."):
    """A raw pair; `_finish` capitalizes and punctuates the ones that go into the corpus."""
    return ru, en, mark


def _finish(raw):
    ru, en, mark = raw
    return _sentence(ru, mark), _sentence(en, mark)


def _say_deny_ask(head, verb, rest, who, en_verb, en_rest):
    """The raw pairs of "{head} {verb} {rest}" in the simple present, its negation and,
    unless `who` (whose English subject and agreement the clause takes) is the speaker,
    its yes/no question: "Я люблю читать" / "Я не люблю читать" / "Ты любишь читать?"."""
    ru = f"{head} {verb} {rest}"
    yield _pair(ru, _clause(who, en_verb, "simple", en_rest))
    yield _pair(f"{head} не {verb} {rest}", _clause(who, en_verb, "simple", en_rest, neg=True))
    if who.person != "1":
        en = _clause(who, en_verb, "simple", en_rest, question=True)
        yield _pair(ru, en, "?")


# --------------------------------------------------------------------------------- objects


class Thing:
    """An object phrase: Russian in all cases, English, number and identity."""

    def __init__(self, ru, en, number="sg", gender="m", key="", person=None, generic=False):
        self.ru = ru  # {case: form}
        self.en = en
        self.number = number
        self.gender = gender
        self.key = key
        self.person = person  # a Person when the object is a participant
        self.generic = generic  # bare plural / mass: fits habitual and negated sentences


def _noun_things(noun, adjectives=True):
    """Object phrases of one noun: "книгу"/"a book", "новую книгу"/"a new book", "книги"."""
    things = [Thing(np_forms(noun), en_np(noun), "sg", noun.gender, noun.lemma, generic=noun.mass)]
    if adjectives:
        for adj in lex.ADJECTIVES:
            if adj.fits & noun.tags:
                things.append(
                    Thing(
                        np_forms(noun, adj=adj),
                        en_np(noun, adj=adj),
                        "sg",
                        noun.gender,
                        noun.lemma,
                        generic=noun.mass,
                    )
                )
    if (not noun.mass and "count" in noun.tags) or "pet" in noun.tags or "fruit" in noun.tags:
        things.append(
            Thing(np_forms(noun, "pl"), noun.en_pl, "pl", noun.gender, noun.lemma, generic=True)
        )
    return things


def _topic_things():
    things = []
    for head, adj, tail, number, english in lex.TOPICS:
        noun = lex.TOPIC_NOUNS[head]
        forms = np_forms(noun, number, None, lex.ADJ[adj] if adj else None, tail)
        things.append(Thing(forms, english, number, noun.gender, english, generic=True))
    return things


TOPIC_THINGS = _topic_things()


def _person_things():
    things = []
    for person in ALL_PEOPLE:
        en = person.en_obj
        things.append(
            Thing(person.ru, en, person.number, person.genders[0], person.key, person=person)
        )
    return things


PERSON_THINGS = _person_things()


@functools.cache
def _objects_for(verb):
    things = []
    for noun in lex.NOUNS:
        if noun.tags & verb.objects and "person" not in noun.tags:
            things.extend(_noun_things(noun))
    if "topic" in verb.objects:
        things.extend(TOPIC_THINGS)
    if "person" in verb.objects:
        things.extend(PERSON_THINGS)
    if verb.en.base in ("open", "close", "wash"):  # "open the window", not "a window"
        for thing in things:
            if thing.en.startswith(("a ", "an ")):
                thing.en = "the " + thing.en.split(" ", 1)[1]
    return tuple(things)


def _object_ru(verb, thing):
    """The object in the verb's case, with its preposition ("о машинном обучении")."""
    if thing.person is not None:
        form = thing.person.ru.get(
            verb.case + ("_p" if verb.prep else ""), thing.person.ru[verb.case]
        )
    else:
        form = thing.ru[verb.case]
    return ru_preposition(verb.prep, form) if verb.prep else form


def _may_take(subject, thing):
    person = thing.person
    if person is None:
        return True
    if person.key == subject.key:
        return False
    if person.is_pronoun and subject.is_pronoun:  # no "я ... меня", "ты ... вас"
        return person.person != subject.person
    if person.poss is not None and subject.is_pronoun:  # no "я ... моего брата"
        return person.poss != (subject.person, subject.number)
    return True


# ---------------------------------------------------------------------------- time adverbs

PAST_TIMES = [
    ("вчера", "yesterday"),
    ("позавчера", "the day before yesterday"),
    ("на прошлой неделе", "last week"),
    ("в прошлом году", "last year"),
    ("вчера вечером", "last night"),
]
FUTURE_TIMES = [
    ("завтра", "tomorrow"),
    ("послезавтра", "the day after tomorrow"),
    ("на следующей неделе", "next week"),
    ("в следующем году", "next year"),
    ("завтра утром", "tomorrow morning"),
]
FREQUENCIES = [
    ("обычно", "usually"),
    ("часто", "often"),
    ("иногда", "sometimes"),
    ("всегда", "always"),
    ("редко", "rarely"),
]
HABITS = [("каждый день", "every day"), ("по вечерам", "in the evenings")]


def _time_variants(subject_ru, rest_ru, adverb):
    """Natural positions of a time adverb: "Вчера я ...", "Я вчера ...", "Я ... вчера"."""
    if " " in adverb:
        return [f"{adverb} {subject_ru} {rest_ru}", f"{subject_ru} {rest_ru} {adverb}"]
    return [f"{adverb} {subject_ru} {rest_ru}", f"{subject_ru} {adverb} {rest_ru}"]


def _timed(subject, verb_phrase, adverb, en):
    """The raw pairs of "{subject} {verb_phrase}" with the time `adverb` in each natural
    position (`_time_variants`), all translated `en`."""
    for ru in _time_variants(subject.ru["nom"], verb_phrase, adverb):
        yield _pair(ru, en)


def _asked(word, subject, rest, case="nom"):
    """Russian question order: after the question `word` a pronoun comes before `rest`
    ("что ты делаешь", "как тебя зовут") and a noun after it ("что делает мама")."""
    head = subject.ru[case]
    return f"{word} {head} {rest}" if subject.is_pronoun else f"{word} {rest} {head}"


def _genders(subject):
    return subject.genders


def _past(verb, subject, gender):
    return verb.past(gender if gender != "pl" else "m", subject.number)


def _future_ipf(verb_inf, subject):
    return f"{lex.BE.pres(subject.person, subject.number)} {verb_inf}"
