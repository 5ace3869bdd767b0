"""More sentence templates, registered after those of `zoo.data._templates`: likes, wants,
"это" and adjectives, instrumental and dative, activities, exclamations, and the showcase of
fixed core sentences. Private to `zoo.data.corpus`."""

from __future__ import annotations

from zoo.data import _lexicon as lex
from zoo.data._grammar import Adjective, en_possessive, en_with_article, ru_preposition
from zoo.data._phrases import (
    _BE,
    _BE_PAST,
    _BY_KEY,
    _HAVE,
    _MY,
    _NOUN,
    FUTURE_TIMES,
    NAME_PEOPLE,
    PAST_TIMES,
    PHRASE_PEOPLE,
    PRONOUN_PEOPLE,
    TOPIC_THINGS,
    Thing,
    _asked,
    _clause,
    _future_ipf,
    _genders,
    _may_take,
    _objects_for,
    _pair,
    _past,
    _say_deny_ask,
    _timed,
    en_clause,
    en_np,
    np_forms,
)
from zoo.data._templates import (
    _HAVE_VERB,
    _QUESTION_SUBJECTS,
    _SUBJECTS,
    _SURFACES,
    CITY_PHRASES,
    PLACE_PHRASES,
    _some,
    count_phrase,
    template,
)

# ------------------------------------------------------------------------ likes, wants, can


def _likeable():
    things = list(TOPIC_THINGS)
    for noun in lex.NOUNS:
        if noun.mass and noun.tags & {"drink", "food", "listen"}:
            things.append(Thing(np_forms(noun), noun.en, "sg", noun.gender, noun.lemma))
        if noun.tags & {"pet", "fruit"}:
            things.append(Thing(np_forms(noun, "pl"), noun.en_pl, "pl", noun.gender, noun.lemma))
        if noun.tags & {"read", "watch", "listen", "wear"} and not noun.mass:
            for number in ("sg", "pl"):
                things.append(
                    Thing(
                        np_forms(noun, number, lex.THIS),
                        en_np(noun, number, lex.THIS),
                        number,
                        noun.gender,
                        noun.lemma,
                    )
                )
    return things


LIKEABLE = _likeable()
_LIKE = lex.E("like")


@template(cap=1200)
def pleases(rng):
    """ "Мне нравится эта книга." -> "I like this book."; "Мне понравился фильм."."""
    for person in _SUBJECTS:
        dat = person.ru["dat"]
        for thing in _some(rng, LIKEABLE, 14):
            gn = "pl" if thing.number == "pl" else thing.gender
            pres = lex.PLEASE.pres("3", thing.number)
            past = lex.PLEASE_PF.past(gn if gn != "pl" else "m", thing.number)
            yield from _say_deny_ask(dat, pres, thing.ru["nom"], person, _LIKE, thing.en)
            if thing.en.startswith(("this", "these")):
                yield _pair(
                    f"{dat} {past} {thing.ru['nom']}",
                    _clause(person, _LIKE, "past", thing.en),
                )


@template(cap=700)
def like_to_do(rng):
    """ "Я люблю читать." -> "I like to read."; "Она не любит танцевать."."""
    for subject in _SUBJECTS:
        vf = lex.LIKE.ipf.pres(subject.person, subject.number)
        for ru_inf, en_verb in lex.ACTIVITIES:
            rest = f"to {en_verb.form('base')}"
            yield from _say_deny_ask(subject.ru["nom"], vf, ru_inf, subject, _LIKE, rest)
            if ru_inf not in lex.SKILLS:
                continue
            skill = lex.CAN_SKILL.pres(subject.person, subject.number)
            base = en_verb.form("base")
            yield _pair(f"{subject.ru['nom']} {skill} {ru_inf}", f"{subject.en} can {base}")
            yield _pair(f"{subject.ru['nom']} не {skill} {ru_inf}", f"{subject.en} can't {base}")
            if subject.person != "1":
                yield _pair(
                    f"{subject.ru['nom']} {skill} {ru_inf}", f"can {subject.en} {base}", "?"
                )


_WANT = lex.E("want")


def _wanted_actions():
    """(Russian infinitive phrase, English base phrase) for "хочу ..." ."""
    actions = [(ru, en.form("base")) for ru, en in lex.ACTIVITIES]
    for verb in lex.TRANSITIVE:
        if verb.case != "acc" or "person" in verb.objects:
            continue
        ru_verb = verb.pf or verb.ipf
        en_verb = verb.en_pf if verb.pf else verb.en
        for thing in _objects_for(verb):
            if thing.number == "pl" and thing.generic:
                continue
            actions.append(
                (f"{ru_verb.inf} {thing.ru['acc']}", f"{en_verb.form('base')} {thing.en}")
            )
    go = lex.E("go", "went", "gone")
    for _, _, to_ru, to_en in PLACE_PHRASES:
        actions.append((f"пойти {to_ru}", f"{go.base} {to_en}"))
    for _, _, to_ru, to_en in CITY_PHRASES:
        actions.append((f"поехать {to_ru}", f"{go.base} {to_en}"))
    for noun in lex.NOUNS:
        if "prof" in noun.tags:
            actions.append((f"стать {noun('ins')}", f"become {en_with_article(noun.en)}"))
    return actions


WANTED = _wanted_actions()


@template(cap=1300)
def wants(rng):
    """ "Я хочу изучать машинное обучение." -> "I want to study machine learning."."""
    wanted = WANTED + [(f"изучать {t.ru['acc']}", f"study {t.en}") for t in TOPIC_THINGS]
    for ru_inf, en_base in wanted:
        if rng.random() > 0.5:
            continue
        for subject in _some(rng, _SUBJECTS, 2):
            vf = lex.WANT.pres(subject.person, subject.number)
            rest = f"to {en_base}"
            yield from _say_deny_ask(subject.ru["nom"], vf, ru_inf, subject, _WANT, rest)
            for gender in _genders(subject):
                yield _pair(
                    f"{subject.ru['nom']} {_past(lex.WANT, subject, gender)} {ru_inf}",
                    f"{subject.en} wanted {rest}",
                )


# ------------------------------------------------------------------------ "это", adjectives


@template(cap=1100)
def this_is(rng):
    """ "Это моя новая машина." -> "This is my new car."; "Это книга моего брата."."""
    owners = [p for p in PHRASE_PEOPLE + NAME_PEOPLE if p.number == "sg" or p.poss]
    for noun in lex.NOUNS:
        if noun.mass or not noun.tags & {"buy", "small", "vehicle", "building", "pet"}:
            continue
        adjs = [None] + [a for a in lex.ADJECTIVES if a.fits & noun.tags][:4]
        for adj in adjs:
            for number in ("sg", "pl"):
                this_en = "this is" if number == "sg" else "these are"
                is_this = "is this" if number == "sg" else "are these"
                plain_ru = np_forms(noun, number, adj=adj)["nom"]
                plain_en = en_np(noun, number, adj=adj)
                yield _pair(f"это {plain_ru}", f"{this_en} {plain_en}")
                for det_key in _some(rng, ("my", "your", "our", "his", "her", "their"), 2):
                    det = _MY[det_key]
                    ru = np_forms(noun, number, det, adj)["nom"]
                    en = en_np(noun, number, det, adj)
                    yield _pair(f"это {ru}", f"{this_en} {en}")
                    yield _pair(f"это не {ru}", f"{this_en} not {en}")
                    yield _pair(f"это {ru}", f"{is_this} {en}", "?")
                if adj is None:
                    yield _pair(
                        f"чья это {plain_ru}"
                        if number == "sg" and noun.gender == "f"
                        else f"{_WHOSE[number, noun.gender]} это {plain_ru}",
                        f"whose {plain_en if number == 'pl' else noun.en} {is_this}",
                        "?",
                    )
                    for owner in _some(rng, owners, 3):
                        en_owner = en_possessive(owner.en)
                        head = noun.en if number == "sg" else noun.en_pl
                        yield _pair(
                            f"это {plain_ru} {owner.ru['gen']}", f"{this_en} {en_owner} {head}"
                        )
    for person in PHRASE_PEOPLE + NAME_PEOPLE:
        be = "this is" if person.number == "sg" else "these are"
        yield _pair(f"это {person.ru['nom']}", f"{be} {person.en}")
    yield _pair("кто это", "who is this", "?")


_WHOSE = {
    ("sg", "m"): "чей",
    ("sg", "f"): "чья",
    ("sg", "n"): "чьё",
    ("pl", "m"): "чьи",
    ("pl", "f"): "чьи",
    ("pl", "n"): "чьи",
}
_PERSON_ADJ = [
    ("умный", "smart"),
    ("добрый", "kind"),
    ("весёлый", "cheerful"),
    ("высокий", "tall"),
    ("молодой", "young"),
]


@template(cap=900)
def descriptions(rng):
    """ "Эта книга интересная." -> "This book is interesting."; "Фильм был интересным."."""
    for noun in lex.NOUNS:
        if noun.mass or "person" in noun.tags:  # people are described below
            continue
        for adj_lemma in lex.PREDICATIVE:
            adj = lex.ADJ[adj_lemma]
            if not adj.fits & noun.tags:
                continue
            for number in ("sg", "pl"):
                be = "is" if number == "sg" else "are"
                was = "was" if number == "sg" else "were"
                subj_en = en_np(noun, number, lex.THIS)
                subj_ru = np_forms(noun, number, lex.THIS)["nom"]
                pred = adj("nom", noun.gender, number)
                yield _pair(f"{subj_ru} {pred}", f"{subj_en} {be} {adj.en}")
                yield _pair(f"{subj_ru} не {pred}", f"{subj_en} {be} not {adj.en}")
                yield _pair(f"{subj_ru} {pred}", f"{be} {subj_en} {adj.en}", "?")
                past = lex.BE.past(noun.gender, number)
                yield _pair(
                    f"{subj_ru} {past} {adj('ins', noun.gender, number)}",
                    f"{subj_en} {was} {adj.en}",
                )
    for person in PHRASE_PEOPLE + NAME_PEOPLE + PRONOUN_PEOPLE:
        be = _BE[person.agr]
        for adj_lemma, en_adj in _PERSON_ADJ:
            adj = lex.ADJ[adj_lemma]
            for gender in person.genders:
                g = gender if gender != "pl" else "m"
                pred = adj("nom", g, person.number)
                yield _pair(f"{person.ru['nom']} {pred}", f"{person.en} {be} {en_adj}")
                yield _pair(f"{person.ru['nom']} очень {pred}", f"{person.en} {be} very {en_adj}")


# ------------------------------------------------------------------------ instrumental, dative


@template(cap=1100)
def instrumental(rng):
    """ "Я интересуюсь историей." -> "I am interested in history."; "Она стала врачом."."""
    for subject in _SUBJECTS:
        be = _BE[subject.agr]
        p, n = subject.person, subject.number
        for thing in TOPIC_THINGS:
            ins = thing.ru["ins"]
            yield _pair(
                f"{subject.ru['nom']} {lex.INTEREST.pres(p, n)} {ins}",
                f"{subject.en} {be} interested in {thing.en}",
            )
            for gender in _genders(subject):
                yield _pair(
                    f"{subject.ru['nom']} {_past(lex.INTEREST, subject, gender)} {ins}",
                    f"{subject.en} {_BE_PAST[subject.agr]} interested in {thing.en}",
                )
        if n == "sg":
            for noun in lex.NOUNS:
                if "prof" not in noun.tags:
                    continue
                if noun.lemma == "учительница" and "f" not in subject.genders:
                    continue
                prof = en_with_article(noun.en)
                yield _pair(
                    f"{subject.ru['nom']} {lex.WORK.pres(p, n)} {noun('ins')}",
                    f"{subject.en} {'work' if p != '3' else 'works'} as {prof}",
                )
                for gender in _genders(subject):
                    yield _pair(
                        f"{subject.ru['nom']} {_past(lex.BECOME, subject, gender)} {noun('ins')}",
                        f"{subject.en} became {prof}",
                    )
                    yield _pair(
                        f"{subject.ru['nom']} {_past(lex.WORK, subject, gender)} {noun('ins')}",
                        f"{subject.en} worked as {prof}",
                    )
        for other in PRONOUN_PEOPLE + NAME_PEOPLE:
            if not _may_take(subject, Thing({}, "", person=other)):
                continue
            yield _pair(
                f"{subject.ru['nom']} {lex.PROUD.pres(p, n)} {other.ru['ins']}",
                f"{subject.en} {be} proud of {other.en_obj}",
            )
    drink = lex.E("drink", "drank", "drunk")
    for subject in _SUBJECTS:
        for base in ("чай", "кофе"):
            for add in ("молоко", "сахар", "лимон"):
                if base == "кофе" and add == "лимон":
                    continue
                vf = _DRINK.ipf.pres(subject.person, subject.number)
                with_ = ru_preposition("с", _NOUN[add]("ins"))
                ru = f"{subject.ru['nom']} {vf} {_NOUN[base]('acc')} {with_}"
                en = _clause(
                    subject,
                    drink,
                    "simple",
                    f"{_NOUN[base].en} with {_NOUN[add].en}",
                )
                yield _pair(ru, en)


_DRINK = lex.TRANSITIVE[5]
_RECIPIENTS = (
    PRONOUN_PEOPLE
    + NAME_PEOPLE
    + [_BY_KEY[k] for k in ("None:мама:sg", "None:папа:sg", "our:учитель:sg", "your:брат:sg")]
)


@template(cap=600)
def gifts(rng):
    """ "Вчера я подарил маме книгу." -> "I gave Mom a book yesterday."."""
    give = lex.E("give", "gave", "given")
    gifts_ = [
        _NOUN[k]
        for k in (
            "книга",
            "ручка",
            "сумка",
            "телефон",
            "зонт",
            "шапка",
            "торт",
            "лампа",
            "картина",
            "чашка",
        )
    ]
    for subject in PRONOUN_PEOPLE:
        for other in _RECIPIENTS:
            if not _may_take(subject, Thing({}, "", person=other)):
                continue
            for noun in _some(rng, gifts_, 3):
                for gender in _genders(subject):
                    vf = _past(lex.GIVE_PF, subject, gender)
                    vp = f"{vf} {other.ru['dat']} {noun('acc')}"
                    en = _clause(
                        subject,
                        give,
                        "past",
                        f"{other.en_obj} {en_with_article(noun.en)} yesterday",
                    )
                    yield from _timed(subject, vp, "вчера", en)


# ------------------------------------------------------------------------ names, languages


@template(cap=700)
def names_and_languages(rng):
    """ "Меня зовут Анна." -> "My name is Anna."; "Я говорю по-русски." -> "I speak Russian"."""
    speak = lex.E("speak", "spoke", "spoken")
    for person in _SUBJECTS:
        if person.number == "sg" and person not in NAME_PEOPLE:  # not "Марию зовут Анна"
            poss = (
                en_possessive(person.en)
                if not person.is_pronoun
                else {"I": "my", "you": "your", "he": "his", "she": "her"}[person.en]
            )
            for name in lex.NAMES:
                if name.gender not in person.genders or person.key == name.lemma:
                    continue
                yield _pair(f"{person.ru['acc']} зовут {name.lemma}", f"{poss} name is {name.en}")
            if person.person != "1":
                yield _pair(_asked("как", person, "зовут", "acc"), f"what is {poss} name", "?")
        vf = lex.SPEAK.pres(person.person, person.number)
        for ru_lang, en_lang in lex.LANGUAGES:
            yield _pair(
                f"{person.ru['nom']} {vf} {ru_lang}",
                _clause(person, speak, "simple", en_lang),
            )
            yield _pair(
                f"{person.ru['nom']} хорошо {vf} {ru_lang}",
                _clause(person, speak, "simple", f"{en_lang} well"),
            )
            yield _pair(
                f"{person.ru['nom']} немного {vf} {ru_lang}",
                _clause(person, speak, "simple", f"a little {en_lang}"),
            )
            yield _pair(
                f"{person.ru['nom']} не {vf} {ru_lang}",
                _clause(person, speak, "simple", en_lang, neg=True),
            )
            if person.person != "1":
                yield _pair(
                    f"{person.ru['nom']} {vf} {ru_lang}",
                    _clause(person, speak, "simple", en_lang, question=True),
                    "?",
                )


@template(cap=500)
def activities_in_places(rng):
    """ "Мы гуляем в парке." -> "We are walking in the park."; "Кошка спит на диване."."""
    acts = [
        (lex.WALK, lex.E("walk"), ["парк", "лес", "сад"]),
        (lex.REST, lex.E("rest"), ["парк", "сад", "кафе"]),
        (lex.WORK, lex.E("work"), ["офис", "библиотека", "кафе", "сад"]),
    ]
    for subject in _SUBJECTS:
        for verb, en_verb, places in acts:
            vf = verb.pres(subject.person, subject.number)
            for (lemma, *_), (place_ru, place_en, _, _) in zip(lex.PLACES, PLACE_PHRASES):
                if lemma not in places:
                    continue
                ru = f"{subject.ru['nom']} {vf} {place_ru}"
                if verb is not lex.WORK:  # "Папа работает в кафе." is "Dad works at the cafe."
                    yield _pair(ru, _clause(subject, en_verb, "prog", place_en))
                yield _pair(f"сейчас {ru}", _clause(subject, en_verb, "prog", place_en + " now"))
    sleep = lex.E("sleep", "slept", "slept")
    for lemma in ("кошка", "кот", "собака", "ребёнок"):
        noun = _NOUN[lemma]
        for number in ("sg", "pl"):
            for det_key in (None, "my", "our"):
                det = _MY[det_key] if det_key else None
                ru_np = np_forms(noun, number, det)["nom"]
                head = noun.en if number == "sg" else noun.en_pl
                en_np_ = f"{det.en} {head}" if det else f"the {head}"
                agr = "3sg" if number == "sg" else "pl"
                for place_ru, place_en in _SURFACES[:5]:
                    yield _pair(
                        f"{ru_np} {lex.SLEEP.pres('3', number)} {place_ru}",
                        en_clause(en_np_, agr, sleep, "prog", place_en),
                    )
    for subject in _QUESTION_SUBJECTS:
        if subject.is_pronoun:
            vf = lex.SLEEP.pres(subject.person, subject.number)
            yield _pair(
                f"почему {subject.ru['nom']} не {vf}",
                _clause(subject, sleep, "prog", neg=True, question=True, wh="why"),
                "?",
            )
            vf = lex.WORK.pres(subject.person, subject.number)
            yield _pair(
                f"почему {subject.ru['nom']} не {vf}",
                _clause(
                    subject,
                    lex.E("work"),
                    "prog",
                    neg=True,
                    question=True,
                    wh="why",
                ),
                "?",
            )


@template(cap=200)
def what_doing(rng):
    """ "Что ты делаешь?" -> "What are you doing?"."""
    do = lex.V("делать: делаю делаешь делают; делал")
    en_do = lex.E("do", "did", "done")
    for subject in _QUESTION_SUBJECTS:
        vf = do.pres(subject.person, subject.number)
        en = _clause(subject, en_do, "prog", question=True, wh="what")
        yield _pair(_asked("что", subject, vf), en, "?")
        yield _pair(
            f"что {subject.ru['nom']} {vf} сейчас",
            _clause(subject, en_do, "prog", "now", question=True, wh="what"),
            "?",
        )
        for gender in _genders(subject):
            for tense, times, vf in (
                ("past", PAST_TIMES, _past(do, subject, gender)),
                ("fut", FUTURE_TIMES, _future_ipf("делать", subject)),
            ):
                for ru_adv, en_adv in times[:3]:
                    en = _clause(subject, en_do, tense, en_adv, question=True, wh="what")
                    yield _pair(f"что {subject.ru['nom']} {vf} {ru_adv}", en, "?")


_WHAT = Adjective("какой", "what", "")
_EXCLAIM = {
    "красивый",
    "интересный",
    "вкусный",
    "большой",
    "маленький",
    "дорогой",
    "хороший",
    "скучный",
    "тёплый",
    "умный",
    "свежий",
    "старый",
    "горячий",
}


@template(cap=1000)
def exclamations(rng):
    """ "Какая интересная книга!" -> "What an interesting book!"."""
    for noun in lex.NOUNS:
        if "person" in noun.tags:
            continue
        for adj in lex.ADJECTIVES:
            if not adj.fits & noun.tags or adj.lemma not in _EXCLAIM:
                continue
            for number in ("sg", "pl") if not noun.mass else ("sg",):
                what = _WHAT("nom", noun.gender, number)
                ru = f"{what} {np_forms(noun, number, adj=adj)['nom']}"
                yield _pair(ru, f"what {en_np(noun, number, adj=adj)}", "!")


# ------------------------------------------------------------------------------- showcase

_FAMILY_BARE = [
    ("брат", "my brother"),
    ("сестра", "my sister"),
    ("сын", "my son"),
    ("дочь", "my daughter"),
    ("отец", "my father"),
    ("мама", "Mom"),
    ("папа", "Dad"),
]


def _verb(infinitive, english=None):
    for verb in lex.TRANSITIVE:
        if verb.ipf.inf == infinitive and english in (None, verb.en.base):
            return verb
    raise KeyError(infinitive)


@template(cap=10**6)
def showcase(rng):
    """Fixed core sentences kept whole: the lecture's example and the textbook patterns."""
    study, see, read = _verb("изучать"), _verb("видеть"), _verb("читать")
    for subject in PRONOUN_PEOPLE:
        p, n = subject.person, subject.number
        for thing in TOPIC_THINGS:  # "Я изучаю машинное обучение." -> "I study machine ..."
            yield _pair(
                f"{subject.ru['nom']} {study.ipf.pres(p, n)} {thing.ru['acc']}",
                _clause(subject, study.en, "simple", thing.en),
            )
        for lemma in ("книга", "газета", "письмо", "журнал"):
            noun = _NOUN[lemma]
            obj_ru, obj_en = noun("acc"), en_np(noun)
            yield _pair(
                f"{subject.ru['nom']} {read.ipf.pres(p, n)} {obj_ru}",
                _clause(subject, read.en, "prog", obj_en),
            )
            for gender in subject.genders:  # "Вчера она читала книгу."
                vp = f"{_past(read.ipf, subject, gender)} {obj_ru}"
                en = _clause(subject, read.en, "past", f"{obj_en} yesterday")
                yield from _timed(subject, vp, "вчера", en)
            vp = f"{read.ipf.pres(p, n)} {noun('acc', 'pl')}"
            en = _clause(subject, read.en, "simple", f"{noun.en_pl} every day")
            yield from _timed(subject, vp, "каждый день", en)
        for lemma in ("яблоко", "апельсин", "банан", "груша", "яйцо"):
            noun = _NOUN[lemma]
            eat = _verb("есть")
            yield _pair(
                f"{subject.ru['nom']} {eat.ipf.pres(p, n)} {noun('acc')}",
                _clause(subject, eat.en, "prog", en_np(noun)),
            )
        for lemma in ("кот", "собака", "кошка", "медведь", "волк", "птица", "мышь", "лошадь"):
            noun = _NOUN[lemma]
            for number in ("sg", "pl"):
                yield _pair(
                    f"{subject.ru['nom']} {see.ipf.pres(p, n)} {noun('acc', number)}",
                    _clause(subject, see.en, "simple", en_np(noun, number)),
                )
        for lemma in ("кофе", "чай", "молоко", "музыка", "кошка"):
            noun = _NOUN[lemma]
            en = noun.en_pl if noun.animate else noun.en
            obj = noun("acc", "pl" if noun.animate else "sg")
            yield _pair(
                f"{subject.ru['nom']} не {lex.LIKE.ipf.pres(p, n)} {obj}",
                _clause(subject, lex.LIKE.en, "simple", en, neg=True),
            )
        owner = subject.prep("у", "gen")
        for lemma in ("собака", "кошка", "машина", "брат", "сестра", "дом"):
            noun = _NOUN[lemma]
            yield _pair(
                f"{owner} есть {noun('nom')}", f"{subject.en} {_HAVE[subject.agr]} {en_np(noun)}"
            )
            yield _pair(
                f"{owner} нет {noun('gen')}",
                _clause(subject, _HAVE_VERB, "simple", en_np(noun), neg=True),
            )
        for lemma in ("книга", "яблоко", "стул", "брат", "сестра", "ребёнок"):
            for number in (1, 2, 3, 4, 5, 11, 21, 22, 25):
                if number > 5 and "person" in _NOUN[lemma].tags:
                    continue
                ru, en = count_phrase(number, _NOUN[lemma])
                yield _pair(f"{owner} есть {ru}", f"{subject.en} {_HAVE[subject.agr]} {en}")
        live = lex.LIVE.pres(p, n)
        for place_ru, place_en in (
            ("в городе", "in the city"),
            ("в деревне", "in the village"),
            ("в Москве", "in Moscow"),
        ):
            yield _pair(
                f"{subject.ru['nom']} {live} {place_ru}",
                _clause(subject, lex.E("live"), "simple", place_en),
            )
        if p != "1":
            yield _pair(
                f"где {subject.ru['nom']} {live}",
                _clause(subject, lex.E("live"), "simple", question=True, wh="where"),
                "?",
            )
    for lemma, english in _FAMILY_BARE:  # "Я вижу брата." -> "I see my brother."
        noun = _NOUN[lemma]
        for verb in (see, _verb("ждать"), _verb("любить")):
            tense = "simple" if verb.style == "state" else "prog"
            yield _pair(
                f"я {verb.ipf.pres('1', 'sg')} {noun('acc')}",
                en_clause("I", "1sg", verb.en, tense, english),
            )
