from __future__ import annotations

import json

import pytest

from astute_cli import signs


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        pytest.param("3_24_n60", ("3_24", 60.0), id="speed"),
        pytest.param("3_13_r3.5", ("3_13", 3.5), id="height-real"),
        pytest.param("3_13_r3", ("3_13", 3.0), id="height-real-integer"),
        pytest.param("3_4_n8", ("3_4", 8.0), id="trucks-weight"),
        pytest.param("5_19_1", ("5_19_1", None), id="variant-no-value"),
        pytest.param("3_24", ("3_24", None), id="value-sign-without-value"),
        pytest.param("sign", ("sign", None), id="not-a-sign"),
        pytest.param("background", ("background", None), id="background"),
    ],
)
def test_parse_label(label, expected):
    assert signs.parse_label(label) == expected


@pytest.mark.parametrize(
    ("code", "value", "label"),
    [
        pytest.param("3_24", 60, "3_24_n60", id="int"),
        pytest.param("3_24", 60.0, "3_24_n60", id="float-integer"),
        pytest.param("3_13", 3.5, "3_13_r3.5", id="real"),
        pytest.param("5_19_1", None, "5_19_1", id="none"),
    ],
)
def test_make_label_round_trip(code, value, label):
    assert signs.make_label(code, value) == label
    assert signs.parse_label(label) == (code, None if value is None else float(value))


@pytest.mark.parametrize(
    ("code", "value", "lang", "text"),
    [
        pytest.param("3_24", 60, "ru", "Ограничение скорости 60", id="speed-ru"),
        pytest.param("3_24", 60, "en", "Speed limit 60 km/h", id="speed-en"),
        pytest.param("3_13", 1, "ru", "Ограничение высоты 1 метр", id="1-m"),
        pytest.param("3_13", 2, "ru", "Ограничение высоты 2 метра", id="2-m"),
        pytest.param("3_13", 3.5, "ru", "Ограничение высоты 3,5 метра", id="3.5-m"),
        pytest.param("3_13", 5, "ru", "Ограничение высоты 5 метров", id="5-m"),
        pytest.param("3_13", 11, "ru", "Ограничение высоты 11 метров", id="11-m"),
        pytest.param("3_13", 21, "ru", "Ограничение высоты 21 метр", id="21-m"),
        pytest.param("3_11", 1, "ru", "Ограничение массы 1 тонна", id="1-t"),
        pytest.param("3_11", 2, "ru", "Ограничение массы 2 тонны", id="2-t"),
        pytest.param("3_11", 3.5, "ru", "Ограничение массы 3,5 тонны", id="3.5-t"),
        pytest.param("3_11", 5, "ru", "Ограничение массы 5 тонн", id="5-t"),
        pytest.param("3_11", 11, "ru", "Ограничение массы 11 тонн", id="11-t"),
        pytest.param("3_11", 21, "ru", "Ограничение массы 21 тонна", id="21-t"),
        pytest.param("3_13", 3.5, "en", "Height limit 3.5 metres", id="height-en"),
        pytest.param("3_13", 1, "en", "Height limit 1 metre", id="1-metre-en"),
        pytest.param("5_19_1", None, "ru", "Пешеходный переход", id="crossing-ru"),
        pytest.param("5_19_1", None, "en", "Pedestrian crossing", id="crossing-en"),
        pytest.param("3_24", None, "ru", "Ограничение максимальной скорости", id="value-sign-no-value"),
        pytest.param("3_24_n40", None, "ru", "Ограничение скорости 40", id="label-with-value"),
        pytest.param("8_1_1", 150, "ru", "Через 150 метров", id="plate-distance-ru"),
        pytest.param("8_1_1", 150, "en", "In 150 metres", id="plate-distance-en"),
        pytest.param("8_2_1", 300, "ru", "Зона действия 300 метров", id="plate-zone-ru"),
        pytest.param("8_2_3", 300, "ru", "Зона действия", id="plate-zone-end-has-no-value"),
    ],
)
def test_phrase(code, value, lang, text):
    assert signs.phrase(code, value, lang) == text


@pytest.mark.parametrize(
    ("code", "ru", "en"),
    [
        pytest.param("1_23", "Дети", "Children", id="1_23"),
        pytest.param("2_1", "Главная дорога", "Priority road", id="2_1"),
        pytest.param("3_24", "Ограничение максимальной скорости", "Maximum speed limit", id="3_24"),
        pytest.param("5_16", "Место остановки автобуса и (или) троллейбуса", "Bus or trolleybus stop", id="5_16"),
        pytest.param("1_11_1", "Опасный поворот направо", "Dangerous bend to the right", id="variant"),
        pytest.param("3.27", "Остановка запрещена", "No stopping", id="dotted-code"),
    ],
)
def test_sign_name(code, ru, en):
    assert (signs.sign_name(code, "ru"), signs.sign_name(code, "en")) == (ru, en)


@pytest.mark.parametrize(
    ("code", "kind", "unit", "priority", "size_m"),
    [
        pytest.param("3_24", "speed", "km/h", 1, 0.7, id="speed"),
        pytest.param("3_13", "height", "m", 1, 0.7, id="height"),
        pytest.param("3_12", "axle_weight", "t", 1, 0.7, id="axle"),
        pytest.param("6_2", "speed", "km/h", 5, 0.6, id="recommended"),
        pytest.param("1_23", None, None, 2, 0.9, id="warning-triangle"),
        pytest.param("2_1", None, None, 3, 0.7, id="priority-road"),
        pytest.param("4_1_1", None, None, 4, 0.7, id="mandatory"),
        pytest.param("5_19_1", None, None, 5, 0.6, id="info-square"),
        pytest.param("8_1_1", "distance", "m", 5, 0.6, id="plate-distance"),
        pytest.param("8_2_4", None, None, 5, 0.6, id="plate-in-zone"),
    ],
)
def test_lookup_attributes(code, kind, unit, priority, size_m):
    info = signs.lookup(code)
    assert (info.value_kind, info.unit, info.priority, info.size_m) == (kind, unit, priority, size_m)


@pytest.mark.parametrize("code", ["9_99", "3_999", "sign", ""])
def test_unknown_code_falls_back(code):
    info = signs.lookup(code)
    assert info.name_ru.startswith("Дорожный знак") and info.name_en.startswith("Road sign")
    assert signs.phrase(code, None, "en") == info.name_en


def _rtsd_codes(shared_data) -> set[str]:
    meta = shared_data / "rtsd-meta"
    with_values = (meta / "rtsd_fullgt_classes_with_values.txt").read_text().split()
    codes = {signs.parse_label(label)[0] for label in with_values}
    codes |= set(json.loads((meta / "kaggle_label_map.json").read_text()))
    return codes | set((shared_data / "signs" / "INDEX.txt").read_text().split())


def test_catalogue_covers_every_rtsd_class_and_pictogram(shared_data):
    catalogue = signs.catalogue()
    missing = _rtsd_codes(shared_data) - set(catalogue)
    assert not missing
    generic = [c for c, info in catalogue.items() if info.name_ru.startswith("Дорожный знак")]
    assert not generic
    for info in catalogue.values():
        assert info.name_ru and info.name_en and 1 <= info.group <= 8
        assert 0.5 <= info.size_m <= 1.0 and 1 <= info.priority <= 5


@pytest.mark.parametrize(("code", "value", "text"), [
    pytest.param("3_24", 90, "90", id="speed"),
    pytest.param("3_13", 3.8, "3,8м", id="height-with-comma"),
    pytest.param("3_11", 15, "15т", id="weight"),
    pytest.param("3_12", 2.5, "2,5т", id="axle-load"),
    pytest.param("8_1_1", 150, "150м", id="distance-in-metres"),
    pytest.param("8_2_1", 1500, "1,5км", id="a-kilometre-and-more-in-km"),
    pytest.param("8_1_1", 2000, "2км", id="whole-kilometres"),
])
def test_printed_text_is_what_the_sign_prints_and_reads_back(code, value, text):
    assert signs.printed_text(code, value) == text
    number, unit = signs.parse_printed(text)
    assert number * (1000 if unit == "km" else 1) == pytest.approx(value)
