"""The sign catalogue answers exactly as recorded in tests/golden/signs.json (every code, both languages,
with and without values). A deliberate change regenerates the file: ``python -m tests.signs_golden``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.signs_golden import golden

GOLDEN = json.loads((Path(__file__).parent / "golden" / "signs.json").read_text(encoding="utf-8"))
NOW = golden()


def test_catalogue_lists_the_same_codes():
    assert NOW["catalogue"] == GOLDEN["catalogue"]


@pytest.mark.parametrize("code", list(GOLDEN["answers"]))
def test_same_answers(code):
    assert NOW["answers"].get(code) == GOLDEN["answers"][code]


def test_catalogue_does_not_depend_on_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTUTE_DATA", str(tmp_path))
    assert list(golden()["catalogue"]) == GOLDEN["catalogue"]


def test_catalogue_lists_every_rtsd_class_and_pictogram():
    from astute_cli.paths import shared_data
    from astute_cli.signs import catalogue, parse_label

    data = shared_data()
    files = [data / "rtsd-meta" / "rtsd_fullgt_classes_with_values.txt", data / "signs" / "INDEX.txt"]
    if not all(path.exists() for path in files):
        pytest.skip("no shared data beside the project")
    lines = [line for path in files for line in path.read_text().splitlines() if line.strip()]
    codes = {parse_label(line.split()[0])[0] for line in lines}
    codes |= set(json.loads((data / "rtsd-meta" / "kaggle_label_map.json").read_text()))
    assert codes <= set(catalogue())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("3_24_n60", {"code": "3_24", "value": 60.0, "unit": "km/h"}, id="speed"),
        pytest.param("3_13_r4.5", {"code": "3_13", "value": 4.5, "unit": "m"}, id="height"),
        pytest.param("3_4_n8", {"code": "3_4", "value": 8.0, "unit": "t"}, id="trucks-over-the-catalogue-unit"),
        pytest.param("8_2_1_n150", {"code": "8_2_1", "value": 150.0, "unit": "m"}, id="plate-distance"),
    ],
)
def test_exported_value_units_come_from_the_catalogue(name, expected):
    from astute_cli.export import value_semantics

    values = value_semantics([name, "5_19_1", "background"])
    assert values["classes"] == {name: expected}
    assert values["units"] == {expected["code"]: expected["unit"]}
