"""Morphology behind the bundled corpus: Russian declension and conjugation, English inflection.

Private to `zoo.data.corpus`. Regular paradigms come from rules below; irregular forms are
written out in `zoo.data._lexicon`. Everything here is plain Python (no TensorFlow).
"""

from __future__ import annotations

CASES = ("nom", "gen", "dat", "acc", "ins", "prep")
_HUSHING = "жшщч"
_VELAR = "гкх"
_RU_VOWELS = "аеёиоуыэюя"


# --------------------------------------------------------------------------- Russian nouns


def _y(stem: str, ending: str) -> str:
    """Spelling rule: after г к х ж ш щ ч write и, never ы."""
    if ending.startswith("ы") and stem[-1:] in _VELAR + _HUSHING:
        ending = "и" + ending[1:]
    return stem + ending


def _regular_forms(lemma: str, gender: str, stem: str | None):
    """Singular (6 cases, accusative None where animacy decides) and plural (5, no accusative)."""
    last = lemma[-1]
    if last not in _RU_VOWELS + "йь":  # masculine, hard consonant: стол
        s = stem or lemma
        sg = [lemma, s + "а", s + "у", None, s + "ом", s + "е"]
        gen_pl = s + ("ей" if s[-1] in _HUSHING else "ов")
        return sg, [_y(s, "ы"), gen_pl, s + "ам", s + "ами", s + "ах"]
    if last == "й":  # музей, Дмитрий
        s = stem or lemma[:-1]
        prep = s + ("и" if s.endswith("и") else "е")
        return [lemma, s + "я", s + "ю", None, s + "ем", prep], [
            s + "и",
            s + "ев",
            s + "ям",
            s + "ями",
            s + "ях",
        ]
    if last == "ь" and gender == "m":  # учитель
        s = stem or lemma[:-1]
        return [lemma, s + "я", s + "ю", None, s + "ем", s + "е"], [
            s + "и",
            s + "ей",
            s + "ям",
            s + "ями",
            s + "ях",
        ]
    if last == "ь":  # feminine: тетрадь, ночь
        s = lemma[:-1]
        hush = s[-1] in _HUSHING
        a = "а" if hush else "я"
        sg = [lemma, s + "и", s + "и", lemma, lemma + "ю", s + "и"]
        return sg, [s + "и", s + "ей", s + a + "м", s + a + "ми", s + a + "х"]
    if last == "а":  # книга, папа
        s = stem or lemma[:-1]
        ins = s + ("ей" if s[-1] in _HUSHING + "ц" else "ой")
        sg = [lemma, _y(s, "ы"), s + "е", s + "у", ins, s + "е"]
        return sg, [_y(s, "ы"), s, s + "ам", s + "ами", s + "ах"]
    if last == "я":
        s = lemma[:-1]
        if s.endswith("и"):  # история
            sg = [lemma, s + "и", s + "и", s + "ю", s + "ей", s + "и"]
            return sg, [s + "и", s + "й", s + "ям", s + "ями", s + "ях"]
        sg = [lemma, s + "и", s + "е", s + "ю", s + "ей", s + "е"]  # неделя
        return sg, [s + "и", s + "ь", s + "ям", s + "ями", s + "ях"]
    if last == "о":  # окно
        s = stem or lemma[:-1]
        sg = [lemma, s + "а", s + "у", lemma, s + "ом", s + "е"]
        return sg, [s + "а", s, s + "ам", s + "ами", s + "ах"]
    if last == "е":
        s = lemma[:-1]
        if s.endswith("и"):  # здание
            sg = [lemma, s + "я", s + "ю", lemma, s + "ем", s + "и"]
            return sg, [s + "я", s + "й", s + "ям", s + "ями", s + "ях"]
        sg = [lemma, s + "я", s + "ю", lemma, s + "ем", s + "е"]  # море
        return sg, [s + "я", s + "ей", s + "ям", s + "ями", s + "ях"]
    raise ValueError(f"no declension rule for {lemma!r}")


class Noun:
    """A Russian noun with its full paradigm and its English counterpart.

    Args:
        lemma: nominative singular.
        gender: "m", "f" or "n" (gender of agreement; "мужчина" is "m").
        en: English singular; `en_pl` the plural where irregular.
        tags: space-separated semantic classes that templates select on.
        animate: accusative = genitive (masculine singular, all plurals).
        mass: English uncountable (no article, no plural): coffee, history.
        sg / pl: explicit paradigms, "nom gen dat acc ins prep" / "nom gen dat ins prep".
        **forms: single overrides such as gen_pl="кошек", ins_sg="мужем", loc="лесу".
    """

    def __init__(
        self,
        lemma,
        gender,
        en,
        tags="",
        *,
        animate=False,
        mass=False,
        en_pl=None,
        stem=None,
        sg=None,
        pl=None,
        indeclinable=False,
        plural_only=False,
        **forms,
    ):
        self.lemma = lemma
        self.gender = gender
        self.animate = animate
        self.mass = mass
        self.en = en
        self.en_pl = en_pl or (en if mass else en_plural(en))
        self.tags = frozenset(tags.split())
        self.plural_only = plural_only
        self.loc = forms.pop("loc", None)
        if indeclinable:
            sg_forms = [lemma] * 6
            pl_forms = [lemma] * 5
        else:
            sg_forms, pl_forms = _regular_forms(lemma, gender, stem) if not sg else (None, None)
            if sg:
                sg_forms = sg.split()
            if pl:
                pl_forms = pl.split()
            if pl_forms is None:
                pl_forms = _regular_forms(lemma, gender, stem)[1]
        names = {case: i for i, case in enumerate(CASES)}
        plural_names = {"nom": 0, "gen": 1, "dat": 2, "ins": 3, "prep": 4}
        for key, value in forms.items():
            case, number = key.rsplit("_", 1)
            if number == "sg":
                sg_forms[names[case]] = value
            else:
                pl_forms[plural_names[case]] = value
        if sg_forms[3] is None:
            sg_forms[3] = sg_forms[1] if animate else sg_forms[0]
        acc_pl = pl_forms[1] if animate else pl_forms[0]
        self.forms = {}
        for case, form in zip(CASES, sg_forms):
            self.forms[case, "sg"] = form
        plural = [pl_forms[0], pl_forms[1], pl_forms[2], acc_pl, pl_forms[3], pl_forms[4]]
        for case, form in zip(CASES, plural):
            self.forms[case, "pl"] = form

    def __call__(self, case, number="sg"):
        return self.forms[case, number]

    def __repr__(self):
        return f"Noun({self.lemma!r})"


# ----------------------------------------------------------------------- Russian adjectives

# Hard-stem endings by (case, gender-or-plural); accusative of "m"/"pl" depends on animacy.
_ADJ_HARD = {
    ("nom", "m"): "ый",
    ("gen", "m"): "ого",
    ("dat", "m"): "ому",
    ("ins", "m"): "ым",
    ("prep", "m"): "ом",
    ("nom", "f"): "ая",
    ("gen", "f"): "ой",
    ("dat", "f"): "ой",
    ("acc", "f"): "ую",
    ("ins", "f"): "ой",
    ("prep", "f"): "ой",
    ("nom", "n"): "ое",
    ("gen", "n"): "ого",
    ("dat", "n"): "ому",
    ("acc", "n"): "ое",
    ("ins", "n"): "ым",
    ("prep", "n"): "ом",
    ("nom", "pl"): "ые",
    ("gen", "pl"): "ых",
    ("dat", "pl"): "ым",
    ("ins", "pl"): "ыми",
    ("prep", "pl"): "ых",
}
_SOFT = str.maketrans({"ы": "и", "о": "е", "а": "я", "у": "ю"})


def _adjective_endings(lemma: str) -> dict:
    stem, end = lemma[:-2], lemma[-2:]
    forms = {}
    for key, ending in _ADJ_HARD.items():
        if end == "ий" and stem[-1] not in _VELAR + _HUSHING:  # синий: soft stem
            ending = ending[0].translate(_SOFT) + ending[1:]
        else:
            if ending[0] == "ы" and stem[-1] in _VELAR + _HUSHING:
                ending = "и" + ending[1:]
            if ending[0] == "о" and end == "ий" and stem[-1] in _HUSHING:  # хороший: unstressed
                ending = "е" + ending[1:]
        forms[key] = stem + ending
    forms["nom", "m"] = lemma
    return forms


class Adjective:
    """A Russian adjective (long form, all cases) with English, and the noun tags it fits."""

    def __init__(self, lemma, en, fits, **forms):
        self.lemma = lemma
        self.en = en
        self.fits = frozenset(fits.split())
        self.forms = _adjective_endings(lemma)
        for key, value in forms.items():
            case, gn = key.rsplit("_", 1)
            self.forms[case, gn] = value

    def __call__(self, case, gender, number="sg", animate=False):
        return adjective_form(self.forms, case, gender, number, animate)

    def __repr__(self):
        return f"Adjective({self.lemma!r})"


def adjective_form(forms, case, gender, number="sg", animate=False):
    """Form of an adjective-like word from a (case, gender|"pl") table; handles accusative."""
    gn = "pl" if number == "pl" else gender
    if case == "acc" and (case, gn) not in forms:
        return forms["gen" if animate else "nom", gn]
    return forms[case, gn]


def pronoun_table(text: str) -> dict:
    """Parse a determiner paradigm: four lines m, f, n, pl of "nom gen dat [acc] ins prep"."""
    forms = {}
    for gn, line in zip(("m", "f", "n", "pl"), text.strip().splitlines()):
        words = line.split()
        cases = CASES if len(words) == 6 else ("nom", "gen", "dat", "ins", "prep")
        for case, word in zip(cases, words):
            forms[case, gn] = word
    return forms


class Determiner:
    """мой, этот, ... : an agreeing word before the noun, with its English."""

    def __init__(self, table, en, en_pl=None, person=None):
        self.forms = pronoun_table(table) if "\n" in table else None
        self.word = None if self.forms else table  # invariable: его, её, их
        self.en = en
        self.en_pl = en_pl or en
        self.person = person  # (person, number) of the possessor, to avoid "я ... моего"

    def __call__(self, case, gender, number="sg", animate=False):
        if self.word:
            return self.word
        return adjective_form(self.forms, case, gender, number, animate)


# ---------------------------------------------------------------------------- Russian verbs

PERSONS = (("1", "sg"), ("2", "sg"), ("3", "sg"), ("1", "pl"), ("2", "pl"), ("3", "pl"))


def _reflexive(form: str) -> str:
    return form + ("сь" if form[-1] in _RU_VOWELS else "ся")


class RuVerb:
    """A Russian verb: infinitive, present (or perfective future) and past.

    `spec` is "инфинитив: 1sg 2sg 3pl; past-masculine" (other persons follow from the 2sg),
    or with six present forms written out, and with four past forms (m f n pl) where the past
    is not "-л, -ла, -ло, -ли". Reflexive verbs are given without -ся and marked by the
    infinitive: "учиться: учу учишь учат; учил".
    """

    def __init__(self, spec: str):
        head, rest = spec.split(":")
        self.inf = head.strip()
        present, past = rest.split(";")
        words = present.split()
        if len(words) == 3:
            first, second, third_pl = words
            stem = second[:-2]  # читае|шь -> читае
            words = [first, second, stem + "т", stem + "м", stem + "те", third_pl]
        past_words = past.split()
        if len(past_words) == 1:
            masc = past_words[0]
            past_words = [masc, masc + "а", masc + "о", masc + "и"]
        reflexive = self.inf.endswith(("ся", "сь"))
        if reflexive:
            words = [_reflexive(w) for w in words]
            past_words = [_reflexive(w) for w in past_words]
        self.present = dict(zip(PERSONS, words))
        self.past_forms = dict(zip(("m", "f", "n", "pl"), past_words))

    def pres(self, person, number):
        return self.present[person, number]

    def past(self, gender, number="sg"):
        return self.past_forms["pl" if number == "pl" else gender]

    def __repr__(self):
        return f"RuVerb({self.inf!r})"


# ----------------------------------------------------------------------------------- English

_IRREGULAR_PLURALS = {
    "child": "children",
    "man": "men",
    "woman": "women",
    "person": "people",
    "mouse": "mice",
    "fish": "fish",
    "wolf": "wolves",
    "knife": "knives",
    "tomato": "tomatoes",
    "potato": "potatoes",
}


def en_plural(word: str) -> str:
    """English plural of a noun or of a phrase's last word ("red apple" -> "red apples")."""
    head, _, last = word.rpartition(" ")
    prefix = head + " " if head else ""
    if last in _IRREGULAR_PLURALS:
        return prefix + _IRREGULAR_PLURALS[last]
    if last.endswith(("s", "x", "z", "ch", "sh")):
        return prefix + last + "es"
    if last.endswith("y") and last[-2:-1] not in "aeiou":
        return prefix + last[:-1] + "ies"
    return prefix + last + "s"


def en_article(phrase: str) -> str:
    """ "a" or "an" by the sound of the next word."""
    word = phrase.split()[0].lower()
    if word.startswith(("uni", "use", "eu", "one")):
        return "a"
    if word.startswith(("hour", "honest")) or word[0] in "aeiou":
        return "an"
    return "a"


def en_with_article(phrase: str) -> str:
    return f"{en_article(phrase)} {phrase}"


def en_possessive(phrase: str) -> str:
    """ "my brother" -> "my brother's"; "my parents" -> "my parents'"."""
    return phrase + ("'" if phrase.endswith("s") and not phrase.endswith("ss") else "'s")


class EnVerb:
    """An English verb with its forms; a trailing particle stays uninflected ("wait for")."""

    def __init__(self, text, past=None, participle=None, ing=None, third=None):
        head, _, particle = text.partition(" ")
        self.base = head
        self.particle = particle
        self.past = past or _regular_past(head)
        self.participle = participle or self.past
        self.ing = ing or _ing(head)
        self.third = third or _third(head)

    def form(self, name):
        word = getattr(self, name)
        return f"{word} {self.particle}" if self.particle else word


def _regular_past(verb: str) -> str:
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


def _ing(verb: str) -> str:
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")) and verb != "be":
        return verb[:-1] + "ing"
    return verb + "ing"


def _third(verb: str) -> str:
    if verb == "have":
        return "has"
    if verb.endswith(("s", "x", "z", "ch", "sh", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def capitalize(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def ru_preposition(prep: str, word: str) -> str:
    """Join a Russian preposition with the next word: "о истории" -> "об истории", "со мной"."""
    first = word.split()[0]
    low = first.lower()
    if prep == "о":
        if low in ("мне", "мн"):
            return "обо " + word
        if low[0] in "аиоуэ":
            return "об " + word
    if prep == "с" and (low == "мной" or (low[0] in "сзшж" and low[1:2] not in _RU_VOWELS)):
        return "со " + word
    if prep == "в" and low[0] in "вф" and low[1:2] not in _RU_VOWELS:
        return "во " + word
    if prep == "к" and low == "мне":
        return "ко " + word
    return f"{prep} {word}"
