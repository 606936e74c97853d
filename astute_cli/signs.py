"""The sign catalogue: GOST R 52290 / RTSD code -> names (ru/en), group, value kind and unit, spoken phrase.

Codes use ``_`` for ``.`` (``3_24`` is sign 3.24). Model labels carry the number printed on value signs:
``3_24_n60`` (integer), ``3_13_r3.5`` (real). The facts are data, in ``signs.csv`` beside this module (one
row per code: every GOST name, every RTSD class, every pictogram), read only through this module, so the
catalogue is the same on every machine. Variants the table does not list (``5_15_2_a``) take the row of
their longest listed prefix.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

CATALOGUE_CSV = Path(__file__).resolve().with_name("signs.csv")
_CODE_RE = re.compile(r"^[1-8](?:_\d+)*(?:_[a-z])?$")
_VALUE_RE = re.compile(r"^(?P<code>[1-8](?:_\d+)+?)_(?P<kind>[nr])(?P<value>\d+(?:[.,]\d+)?)$")

# The rules about signs that the stages apply.
BACKGROUND_LABEL = "background"
"""The classifier's class for a crop that holds no sign."""
BACKGROUND_LABELS = frozenset({BACKGROUND_LABEL, "neg", "bg"})
"""Class names that mean "no sign here" (a detector's or classifier's negative class)."""
SILENT_LABELS = BACKGROUND_LABELS | {"sign"}
"""Labels that are never spoken: the background classes and a one-class detector's "sign"."""
STANDALONE_PLATES = ("8_22", "8_23")
"""Group 8 plates GOST R 52289 lets stand alone (obstacle markers, traffic-camera plate); every other plate
is mounted right under a sign."""
OBSTACLE_MARKER = "8_22"
"""The red-and-white obstacle markers (8.22.1–8.22.3): posts about 3.4 times as tall as wide, on their own."""


@dataclass(frozen=True)
class ValueRange:
    """The values a kind of value can take on a GOST sign: ``low``..``high`` (catalogue unit) on multiples of
    ``step``; ``printed`` is the unit printed on the face (None: speeds print none)."""

    low: float
    high: float
    step: float
    printed: str | None


VALUE_RANGES: dict[str, ValueRange] = {
    "speed": ValueRange(5, 130, 5, None),  # km/h: 3.24, 3.25, 4.6, 6.2
    "height": ValueRange(1.5, 6.0, 0.1, "m"),  # 3.13
    "width": ValueRange(1.5, 6.0, 0.1, "m"),  # 3.14
    "length": ValueRange(2.0, 40.0, 0.1, "m"),  # 3.15
    "distance": ValueRange(50, 5000, 10, "m"),  # 8.1.x, 8.2.x plates (printed "150 м" or "1,5 км")
    "headway": ValueRange(10, 300, 5, "m"),  # 3.16, the gap to keep to the vehicle ahead
    "weight": ValueRange(1, 60, 0.5, "t"),  # 3.11, 3.4, 8.11
    "axle_weight": ValueRange(1, 60, 0.5, "t"),  # 3.12
}
"""Every value a sign of each value kind can carry; a reading outside is a misread."""
PRINTED_UNITS = {"м": "m", "т": "t", "км": "km"}
"""Units as printed on sign faces and plates -> the catalogue's unit names."""
_PRINTED_RE = re.compile(r"^(\d{1,4}(?:,\d)?)(км|м|т)?$")


def parse_printed(text: str) -> tuple[float | None, str | None]:
    """The number and unit printed in ``text`` (``"3,8м"`` -> (3.8, "m"), ``"1,5км"`` -> (1.5, "km"),
    ``"90"`` -> (90.0, None)); (None, None) when the text is no printed value."""
    match = _PRINTED_RE.match(text.replace(" ", ""))
    if match is None:
        return None, None
    return float(match[1].replace(",", ".")), PRINTED_UNITS[match[2]] if match[2] else None


def printed_text(code: str, value: float) -> str:
    """How sign ``code`` prints ``value`` (in the catalogue's unit), as :func:`parse_printed` reads it back:
    (``3_24``, 90) -> ``"90"``, (``3_13``, 3.8) -> ``"3,8м"``, (``3_11``, 15) -> ``"15т"``, (``8_1_1``, 150) ->
    ``"150м"``, (``8_1_1``, 1500) -> ``"1,5км"`` (distances of a kilometre and more are printed in km)."""
    kind = lookup(code).value_kind
    if kind == "distance" and value >= 1000:
        return _number(value / 1000, ",") + "км"
    printed = VALUE_RANGES[kind].printed if kind in VALUE_RANGES else None
    return _number(value, ",") + next((mark for mark, unit in PRINTED_UNITS.items() if unit == printed), "")


def plausible_value(code: str, value: float | None) -> bool:
    """Whether ``value`` (in the catalogue's unit for the sign: km/h, m, t) can stand on a sign of this code."""
    kind = lookup(code).value_kind
    if kind is None or value is None or not math.isfinite(value) or kind not in VALUE_RANGES:
        return False
    rule = VALUE_RANGES[kind]
    steps = value / rule.step
    return rule.low <= value <= rule.high and abs(steps - round(steps)) < 1e-6


def is_of_group_8(label: str) -> bool:
    """A plate or marker of GOST group 8 (``8_2_1``, ``8_22_3``, ``8_2_1_n150``…; a label or its code)."""
    return label.startswith("8_")


def is_mounted_plate(label: str) -> bool:
    """A group 8 plate that is only ever mounted under a sign (not an obstacle marker or camera plate)."""
    return is_of_group_8(label) and not label.startswith(STANDALONE_PLATES)


PLACE_NAME_SIGNS = ("5_23", "5_24", "5_25", "5_26")
"""Settlement signs (a town's name or skyline on a white or blue rectangle): they stand alone on their post, never
under another sign, where a white plate of group 8 with black text looks much like them."""


def is_obstacle_marker(label: str) -> bool:
    """8.22.1, 8.22.2 or 8.22.3 (see ``OBSTACLE_MARKER``)."""
    return label.startswith(OBSTACLE_MARKER)


def is_place_name_sign(label: str) -> bool:
    """5.23.x, 5.24.x, 5.25 or 5.26 (see ``PLACE_NAME_SIGNS``)."""
    return label.startswith(PLACE_NAME_SIGNS)


def value_unit(code: str) -> str | None:
    """The unit of the number printed on sign ``code`` (``km/h``, ``m``, ``t``), or None when it has none."""
    return lookup(code).unit


@dataclass(frozen=True)
class SignInfo:
    """One sign of the catalogue.

    Attributes:
        code: GOST R 52290 code with ``_`` for ``.`` (``3_24``).
        name_ru: the standard's Russian name.
        name_en: an English name.
        group: 1 warning, 2 priority, 3 prohibitory, 4 mandatory, 5 special, 6 information, 7 service,
            8 plates; 0 for unknown codes.
        value_kind: what the number on the sign measures, or None.
        unit: ``km/h``, ``m``, ``t`` or None.
        priority: lower is more urgent (1 prohibitory/speed, 2 warning, 3 priority, 4 mandatory, 5 other).
        size_m: width of a typesize-II sign in metres (for distance from box width).
    """

    code: str
    name_ru: str
    name_en: str
    group: int
    value_kind: str | None
    unit: str | None
    priority: int
    size_m: float


def _normalise(code: str) -> str:
    return str(code).strip().replace(".", "_")


@cache
def _rows() -> dict[str, dict[str, str]]:
    with open(CATALOGUE_CSV, encoding="utf-8", newline="") as handle:
        return {row["code"]: row for row in csv.DictReader(handle)}


@cache
def _table() -> dict[str, SignInfo]:
    return {code: SignInfo(code=code, name_ru=row["name_ru"], name_en=row["name_en"], group=int(row["group"]),
                           value_kind=row["value_kind"] or None, unit=row["unit"] or None,
                           priority=int(row["priority"]), size_m=float(row["size_m"]))
            for code, row in _rows().items()}


def _listed_prefix(code: str) -> str | None:
    """The longest prefix of ``code`` (by ``_`` parts) that the table lists, or None."""
    parts = code.split("_")
    for n in range(len(parts), 0, -1):
        prefix = "_".join(parts[:n])
        if prefix in _table():
            return prefix
    return None


@cache
def lookup(code: str) -> SignInfo:
    """The catalogue entry for a sign code (``3_24`` or ``3.24``); never raises.

    Unknown codes get a generic entry named "Дорожный знак X" / "Road sign X". A label with a value
    (``3_24_n60``) is looked up by its code.
    """
    code = parse_label(_normalise(code))[0]
    prefix = _listed_prefix(code) if _CODE_RE.match(code) else None
    if prefix is None:
        return SignInfo(code, f"Дорожный знак {code.replace('_', '.')}", f"Road sign {code.replace('_', '.')}",
                        0, None, None, 5, 0.7)
    return replace(_table()[prefix], code=code)


def catalogue() -> dict[str, SignInfo]:
    """Every known sign: the table's codes (GOST names, every RTSD class and every pictogram code), by code."""
    return dict(_table())


def parse_label(label: str) -> tuple[str, float | None]:
    """Split a model/RTSD label into (sign code, value).

    ``3_24_n60`` -> (``3_24``, 60.0); ``3_13_r3.5`` -> (``3_13``, 3.5); ``5_19_1`` -> (``5_19_1``, None).
    Labels that are not signs (``sign``, ``background``) come back unchanged with None.
    """
    match = _VALUE_RE.match(str(label))
    if match is None:
        return str(label), None
    return match["code"], float(match["value"].replace(",", "."))


def make_label(code: str, value: float | None) -> str:
    """The label for a sign with a value: (``3_24``, 60) -> ``3_24_n60``, (``3_13``, 3.5) -> ``3_13_r3.5``."""
    if value is None:
        return code
    if float(value).is_integer():
        return f"{code}_n{int(value)}"
    return f"{code}_r{_number(value, '.')}"


def _number(value: float, point: str) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", point)


def _plural_ru(value: float, one: str, few: str, many: str, genitive: bool = False) -> str:
    """Russian agreement of a unit with a number: 1 метр, 2 метра, 5 метров; fractions take the few-form. In the
    genitive (``на протяжении …``): 1 метра, 2 метров, 5 метров, 1,5 километра (the genitive singular of these units is
    their few-form, the genitive plural their many-form)."""
    if not float(value).is_integer():
        return few
    n = abs(int(value))
    if n % 10 == 1 and n % 100 != 11:
        return few if genitive else one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 and not genitive:
        return few
    return many


_UNITS_RU = {"m": ("метр", "метра", "метров"), "t": ("тонна", "тонны", "тонн"),
             "km": ("километр", "километра", "километров")}
_UNITS_EN = {"m": ("metre", "metres"), "t": ("tonne", "tonnes"), "km/h": ("km/h", "km/h"),
             "km": ("kilometre", "kilometres")}


def quantity(value: float, unit: str | None, lang: str = "ru", genitive: bool = False) -> str:
    """A spoken quantity: (3.5, ``m``) -> ``3,5 метра`` / ``3.5 metres``; speed in Russian is the bare number;
    1000 m and more in kilometres (1500, ``m``) -> ``1,5 километра`` / ``1.5 kilometres``. ``genitive``: the Russian
    unit in the genitive, after ``на протяжении`` (1000, ``m``) -> ``1 километра``."""
    if unit == "m" and float(value) >= 1000:
        value, unit = float(value) / 1000.0, "km"
    if lang == "ru":
        words = _UNITS_RU.get(unit or "")
        number = _number(value, ",")
        return f"{number} {_plural_ru(value, *words, genitive=genitive)}" if words else number
    number = _number(value, ".")
    words = _UNITS_EN.get(unit or "")
    if words is None:
        return number
    return f"{number} {words[0] if float(value) == 1 else words[1]}"


def sign_name(code: str, lang: str = "ru") -> str:
    """The sign's full name in ``ru`` or ``en``."""
    info = lookup(code)
    return info.name_en if lang == "en" else info.name_ru


def phrase(code: str, value: float | None = None, lang: str = "ru") -> str:
    """The short spoken alert: ``Ограничение скорости 60``, ``Height limit 3.5 metres``, ``Пешеходный переход``.

    A value sign without a value (or any sign without one) is just its name.
    """
    code, label_value = parse_label(_normalise(code))
    value = label_value if value is None else value
    info = lookup(code)
    if value is None or info.value_kind is None:
        return sign_name(code, lang)
    row = _rows()[_listed_prefix(code) or ""]  # a sign with a value kind is listed
    spoken = row["spoken_en"] if lang == "en" else row["spoken_ru"]
    template = spoken if "{}" in spoken else spoken + " {}"
    return template.format(quantity(float(value), info.unit, lang))


# what a plate (group 8) adds to its sign's alert: code -> (ru, en); a number on the plate goes at ``{}``, and a
# plate read without its number says the second pair instead
_PLATE_WORDS: dict[str, tuple[str, str]] = {
    "8_1_1": ("через {}", "in {}"), "8_1_2": ("через {}", "in {}"),
    "8_1_3": ("через {} направо", "in {} to the right"), "8_1_4": ("через {} налево", "in {} to the left"),
    "8_2_1": ("на протяжении {}", "for the next {}"), "8_2_2": ("на протяжении {}", "for the next {}"),
    "8_2_3": ("конец зоны", "end of zone"), "8_2_4": ("вы в зоне действия", "you are in the zone"),
    "8_2_5": ("зона действия направо", "zone to the right"), "8_2_6": ("зона действия налево", "zone to the left"),
    "8_4_1": ("для грузовых", "for trucks"), "8_4_2": ("для транспорта с прицепом", "for vehicles with trailers"),
    "8_4_3": ("для легковых", "for cars"), "8_4_4": ("для автобусов", "for buses"),
    "8_4_5": ("для тракторов", "for tractors"), "8_4_6": ("для мотоциклов", "for motorcycles"),
    "8_4_7": ("для велосипедов", "for bicycles"),
    "8_4_8": ("для транспорта с опасными грузами", "for vehicles with dangerous goods"),
    "8_4_9": ("кроме грузовых", "except trucks"), "8_4_10": ("кроме легковых", "except cars"),
    "8_4_11": ("кроме автобусов", "except buses"), "8_4_12": ("кроме мотоциклов", "except motorcycles"),
    "8_4_13": ("кроме велосипедов", "except bicycles"), "8_4_14": ("кроме такси", "except taxis"),
    "8_4_15": ("кроме электромобилей", "except electric cars"),
    "8_5_1": ("в выходные и праздничные дни", "on weekends and holidays"),
    "8_5_2": ("в рабочие дни", "on working days"), "8_5_3": ("в указанные дни недели", "on the days shown"),
    "8_5_4": ("в указанное время", "at the hours shown"),
    "8_5_5": ("в выходные в указанное время", "on weekends at the hours shown"),
    "8_5_6": ("в рабочие дни в указанное время", "on working days at the hours shown"),
    "8_5_7": ("в указанные дни и часы", "on the days and hours shown"),
}
_GENITIVE_PLATES = ("8_2_1", "8_2_2")
"""Plates whose Russian words put the distance in the genitive: на протяжении 1 километра, 2 километров."""
_PLATE_NO_NUMBER: dict[str, tuple[str, str]] = {
    "8_1_1": ("впереди", "ahead"), "8_1_2": ("впереди", "ahead"),
    "8_1_3": ("направо", "to the right"), "8_1_4": ("налево", "to the left"),
    "8_2_1": ("на участке впереди", "on the stretch ahead"), "8_2_2": ("на участке впереди", "on the stretch ahead"),
}


def plate_phrase(label: str, lang: str = "ru") -> str:
    """What a plate adds to its sign's alert: ``8_1_1_n150`` -> ``через 150 метров`` / ``in 150 metres``,
    ``8_4_1`` -> ``для грузовых`` / ``for trucks``; a plate without words of its own says its name."""
    code, value = parse_label(_normalise(label))
    en = lang == "en"
    words = _PLATE_WORDS.get(code) or _PLATE_WORDS.get("_".join(code.split("_")[:3]))
    if words is None:
        name = sign_name(code, lang)
        return name[:1].lower() + name[1:]
    if "{}" not in words[en]:
        return words[en]
    if value is None:
        return _PLATE_NO_NUMBER.get(code, words)[en].replace(" {}", "")
    return words[en].format(quantity(float(value), "m", lang, genitive=code in _GENITIVE_PLATES))


def phrase_with_plates(code: str, value: float | None, plate_labels: tuple[str, ...] | list[str] = (),
                       lang: str = "ru") -> str:
    """The alert of a sign with the plates under it: ``Дети, через 150 метров``, ``Speed limit 40, for trucks``."""
    first = phrase(code, value, lang) if value is not None else bare_phrase(code, lang)
    parts = [first] + [plate_phrase(label, lang) for label in plate_labels]
    return ", ".join(parts)


def bare_phrase(code: str, lang: str = "ru") -> str:
    """What is said for a value sign whose number is not read yet: its short name (``Ограничение скорости`` /
    ``Speed limit``); the full name where the short one needs the number (``Через …``)."""
    code = parse_label(_normalise(code))[0]
    prefix = _listed_prefix(code)
    row = _rows().get(prefix or "") if prefix is not None else None
    spoken = (row["spoken_en"] if lang == "en" else row["spoken_ru"]) if row else ""
    return sign_name(code, lang) if not spoken or "{}" in spoken else spoken
