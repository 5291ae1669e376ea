"""Names for the demo company's customers and their people, in English, Japanese, Russian and Thai.

Names come from Faker's locales; the ASCII forms a domain or an email needs come from Faker's own
romanised pairs (Japanese) or its transliteration (`faker.decode.unidecode`, Cyrillic and Thai).
Person names are drawn once per run into pools (`PeoplePools`) and then combined with the step's
random stream: Faker is too slow to ask 50,000 times, and the pools keep the output deterministic.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from faker import Faker
from faker.decode import unidecode


@dataclass(frozen=True)
class Company:
    name: str
    slug: str  # the ASCII stem of its domain
    tld: str
    brand: str  # the part of the name its subsidiaries reuse
    legal_form: str = ""

    @property
    def domain(self) -> str:
        return f"{self.slug}.{self.tld}"


@dataclass(frozen=True)
class Person:
    name: str
    email_local_part: str


def ascii_slug(text: str, *, separator: str = "-", max_words: int = 3) -> str:
    """Lowercase ASCII words of `text` (transliterated), joined; '' when nothing is left."""
    words = re.findall(r"[a-z0-9]+", unidecode(text).lower().replace("'", ""))
    return separator.join(words[:max_words])[:40].strip(separator)


def _weighted(rng: random.Random, choices: list[tuple[str, float]]) -> str:
    return rng.choices([value for value, _weight in choices], weights=[w for _value, w in choices])[0]


# --- Companies ----------------------------------------------------------------------------------

_EN_SUFFIX_WORDS = {
    "inc",
    "llc",
    "ltd",
    "plc",
    "group",
    "and",
    "sons",
    "co",
    "corp",
    "corporation",
    "company",
}
_EN_TLDS = [("com", 0.7), ("io", 0.1), ("co", 0.1), ("net", 0.1)]

# Japanese industry words with their romaji (Faker's ja_JP list plus a few more, for variety).
_JA_INDUSTRIES = [
    ("電気", "denki"),
    ("建設", "kensetsu"),
    ("食品", "shokuhin"),
    ("印刷", "insatsu"),
    ("情報", "joho"),
    ("通信", "tsushin"),
    ("運輸", "unyu"),
    ("保険", "hoken"),
    ("水産", "suisan"),
    ("商事", "shoji"),
    ("物産", "bussan"),
    ("工業", "kogyo"),
    ("製作所", "seisakusho"),
    ("化学", "kagaku"),
    ("製薬", "seiyaku"),
    ("精機", "seiki"),
    ("不動産", "fudosan"),
    ("システムズ", "systems"),
    ("ソフト", "soft"),
    ("テクノロジー", "tech"),
    ("物流", "logi"),
    ("観光", "kanko"),
    ("商会", "shokai"),
    ("電子", "denshi"),
    ("ホールディングス", "hd"),
]
_JA_LEGAL_FORMS = [("株式会社", 0.85), ("合同会社", 0.1), ("有限会社", 0.05)]

_RU_LEGAL_FORMS = [("ООО", 0.6), ("АО", 0.25), ("ПАО", 0.05), ("ЗАО", 0.1)]
_RU_INDUSTRIES = [
    ("Технологии", "tech"),
    ("Логистика", "logistics"),
    ("Системы", "systems"),
    ("Трейд", "trade"),
    ("Софт", "soft"),
    ("Пром", "prom"),
    ("Строй", "stroy"),
    ("Инвест", "invest"),
    ("Медиа", "media"),
]

_TH_INDUSTRIES = [
    ("กรุ๊ป", "group"),
    ("เทรดดิ้ง", "trading"),
    ("เอ็นจิเนียริ่ง", "engineering"),
    ("ซัพพลาย", "supply"),
    ("อินเตอร์เนชั่นแนล", "inter"),
    ("เทคโนโลยี", "tech"),
    ("โลจิสติกส์", "logistics"),
    ("คอนสตรัคชั่น", "construction"),
    ("ฟู้ดส์", "foods"),
    ("มีเดีย", "media"),
]

# Where a group's subsidiaries sit, per script: (name in the script, ASCII for the subdomain).
SUBSIDIARY_REGIONS: dict[str, list[tuple[str, str]]] = {
    "en_US": [
        ("EMEA", "emea"),
        ("APAC", "apac"),
        ("UK", "uk"),
        ("Canada", "ca"),
        ("Germany", "de"),
        ("Australia", "au"),
        ("LATAM", "latam"),
        ("Nordics", "nordics"),
    ],
    "ja_JP": [
        ("関西", "kansai"),
        ("九州", "kyushu"),
        ("東北", "tohoku"),
        ("北海道", "hokkaido"),
        ("中部", "chubu"),
        ("シンガポール", "sg"),
    ],
    "ru_RU": [
        ("Северо-Запад", "spb"),
        ("Урал", "ural"),
        ("Сибирь", "sibir"),
        ("Юг", "yug"),
        ("Казань", "kazan"),
        ("Поволжье", "volga"),
    ],
    "th_TH": [
        ("เชียงใหม่", "chiangmai"),
        ("ภูเก็ต", "phuket"),
        ("ขอนแก่น", "khonkaen"),
        ("ชลบุรี", "chonburi"),
        ("สิงคโปร์", "sg"),
    ],
}


def company(locale: str, faker: Faker, rng: random.Random) -> Company:
    """A plausible company in the locale's script, with an ASCII domain stem."""
    made = _company(locale, faker, rng)
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", made.slug):
        # Transliteration left nothing usable: fall back to a neutral stem.
        slug = f"customer{rng.randrange(1000, 10000)}"
        made = Company(made.name, slug, made.tld, made.brand, made.legal_form)
    return made


def _company(locale: str, faker: Faker, rng: random.Random) -> Company:
    if locale == "ja_JP":
        kanji, _kana, romaji = faker.last_name_pair()
        industry, industry_romaji = rng.choice(_JA_INDUSTRIES)
        legal_form = _weighted(rng, _JA_LEGAL_FORMS)
        brand = f"{kanji}{industry}"
        # Both orders occur in Japan: 株式会社山田電気 and 山田電気株式会社.
        name = f"{legal_form}{brand}" if rng.random() < 0.4 else f"{brand}{legal_form}"
        return Company(name, f"{romaji.lower()}-{industry_romaji}", "co.jp", brand, legal_form)
    if locale == "ru_RU":
        legal_form = _weighted(rng, _RU_LEGAL_FORMS)
        shape = rng.random()
        if shape < 0.45:
            surname = faker.last_name_male()
            brand, slug = surname, ascii_slug(surname)
        elif shape < 0.75:
            word, word_ascii = rng.choice(_RU_INDUSTRIES)
            stem = faker.last_name_male()
            brand, slug = f"{stem[:5]}{word}", f"{ascii_slug(stem)[:5]}{word_ascii}"
        else:
            first, second = faker.last_name(), faker.last_name()
            brand, slug = f"{first} и {second}", f"{ascii_slug(first)}-{ascii_slug(second)}"
        tld = _weighted(rng, [("ru", 0.85), ("com", 0.15)])
        return Company(f"{legal_form} «{brand}»", slug, tld, brand, legal_form)
    if locale == "th_TH":
        surname = faker.last_name()
        slug = ascii_slug(surname, separator="")[:16]
        shape = rng.random()
        if shape < 0.45:
            brand = surname
        else:
            industry, industry_ascii = rng.choice(_TH_INDUSTRIES)
            brand, slug = f"{surname} {industry}", f"{slug}-{industry_ascii}"
        if shape > 0.9:
            return Company(f"บริษัท {brand} จำกัด (มหาชน)", slug, "co.th", brand, "plc")
        return Company(f"บริษัท {brand} จำกัด", slug, _weighted(rng, [("co.th", 0.8), ("com", 0.2)]), brand)
    name = faker.company()
    words = [word for word in re.findall(r"[A-Za-z]+", name) if word.lower() not in _EN_SUFFIX_WORDS]
    separator = "-" if rng.random() < 0.5 else ""
    slug = separator.join(word.lower() for word in words[:2]) or ascii_slug(name)
    return Company(name, slug, _weighted(rng, _EN_TLDS), name)


def subsidiary(parent: Company, locale: str, region: tuple[str, str]) -> Company:
    """A group company's subsidiary in a region: its parent's brand, the region, a subdomain."""
    region_name, region_slug = region
    slug = f"{region_slug}.{parent.slug}"
    if locale == "ja_JP":
        return Company(
            f"{parent.brand}{region_name}{parent.legal_form or '株式会社'}",
            slug,
            parent.tld,
            parent.brand,
            parent.legal_form,
        )
    if locale == "ru_RU":
        return Company(f"ООО «{parent.brand} {region_name}»", slug, parent.tld, parent.brand, "ООО")
    if locale == "th_TH":
        return Company(f"บริษัท {parent.brand} ({region_name}) จำกัด", slug, parent.tld, parent.brand)
    return Company(f"{parent.name} {region_name}", slug, parent.tld, parent.brand)


def with_region(company_: Company, locale: str, region: tuple[str, str]) -> Company:
    """The same company told apart from a namesake by its home region."""
    named = subsidiary(company_, locale, region)
    slug = f"{company_.slug}-{region[1]}"
    return Company(named.name, slug, company_.tld, company_.brand, company_.legal_form)


# --- People -------------------------------------------------------------------------------------


class PeoplePools:
    """Names drawn once from Faker per locale, combined freely afterwards."""

    POOL_SIZE = 250

    def __init__(self, fakers: dict[str, Faker]) -> None:
        size = self.POOL_SIZE
        en, ja, ru, th = fakers["en_US"], fakers["ja_JP"], fakers["ru_RU"], fakers["th_TH"]
        self.en = (
            [en.first_name_female() for _ in range(size)],
            [en.first_name_male() for _ in range(size)],
            [en.last_name() for _ in range(size)],
        )
        self.ja = (
            [ja.first_name_female_pair() for _ in range(size)],
            [ja.first_name_male_pair() for _ in range(size)],
            [ja.last_name_pair() for _ in range(size)],
        )
        self.ru_female = [(ru.first_name_female(), ru.last_name_female()) for _ in range(size)]
        self.ru_male = [(ru.first_name_male(), ru.last_name_male()) for _ in range(size)]
        self.th = ([th.first_name() for _ in range(size)], [th.last_name() for _ in range(size)])
        self._ascii: dict[str, str] = {}

    def _to_ascii(self, text: str) -> str:
        if text not in self._ascii:
            self._ascii[text] = ascii_slug(text, separator="", max_words=4)
        return self._ascii[text]

    def person(self, locale: str, rng: random.Random) -> Person:
        female = rng.random() < 0.5
        if locale == "ja_JP":
            ja_female, ja_male, ja_last = self.ja
            first_kanji, _kana, first_romaji = rng.choice(ja_female if female else ja_male)
            last_kanji, _kana, last_romaji = rng.choice(ja_last)
            return Person(f"{last_kanji} {first_kanji}", f"{first_romaji}.{last_romaji}".lower())
        if locale == "ru_RU":
            first = rng.choice(self.ru_female if female else self.ru_male)[0]
            last = rng.choice(self.ru_female if female else self.ru_male)[1]
            return Person(f"{first} {last}", f"{self._to_ascii(first)}.{self._to_ascii(last)}")
        if locale == "th_TH":
            first, last = rng.choice(self.th[0]), rng.choice(self.th[1])
            # Thai work addresses usually take the first name and the surname's initial.
            return Person(f"{first} {last}", f"{self._to_ascii(first)[:12]}.{self._to_ascii(last)[:1]}")
        first_names, male_names, last_names = self.en
        first, last = rng.choice(first_names if female else male_names), rng.choice(last_names)
        return Person(f"{first} {last}", f"{self._to_ascii(first)}.{self._to_ascii(last)}")


_PHONE_SHAPES = {
    "en_US": "+1 ({a}{b}{c}) {d}{e}{f}-{g}{h}{i}{j}",
    "ja_JP": "0{a}-{b}{c}{d}{e}-{f}{g}{h}{i}",
    "ru_RU": "+7 (9{a}{b}) {c}{d}{e}-{f}{g}-{h}{i}",
    "th_TH": "0{a}-{b}{c}{d}-{e}{f}{g}{h}",
}


def phone(locale: str, rng: random.Random) -> str:
    digits = {key: rng.randint(2 if key == "a" else 0, 9) for key in "abcdefghij"}
    return _PHONE_SHAPES[locale].format(**digits)


# Job titles by role and script. A contact with several roles takes the title of the first.
JOB_TITLES: dict[str, dict[str, list[str]]] = {
    "decision_maker": {
        "en_US": [
            "Chief Operating Officer",
            "VP of Operations",
            "Chief Revenue Officer",
            "VP of Customer Experience",
        ],
        "ja_JP": ["代表取締役", "取締役 営業本部長", "執行役員", "事業部長"],
        "ru_RU": [
            "Генеральный директор",
            "Коммерческий директор",
            "Директор по развитию",
            "Операционный директор",
        ],
        "th_TH": ["กรรมการผู้จัดการ", "ผู้อำนวยการฝ่ายปฏิบัติการ", "ผู้อำนวยการฝ่ายขาย", "ประธานเจ้าหน้าที่บริหาร"],
    },
    "champion": {
        "en_US": [
            "Head of Operations",
            "Customer Operations Manager",
            "Director of Sales Operations",
            "Program Manager",
        ],
        "ja_JP": [
            "営業企画部 部長",
            "DX推進室 室長",
            "カスタマーサポート課長",
            "業務改革プロジェクトリーダー",
        ],
        "ru_RU": [
            "Руководитель отдела продаж",
            "Менеджер проектов",
            "Руководитель клиентского сервиса",
            "Руководитель направления цифровизации",
        ],
        "th_TH": ["ผู้จัดการฝ่ายปฏิบัติการ", "ผู้จัดการโครงการ", "ผู้จัดการฝ่ายบริการลูกค้า", "หัวหน้าฝ่ายขาย"],
    },
    "kpi_owner": {
        "en_US": ["Business Analyst", "Revenue Operations Lead", "Head of Analytics"],
        "ja_JP": ["経営企画部 課長", "データ分析担当", "営業推進 主任"],
        "ru_RU": ["Бизнес-аналитик", "Руководитель аналитики", "Финансовый аналитик"],
        "th_TH": ["นักวิเคราะห์ธุรกิจ", "ผู้จัดการฝ่ายวางแผน", "หัวหน้าฝ่ายวิเคราะห์ข้อมูล"],
    },
    "billing": {
        "en_US": ["Accounts Payable Specialist", "Finance Manager", "Procurement Manager"],
        "ja_JP": ["経理部 主任", "購買部 課長", "財務担当"],
        "ru_RU": ["Главный бухгалтер", "Специалист по закупкам", "Финансовый менеджер"],
        "th_TH": ["ผู้จัดการฝ่ายบัญชี", "เจ้าหน้าที่จัดซื้อ", "ผู้จัดการฝ่ายการเงิน"],
    },
    "user": {
        "en_US": [
            "Account Executive",
            "Support Specialist",
            "Operations Analyst",
            "Sales Manager",
            "Customer Success Specialist",
            "Marketing Coordinator",
        ],
        "ja_JP": ["営業担当", "サポート担当", "マーケティング担当", "業務担当", "主任"],
        "ru_RU": [
            "Менеджер по продажам",
            "Специалист поддержки",
            "Аналитик",
            "Маркетолог",
            "Менеджер по работе с клиентами",
        ],
        "th_TH": ["เจ้าหน้าที่ขาย", "เจ้าหน้าที่ฝ่ายสนับสนุน", "นักการตลาด", "เจ้าหน้าที่ปฏิบัติการ"],
    },
}
