"""Values spoken as a person says them, in Russian and English."""

from __future__ import annotations

import pytest

from astute_cli import signs


@pytest.mark.parametrize(
    ("code", "value", "lang", "text"),
    [
        pytest.param("3_24", 110, "ru", "Ограничение скорости 110", id="speed-110-ru"),
        pytest.param("3_24", 130, "en", "Speed limit 130 km/h", id="speed-130-en"),
        pytest.param("3_13", 3.8, "ru", "Ограничение высоты 3,8 метра", id="3.8-m-ru"),
        pytest.param("3_13", 3.8, "en", "Height limit 3.8 metres", id="3.8-m-en"),
        pytest.param("3_13", 4.3, "ru", "Ограничение высоты 4,3 метра", id="4.3-m-ru"),
        pytest.param("3_11", 1, "ru", "Ограничение массы 1 тонна", id="1-t"),
        pytest.param("3_11", 2, "ru", "Ограничение массы 2 тонны", id="2-t"),
        pytest.param("3_11", 5, "ru", "Ограничение массы 5 тонн", id="5-t"),
        pytest.param("3_11", 15, "ru", "Ограничение массы 15 тонн", id="15-t"),
        pytest.param("3_11", 7.5, "ru", "Ограничение массы 7,5 тонны", id="7.5-t"),
        pytest.param("3_11", 15, "en", "Weight limit 15 tonnes", id="15-t-en"),
        pytest.param("3_13", 21, "ru", "Ограничение высоты 21 метр", id="21-m"),
        pytest.param("3_15", 12.5, "ru", "Ограничение длины 12,5 метра", id="length-12.5-m"),
        pytest.param("3_15", 15, "en", "Length limit 15 metres", id="length-15-m-en"),
        pytest.param("3_16", 70, "ru", "Минимальная дистанция 70 метров", id="headway-70-m"),
        pytest.param("3_16", 90, "en", "Minimum distance 90 metres", id="headway-90-m-en"),
        pytest.param("8_1_1", 150, "ru", "Через 150 метров", id="plate-150-m"),
        pytest.param("8_1_1", 150, "en", "In 150 metres", id="plate-150-m-en"),
        pytest.param("8_1_1", 1500, "ru", "Через 1,5 километра", id="plate-1.5-km"),
        pytest.param("8_1_1", 1500, "en", "In 1.5 kilometres", id="plate-1.5-km-en"),
        pytest.param("8_1_1", 1000, "ru", "Через 1 километр", id="plate-1-km"),
        pytest.param("8_1_1", 5000, "ru", "Через 5 километров", id="plate-5-km"),
        pytest.param("8_1_1", 2000, "en", "In 2 kilometres", id="plate-2-km-en"),
    ],
)
def test_value_phrase(code, value, lang, text):
    assert signs.phrase(code, value, lang) == text


@pytest.mark.parametrize(
    ("code", "lang", "text"),
    [
        pytest.param("3_24", "ru", "Ограничение скорости", id="speed-ru"),
        pytest.param("3_24", "en", "Speed limit", id="speed-en"),
        pytest.param("3_13", "ru", "Ограничение высоты", id="height-ru"),
        pytest.param("3_11", "en", "Weight limit", id="weight-en"),
        pytest.param("6_2", "ru", "Рекомендуемая скорость", id="recommended"),
        pytest.param("8_1_1", "ru", signs.sign_name("8_1_1", "ru"), id="plate-needs-its-number"),
        pytest.param("3_24_n60", "ru", "Ограничение скорости", id="label-with-value"),
    ],
)
def test_phrase_without_the_number(code, lang, text):
    assert signs.bare_phrase(code, lang) == text
