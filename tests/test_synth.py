from __future__ import annotations

import hashlib

import cv2
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


@pytest.mark.parametrize("label", ["3_24_n60", "3_24_n5", "3_13_r3.5", "3_11_n8", "4_6_n50", "6_2_n70", "5_19_1",
                                   "8_1_1_n150", "8_2_1_n300", "3_16_n30"])
def test_value_is_printed_so_values_differ(label):
    image = pictograms.render_sign(label, 64)
    assert image.dtype == np.uint8 and image.shape[1] == 64 and image.shape[2] == 4
    code, value = signs.parse_label(label)
    if value is not None:
        other = pictograms.render_sign(signs.make_label(code, value + 1), 64)
        assert np.abs(image.astype(int) - other.astype(int)).sum() > 0, "a different value must look different"


@pytest.mark.parametrize(("label", "code", "text"), [
    pytest.param("8_1_1_n150", "8_1_1", "150м", id="distance-plate"),
    pytest.param("8_2_1_n1500", "8_2_1", "1,5км", id="zone-plate-in-km"),
    pytest.param("3_13_r3.8", "3_13", "3,8м", id="height"),
    pytest.param("3_24_n90", "3_24", "90", id="speed"),
])
def test_drives_draw_valued_signs_as_the_models_learn_them(label, code, text):
    from astute_cli.synth import drive, values

    face = values.face(code, text)
    width = 96
    expected = cv2.resize(face, (width, round(width * face.shape[0] / face.shape[1])), interpolation=cv2.INTER_AREA)
    assert np.array_equal(drive.pictogram(label, width), expected)


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


@pytest.mark.parametrize(("label", "share", "changed"), [
    pytest.param("3_24_n60", 1.0, True, id="speed-prints-another-value"),
    pytest.param("3_13_r3.5", 1.0, True, id="height-prints-another-value"),
    pytest.param("3_24_n60", 0.0, False, id="share-0-keeps-the-label's-value"),
    pytest.param("5_19_1", 1.0, False, id="sign-without-value-unchanged"),
    pytest.param("3_16_n30", 1.0, True, id="minimum-gap-prints-another-value"),
    pytest.param("3_15_n10", 1.0, True, id="length-prints-another-value"),
    pytest.param("8_1_1", 1.0, True, id="distance-plate-prints-another-distance"),
    pytest.param("8_1_3", 1.0, False, id="plate-with-an-arrow-unchanged"),
])
def test_open_values_change_only_valued_faces(label, share, changed):
    from astute_cli.synth.dataset import classifier_item

    plain = classifier_item(ClassifierSpec(per_class=1, seed=4, size=32, labels=(label,)), 0)
    opened = classifier_item(ClassifierSpec(per_class=1, seed=4, size=32, labels=(label,), open_values=share), 0)
    assert plain[0] == opened[0] == label  # the crop stays filed under its class
    assert (not np.array_equal(plain[1], opened[1])) is changed


@pytest.mark.parametrize(("label", "tall"), [
    pytest.param("8_22_1", True, id="post-marker-three-times-taller-than-wide"),
    pytest.param("5_16", True, id="bus-stop-one-and-a-half-times"),
    pytest.param("3_24_n60", False, id="round-sign"),
])
def test_a_classifier_crop_holds_the_whole_sign_as_the_detectors_box_would(label, tall):
    from astute_cli.synth.dataset import classifier_item

    spec = ClassifierSpec(per_class=1, seed=4, size=64, labels=(label,))
    spans = []
    for index in range(6):
        crop = classifier_item(spec, index)[1].astype(int)
        coloured = (np.abs(crop[..., 2] - crop[..., 1]) > 60) | (np.abs(crop[..., 0] - crop[..., 1]) > 60)  # red, blue
        rows, cols = np.flatnonzero(coloured.any(axis=1)), np.flatnonzero(coloured.any(axis=0))
        if len(rows) and len(cols):
            spans.append(((rows[-1] - rows[0] + 1) / 64, (cols[-1] - cols[0] + 1) / 64))
    height, width = np.median(spans, axis=0)
    assert height < 0.95  # the crop's margin shows above and below the sign: it is not cut to its width
    assert len(spans) >= 4 and bool(width < 0.75 * height) is tall


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


URBAN_KINDS = {"panel", "plate", "traffic_light", "tail_lights", "logo", "stripes", "windows"}


def test_urban_clutter_draws_every_kind_inside_the_frame():
    """Each kind is drawn (the frame changes), the same seed draws the same thing, and none adds a label."""
    seen = set()
    for seed in range(60):
        frame = np.full((720, 1280, 3), 128, np.uint8)
        kind = scene.urban_clutter(frame, np.random.default_rng(seed))
        again = np.full((720, 1280, 3), 128, np.uint8)
        assert scene.urban_clutter(again, np.random.default_rng(seed)) == kind
        assert np.array_equal(frame, again)
        assert (frame != 128).any(), kind
        seen.add(kind)
    assert seen == URBAN_KINDS


@pytest.mark.parametrize(
    ("urban", "same_as_default"),
    [pytest.param(False, True, id="off-keeps-old-frames"), pytest.param(True, False, id="on-adds-clutter")],
)
def test_urban_compose_keeps_labels_exact(urban, same_as_default):
    for seed in range(4):
        frame, boxes, names = scene.compose(np.random.default_rng(seed), urban=urban)
        default, default_boxes, default_names = scene.compose(np.random.default_rng(seed))
        assert np.array_equal(frame, default) == same_as_default
        assert len(boxes) == len(names) and frame.shape == (720, 1280, 3)
        if same_as_default:
            assert np.array_equal(boxes, default_boxes) and names == default_names


def _crop_set(root, files):
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"jpg")
    return root


@pytest.mark.parametrize(
    ("parts", "expected", "error", "cap"),
    [
        pytest.param({"a": ["train/3_1/1.jpg", "val/3_1/2.jpg"], "b": ["train/3_1/1.jpg", "train/background/m.jpg"]},
                     {"train/3_1/a-1.jpg", "val/3_1/a-2.jpg", "train/3_1/b-1.jpg", "train/background/b-m.jpg"},
                     None, None, id="same-file-names-kept-apart"),
        pytest.param({"a": ["train/3_1/1.jpg", "val/3_1/2.jpg"],
                      "b": ["train/3_1/1.jpg", *(f"train/background/m{i}.jpg" for i in range(5))]},
                     {"train/3_1/a-1.jpg", "val/3_1/a-2.jpg", "train/3_1/b-1.jpg", "train/background/b-m0.jpg",
                      "train/background/b-m4.jpg"}, None, 2, id="capped-per-class-evenly"),
        pytest.param({"a": ["train/3_1/1.jpg"], "b": ["3_1/1.jpg"]}, None, "not a classifier set", None,
                     id="no-train"),
    ],
)
def test_link_classifier_sets(tmp_path, parts, expected, error, cap):
    from astute_cli.synth.dataset import link_classifier_sets

    roots = [_crop_set(tmp_path / name, files) for name, files in parts.items()]
    if error:
        with pytest.raises(ValueError, match=error):
            link_classifier_sets(tmp_path / "out", roots)
        return
    manifest = link_classifier_sets(tmp_path / "out", roots, max_per_class=cap)
    made = {str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.jpg")}
    assert made == expected and all((tmp_path / "out" / m).is_symlink() for m in made)
    assert manifest["counts"] == {"train": len(expected) - 1, "val": 1}
    with pytest.raises(ValueError, match="not empty"):
        link_classifier_sets(tmp_path / "out", roots)
