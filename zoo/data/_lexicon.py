"""The lexicon of the bundled Russian-English corpus, written for this project.

Private to `zoo.data.corpus`. Regular forms come from the rules in `zoo.data._grammar`;
every irregular form is written out here. Noun tags say which templates a noun fits.
"""

from __future__ import annotations

from zoo.data._grammar import Adjective, Determiner, EnVerb, Noun, RuVerb

# ------------------------------------------------------------------------------------ nouns


def _rows(table):
    """The rows of a `table`: one a line, fields split at "|"; a line that starts with "|"
    continues the row above, and "#" starts a comment line."""
    rows = []
    for line in table.strip().splitlines():
        line = line.strip()
        if line.startswith("|"):
            rows[-1] += line
        elif line and not line.startswith("#"):
            rows.append(line)
    return [[field.strip() for field in row.split("|")] for row in rows]


def _nouns(table):
    """Nouns from a table, one a row: lemma | gender | English | tags ("-": none), then any
    of the `Noun` options: the flags animate, mass, indeclinable and forms such as
    gen_pl=кошек, stem=отц or pl=<the five plural forms>."""
    nouns = []
    for lemma, gender, en, tags, *options in _rows(table):
        options = dict(option.partition("=")[::2] for option in options)
        flags = {name: True for name, value in options.items() if not value}
        forms = {name: value for name, value in options.items() if value}
        nouns.append(Noun(lemma, gender, en, "" if tags == "-" else tags, **flags, **forms))
    return nouns


NOUNS = _nouns(
    """
    # people
    брат | m | brother | person family sibling | animate
        | pl=братья братьев братьям братьями братьях
    сестра | f | sister | person family sibling | animate
        | pl=сёстры сестёр сёстрам сёстрами сёстрах
    мама | f | mom | person parent | animate
    папа | m | dad | person parent | animate
    друг | m | friend | person friend | animate | pl=друзья друзей друзьям друзьями друзьях
    подруга | f | friend | person friend | animate
    учитель | m | teacher | person prof | animate | nom_pl=учителя
    учительница | f | teacher | person prof | animate
    студент | m | student | person | animate
    студентка | f | student | person | animate | gen_pl=студенток
    врач | m | doctor | person prof | animate
    инженер | m | engineer | person prof | animate
    программист | m | programmer | person prof | animate
    журналист | m | journalist | person prof | animate
    писатель | m | writer | person prof | animate
    сосед | m | neighbor | person | animate | pl=соседи соседей соседям соседями соседях
    ребёнок | m | child | person | animate | stem=ребёнк | pl=дети детей детям детьми детях
    мальчик | m | boy | person | animate
    девочка | f | girl | person | animate | gen_pl=девочек
    отец | m | father | person family parent | animate | stem=отц
    сын | m | son | person family child | animate | pl=сыновья сыновей сыновьям сыновьями сыновьях
    дочь | f | daughter | person family child | animate | sg=дочь дочери дочери дочь дочерью дочери
        | pl=дочери дочерей дочерям дочерьми дочерях
    бабушка | f | grandmother | person family | animate | gen_pl=бабушек
    дедушка | m | grandfather | person family | animate | gen_pl=дедушек
    мужчина | m | man | person | animate
    женщина | f | woman | person | animate
    начальник | m | boss | person | animate
    директор | m | director | person | animate | nom_pl=директора
    профессор | m | professor | person | animate | nom_pl=профессора
    # animals
    собака | f | dog | animal pet | animate
    кошка | f | cat | animal pet | animate | gen_pl=кошек
    кот | m | cat | animal pet | animate
    птица | f | bird | animal | animate
    лошадь | f | horse | animal | animate | pl=лошади лошадей лошадям лошадьми лошадях
    медведь | m | bear | animal wild | animate
    корова | f | cow | animal | animate
    волк | m | wolf | animal wild | animate
    мышь | f | mouse | animal | animate
    попугай | m | parrot | animal pet | animate
    хомяк | m | hamster | animal pet | animate
    лиса | f | fox | animal wild | animate | gen_pl=лис
    рыба | f | fish | animal | animate
    # things to read and write
    книга | f | book | read write buy small count colored
    газета | f | newspaper | read buy small
    журнал | m | magazine | read buy small count
    письмо | n | letter | read write small count | gen_pl=писем
    статья | f | article | read write | ins_sg=статьёй | gen_pl=статей
    роман | m | novel | read write buy count
    рассказ | m | story | read write
    стихотворение | n | poem | read write count
    сообщение | n | message | read write
    # food and drink
    яблоко | n | apple | food fruit buy count | pl=яблоки яблок яблокам яблоками яблоках
    банан | m | banana | food fruit buy count
    апельсин | m | orange | food fruit buy count
    груша | f | pear | food fruit buy count
    огурец | m | cucumber | food buy count | stem=огурц
    помидор | m | tomato | food buy count
    яйцо | n | egg | food buy count | pl=яйца яиц яйцам яйцами яйцах
    торт | m | cake | food dish buy count
    пирог | m | pie | food dish buy
    пицца | f | pizza | food dish buy
    салат | m | salad | food dish
    бутерброд | m | sandwich | food dish buy count
    конфета | f | candy | food buy count | en_pl=candies
    хлеб | m | bread | food buy | mass
    суп | m | soup | food dish | mass
    сыр | m | cheese | food buy | mass
    мясо | n | meat | food buy | mass
    рис | m | rice | food buy | mass
    каша | f | porridge | food dish | mass
    ужин | m | dinner | meal | mass
    обед | m | lunch | meal | mass
    завтрак | m | breakfast | meal | mass
    вода | f | water | drink buy cold | mass
    кофе | m | coffee | drink buy hot | mass | indeclinable
    чай | m | tea | drink buy hot | mass
    сок | m | juice | drink buy cold | mass
    молоко | n | milk | drink buy cold | mass
    вино | n | wine | drink buy | mass
    # things
    стол | m | table | furniture surface
    стул | m | chair | furniture count | pl=стулья стульев стульям стульями стульях
    окно | n | window | openable washable count | gen_pl=окон
    дверь | f | door | openable colored
    ручка | f | pen | small buy count colored | gen_pl=ручек
    карандаш | m | pencil | small buy count colored
    тетрадь | f | notebook | small buy count
    телефон | m | phone | small buy count lost colored device
    компьютер | m | computer | buy device count
    ноутбук | m | laptop | small buy lost device
    сумка | f | bag | small buy openable lost count colored | gen_pl=сумок
    словарь | m | dictionary | small buy count | ins_sg=словарём
    ключ | m | key | small lost count
    лампа | f | lamp | buy count colored
    картина | f | picture | buy count
    фотография | f | photo | count
    чашка | f | cup | buy count colored | gen_pl=чашек
    зонт | m | umbrella | small buy lost colored
    подарок | m | present | buy count | stem=подарк
    машина | f | car | vehicle buy washable colored
    велосипед | m | bicycle | vehicle buy colored
    дом | m | house | building house buy colored | nom_pl=дома
    квартира | f | apartment | building buy
    диван | m | sofa | furniture surface buy colored
    кровать | f | bed | furniture surface
    шкаф | m | wardrobe | furniture | loc=шкафу
    холодильник | m | fridge | furniture openable
    рюкзак | m | backpack | small buy lost colored
    билет | m | ticket | buy lost count
    фильм | m | film | watch count
    песня | f | song | listen count | gen_pl=песен
    лекция | f | lecture | listen
    платье | n | dress | wear buy colored | gen_pl=платьев
    рубашка | f | shirt | wear buy colored count | gen_pl=рубашек
    куртка | f | jacket | wear buy colored | gen_pl=курток
    шапка | f | hat | wear buy colored | gen_pl=шапок
    автобус | m | bus | transport
    рубль | m | ruble | money
    год | m | year | time | gen_pl=лет
    час | m | hour | time | nom_pl=часы
    пол | m | floor | surface | loc=полу
    лимон | m | lemon | addition | mass
    сахар | m | sugar | addition | mass
    стена | f | wall | wall
    комната | f | room | room
    посуда | f | dishes | washable | mass
    музыка | f | music | listen | mass
    """
)

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
PLACE_NOUNS = _nouns(
    """
    город | m | city | place settlement | nom_pl=города
    школа | f | school | place
    университет | m | university | place
    библиотека | f | library | place
    парк | m | park | place
    магазин | m | store | place
    больница | f | hospital | place
    офис | m | office | place
    банк | m | bank | place
    ресторан | m | restaurant | place
    кафе | n | cafe | place | indeclinable
    театр | m | theater | place
    музей | m | museum | place
    кино | n | cinema | place | indeclinable
    работа | f | work | place
    рынок | m | market | place | stem=рынк
    вокзал | m | station | place
    почта | f | post office | place
    кухня | f | kitchen | place | gen_pl=кухонь
    лес | m | forest | place | loc=лесу | nom_pl=леса
    сад | m | garden | place | loc=саду
    деревня | f | village | place settlement | gen_pl=деревень
    аэропорт | m | airport | place | loc=аэропорту
    завод | m | factory | place
    стадион | m | stadium | place
    бассейн | m | swimming pool | place
    спортзал | m | gym | place
    """
)

# Cities and countries: Russian noun and English name (singular only).
CITIES = _nouns(
    """
    Москва | f | Moscow | city
    Лондон | m | London | city
    Париж | m | Paris | city | ins_sg=Парижем
    Берлин | m | Berlin | city
    Казань | f | Kazan | city
    Рим | m | Rome | city
    Новосибирск | m | Novosibirsk | city
    Россия | f | Russia | country
    Франция | f | France | country
    Германия | f | Germany | country
    Италия | f | Italy | country
    Испания | f | Spain | country
    """
)

# People's names: Russian noun, English name.
NAMES = _nouns(
    """
    Анна | f | Anna | name | animate
    Мария | f | Maria | name | animate
    Нина | f | Nina | name | animate
    Ольга | f | Olga | name | animate
    Елена | f | Elena | name | animate
    Иван | m | Ivan | name | animate
    Олег | m | Oleg | name | animate
    Борис | m | Boris | name | animate
    Пётр | m | Peter | name | animate | stem=Петр
    Дмитрий | m | Dmitry | name | animate
    """
)

# Fields of study. Each: head noun, adjective lemma or None, fixed genitive tail, English.
TOPIC_NOUNS = {
    noun.lemma: noun
    for noun in _nouns(
        """
        обучение | n | learning | - | mass
        сеть | f | network | -
        обработка | f | processing | - | mass | gen_pl=обработок
        зрение | n | vision | - | mass
        интеллект | m | intelligence | - | mass
        анализ | m | analysis | - | mass
        алгебра | f | algebra | - | mass
        теория | f | theory | - | mass
        язык | m | language | - | mass
        математика | f | mathematics | - | mass
        история | f | history | - | mass
        физика | f | physics | - | mass
        химия | f | chemistry | - | mass
        биология | f | biology | - | mass
        экономика | f | economics | - | mass
        философия | f | philosophy | - | mass
        литература | f | literature | - | mass
        программирование | n | programming | - | mass
        статистика | f | statistics | - | mass
        информатика | f | computer science | - | mass
        география | f | geography | - | mass
        психология | f | psychology | - | mass
        """
    )
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
# Number words: units (3-9), teens and tens.
_NUMBER_WORDS = {
    int(number): (ru, en)
    for number, ru, en in _rows(
        """
        3 | три | three
        4 | четыре | four
        5 | пять | five
        6 | шесть | six
        7 | семь | seven
        8 | восемь | eight
        9 | девять | nine
        10 | десять | ten
        11 | одиннадцать | eleven
        12 | двенадцать | twelve
        13 | тринадцать | thirteen
        14 | четырнадцать | fourteen
        15 | пятнадцать | fifteen
        16 | шестнадцать | sixteen
        17 | семнадцать | seventeen
        18 | восемнадцать | eighteen
        19 | девятнадцать | nineteen
        20 | двадцать | twenty
        30 | тридцать | thirty
        40 | сорок | forty
        50 | пятьдесят | fifty
        60 | шестьдесят | sixty
        70 | семьдесят | seventy
        80 | восемьдесят | eighty
        90 | девяносто | ninety
        """
    )
}
UNITS = {n: words for n, words in _NUMBER_WORDS.items() if n < 10}
TEENS = {n: words for n, words in _NUMBER_WORDS.items() if 10 <= n < 20}
TENS = {n: words for n, words in _NUMBER_WORDS.items() if n >= 20}

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


def _en_verb(text):
    """An `EnVerb` from "base, past, participle, ing" (the forms after the base optional)."""
    return E(*(form.strip() for form in text.split(",")))


def _transitive(table):
    """Verbs from a table, a verb a row (two lines): imperfective | perfective ("-": none)
    | English (see `_en_verb`) | what it governs (tags) | any `Verb` options, such as
    case=dat, prep=о, style=state or en_pf=find, found, found."""
    verbs = []
    for ipf, pf, en, objects, *options in _rows(table):
        options = dict(option.split("=") for option in options)
        if "en_pf" in options:
            options["en_pf"] = _en_verb(options["en_pf"])
        verbs.append(Verb(ipf, None if pf == "-" else pf, _en_verb(en), objects, **options))
    return verbs


TRANSITIVE = _transitive(
    """
    читать: читаю читаешь читают; читал | прочитать: прочитаю прочитаешь прочитают; прочитал
        | read, read, read | read
    писать: пишу пишешь пишут; писал | написать: напишу напишешь напишут; написал
        | write, wrote, written | write
    покупать: покупаю покупаешь покупают; покупал | купить: куплю купишь купят; купил
        | buy, bought, bought | buy
    смотреть: смотрю смотришь смотрят; смотрел
        | посмотреть: посмотрю посмотришь посмотрят; посмотрел | watch | watch
    слушать: слушаю слушаешь слушают; слушал | послушать: послушаю послушаешь послушают; послушал
        | listen to | listen
    пить: пью пьёшь пьют; пил | выпить: выпью выпьешь выпьют; выпил
        | drink, drank, drunk | drink
    есть: ем ешь ест едим едите едят; ел | съесть: съем съешь съест съедим съедите съедят; съел
        | eat, ate, eaten | fruit dish
    готовить: готовлю готовишь готовят; готовил
        | приготовить: приготовлю приготовишь приготовят; приготовил | make, made, made | dish meal
    видеть: вижу видишь видят; видел | увидеть: увижу увидишь увидят; увидел
        | see, saw, seen | person animal vehicle building | style=state
    знать: знаю знаешь знают; знал | -
        | know, knew, known | person | style=state
    изучать: изучаю изучаешь изучают; изучал | -
        | study | topic | style=state
    понимать: понимаю понимаешь понимают; понимал | понять: пойму поймёшь поймут; понял
        | understand, understood, understood | topic person | style=state
    ждать: жду ждёшь ждут; ждал | -
        | wait for | person transport
    искать: ищу ищешь ищут; искал | найти: найду найдёшь найдут; нашёл нашла нашло нашли
        | look for | lost pet | en_pf=find, found, found
    открывать: открываю открываешь открывают; открывал | открыть: открою откроешь откроют; открыл
        | open | openable
    закрывать: закрываю закрываешь закрывают; закрывал | закрыть: закрою закроешь закроют; закрыл
        | close | openable
    рисовать: рисую рисуешь рисуют; рисовал | нарисовать: нарисую нарисуешь нарисуют; нарисовал
        | draw, drew, drawn | animal house vehicle
    мыть: мою моешь моют; мыл | помыть: помою помоешь помоют; помыл
        | wash | washable
    встречать: встречаю встречаешь встречают; встречал
        | встретить: встречу встретишь встретят; встретил | meet, met, met, meeting | person
    помнить: помню помнишь помнят; помнил | -
        | remember | person | style=state
    любить: люблю любишь любят; любил | -
        | love | person | style=state
    помогать: помогаю помогаешь помогают; помогал
        | помочь: помогу поможешь помогут; помог помогла помогло помогли | help | person | case=dat
    звонить: звоню звонишь звонят; звонил | позвонить: позвоню позвонишь позвонят; позвонил
        | call | person | case=dat
    думать: думаю думаешь думают; думал | -
        | think about, thought, thought | person topic | case=prep | prep=о
    говорить: говорю говоришь говорят; говорил | -
        | talk about | topic | case=prep | prep=о
    говорить: говорю говоришь говорят; говорил | -
        | talk to | person | case=ins | prep=с
    """
)
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
