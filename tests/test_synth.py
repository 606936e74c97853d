from __future__ import annotations

import hashlib

import numpy as np
import pytest

from astute_cli import signs
from astute_cli.synth import pictograms, scene
from astute_cli.synth.dataset import ClassifierSpec, DetectorSpec, make_classifier_set, make_detector_set

pytestmark = pytest.mark.usefixtures("shared_data")


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        pytest.param("3_24_n60", ("3_24", 60.0), id="speed"),
        pytest.param("3_13_r3.5", ("3_13", 3.5), id="height"),
        pytest.param("5_19_1", ("5_19_1", None), id="no-value"),
        pytest.param("3_24", ("3_24", None), id="bare-value-sign"),
    ],
)
def test_split_and_make_label(label, expected):
    assert signs.parse_label(label) == expected
    assert signs.make_label(*expected) == label


@pytest.mark.parametrize("label", ["3_24_n60", "3_24_n5", "3_13_r3.5", "3_11_n8", "4_6_n50", "6_2_n70", "5_19_1"])
def test_value_is_printed_so_values_differ(label):
    image = pictograms.render_sign(label, 64)
    assert image.dtype == np.uint8 and image.shape[1] == 64 and image.shape[2] == 4
    code, value = signs.parse_label(label)
    if value is not None:
        other = pictograms.render_sign(signs.make_label(code, value + 1), 64)
        assert np.abs(image.astype(int) - other.astype(int)).sum() > 0, "a different value must look different"


def test_every_rtsd_label_we_claim_is_renderable():
    labels = [label for label in pictograms.rtsd_labels() if pictograms.renderable(label)]
    assert len(labels) > 150
    for label in labels:
        assert pictograms.render_sign(label, 16)[:, :, 3].max() > 200, label


def _changed_bbox(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(np.abs(after.astype(int) - before.astype(int)).max(axis=2) > 0)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


@pytest.mark.parametrize("width", [10, 14, 20, 29, 60])
def test_label_box_covers_pasted_sign_for_every_class(width):
    rng = np.random.default_rng(width)
    for label in pictograms.available_labels():
        frame = np.full((160, 160, 3), 128, np.uint8)
        before = frame.copy()
        box = scene.paste(frame, scene.sign_patch(label, width, rng), 40, 50)
        assert box is not None, label
        changed = _changed_bbox(before, frame)
        assert np.all(np.abs(box - changed) <= 1.0), f"{label} at {width}px: box {box} vs sign {changed}"


def _digest(folder) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"):
        h.update(path.relative_to(folder).as_posix().encode())
        if path.name != "data.yaml":
            h.update(path.read_bytes())
    return h.hexdigest()


def test_detector_set_is_reproducible_and_valid(tmp_path):
    spec = DetectorSpec(n=6, seed=7, imgsz=160)
    first = make_detector_set(tmp_path / "a", spec, coco=True)
    make_detector_set(tmp_path / "b", spec)
    assert _digest(tmp_path / "a") != "" and first["images"] == 6
    a_files = {p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.txt")}
    assert a_files == {p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.txt")}
    for rel in a_files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    import cv2

    for label_file in (tmp_path / "a" / "labels").rglob("*.txt"):
        image = cv2.imread(str(label_file.parent.parent.parent / "images" / label_file.parent.name /
                               (label_file.stem + ".jpg")))
        assert image.shape[:2] == (160, 160)
        for row in label_file.read_text().splitlines():
            cls, *xywh = row.split()
            assert cls == "0" and all(0.0 <= float(v) <= 1.0 for v in xywh)
    assert (tmp_path / "a" / "data.yaml").read_text().count("sign") == 1
    assert (tmp_path / "a" / "samples.jpg").exists() and (tmp_path / "a" / "annotations.json").exists()


def test_different_seeds_differ(tmp_path):
    make_detector_set(tmp_path / "a", DetectorSpec(n=2, seed=1, imgsz=128))
    make_detector_set(tmp_path / "b", DetectorSpec(n=2, seed=2, imgsz=128))
    assert _digest(tmp_path / "a") != _digest(tmp_path / "b")


def test_classifier_set_layout(tmp_path):
    spec = ClassifierSpec(per_class=3, seed=1, size=32, labels=("3_24_n60", "5_19_1", "background"))
    manifest = make_classifier_set(tmp_path, spec)
    assert manifest["counts"] == {"3_24_n60": 3, "5_19_1": 3, "background": 3}
    for label in spec.labels:
        files = list(tmp_path.glob(f"*/{label}/*.jpg"))
        assert len(files) == 3
    assert {p.name for p in tmp_path.iterdir() if p.is_dir()} == {"train", "val"}


@pytest.mark.parametrize(
    ("box", "kept"),
    [
        pytest.param([100, 100, 130, 130], 1, id="small-sign-inside"),
        pytest.param([942, 283, 1069, 690], 1, id="post-marker-taller-than-crop"),
        pytest.param([0, 0, 20, 20], 1, id="at-the-corner"),
    ],
)
def test_crop_around_a_box_of_any_size(box, kept):
    from astute_cli.synth.dataset import _crop

    frame = np.zeros((720, 1280, 3), np.uint8)
    for seed in range(20):
        crop, boxes, names = _crop(frame, np.array([box], np.float32), ["x"], 320, np.random.default_rng(seed), False)
        assert crop.shape == (320, 320, 3)
        assert len(boxes) == kept == len(names)


@pytest.mark.parametrize(
    ("big_signs", "min_width", "same_as_default"),
    [
        pytest.param(0.0, 10, True, id="off-keeps-old-frames"),
        pytest.param(1.0, 40, False, id="all-poles-near"),
    ],
)
def test_big_signs_widths(big_signs, min_width, same_as_default):
    widths = []
    for seed in range(8):
        frame, boxes, _ = scene.compose(np.random.default_rng(seed), big_signs=big_signs)
        default, _, _ = scene.compose(np.random.default_rng(seed))
        assert np.array_equal(frame, default) == same_as_default
        widths += [b[2] - b[0] for b in boxes if 0 < b[0] and b[2] < 1280]  # not cut by the frame edge
    assert widths and min(widths) >= min_width - 1
