"""The lexicon of the bundled Russian-English corpus, written for this project.

Private to `zoo.data.corpus`. Regular forms come from the rules in `zoo.data._grammar`;
every irregular form is written out here. Noun tags say which templates a noun fits.
"""

from __future__ import annotations

from zoo.data._grammar import Adjective, Determiner, EnVerb, Noun, RuVerb

# ------------------------------------------------------------------------------------ nouns

N = Noun
NOUNS = [
    # people
    N(
        "брат",
        "m",
        "brother",
        "person family sibling",
        animate=True,
        pl="братья братьев братьям братьями братьях",
    ),
    N(
        "сестра",
        "f",
        "sister",
        "person family sibling",
        animate=True,
        pl="сёстры сестёр сёстрам сёстрами сёстрах",
    ),
    N("мама", "f", "mom", "person parent", animate=True),
    N("папа", "m", "dad", "person parent", animate=True),
    N(
        "друг",
        "m",
        "friend",
        "person friend",
        animate=True,
        pl="друзья друзей друзьям друзьями друзьях",
    ),
    N("подруга", "f", "friend", "person friend", animate=True),
    N("учитель", "m", "teacher", "person prof", animate=True, nom_pl="учителя"),
    N("учительница", "f", "teacher", "person prof", animate=True),
    N("студент", "m", "student", "person", animate=True),
    N("студентка", "f", "student", "person", animate=True, gen_pl="студенток"),
    N("врач", "m", "doctor", "person prof", animate=True),
    N("инженер", "m", "engineer", "person prof", animate=True),
    N("программист", "m", "programmer", "person prof", animate=True),
    N("журналист", "m", "journalist", "person prof", animate=True),
    N("писатель", "m", "writer", "person prof", animate=True),
    N(
        "сосед",
        "m",
        "neighbor",
        "person",
        animate=True,
        pl="соседи соседей соседям соседями соседях",
    ),
    N(
        "ребёнок",
        "m",
        "child",
        "person",
        animate=True,
        stem="ребёнк",
        pl="дети детей детям детьми детях",
    ),
    N("мальчик", "m", "boy", "person", animate=True),
    N("девочка", "f", "girl", "person", animate=True, gen_pl="девочек"),
    N("отец", "m", "father", "person family parent", animate=True, stem="отц"),
    N(
        "сын",
        "m",
        "son",
        "person family child",
        animate=True,
        pl="сыновья сыновей сыновьям сыновьями сыновьях",
    ),
    N(
        "дочь",
        "f",
        "daughter",
        "person family child",
        animate=True,
        sg="дочь дочери дочери дочь дочерью дочери",
        pl="дочери дочерей дочерям дочерьми дочерях",
    ),
    N("бабушка", "f", "grandmother", "person family", animate=True, gen_pl="бабушек"),
    N("дедушка", "m", "grandfather", "person family", animate=True, gen_pl="дедушек"),
    N("мужчина", "m", "man", "person", animate=True),
    N("женщина", "f", "woman", "person", animate=True),
    N("начальник", "m", "boss", "person", animate=True),
    N("директор", "m", "director", "person", animate=True, nom_pl="директора"),
    N("профессор", "m", "professor", "person", animate=True, nom_pl="профессора"),
    # animals
    N("собака", "f", "dog", "animal pet", animate=True),
    N("кошка", "f", "cat", "animal pet", animate=True, gen_pl="кошек"),
    N("кот", "m", "cat", "animal pet", animate=True),
    N("птица", "f", "bird", "animal", animate=True),
    N("лошадь", "f", "horse", "animal", animate=True, pl="лошади лошадей лошадям лошадьми лошадях"),
    N("медведь", "m", "bear", "animal wild", animate=True),
    N("корова", "f", "cow", "animal", animate=True),
    N("волк", "m", "wolf", "animal wild", animate=True),
    N("мышь", "f", "mouse", "animal", animate=True),
    N("попугай", "m", "parrot", "animal pet", animate=True),
    N("хомяк", "m", "hamster", "animal pet", animate=True),
    N("лиса", "f", "fox", "animal wild", animate=True, gen_pl="лис"),
    N("рыба", "f", "fish", "animal", animate=True),
    # things to read and write
    N("книга", "f", "book", "read write buy small count colored"),
    N("газета", "f", "newspaper", "read buy small"),
    N("журнал", "m", "magazine", "read buy small count"),
    N("письмо", "n", "letter", "read write small count", gen_pl="писем"),
    N("статья", "f", "article", "read write", ins_sg="статьёй", gen_pl="статей"),
    N("роман", "m", "novel", "read write buy count"),
    N("рассказ", "m", "story", "read write"),
    N("стихотворение", "n", "poem", "read write count"),
    N("сообщение", "n", "message", "read write"),
    # food and drink
    N("яблоко", "n", "apple", "food fruit buy count", pl="яблоки яблок яблокам яблоками яблоках"),
    N("банан", "m", "banana", "food fruit buy count"),
    N("апельсин", "m", "orange", "food fruit buy count"),
    N("груша", "f", "pear", "food fruit buy count"),
    N("огурец", "m", "cucumber", "food buy count", stem="огурц"),
    N("помидор", "m", "tomato", "food buy count"),
    N("яйцо", "n", "egg", "food buy count", pl="яйца яиц яйцам яйцами яйцах"),
    N("торт", "m", "cake", "food dish buy count"),
    N("пирог", "m", "pie", "food dish buy"),
    N("пицца", "f", "pizza", "food dish buy"),
    N("салат", "m", "salad", "food dish"),
    N("бутерброд", "m", "sandwich", "food dish buy count"),
    N("конфета", "f", "candy", "food buy count", en_pl="candies"),
    N("хлеб", "m", "bread", "food buy", mass=True),
    N("суп", "m", "soup", "food dish", mass=True),
    N("сыр", "m", "cheese", "food buy", mass=True),
    N("мясо", "n", "meat", "food buy", mass=True),
    N("рис", "m", "rice", "food buy", mass=True),
    N("каша", "f", "porridge", "food dish", mass=True),
    N("ужин", "m", "dinner", "meal", mass=True),
    N("обед", "m", "lunch", "meal", mass=True),
    N("завтрак", "m", "breakfast", "meal", mass=True),
    N("вода", "f", "water", "drink buy cold", mass=True),
    N("кофе", "m", "coffee", "drink buy hot", mass=True, indeclinable=True),
    N("чай", "m", "tea", "drink buy hot", mass=True),
    N("сок", "m", "juice", "drink buy cold", mass=True),
    N("молоко", "n", "milk", "drink buy cold", mass=True),
    N("вино", "n", "wine", "drink buy", mass=True),
    # things
    N("стол", "m", "table", "furniture surface"),
    N("стул", "m", "chair", "furniture count", pl="стулья стульев стульям стульями стульях"),
    N("окно", "n", "window", "openable washable count", gen_pl="окон"),
    N("дверь", "f", "door", "openable colored"),
    N("ручка", "f", "pen", "small buy count colored", gen_pl="ручек"),
    N("карандаш", "m", "pencil", "small buy count colored"),
    N("тетрадь", "f", "notebook", "small buy count"),
    N("телефон", "m", "phone", "small buy count lost colored device"),
    N("компьютер", "m", "computer", "buy device count"),
    N("ноутбук", "m", "laptop", "small buy lost device"),
    N("сумка", "f", "bag", "small buy openable lost count colored", gen_pl="сумок"),
    N("словарь", "m", "dictionary", "small buy count", ins_sg="словарём"),
    N("ключ", "m", "key", "small lost count"),
    N("лампа", "f", "lamp", "buy count colored"),
    N("картина", "f", "picture", "buy count"),
    N("фотография", "f", "photo", "count"),
    N("чашка", "f", "cup", "buy count colored", gen_pl="чашек"),
    N("зонт", "m", "umbrella", "small buy lost colored"),
    N("подарок", "m", "present", "buy count", stem="подарк"),
    N("машина", "f", "car", "vehicle buy washable colored"),
    N("велосипед", "m", "bicycle", "vehicle buy colored"),
    N("дом", "m", "house", "building house buy colored", nom_pl="дома"),
    N("квартира", "f", "apartment", "building buy"),
    N("диван", "m", "sofa", "furniture surface buy colored"),
    N("кровать", "f", "bed", "furniture surface"),
    N("шкаф", "m", "wardrobe", "furniture", loc="шкафу"),
    N("холодильник", "m", "fridge", "furniture openable"),
    N("рюкзак", "m", "backpack", "small buy lost colored"),
    N("билет", "m", "ticket", "buy lost count"),
    N("фильм", "m", "film", "watch count"),
    N("песня", "f", "song", "listen count", gen_pl="песен"),
    N("лекция", "f", "lecture", "listen"),
    N("платье", "n", "dress", "wear buy colored", gen_pl="платьев"),
    N("рубашка", "f", "shirt", "wear buy colored count", gen_pl="рубашек"),
    N("куртка", "f", "jacket", "wear buy colored", gen_pl="курток"),
    N("шапка", "f", "hat", "wear buy colored", gen_pl="шапок"),
    N("автобус", "m", "bus", "transport"),
    N("рубль", "m", "ruble", "money"),
    N("год", "m", "year", "time", gen_pl="лет"),
    N("час", "m", "hour", "time", nom_pl="часы"),
    N("пол", "m", "floor", "surface", loc="полу"),
    N("лимон", "m", "lemon", "addition", mass=True),
    N("сахар", "m", "sugar", "addition", mass=True),
    N("стена", "f", "wall", "wall"),
    N("комната", "f", "room", "room"),
    N("посуда", "f", "dishes", "washable", mass=True),
    N("музыка", "f", "music", "listen", mass=True),
]

# Places: noun, preposition ("в"/"на"), English "at/in ...", English "to ...".
PLACES = [
    ("город", "в", "in the city", "to the city"),
    ("школа", "в", "at school", "to school"),
    ("университет", "в", "at the university", "to the university"),
    ("библиотека", "в", "in the library", "to the library"),
    ("парк", "в", "in the park", "to the park"),
    ("магазин", "в", "at the store", "to the store"),
    ("больница", "в", "at the hospital", "to the hospital"),
    ("офис", "в", "at the office", "to the office"),
    ("банк", "в", "at the bank", "to the bank"),
    ("ресторан", "в", "at the restaurant", "to the restaurant"),
    ("кафе", "в", "at the cafe", "to the cafe"),
    ("театр", "в", "at the theater", "to the theater"),
    ("музей", "в", "at the museum", "to the museum"),
    ("кино", "в", "at the movies", "to the movies"),
    ("работа", "на", "at work", "to work"),
    ("рынок", "на", "at the market", "to the market"),
    ("вокзал", "на", "at the station", "to the station"),
    ("почта", "на", "at the post office", "to the post office"),
    ("кухня", "на", "in the kitchen", "to the kitchen"),
    ("лес", "в", "in the forest", "to the forest"),
    ("сад", "в", "in the garden", "to the garden"),
    ("деревня", "в", "in the village", "to the village"),
    ("аэропорт", "в", "at the airport", "to the airport"),
    ("завод", "на", "at the factory", "to the factory"),
    ("стадион", "на", "at the stadium", "to the stadium"),
    ("бассейн", "в", "at the swimming pool", "to the swimming pool"),
    ("спортзал", "в", "at the gym", "to the gym"),
]
PLACE_NOUNS = [
    N("город", "m", "city", "place settlement", nom_pl="города"),
    N("школа", "f", "school", "place"),
    N("университет", "m", "university", "place"),
    N("библиотека", "f", "library", "place"),
    N("парк", "m", "park", "place"),
    N("магазин", "m", "store", "place"),
    N("больница", "f", "hospital", "place"),
    N("офис", "m", "office", "place"),
    N("банк", "m", "bank", "place"),
    N("ресторан", "m", "restaurant", "place"),
    N("кафе", "n", "cafe", "place", indeclinable=True),
    N("театр", "m", "theater", "place"),
    N("музей", "m", "museum", "place"),
    N("кино", "n", "cinema", "place", indeclinable=True),
    N("работа", "f", "work", "place"),
    N("рынок", "m", "market", "place", stem="рынк"),
    N("вокзал", "m", "station", "place"),
    N("почта", "f", "post office", "place"),
    N("кухня", "f", "kitchen", "place", gen_pl="кухонь"),
    N("лес", "m", "forest", "place", loc="лесу", nom_pl="леса"),
    N("сад", "m", "garden", "place", loc="саду"),
    N("деревня", "f", "village", "place settlement", gen_pl="деревень"),
    N("аэропорт", "m", "airport", "place", loc="аэропорту"),
    N("завод", "m", "factory", "place"),
    N("стадион", "m", "stadium", "place"),
    N("бассейн", "m", "swimming pool", "place"),
    N("спортзал", "m", "gym", "place"),
]

# Cities and countries: Russian noun and English name (singular only).
CITIES = [
    N("Москва", "f", "Moscow", "city"),
    N("Лондон", "m", "London", "city"),
    N("Париж", "m", "Paris", "city", ins_sg="Парижем"),
    N("Берлин", "m", "Berlin", "city"),
    N("Казань", "f", "Kazan", "city"),
    N("Рим", "m", "Rome", "city"),
    N("Новосибирск", "m", "Novosibirsk", "city"),
    N("Россия", "f", "Russia", "country"),
    N("Франция", "f", "France", "country"),
    N("Германия", "f", "Germany", "country"),
    N("Италия", "f", "Italy", "country"),
    N("Испания", "f", "Spain", "country"),
]

# People's names: Russian noun, English name.
NAMES = [
    N("Анна", "f", "Anna", "name", animate=True),
    N("Мария", "f", "Maria", "name", animate=True),
    N("Нина", "f", "Nina", "name", animate=True),
    N("Ольга", "f", "Olga", "name", animate=True),
    N("Елена", "f", "Elena", "name", animate=True),
    N("Иван", "m", "Ivan", "name", animate=True),
    N("Олег", "m", "Oleg", "name", animate=True),
    N("Борис", "m", "Boris", "name", animate=True),
    N("Пётр", "m", "Peter", "name", animate=True, stem="Петр"),
    N("Дмитрий", "m", "Dmitry", "name", animate=True),
]

# Fields of study. Each: head noun, adjective lemma or None, fixed genitive tail, English.
TOPIC_NOUNS = {
    "обучение": N("обучение", "n", "learning", mass=True),
    "сеть": N("сеть", "f", "network"),
    "обработка": N("обработка", "f", "processing", mass=True, gen_pl="обработок"),
    "зрение": N("зрение", "n", "vision", mass=True),
    "интеллект": N("интеллект", "m", "intelligence", mass=True),
    "анализ": N("анализ", "m", "analysis", mass=True),
    "алгебра": N("алгебра", "f", "algebra", mass=True),
    "теория": N("теория", "f", "theory", mass=True),
    "язык": N("язык", "m", "language", mass=True),
    "математика": N("математика", "f", "mathematics", mass=True),
    "история": N("история", "f", "history", mass=True),
    "физика": N("физика", "f", "physics", mass=True),
    "химия": N("химия", "f", "chemistry", mass=True),
    "биология": N("биология", "f", "biology", mass=True),
    "экономика": N("экономика", "f", "economics", mass=True),
    "философия": N("философия", "f", "philosophy", mass=True),
    "литература": N("литература", "f", "literature", mass=True),
    "программирование": N("программирование", "n", "programming", mass=True),
    "статистика": N("статистика", "f", "statistics", mass=True),
    "информатика": N("информатика", "f", "computer science", mass=True),
    "география": N("география", "f", "geography", mass=True),
    "психология": N("психология", "f", "psychology", mass=True),
}
# (head, adjective, genitive tail, number, English)
TOPICS = [
    ("обучение", "машинный", "", "sg", "machine learning"),
    ("обучение", "глубокий", "", "sg", "deep learning"),
    ("сеть", "нейронный", "", "pl", "neural networks"),
    ("обработка", None, "естественного языка", "sg", "natural language processing"),
    ("зрение", "компьютерный", "", "sg", "computer vision"),
    ("интеллект", "искусственный", "", "sg", "artificial intelligence"),
    ("анализ", None, "данных", "sg", "data analysis"),
    ("алгебра", "линейный", "", "sg", "linear algebra"),
    ("теория", None, "вероятностей", "sg", "probability theory"),
    ("математика", None, "", "sg", "mathematics"),
    ("история", None, "", "sg", "history"),
    ("физика", None, "", "sg", "physics"),
    ("химия", None, "", "sg", "chemistry"),
    ("биология", None, "", "sg", "biology"),
    ("экономика", None, "", "sg", "economics"),
    ("философия", None, "", "sg", "philosophy"),
    ("литература", None, "", "sg", "literature"),
    ("программирование", None, "", "sg", "programming"),
    ("статистика", None, "", "sg", "statistics"),
    ("информатика", None, "", "sg", "computer science"),
    ("география", None, "", "sg", "geography"),
    ("психология", None, "", "sg", "psychology"),
    ("язык", "русский", "", "sg", "Russian"),
    ("язык", "английский", "", "sg", "English"),
    ("язык", "немецкий", "", "sg", "German"),
    ("язык", "французский", "", "sg", "French"),
    ("язык", "испанский", "", "sg", "Spanish"),
    ("язык", "китайский", "", "sg", "Chinese"),
]
# "говорить по-русски": adverb, English language name.
LANGUAGES = [
    ("по-русски", "Russian"),
    ("по-английски", "English"),
    ("по-немецки", "German"),
    ("по-французски", "French"),
    ("по-испански", "Spanish"),
    ("по-китайски", "Chinese"),
]

# ------------------------------------------------------------------------------- adjectives

A = Adjective
ADJECTIVES = [
    A("новый", "new", "read building vehicle device wear small"),
    A("старый", "old", "read building vehicle device furniture friend settlement"),
    A("большой", "big", "building vehicle animal furniture settlement room"),
    A("маленький", "small", "building vehicle animal furniture settlement room pet"),
    A("красивый", "beautiful", "building wear colored settlement animal"),
    A("интересный", "interesting", "read watch topic"),
    A("скучный", "boring", "read watch topic"),
    A("хороший", "good", "read watch prof friend"),
    A("плохой", "bad", "watch"),
    A("дорогой", "expensive", "device vehicle wear"),
    A("дешёвый", "cheap", "device vehicle wear"),
    A("красный", "red", "colored"),
    A("синий", "blue", "colored"),
    A("зелёный", "green", "colored"),
    A("белый", "white", "colored"),
    A("чёрный", "black", "colored"),
    A("жёлтый", "yellow", "colored"),
    A("молодой", "young", "prof"),
    A("умный", "smart", "prof pet"),
    A("добрый", "kind", "prof"),
    A("весёлый", "cheerful", "friend"),
    A("вкусный", "delicious", "food"),
    A("свежий", "fresh", "fruit"),
    A("горячий", "hot", "hot"),
    A("холодный", "cold", "cold"),
    A("тёплый", "warm", "wear"),
    A("русский", "Russian", "read watch"),
    A("английский", "English", "read watch"),
    A("старший", "older", "sibling"),
    A("младший", "younger", "sibling"),
    A("трудный", "difficult", "topic"),
    A("высокий", "tall", ""),
    A("важный", "important", "read"),
    # adjectives used inside fixed phrases
    A("машинный", "machine", ""),
    A("глубокий", "deep", ""),
    A("нейронный", "neural", ""),
    A("компьютерный", "computer", ""),
    A("искусственный", "artificial", ""),
    A("линейный", "linear", ""),
    A("немецкий", "German", ""),
    A("французский", "French", ""),
    A("испанский", "Spanish", ""),
    A("китайский", "Chinese", ""),
    A("прошлый", "last", ""),
    A("следующий", "next", ""),
]
ADJ = {a.lemma: a for a in ADJECTIVES}

# Predicative adjectives: (adjective, tags of nouns it describes).
PREDICATIVE = [
    "интересный",
    "скучный",
    "новый",
    "старый",
    "большой",
    "маленький",
    "красивый",
    "дорогой",
    "дешёвый",
    "вкусный",
    "свежий",
    "умный",
    "добрый",
    "молодой",
    "весёлый",
    "трудный",
    "важный",
]

# ------------------------------------------------------------------------------ determiners

_MY = """
мой моего моему моим моём
моя моей моей мою моей моей
моё моего моему моё моим моём
мои моих моим моими моих
"""
_OUR = """
наш нашего нашему нашим нашем
наша нашей нашей нашу нашей нашей
наше нашего нашему наше нашим нашем
наши наших нашим нашими наших
"""
_THIS = """
этот этого этому этим этом
эта этой этой эту этой этой
это этого этому это этим этом
эти этих этим этими этих
"""
POSSESSIVES = {
    "my": Determiner(_MY, "my", person=("1", "sg")),
    "your": Determiner(_MY.replace("мо", "тво"), "your", person=("2", "sg")),
    "his": Determiner("его", "his", person=("3", "sg")),
    "her": Determiner("её", "her", person=("3", "sg")),
    "our": Determiner(_OUR, "our", person=("1", "pl")),
    "your_pl": Determiner(_OUR.replace("на", "ва"), "your", person=("2", "pl")),
    "their": Determiner("их", "their", person=("3", "pl")),
}
THIS = Determiner(_THIS, "this", "these")

# one / two by gender (nominative and accusative-inanimate)
ONE = {"m": ("один", "один"), "f": ("одна", "одну"), "n": ("одно", "одно")}
TWO = {"m": "два", "f": "две", "n": "два"}
UNITS = {
    3: ("три", "three"),
    4: ("четыре", "four"),
    5: ("пять", "five"),
    6: ("шесть", "six"),
    7: ("семь", "seven"),
    8: ("восемь", "eight"),
    9: ("девять", "nine"),
}
TEENS = {
    10: ("десять", "ten"),
    11: ("одиннадцать", "eleven"),
    12: ("двенадцать", "twelve"),
    13: ("тринадцать", "thirteen"),
    14: ("четырнадцать", "fourteen"),
    15: ("пятнадцать", "fifteen"),
    16: ("шестнадцать", "sixteen"),
    17: ("семнадцать", "seventeen"),
    18: ("восемнадцать", "eighteen"),
    19: ("девятнадцать", "nineteen"),
}
TENS = {
    20: ("двадцать", "twenty"),
    30: ("тридцать", "thirty"),
    40: ("сорок", "forty"),
    50: ("пятьдесят", "fifty"),
    60: ("шестьдесят", "sixty"),
    70: ("семьдесят", "seventy"),
    80: ("восемьдесят", "eighty"),
    90: ("девяносто", "ninety"),
}

# -------------------------------------------------------------------------------- pronouns

# nom, gen, gen after a preposition, dat, dat after a preposition, acc, ins, ins after a
# preposition, prep; person, number, gender(s); English subject, object, possessive key.
PRONOUNS = {
    "я": ("я меня меня мне мне меня мной мной мне", "1", "sg", "mf", "I", "me", "my"),
    "ты": ("ты тебя тебя тебе тебе тебя тобой тобой тебе", "2", "sg", "mf", "you", "you", "your"),
    "он": ("он его него ему нему его им ним нём", "3", "sg", "m", "he", "him", "his"),
    "она": ("она её неё ей ней её ей ней ней", "3", "sg", "f", "she", "her", "her"),
    "мы": ("мы нас нас нам нам нас нами нами нас", "1", "pl", "p", "we", "us", "our"),
    "вы": ("вы вас вас вам вам вас вами вами вас", "2", "pl", "p", "you", "you", "your_pl"),
    "они": ("они их них им ним их ими ними них", "3", "pl", "p", "they", "them", "their"),
}

# ------------------------------------------------------------------------------------ verbs

V = RuVerb
E = EnVerb


class Verb:
    """An imperfective verb, its perfective partner (or None), English, and what it governs.

    style: "prog" for activities (bare present -> English progressive), "state" for verbs
    that stay in the simple present ("I know", "I study machine learning").
    """

    def __init__(self, ipf, pf, en, objects="", case="acc", style="prog", en_pf=None, prep=""):
        self.ipf = V(ipf)
        self.pf = V(pf) if pf else None
        self.en = en
        self.en_pf = en_pf or en
        self.objects = frozenset(objects.split())
        self.case = case
        self.style = style
        self.prep = prep


READ = E("read", "read", "read")
TRANSITIVE = [
    Verb(
        "читать: читаю читаешь читают; читал",
        "прочитать: прочитаю прочитаешь прочитают; прочитал",
        READ,
        "read",
    ),
    Verb(
        "писать: пишу пишешь пишут; писал",
        "написать: напишу напишешь напишут; написал",
        E("write", "wrote", "written"),
        "write",
    ),
    Verb(
        "покупать: покупаю покупаешь покупают; покупал",
        "купить: куплю купишь купят; купил",
        E("buy", "bought", "bought"),
        "buy",
    ),
    Verb(
        "смотреть: смотрю смотришь смотрят; смотрел",
        "посмотреть: посмотрю посмотришь посмотрят; посмотрел",
        E("watch"),
        "watch",
    ),
    Verb(
        "слушать: слушаю слушаешь слушают; слушал",
        "послушать: послушаю послушаешь послушают; послушал",
        E("listen to"),
        "listen",
    ),
    Verb(
        "пить: пью пьёшь пьют; пил",
        "выпить: выпью выпьешь выпьют; выпил",
        E("drink", "drank", "drunk"),
        "drink",
    ),
    Verb(
        "есть: ем ешь ест едим едите едят; ел",
        "съесть: съем съешь съест съедим съедите съедят; съел",
        E("eat", "ate", "eaten"),
        "fruit dish",
    ),
    Verb(
        "готовить: готовлю готовишь готовят; готовил",
        "приготовить: приготовлю приготовишь приготовят; приготовил",
        E("make", "made", "made"),
        "dish meal",
    ),
    Verb(
        "видеть: вижу видишь видят; видел",
        "увидеть: увижу увидишь увидят; увидел",
        E("see", "saw", "seen"),
        "person animal vehicle building",
        style="state",
    ),
    Verb(
        "знать: знаю знаешь знают; знал", None, E("know", "knew", "known"), "person", style="state"
    ),
    Verb("изучать: изучаю изучаешь изучают; изучал", None, E("study"), "topic", style="state"),
    Verb(
        "понимать: понимаю понимаешь понимают; понимал",
        "понять: пойму поймёшь поймут; понял",
        E("understand", "understood", "understood"),
        "topic person",
        style="state",
    ),
    Verb("ждать: жду ждёшь ждут; ждал", None, E("wait for"), "person transport"),
    Verb(
        "искать: ищу ищешь ищут; искал",
        "найти: найду найдёшь найдут; нашёл нашла нашло нашли",
        E("look for"),
        "lost pet",
        en_pf=E("find", "found", "found"),
    ),
    Verb(
        "открывать: открываю открываешь открывают; открывал",
        "открыть: открою откроешь откроют; открыл",
        E("open"),
        "openable",
    ),
    Verb(
        "закрывать: закрываю закрываешь закрывают; закрывал",
        "закрыть: закрою закроешь закроют; закрыл",
        E("close"),
        "openable",
    ),
    Verb(
        "рисовать: рисую рисуешь рисуют; рисовал",
        "нарисовать: нарисую нарисуешь нарисуют; нарисовал",
        E("draw", "drew", "drawn"),
        "animal house vehicle",
    ),
    Verb("мыть: мою моешь моют; мыл", "помыть: помою помоешь помоют; помыл", E("wash"), "washable"),
    Verb(
        "встречать: встречаю встречаешь встречают; встречал",
        "встретить: встречу встретишь встретят; встретил",
        E("meet", "met", "met", "meeting"),
        "person",
    ),
    Verb("помнить: помню помнишь помнят; помнил", None, E("remember"), "person", style="state"),
    Verb("любить: люблю любишь любят; любил", None, E("love"), "person", style="state"),
    Verb(
        "помогать: помогаю помогаешь помогают; помогал",
        "помочь: помогу поможешь помогут; помог помогла помогло помогли",
        E("help"),
        "person",
        case="dat",
    ),
    Verb(
        "звонить: звоню звонишь звонят; звонил",
        "позвонить: позвоню позвонишь позвонят; позвонил",
        E("call"),
        "person",
        case="dat",
    ),
    Verb(
        "думать: думаю думаешь думают; думал",
        None,
        E("think about", "thought", "thought"),
        "person topic",
        case="prep",
        prep="о",
    ),
    Verb(
        "говорить: говорю говоришь говорят; говорил",
        None,
        E("talk about"),
        "topic",
        case="prep",
        prep="о",
    ),
    Verb(
        "говорить: говорю говоришь говорят; говорил",
        None,
        E("talk to"),
        "person",
        case="ins",
        prep="с",
    ),
]
LIKE = Verb("любить: люблю любишь любят; любил", None, E("like"), style="state")

# intransitive and other verbs used by single templates
LIVE = V("жить: живу живёшь живут; жил")
WORK = V("работать: работаю работаешь работают; работал")
STUDY_AT = V("учиться: учу учишь учат; учил")
SLEEP = V("спать: сплю спишь спят; спал")
WALK = V("гулять: гуляю гуляешь гуляют; гулял")
REST = V("отдыхать: отдыхаю отдыхаешь отдыхают; отдыхал")
GO_FOOT = V("идти: иду идёшь идут; шёл шла шло шли")
GO_RIDE = V("ехать: еду едешь едут; ехал")
GO_FOOT_HABIT = V("ходить: хожу ходишь ходят; ходил")
GO_RIDE_HABIT = V("ездить: езжу ездишь ездят; ездил")
GO_FOOT_PF = V("пойти: пойду пойдёшь пойдут; пошёл пошла пошло пошли")
GO_RIDE_PF = V("поехать: поеду поедешь поедут; поехал")
WANT = V("хотеть: хочу хочешь хочет хотим хотите хотят; хотел")
CAN = V("мочь: могу можешь может можем можете могут; мог могла могло могли")
BE = V("быть: буду будешь будут; был")
BECOME = V("стать: стану станешь станут; стал")
INTEREST = V("интересоваться: интересую интересуешь интересуют; интересовал")
PROUD = V("гордиться: горжу гордишь гордят; гордил")
PLEASE = V("нравиться: нравлю нравишь нравят; нравил")
PLEASE_PF = V("понравиться: понравлю понравишь понравят; понравил")
COST = V("стоить: стою стоишь стоят; стоил")
LIE = V("лежать: лежу лежишь лежат; лежал")
SPEAK = V("говорить: говорю говоришь говорят; говорил")
GIVE = V("дарить: дарю даришь дарят; дарил")
GIVE_PF = V("подарить: подарю подаришь подарят; подарил")
CAN_SKILL = V("уметь: умею умеешь умеют; умел")

# Skills: "Я умею плавать." -> "I can swim."
SKILLS = (
    "читать",
    "писать",
    "рисовать",
    "готовить",
    "плавать",
    "танцевать",
    "петь",
    "играть в шахматы",
    "играть в футбол",
    "играть на гитаре",
)

# Activities "I like to ...", "I want to ...": Russian infinitive, English verb.
ACTIVITIES = [
    ("читать", READ),
    ("писать", E("write", "wrote", "written")),
    ("рисовать", E("draw", "drew", "drawn")),
    ("готовить", E("cook")),
    ("гулять", E("walk")),
    ("спать", E("sleep", "slept", "slept")),
    ("работать", E("work")),
    ("отдыхать", E("rest")),
    ("плавать", E("swim", "swam", "swum", "swimming")),
    ("танцевать", E("dance")),
    ("петь", E("sing", "sang", "sung")),
    ("путешествовать", E("travel")),
    ("играть в шахматы", E("play chess")),
    ("играть в футбол", E("play football")),
    ("играть на гитаре", E("play the guitar")),
    ("смотреть телевизор", E("watch TV")),
    ("слушать музыку", E("listen to music")),
]
