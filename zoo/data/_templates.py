"""The template registry and the first sentence templates: clauses, questions, places and
motion, possession, numbers. Private to `zoo.data.corpus`; the registration order is the
corpus order."""

from __future__ import annotations

from zoo.data import _lexicon as lex
from zoo.data._grammar import ru_preposition
from zoo.data._phrases import (
    _BE,
    _BE_PAST,
    _DO,
    _HAVE,
    _MY,
    _NOUN,
    _PLACE,
    FREQUENCIES,
    FUTURE_TIMES,
    HABITS,
    NAME_PEOPLE,
    PAST_TIMES,
    PHRASE_PEOPLE,
    PRONOUN_PEOPLE,
    TOPIC_THINGS,
    _asked,
    _clause,
    _future_ipf,
    _genders,
    _may_take,
    _noun_things,
    _object_ru,
    _objects_for,
    _pair,
    _past,
    _say_deny_ask,
    _timed,
    en_clause,
    en_np,
    np_forms,
)

# ------------------------------------------------------------------------------- templates

_TEMPLATES = {}


def template(cap):
    """Register a template; at most `cap` of its pairs go into the corpus."""

    def register(function):
        _TEMPLATES[function.__name__] = (function, cap)
        return function

    return register


_SUBJECTS = PRONOUN_PEOPLE + PHRASE_PEOPLE + NAME_PEOPLE[:6]


def _some(rng, items, k):
    """At most `k` of `items`, picked by `rng` (keeps the generator fast and varied)."""
    items = list(items)
    return items if len(items) <= k else rng.sample(items, k)


def _transitive_items():
    for verb in lex.TRANSITIVE:
        for thing in _objects_for(verb):
            yield verb, thing


def _present_clauses(rng, subjects, k):
    """`(verb, thing, tense, subject)` for the present: each transitive verb with each thing
    it takes (no generic plural after a progressive), its English tense, and up to `k` of
    `subjects` (picked by `rng`) that may take the thing."""
    for verb, thing in _transitive_items():
        if thing.generic and thing.number == "pl" and verb.style == "prog":
            continue
        tense = "simple" if verb.style == "state" else "prog"
        for subject in _some(rng, subjects, k):
            if _may_take(subject, thing):
                yield verb, thing, tense, subject


@template(cap=2600)
def present_transitive(rng):
    """ "Я читаю книгу." -> "I am reading a book."; "Я изучаю машинное обучение." -> ... ."""
    for verb, thing, tense, subject in _present_clauses(rng, _SUBJECTS, 2):
        ru = f"{subject.ru['nom']} {verb.ipf.pres(subject.person, subject.number)} "
        ru += _object_ru(verb, thing)
        en = _clause(subject, verb.en, tense, thing.en)
        yield _pair(ru, en)


@template(cap=1400)
def habitual(rng):
    """ "Я часто читаю книги." / "Обычно я пью чай." -> "I often read books." ."""
    for verb, thing in _transitive_items():
        if verb.style == "state" or not (thing.generic or thing.person is not None):
            continue
        for subject in _some(rng, _SUBJECTS, 2):
            if not _may_take(subject, thing):
                continue
            vp = f"{verb.ipf.pres(subject.person, subject.number)} {_object_ru(verb, thing)}"
            for ru_adv, en_adv in _some(rng, FREQUENCIES, 1):
                en = _clause(subject, verb.en, "simple", thing.en, freq=en_adv)
                yield _pair(f"{subject.ru['nom']} {ru_adv} {vp}", en)
                if ru_adv in ("обычно", "иногда"):
                    yield _pair(f"{ru_adv} {subject.ru['nom']} {vp}", en)
            for ru_adv, en_adv in _some(rng, HABITS, 1):
                en = _clause(subject, verb.en, "simple", f"{thing.en} {en_adv}")
                yield from _timed(subject, vp, ru_adv, en)


@template(cap=1200)
def negation(rng):
    """ "Я не люблю кофе." -> "I don't like coffee."; "никогда не" -> "never"."""
    items = list(_transitive_items())
    for noun in lex.NOUNS:
        if (noun.mass and noun.tags & {"drink", "food", "listen"}) or "pet" in noun.tags:
            items.extend((lex.LIKE, t) for t in _noun_things(noun, False) if t.generic)
    items.extend((lex.LIKE, t) for t in TOPIC_THINGS)
    for verb, thing in items:
        if not (thing.generic or (thing.person is not None and verb.style == "state")):
            continue
        for subject in _some(rng, _SUBJECTS, 3):
            if not _may_take(subject, thing):
                continue
            vp = f"{verb.ipf.pres(subject.person, subject.number)} {_object_ru(verb, thing)}"
            en = _clause(subject, verb.en, "simple", thing.en, neg=True)
            yield _pair(f"{subject.ru['nom']} не {vp}", en)
            if thing.generic and verb.style != "state":
                en = _clause(subject, verb.en, "simple", thing.en, freq="never")
                yield _pair(f"{subject.ru['nom']} никогда не {vp}", en)


@template(cap=1000)
def likes(rng):
    """ "Я люблю кофе." -> "I like coffee."; "Я люблю кошек." -> "I like cats."."""
    things = list(TOPIC_THINGS)
    for noun in lex.NOUNS:
        if (noun.mass and noun.tags & {"drink", "food", "listen"}) or "pet" in noun.tags:
            things.extend(t for t in _noun_things(noun, False) if t.generic)
        if "fruit" in noun.tags:
            things.extend(t for t in _noun_things(noun, False) if t.generic)
    for thing in things:
        for subject in _SUBJECTS:
            ru = f"{subject.ru['nom']} {lex.LIKE.ipf.pres(subject.person, subject.number)} "
            ru += thing.ru["acc"]
            yield _pair(ru, _clause(subject, lex.LIKE.en, "simple", thing.en))
            if subject.person != "1":
                yield _pair(
                    ru,
                    _clause(subject, lex.LIKE.en, "simple", thing.en, question=True),
                    "?",
                )


@template(cap=1400)
def past_and_future(rng):
    """ "Вчера я читал книгу." / "Я вчера прочитал книгу." -> "I read a book yesterday."."""
    for verb, thing in _transitive_items():
        if thing.generic and thing.number == "pl" and verb.pf is not None:
            continue
        if rng.random() > 0.35:  # the product is large: visit about a third of it
            continue
        for subject in _some(rng, _SUBJECTS, 1):
            if not _may_take(subject, thing):
                continue
            obj = _object_ru(verb, thing)
            # The imperfective, then the perfective where there is one.
            aspects = [(verb.ipf, verb.en)] + ([(verb.pf, verb.en_pf)] if verb.pf else [])
            for ru_adv, en_adv in _some(rng, PAST_TIMES, 1):
                for gender in _genders(subject):
                    for ru_verb, en_verb in aspects:
                        rest = f"{thing.en} {en_adv}"
                        en = _clause(subject, en_verb, "past", rest)
                        vp = f"{_past(ru_verb, subject, gender)} {obj}"
                        yield from _timed(subject, vp, ru_adv, en)
            for ru_adv, en_adv in _some(rng, FUTURE_TIMES, 1):
                for ru_verb, en_verb in aspects:
                    en = _clause(subject, en_verb, "fut", f"{thing.en} {en_adv}")
                    if ru_verb is verb.ipf:  # "буду читать"
                        future = _future_ipf(verb.ipf.inf, subject)
                    else:  # "прочитаю"
                        future = ru_verb.pres(subject.person, subject.number)
                    yield from _timed(subject, f"{future} {obj}", ru_adv, en)


@template(cap=400)
def already_done(rng):
    """ "Я уже прочитал эту книгу." -> "I have already read this book."."""
    for verb in lex.TRANSITIVE:
        if verb.pf is None or verb.case != "acc":
            continue
        for noun in lex.NOUNS:
            if not noun.tags & verb.objects or noun.mass or noun.animate:
                continue
            obj_ru = np_forms(noun, "sg", lex.THIS)["acc"]
            obj_en = f"this {noun.en}"
            for subject in _some(rng, _SUBJECTS, 3):
                for gender in _genders(subject):
                    ru = f"{subject.ru['nom']} уже {_past(verb.pf, subject, gender)} {obj_ru}"
                    en = _clause(subject, verb.en_pf, "perf", obj_en)
                    yield _pair(ru, en)


_QUESTION_SUBJECTS = [p for p in _SUBJECTS if p.person != "1"]


@template(cap=900)
def yes_no_questions(rng):
    """ "Ты читаешь книгу?" -> "Are you reading a book?"; "Ты вчера ...?" -> "Did you ...?"."""
    for verb, thing, tense, subject in _present_clauses(rng, _QUESTION_SUBJECTS, 1):
        obj = _object_ru(verb, thing)
        ru = f"{subject.ru['nom']} {verb.ipf.pres(subject.person, subject.number)} {obj}"
        en = _clause(subject, verb.en, tense, thing.en, question=True)
        yield _pair(ru, en, "?")
        ru_adv, en_adv = PAST_TIMES[0]
        for gender in _genders(subject):
            ru = f"{subject.ru['nom']} {ru_adv} {_past(verb.ipf, subject, gender)} {obj}"
            en = _clause(subject, verb.en, "past", f"{thing.en} {en_adv}", question=True)
            yield _pair(ru, en, "?")


_WH_OBJECT = {  # verb English -> (Russian question word for things, for people)
    "acc": ("что", "кого"),
    "dat": (None, "кому"),
    "prep": ("о чём", "о ком"),
    "ins": (None, "с кем"),
}


@template(cap=700)
def wh_object_questions(rng):
    """ "Что ты читаешь?" -> "What are you reading?"; "Кого ты ждёшь?" -> "Who are you ..."."""
    for verb in lex.TRANSITIVE:
        things = _objects_for(verb)
        kinds = {"thing" for t in things if t.person is None} | {
            "person" for t in things if t.person is not None
        }
        for kind in sorted(kinds):
            word = _WH_OBJECT[verb.case][0 if kind == "thing" else 1]
            if word is None or (verb.en.base == "love" and kind == "person"):
                continue
            en_wh = "what" if kind == "thing" else "who"
            tense = "simple" if verb.style == "state" else "prog"
            for subject in _QUESTION_SUBJECTS:
                vf = verb.ipf.pres(subject.person, subject.number)
                en = _clause(subject, verb.en, tense, question=True, wh=en_wh)
                yield _pair(_asked(word, subject, vf), en, "?")
                if verb.style == "state":
                    continue
                for ru_adv, en_adv in PAST_TIMES[:2]:
                    for gender in _genders(subject):
                        vf = _past(verb.ipf, subject, gender)
                        ru = f"{word} {subject.ru['nom']} {ru_adv} {vf}"
                        en = _clause(
                            subject,
                            verb.en,
                            "past",
                            en_adv,
                            question=True,
                            wh=en_wh,
                        )
                        yield _pair(ru, en, "?")


@template(cap=300)
def who_does(rng):
    """ "Кто читает книгу?" -> "Who is reading a book?"."""
    for verb, thing in _transitive_items():
        if thing.person is not None and thing.person.is_pronoun:
            continue
        tense = "simple" if verb.style == "state" else "prog"
        if thing.generic and thing.number == "pl" and tense == "prog":
            continue
        ru = f"кто {verb.ipf.pres('3', 'sg')} {_object_ru(verb, thing)}"
        yield _pair(ru, en_clause("who", "3sg", verb.en, tense, thing.en), "?")


# ---------------------------------------------------------------------------- places, motion


def _place_phrases():
    """(Russian "в парке", English "in the park", Russian "в парк", English "to the park")."""
    phrases = []
    for lemma, prep, en_at, en_to in lex.PLACES:
        noun = _PLACE[lemma]
        at = noun.loc or noun("prep")
        phrases.append((f"{prep} {at}", en_at, f"{prep} {noun('acc')}", en_to))
    return phrases


PLACE_PHRASES = _place_phrases()
CITY_PHRASES = [
    (ru_preposition("в", n("prep")), f"in {n.en}", ru_preposition("в", n("acc")), f"to {n.en}")
    for n in lex.CITIES
]
HOME = ("дома", "at home", "домой", "home")
_SETTLEMENT_ADJ = ["большой", "маленький", "красивый", "старый"]


@template(cap=900)
def live_work_study(rng):
    """ "Я живу в Москве." -> "I live in Moscow."; "Где ты живёшь?" -> "Where do you live?"."""
    live = lex.E("live")
    work = lex.E("work")
    study = lex.E("study")
    homes = list(CITY_PHRASES)
    for lemma in ("город", "деревня"):
        noun = _PLACE[lemma]
        for adj_lemma in _SETTLEMENT_ADJ:
            adj = lex.ADJ[adj_lemma]
            ru = "в " + np_forms(noun, adj=adj)["prep"]
            homes.append((ru, "in " + en_np(noun, adj=adj), None, None))
    workplaces = [p for p in PLACE_PHRASES if p[1].startswith("at ")] + [HOME]
    studyplaces = [p for p in PLACE_PHRASES if p[3] in ("to school", "to the university")]
    for ru_verb, en_verb, places in (
        (lex.LIVE, live, homes),
        (lex.WORK, work, workplaces),
        (lex.STUDY_AT, study, studyplaces),
    ):
        for subject in _SUBJECTS:
            vf = ru_verb.pres(subject.person, subject.number)
            for place_ru, place_en, _, _ in _some(rng, places, 5):
                yield from _say_deny_ask(
                    subject.ru["nom"], vf, place_ru, subject, en_verb, place_en
                )
                for gender in _genders(subject):
                    vp = f"{_past(ru_verb, subject, gender)} {place_ru}"
                    en = f"{subject.en} used to {en_verb.base} {place_en}"
                    yield _pair(f"раньше {subject.ru['nom']} {vp}", en)
                    en = _clause(subject, en_verb, "past", f"{place_en} last year")
                    yield from _timed(subject, vp, "в прошлом году", en)
            if subject.person != "1":
                en = _clause(subject, en_verb, "simple", question=True, wh="where")
                yield _pair(_asked("где", subject, vf), en, "?")


@template(cap=800)
def be_somewhere(rng):
    """ "Я дома." -> "I am at home."; "Вчера я был в театре."; "Его нет дома."."""
    places = [(p[0], p[1]) for p in PLACE_PHRASES + CITY_PHRASES] + [HOME[:2]]
    for subject in _SUBJECTS:
        be = _BE[subject.agr]
        for place_ru, place_en in _some(rng, places, 6):
            yield _pair(f"{subject.ru['nom']} {place_ru}", f"{subject.en} {be} {place_en}")
            yield _pair(
                f"сейчас {subject.ru['nom']} {place_ru}", f"{subject.en} {be} {place_en} now"
            )
            if subject.person != "1":
                yield _pair(f"{subject.ru['nom']} {place_ru}", f"{be} {subject.en} {place_en}", "?")
            if subject.person == "3":
                yield _pair(
                    f"{subject.ru['gen']} нет {place_ru}", f"{subject.en} {be} not {place_en}"
                )
            for gender in _genders(subject):
                was = lex.BE.past(gender if gender != "pl" else "m", subject.number)
                en = f"{subject.en} {_BE_PAST[subject.agr]} {place_en} yesterday"
                yield from _timed(subject, f"{was} {place_ru}", "вчера", en)
            will = lex.BE.pres(subject.person, subject.number)
            en = f"{subject.en} will be {place_en} tomorrow"
            yield from _timed(subject, f"{will} {place_ru}", "завтра", en)
        if subject.person != "1":
            yield _pair(f"где {subject.ru['nom']}", f"where {be} {subject.en}", "?")
            for gender in _genders(subject):
                was = lex.BE.past(gender if gender != "pl" else "m", subject.number)
                yield _pair(
                    f"где {subject.ru['nom']} {was} вчера",
                    f"where {_BE_PAST[subject.agr]} {subject.en} yesterday",
                    "?",
                )


_RIDE_PLACES = {"to the village", "to the airport"}


@template(cap=900)
def motion(rng):
    """ "Я иду в школу." -> "I am going to school."; "Вчера я ходил в кино." -> "... went ..."."""
    go = lex.E("go", "went", "gone")
    places = [(p[2], p[3], p[3] in _RIDE_PLACES) for p in PLACE_PHRASES]
    places += [(p[2], p[3], True) for p in CITY_PHRASES]
    places.append((HOME[2], HOME[3], False))
    for subject in _SUBJECTS:
        p, n = subject.person, subject.number
        for place_ru, place_en, ride in _some(rng, places, 6):
            now = (lex.GO_RIDE if ride else lex.GO_FOOT).pres(p, n)
            habit = lex.GO_RIDE_HABIT if ride else lex.GO_FOOT_HABIT
            pf = lex.GO_RIDE_PF if ride else lex.GO_FOOT_PF
            ru = f"{subject.ru['nom']} {now} {place_ru}"
            yield _pair(ru, _clause(subject, go, "prog", place_en))
            yield _pair(f"сейчас {ru}", _clause(subject, go, "prog", place_en + " now"))
            if p != "1":
                yield _pair(ru, _clause(subject, go, "prog", place_en, question=True), "?")
            vp = f"{habit.pres(p, n)} {place_ru}"
            en = _clause(subject, go, "simple", f"{place_en} every day")
            yield from _timed(subject, vp, "каждый день", en)
            for ru_adv, en_adv in FREQUENCIES[1:3]:
                en = _clause(subject, go, "simple", place_en, freq=en_adv)
                yield _pair(f"{subject.ru['nom']} {ru_adv} {vp}", en)
            if place_ru != "домой":
                for gender in _genders(subject):
                    vp = f"{_past(habit, subject, gender)} {place_ru}"
                    en = _clause(subject, go, "past", f"{place_en} yesterday")
                    yield from _timed(subject, vp, "вчера", en)
            vp = f"{pf.pres(p, n)} {place_ru}"
            en = _clause(subject, go, "fut", f"{place_en} tomorrow")
            yield from _timed(subject, vp, "завтра", en)
        if p != "1":
            now = lex.GO_FOOT.pres(p, n)
            en = _clause(subject, go, "prog", question=True, wh="where")
            yield _pair(_asked("куда", subject, now), en, "?")
            for gender in _genders(subject):
                ru = f"куда {subject.ru['nom']} {_past(lex.GO_FOOT_HABIT, subject, gender)} вчера"
                en = _clause(subject, go, "past", "yesterday", question=True, wh="where")
                yield _pair(ru, en, "?")
    friend = _NOUN["друг"]
    for subject in PRONOUN_PEOPLE:
        for place_ru, place_en, _ in places[:14]:
            now = lex.GO_FOOT.pres(subject.person, subject.number)
            ru = f"{subject.ru['nom']} {now} {place_ru} {ru_preposition('с', friend('ins'))}"
            yield _pair(ru, _clause(subject, go, "prog", f"{place_en} with a friend"))


_SURFACES = [  # where small things lie: Russian, English
    ("на " + _NOUN["стол"]("prep"), "on the table"),
    ("на " + _NOUN["диван"]("prep"), "on the sofa"),
    ("на " + _NOUN["кровать"]("prep"), "on the bed"),
    ("на " + _NOUN["стул"]("prep"), "on the chair"),
    ("на " + _NOUN["пол"].loc, "on the floor"),
    ("в " + _NOUN["сумка"]("prep"), "in the bag"),
    ("в " + _NOUN["рюкзак"]("prep"), "in the backpack"),
    ("в " + _NOUN["шкаф"].loc, "in the wardrobe"),
    ("под " + _NOUN["стол"]("ins"), "under the table"),
    ("под " + _NOUN["кровать"]("ins"), "under the bed"),
    ("под " + _NOUN["диван"]("ins"), "under the sofa"),
]


@template(cap=600)
def where_things_are(rng):
    """ "Книга лежит на столе." -> "The book is on the table."; "Где мои ключи?"."""
    for noun in lex.NOUNS:
        if "small" not in noun.tags or noun.mass:
            continue
        for number in ("sg", "pl"):
            head = noun.en if number == "sg" else noun.en_pl
            be = "is" if number == "sg" else "are"
            lies = lex.LIE.pres("3", number)
            for det_key in (None, "my", "your"):
                det = _MY[det_key] if det_key else None
                ru_np = np_forms(noun, number, det)["nom"]
                en_np_ = f"{det.en} {head}" if det else f"the {head}"
                for place_ru, place_en in _SURFACES:
                    if place_en.endswith(noun.en):
                        continue
                    yield _pair(f"{ru_np} {lies} {place_ru}", f"{en_np_} {be} {place_en}")
                yield _pair(f"где {ru_np}", f"where {be} {en_np_}", "?")


# ------------------------------------------------------------------------------ possession


def _possessors():
    """(Russian "у меня", English subject, agreement)."""
    result = []
    for person in _SUBJECTS:
        result.append((person.prep("у", "gen"), person.en, person.agr, person))
    return result


POSSESSORS = _possessors()
_OWNABLE = [
    "собака",
    "кошка",
    "кот",
    "попугай",
    "хомяк",
    "машина",
    "велосипед",
    "дом",
    "квартира",
    "компьютер",
    "ноутбук",
    "телефон",
    "брат",
    "сестра",
    "сын",
    "дочь",
    "зонт",
    "рюкзак",
    "сумка",
    "билет",
    "диван",
    "словарь",
]


def _ownable_things():
    things = []
    for lemma in _OWNABLE:
        noun = _NOUN.get(lemma)
        if noun is None:
            continue
        things.append((np_forms(noun), en_np(noun), noun))
        for adj in lex.ADJECTIVES:
            if adj.fits & noun.tags and adj.lemma not in ("хороший", "старый"):
                things.append((np_forms(noun, adj=adj), en_np(noun, adj=adj), noun))
    return things


OWNABLE_THINGS = _ownable_things()
_HAVE_VERB = lex.E("have", "had", "had", "having")


@template(cap=1300)
def possession(rng):
    """ "У меня есть собака." -> "I have a dog."; "У меня нет машины."; "У меня была ..."."""
    for forms, english, noun in OWNABLE_THINGS:
        for owner_ru, owner_en, agr, owner in _some(rng, POSSESSORS, 4):
            if owner.key.endswith(":" + noun.lemma + ":sg"):
                continue
            if "family" in noun.tags and owner.number == "pl":
                continue
            yield _pair(f"{owner_ru} есть {forms['nom']}", f"{owner_en} {_HAVE[agr]} {english}")
            if owner.person != "1":
                en = en_clause(owner_en, agr, _HAVE_VERB, "simple", english, question=True)
                yield _pair(f"{owner_ru} есть {forms['nom']}", en, "?")
            en_neg = en_clause(owner_en, agr, _HAVE_VERB, "simple", english, neg=True)
            yield _pair(f"{owner_ru} нет {forms['gen']}", en_neg)
            was = lex.BE.past(noun.gender)
            yield _pair(f"{owner_ru} {was} {forms['nom']}", f"{owner_en} had {english}")
            en = en_clause(owner_en, agr, _HAVE_VERB, "past", english, neg=True)
            yield _pair(f"{owner_ru} не было {forms['gen']}", en)
            yield _pair(f"{owner_ru} будет {forms['nom']}", f"{owner_en} will have {english}")
    for owner_ru, owner_en, agr, _ in POSSESSORS:
        for noun in lex.NOUNS:
            if noun.mass and noun.tags & {"drink", "food"}:
                en = en_clause(owner_en, agr, _HAVE_VERB, "simple", f"any {noun.en}", neg=True)
                yield _pair(f"{owner_ru} нет {noun('gen')}", en)


# --------------------------------------------------------------------------------- numbers


def number_words(n):
    """Russian numeral words before the last digit's agreeing word, and English words."""
    if n == 100:
        return "сто", "one hundred"
    tens, unit = divmod(n, 10)
    if 10 <= n < 20:
        return lex.TEENS[n]
    parts_ru, parts_en = [], []
    if tens:
        ru_tens, en_tens = lex.TENS[tens * 10]
        parts_ru.append(ru_tens)
        parts_en.append(en_tens)
    en_units = {1: "one", 2: "two"}
    if unit:
        en_unit = en_units.get(unit) or lex.UNITS[unit][1]
        return " ".join(parts_ru), "-".join([*parts_en, en_unit])
    return " ".join(parts_ru), "-".join(parts_en)


def count_phrase(n, noun, case="nom", adj=None):
    """ "двадцать одна новая книга" / "two new books" (case "nom" or inanimate "acc")."""
    ru_head, en_number = number_words(n)
    unit = n % 10
    words = [ru_head] if ru_head else []
    if 10 <= n % 100 < 20:
        agreement = "many"
    elif unit == 1:
        agreement = "one"
    elif unit in (2, 3, 4):
        agreement = "few"
    else:
        agreement = "many"
    if not 10 <= n % 100 < 20 and unit:
        if unit == 1:
            words.append(lex.ONE[noun.gender][1 if case == "acc" else 0])
        elif unit == 2:
            words.append(lex.TWO[noun.gender])
        else:
            words.append(lex.UNITS[unit][0])
    if agreement == "one":
        if adj is not None:
            words.append(adj(case, noun.gender, "sg", noun.animate))
        words.append(noun(case, "sg"))
    elif agreement == "few":
        if adj is not None:
            adj_case = "nom" if noun.gender == "f" else "gen"
            words.append(adj(adj_case, noun.gender, "pl", False))
        words.append(noun("gen", "sg"))
    else:
        if adj is not None:
            words.append(adj("gen", noun.gender, "pl", False))
        words.append(noun("gen", "pl"))
    head = noun.en if n == 1 else noun.en_pl
    if adj is not None:
        head = f"{adj.en} {head}"
    return " ".join(words), f"{en_number} {head}"


NUMBERS = [*range(1, 13), 14, 15, *range(20, 26), 30, 31, 32, 35, 40, 41, 44, 50, 100]
_COUNTABLE = [
    "книга",
    "журнал",
    "письмо",
    "яблоко",
    "банан",
    "апельсин",
    "груша",
    "огурец",
    "помидор",
    "яйцо",
    "ручка",
    "карандаш",
    "тетрадь",
    "стул",
    "окно",
    "чашка",
    "билет",
    "ключ",
    "сумка",
    "рубашка",
    "компьютер",
    "телефон",
    "картина",
    "лампа",
    "конфета",
    "бутерброд",
    "подарок",
    "фотография",
    "песня",
    "фильм",
]
_COUNTED_PEOPLE = [
    "брат",
    "сестра",
    "сын",
    "дочь",
    "ребёнок",
    "друг",
    "подруга",
    "кошка",
    "собака",
    "кот",
    "попугай",
]
_COUNT_ADJ = [
    "новый",
    "старый",
    "большой",
    "маленький",
    "красный",
    "синий",
    "интересный",
    "хороший",
    "свежий",
]


@template(cap=1500)
def numbers(rng):
    """ "У меня есть две книги." -> "I have two books."; "Я купил пять яблок."."""
    buy = lex.E("buy", "bought", "bought")
    for lemma in _COUNTABLE + _COUNTED_PEOPLE:
        noun = _NOUN[lemma]
        adjs = [None] + [lex.ADJ[a] for a in _COUNT_ADJ if lex.ADJ[a].fits & noun.tags]
        for n in _some(rng, NUMBERS, 12):
            if n > 6 and lemma in _COUNTED_PEOPLE:
                continue
            for adj in _some(rng, adjs, 2):
                ru, en = count_phrase(n, noun, "nom", adj)
                for owner_ru, owner_en, agr, _ in _some(rng, POSSESSORS, 2):
                    yield _pair(f"{owner_ru} есть {ru}", f"{owner_en} {_HAVE[agr]} {en}")
                    yield _pair(f"{owner_ru} {ru}", f"{owner_en} {_HAVE[agr]} {en}")
                if lemma in _COUNTED_PEOPLE:
                    continue
                be = "is" if n == 1 else "are"
                yield _pair(f"на столе {ru}", f"there {be} {en} on the table")
                yield _pair(f"в комнате {ru}", f"there {be} {en} in the room")
                ru_acc, _ = count_phrase(n, noun, "acc", adj)
                for subject in _some(rng, PRONOUN_PEOPLE, 1):
                    for gender in _genders(subject):
                        vf = _past(lex.TRANSITIVE[2].pf, subject, gender)
                        en_buy = _clause(subject, buy, "past", en)
                        yield _pair(f"{subject.ru['nom']} {vf} {ru_acc}", en_buy)
        for owner_ru, owner_en, agr, _ in _some(rng, POSSESSORS, 5):
            en = f"how many {noun.en_pl} {_DO[agr]} {owner_en} have"
            yield _pair(f"сколько {owner_ru} {noun('gen', 'pl')}", en, "?")


_PRICED = [
    lemma for lemma in _COUNTABLE if lemma not in ("окно", "письмо", "песня", "фильм", "фотография")
]
_PRICED += ["машина", "велосипед", "зонт", "куртка", "платье", "рюкзак"]
_RUBLE = _NOUN["рубль"]
_YEAR = _NOUN["год"]


@template(cap=900)
def age_and_price(rng):
    """ "Мне двадцать один год." -> "I am twenty-one years old."; "Книга стоит сто рублей."."""
    ages = [2, 3, 4, 5, 7, 10, 18, 19, *range(20, 26), 27, 30, 31, 33, 34]
    ages += [40, 41, 45, 52, 60, 64, 71, 85]
    for person in _SUBJECTS:
        dat = person.ru["dat"]
        be = _BE[person.agr]
        lemma = person.key.split(":")[1] if ":" in person.key else ""
        for n in ages:
            if n < 18 and lemma not in ("сын", "дочь"):
                continue
            if n < 60 and lemma in ("бабушка", "дедушка"):
                continue
            ru, en = count_phrase(n, _YEAR)
            yield _pair(f"{dat} {ru}", f"{person.en} {be} {en} old")
        if person.person != "1":
            yield _pair(_asked("сколько", person, "лет", "dat"), f"how old {be} {person.en}", "?")
    prices = [1, 2, 3, 5, 10, 21, 22, 25, 30, 44, 50, 100]
    for lemma in _PRICED:
        noun = _NOUN[lemma]
        for number in ("sg", "pl"):
            subj_ru = np_forms(noun, number, lex.THIS)["nom"]
            subj_en = en_np(noun, number, lex.THIS)
            cost_ru = lex.COST.pres("3", number)
            cost_en = "costs" if number == "sg" else "cost"
            for n in prices:
                ru, en = count_phrase(n, _RUBLE)
                yield _pair(f"{subj_ru} {cost_ru} {ru}", f"{subj_en} {cost_en} {en}")
            does = "does" if number == "sg" else "do"
            yield _pair(f"сколько {cost_ru} {subj_ru}", f"how much {does} {subj_en} cost", "?")
