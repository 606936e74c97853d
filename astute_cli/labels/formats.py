"""Real labelled data in: RTSD (full-gt.csv), COCO, YOLO and CVAT-for-images exports, one in-memory form.

``load_any(path)`` tells the format from the path and returns :class:`Sample` objects; ``to_yolo`` writes them
as a YOLO data set, so ``astute train`` takes real data exactly as it takes synthetic data.
"""

from __future__ import annotations

import csv
import json
import os
import random
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from astute_cli.files import iter_images


@dataclass
class Sample:
    """One labelled image: where it is, its boxes (N, 4) xyxy in pixels and their class names."""

    image_path: Path
    xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    labels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.xyxy = np.asarray(self.xyxy, np.float32).reshape(-1, 4)
        if len(self.xyxy) != len(self.labels):
            raise ValueError(f"{self.image_path}: {len(self.xyxy)} boxes but {len(self.labels)} labels")


def load_any(path: str | Path, images: str | Path | None = None) -> list[Sample]:
    """Read a labelled data set, whatever its format.

    Args:
        path: an RTSD ``full-gt.csv``, a COCO ``.json``, a CVAT ``.xml``, a YOLO ``data.yaml`` or YOLO folder.
        images: the image folder for CSV/COCO/CVAT labels (default: ``images/`` beside the file, else its folder).
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"No such data set: {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return load_rtsd_csv(path, images)
    if suffix == ".json":
        return load_coco(path, images)
    if suffix == ".xml":
        return load_cvat_images(path, images)
    if suffix in {".yaml", ".yml"} or path.is_dir():
        return load_yolo(path)
    raise ValueError(f"Unknown label format: {str(path)!r} (expected .csv, .json, .xml, data.yaml or a folder)")


def _image_dir(labels_file: Path, images: str | Path | None) -> Path:
    if images is not None:
        return Path(images)
    beside = labels_file.parent / "images"
    return beside if beside.is_dir() else labels_file.parent


def load_rtsd_csv(path: Path, images: str | Path | None = None) -> list[Sample]:
    """RTSD's ``full-gt.csv``: filename,x_from,y_from,width,height,sign_class (one row per sign)."""
    folder = _image_dir(path, images)
    by_file: dict[str, Sample] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"filename", "x_from", "y_from", "width", "height", "sign_class"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: not an RTSD csv, missing columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                x, y, w, h = (float(row[k]) for k in ("x_from", "y_from", "width", "height"))
            except (TypeError, ValueError):
                raise ValueError(f"{path}:{line}: bad box {row}") from None
            if w <= 0 or h <= 0:
                raise ValueError(f"{path}:{line}: box of size {w}x{h}")
            sample = by_file.setdefault(row["filename"], Sample(folder / row["filename"]))
            _add(sample, [x, y, x + w, y + h], row["sign_class"])
    return list(by_file.values())


def _add(sample: Sample, xyxy: list[float], label: str) -> None:
    sample.xyxy = np.vstack([sample.xyxy, np.asarray(xyxy, np.float32)[None]])
    sample.labels.append(label)


def load_coco(path: Path, images: str | Path | None = None) -> list[Sample]:
    """A COCO detection json (bbox = x, y, w, h); categories by name."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(document, dict) or not {"images", "annotations", "categories"} <= document.keys():
        raise ValueError(f"{path}: not a COCO file (needs images, annotations and categories)")
    folder = _image_dir(path, images)
    names = {c["id"]: c["name"] for c in document["categories"]}
    samples = {im["id"]: Sample(folder / im["file_name"]) for im in document["images"]}
    for number, ann in enumerate(document["annotations"]):
        if ann.get("image_id") not in samples or ann.get("category_id") not in names:
            raise ValueError(f"{path}: annotation #{number} (id {ann.get('id')}) names an unknown image or category")
        x, y, w, h = (float(v) for v in ann["bbox"])
        _add(samples[ann["image_id"]], [x, y, x + w, y + h], names[ann["category_id"]])
    return list(samples.values())


def load_cvat_images(path: Path, images: str | Path | None = None) -> list[Sample]:
    """CVAT for images 1.1 XML: ``<image name=…><box label=… xtl ytl xbr ybr>``."""
    try:
        root = ET.parse(path).getroot()  # noqa: S314
    except ET.ParseError as error:
        raise ValueError(f"{path}:{error.position[0]}: not valid XML") from None
    folder = _image_dir(path, images)
    samples = []
    for image in root.iter("image"):
        sample = Sample(folder / image.get("name", ""))
        for box in image.iter("box"):
            try:
                coords = [float(box.get(k, "")) for k in ("xtl", "ytl", "xbr", "ybr")]
            except ValueError:
                raise ValueError(f"{path}: image {image.get('name')!r}: bad box {box.attrib}") from None
            _add(sample, coords, box.get("label", ""))
        samples.append(sample)
    if not samples:
        raise ValueError(f"{path}: no <image> elements (is it a CVAT for images 1.1 export?)")
    return samples


def load_yolo(path: Path) -> list[Sample]:
    """A YOLO set: ``data.yaml`` (names, train/val image folders) or a folder holding one."""
    yaml_path = path if path.is_file() else path / "data.yaml"
    if not yaml_path.exists():
        raise ValueError(f"{path}: no data.yaml")
    config = read_simple_yaml(yaml_path)
    root = Path(config.get("path") or yaml_path.parent)
    if not root.is_absolute():
        root = yaml_path.parent / root
    names = config.get("names", {})
    samples = []
    for key in ("train", "val"):
        if key in config:
            samples += _yolo_split(root / str(config[key]), names)
    return samples


def _yolo_split(image_dir: Path, names: dict) -> list[Sample]:
    import cv2

    samples = []
    for image_path in iter_images(image_dir):
        label_path = Path(str(image_path.with_suffix(".txt")).replace(f"{os.sep}images{os.sep}",
                                                                      f"{os.sep}labels{os.sep}"))
        sample = Sample(image_path)
        if label_path.exists():
            height, width = cv2.imread(str(image_path)).shape[:2]
            for line, row in enumerate(label_path.read_text().splitlines(), start=1):
                if row.strip():
                    _add(sample, *_yolo_row(row, width, height, names, f"{label_path}:{line}"))
        samples.append(sample)
    return samples


def _yolo_row(row: str, width: int, height: int, names: dict, where: str) -> tuple[list[float], str]:
    parts = row.split()
    try:
        cls, cx, cy, w, h = int(parts[0]), *(float(v) for v in parts[1:5])
    except (ValueError, IndexError):
        raise ValueError(f"{where}: bad YOLO row {row!r}") from None
    if not all(0.0 <= v <= 1.0 for v in (cx, cy, w, h)):
        raise ValueError(f"{where}: coordinates outside 0..1 in {row!r}")
    xyxy = [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height]
    return xyxy, str(names.get(cls, cls))


def read_simple_yaml(path: Path) -> dict:
    """The few keys of a YOLO data.yaml (path, train, val, names as a mapping or a list), without PyYAML."""
    config: dict = {}
    names: dict = {}
    in_names = False
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #")[0].rstrip()
        if not line.strip():
            continue
        if in_names and raw.startswith((" ", "\t", "-")):
            key, _, value = line.strip().partition(":")
            if key.startswith("- "):
                names[len(names)] = key[2:].strip().strip("'\"")
            else:
                names[int(key)] = value.strip().strip("'\"")
            continue
        in_names = False
        key, _, value = line.partition(":")
        value = value.strip()
        if key.strip() == "names":
            in_names = not value
            if value.startswith("["):
                names = {i: n.strip().strip("'\"") for i, n in enumerate(value.strip("[]").split(","))}
        else:
            config[key.strip()] = value.strip("'\"")
    config["names"] = names
    return config


def to_yolo(samples: list[Sample], out: str | Path, names: list[str] | None = None, val_fraction: float = 0.1,
            seed: int = 0) -> Path:
    """Write samples as a YOLO set (images linked or copied, labels written); returns its ``data.yaml``."""
    import cv2

    out = Path(out)
    names = names or sorted({label for s in samples for label in s.labels})
    index = {n: i for i, n in enumerate(names)}
    order = list(range(len(samples)))
    random.Random(seed).shuffle(order)  # noqa: S311 — a reproducible split, not security
    n_val = max(1, round(len(samples) * val_fraction)) if len(samples) > 1 else 0
    for rank, i in enumerate(order):
        sample = samples[i]
        split = "val" if rank < n_val else "train"
        image = cv2.imread(str(sample.image_path))
        if image is None:
            raise ValueError(f"Cannot read image {str(sample.image_path)!r}")
        stem = f"{i:06d}_{sample.image_path.stem}"
        for sub in ("images", "labels"):
            (out / sub / split).mkdir(parents=True, exist_ok=True)
        target = out / "images" / split / f"{stem}{sample.image_path.suffix.lower()}"
        if not target.exists():
            try:
                target.symlink_to(sample.image_path.resolve())
            except OSError:
                cv2.imwrite(str(target), image)
        rows = [yolo_row(index[lab], b, image.shape) for b, lab in zip(sample.xyxy, sample.labels) if lab in index]
        (out / "labels" / split / f"{stem}.txt").write_text("".join(rows))
    (out / "data.yaml").write_text(data_yaml(out, names))
    return out / "data.yaml"


def yolo_row(class_index: int, box: np.ndarray, shape: tuple[int, ...]) -> str:
    """One YOLO label line: class, centre and size as fractions of an image of ``shape`` (xyxy pixels in)."""
    h, w = shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    return f"{class_index} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}\n"


def data_yaml(out: Path, names: list[str]) -> str:
    """The ``data.yaml`` of a YOLO set at ``out`` (images/train, images/val) with these class names."""
    lines = [f"path: {out.resolve()}", "train: images/train", "val: images/val", "names:"]
    lines += [f"  {i}: '{n}'" for i, n in enumerate(names)]
    return "\n".join(lines) + "\n"


def write_coco(out: Path, names: list[str], records: list) -> None:
    """``annotations.json`` beside a set: records are (split, stem, image shape, xyxy boxes, labels)."""
    images, annotations = [], []
    for image_id, (split, stem, shape, boxes, labels) in enumerate(records, 1):
        images.append({"id": image_id, "file_name": f"{split}/{stem}.jpg", "width": shape[1], "height": shape[0]})
        for b, lab in zip(boxes, labels):
            x1, y1, x2, y2 = (float(v) for v in b)
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "iscrowd": 0,
                                "category_id": (names.index(lab) if lab in names else 0) + 1,
                                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1)})
    categories = [{"id": i + 1, "name": n} for i, n in enumerate(names)]
    document = {"images": images, "annotations": annotations, "categories": categories}
    (out / "annotations.json").write_text(json.dumps(document))
