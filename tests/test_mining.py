from __future__ import annotations

import json

import numpy as np
import pytest

from astute_cli.synth import mining
from astute_cli.synth.dataset import BACKGROUND
from astute_cli.types import Detections

SIGN_BOX = np.array([[100.0, 100.0, 140.0, 140.0]], np.float32)


class _ScriptedDetector:
    """Returns the same boxes for every frame."""

    def __init__(self, boxes):
        self.boxes, self.conf = np.asarray(boxes, np.float32).reshape(-1, 4), 0.25

    def detect(self, frame):
        return Detections(self.boxes, np.full(len(self.boxes), 0.9), np.zeros(len(self.boxes), np.int64))


@pytest.fixture
def scripted(monkeypatch, tmp_path, shared_data):
    """A fixed synthetic frame with one 3_24_n60 sign at SIGN_BOX, and a detector whose boxes a test sets
    (the class list comes from the pictograms in ../shared/data)."""
    frame = np.full((720, 1280, 3), 90, np.uint8)
    frame[100:140, 100:140] = (0, 0, 220)
    asked = []

    def compose(rng, n_signs=None, labels=None, urban=False):
        asked.append(urban)
        if n_signs == 0:  # a frame of clutter only
            return frame.copy(), np.zeros((0, 4), np.float32), []
        return frame.copy(), SIGN_BOX.copy(), ["3_24_n60"]

    monkeypatch.setattr(mining.scene, "compose", compose)
    model = tmp_path / "det.onnx"
    model.write_bytes(b"scripted")

    def use(boxes):
        monkeypatch.setitem(mining._DETECTORS, str(model), _ScriptedDetector(boxes))
        return str(model)

    use.asked_urban = asked
    return use


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        pytest.param([[101, 99, 141, 141]], ["3_24_n60"], id="box-on-sign-keeps-its-class"),
        pytest.param([[600, 300, 630, 330]], [BACKGROUND], id="box-on-nothing-is-background"),
        pytest.param([[120, 100, 160, 140]], [], id="half-on-sign-is-dropped"),
        pytest.param([[101, 99, 141, 141], [600, 300, 630, 330]], ["3_24_n60", BACKGROUND], id="both"),
        pytest.param([], [], id="nothing-found"),
    ],
)
@pytest.mark.parametrize("urban", [False, True])
def test_mined_crop_labels(scripted, boxes, expected, urban):
    spec = mining.MiningSpec(frames=1, detector=scripted(boxes), size=32, urban=urban)
    pairs = mining.mine_frame(spec, 0)
    assert scripted.asked_urban == [urban]
    assert [label for label, _ in pairs] == expected
    assert all(crop.shape == (32, 32, 3) for _, crop in pairs)


def test_mined_set_layout_and_manifest(scripted, tmp_path):
    out = tmp_path / "set"
    spec = mining.MiningSpec(frames=10, detector=scripted([[101, 99, 141, 141], [600, 300, 630, 330]]),
                             size=32, val_fraction=0.2, empty_fraction=0.0)
    manifest = mining.mine_classifier_crops(out, spec)
    assert manifest["background"] == 10 and manifest["signs"] == 10
    assert len(list((out / "train" / BACKGROUND).glob("m*.jpg"))) == 8
    assert len(list((out / "val" / "3_24_n60").glob("m*.jpg"))) == 2
    assert json.loads((out / "mined_manifest.json").read_text())["crops"] == 20


@pytest.mark.parametrize(("empty", "signs"), [pytest.param(0.0, 10, id="none-empty"),
                                              pytest.param(1.0, 0, id="all-empty")])
def test_empty_frames_give_background_only(scripted, tmp_path, empty, signs):
    spec = mining.MiningSpec(frames=10, detector=scripted([[101, 99, 141, 141]]), size=32, empty_fraction=empty)
    manifest = mining.mine_classifier_crops(tmp_path / "set", spec)
    assert manifest["signs"] == signs and manifest["background"] == 10 - signs


def test_mining_without_a_model_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no such model file"):
        mining.mine_classifier_crops(tmp_path / "set", mining.MiningSpec(frames=1, detector=str(tmp_path / "x.onnx")))


@pytest.mark.parametrize(("empty", "poles"), [pytest.param(1.0, 0, id="sign-free-streets"),
                                              pytest.param(0.0, None, id="streets-with-signs")])
def test_mining_under_conditions_draws_streets_under_them(scripted, monkeypatch, empty, poles):
    from astute_cli.synth import streets

    asked = []

    def street(rng, condition, layout="poles", urban=False, labels=None, poles=None):
        asked.append((condition, poles))
        if poles == 0:
            return np.full((720, 1280, 3), 90, np.uint8), np.zeros((0, 4), np.float32), []
        return np.full((720, 1280, 3), 90, np.uint8), SIGN_BOX.copy(), ["3_24_n60"]

    monkeypatch.setattr(streets, "compose_street", street)
    spec = mining.MiningSpec(frames=8, detector=scripted([[101, 99, 141, 141]]), size=32, empty_fraction=empty,
                             conditions=("night", "fog"))
    labels = [label for i in range(8) for label, _ in mining.mine_frame(spec, i)]
    assert scripted.asked_urban == []  # not the plain frames
    assert {condition for condition, _ in asked} == {"night", "fog"} and {p for _, p in asked} == {poles}
    assert set(labels) == ({BACKGROUND} if poles == 0 else {"3_24_n60"})


@pytest.mark.parametrize(("conditions", "layouts", "asked"), [
    pytest.param((), ("big", "touching"), {("clear", "big"), ("clear", "touching")}, id="layouts-in-clear-streets"),
    pytest.param(("night",), ("big",), {("night", "big")}, id="layouts-under-conditions"),
    pytest.param(("night",), (), {("night", "poles")}, id="conditions-on-poles"),
])
def test_mining_draws_the_layouts_asked(scripted, monkeypatch, conditions, layouts, asked):
    from astute_cli.synth import streets

    seen = set()

    def street(rng, condition, layout="poles", urban=False, labels=None, poles=None):
        seen.add((condition, layout))
        return np.full((720, 1280, 3), 90, np.uint8), SIGN_BOX.copy(), ["3_24_n60"]

    monkeypatch.setattr(streets, "compose_street", street)
    spec = mining.MiningSpec(frames=12, detector=scripted([[101, 99, 141, 141]]), size=32, empty_fraction=0.0,
                             conditions=conditions, layouts=layouts)
    for i in range(12):
        mining.mine_frame(spec, i)
    assert seen == asked
