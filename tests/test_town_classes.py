"""The classifier generator's place signs: town names that vary, extra classes beyond RTSD's, chosen classes only."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from astute_cli.cli import app
from astute_cli.synth.dataset import BACKGROUND, classifier_labels
from astute_cli.synth.pictograms import _master
from astute_cli.synth.town_names import NAME_SIGNS, random_name, town_sign

runner = CliRunner()
PLACE_SIGNS = ("5_1", "5_2", "5_23_1", "5_23_2", "5_24_1", "5_24_2", "5_25", "5_26", "5_31", "5_32")


def _red(rgba: np.ndarray) -> np.ndarray:
    rgb = rgba[:, :, :3].astype(np.int32)
    return (rgb[:, :, 0] > 150) & (rgb[:, :, 1] < 110) & (rgb[:, :, 2] < 110)


@pytest.mark.parametrize(("label", "has_bar"), [
    pytest.param("5_23_1", False, id="town-start"),
    pytest.param("5_24_1", True, id="town-end"),
    pytest.param("5_25", False, id="village-start-blue"),
    pytest.param("5_26", True, id="village-end-blue"),
])
def test_town_sign_prints_a_new_name_and_keeps_border_and_bar(label, has_bar):
    base = _master(label)
    first, second = town_sign(label, np.random.default_rng(1)), town_sign(label, np.random.default_rng(2))
    assert first.shape == second.shape == base.shape
    assert np.abs(first.astype(int) - second.astype(int)).mean() > 3  # two names, two faces
    assert np.abs(first.astype(int) - base.astype(int)).mean() > 3  # not the pictogram's town
    h, w = base.shape[:2]
    edge = (slice(0, round(0.1 * h)), slice(round(0.1 * w), round(0.2 * w)))  # the top border, away from the bar
    assert np.array_equal(first[edge], base[edge])
    assert (_red(first).sum() > 0.9 * _red(base).sum()) if has_bar else (_red(first).sum() == 0)


@pytest.mark.parametrize(("name", "label"), [
    pytest.param("ДУБКИ", "5_23_1", id="given-name"),
    pytest.param("Нижние Ручьи", "5_25", id="two-words"),
])
def test_town_sign_with_a_given_name_is_deterministic(name, label):
    a = town_sign(label, np.random.default_rng(5), name)
    b = town_sign(label, np.random.default_rng(5), name)
    assert np.array_equal(a, b)


def test_town_sign_refuses_a_sign_without_a_name():
    with pytest.raises(ValueError, match="no town name"):
        town_sign("5_23_2", np.random.default_rng(0))


def test_random_names_are_cyrillic_and_varied():
    rng = np.random.default_rng(0)
    names = [random_name(rng) for _ in range(50)]
    assert len(set(names)) > 45
    assert all(name and all(ch in " -" or "А" <= ch.upper() <= "Я" or ch.upper() == "Ё" for ch in name)
               for name in names)
    assert NAME_SIGNS <= set(PLACE_SIGNS)


def test_classifier_labels_take_extra_classes_sorted_with_background_last():
    base = classifier_labels()
    wide = classifier_labels(PLACE_SIGNS)
    assert not set(PLACE_SIGNS) & {"5_1", "5_23_1", "5_24_1", "5_31"} & set(base)  # RTSD lacks them
    assert set(wide) == set(base) | set(PLACE_SIGNS)
    assert wide[-1] == BACKGROUND and wide[:-1] == sorted(wide[:-1])


@pytest.mark.parametrize("label", [
    pytest.param("9_99", id="no-pictogram"),
    pytest.param("5_23_1_n60", id="value-on-a-sign-without-one"),
    pytest.param(BACKGROUND, id="background-is-not-extra"),
])
def test_classifier_labels_refuse_what_cannot_be_rendered(label):
    with pytest.raises(ValueError, match="Cannot render class"):
        classifier_labels([label])


def test_synth_classifier_only_the_new_classes(tmp_path):
    out = tmp_path / "set"
    result = runner.invoke(app, ["synth", "classifier", str(out), "--per-class", "3", "--size", "32",
                                 "--extra-classes", "5_23_1,5_1", "--only-classes", "5_23_1,5_1,background"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "train").iterdir()) == ["5_1", "5_23_1", BACKGROUND]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["args"]["labels"] == ["5_23_1", "5_1", BACKGROUND]


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["--extra-classes", "9_99"], "Cannot render class '9_99'", id="unknown-extra"),
    pytest.param(["--only-classes", "5_23_1"], "'5_23_1' is not a class", id="only-without-extra"),
])
def test_synth_classifier_bad_classes_are_one_line_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "set"
    result = runner.invoke(app, ["synth", "classifier", str(out), "--per-class", "2", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()
