"""Ground truth is checked before it is scored: a COCO file that cannot be read, or that holds a box no detector
could match (outside its image, of no width or height, of a category or image it does not define), is refused in
one line naming the file and the box, rather than silently lowering recall."""

from __future__ import annotations

import json
from pathlib import Path

EDGE_TOLERANCE_PX = 1.0  # boxes drawn to the last pixel may end half a pixel past the edge


def read_checked_coco(path: str | Path) -> dict:
    """The COCO document at ``path``, checked; ValueError naming the file (and the annotation) otherwise."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{str(path)!r} is not valid JSON: {error}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{str(path)!r} is not valid JSON: not UTF-8 text") from None
    if not isinstance(data, dict):
        raise ValueError(f"{str(path)!r} is not a COCO file: expected an object with images, annotations and "
                         f"categories")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise ValueError(f"{str(path)!r} is not a COCO file: it has no {key!r} list")
    try:
        categories = {c["id"] for c in data["categories"]}
        images = {i["id"]: i for i in data["images"]}
    except (KeyError, TypeError):
        raise ValueError(f"{str(path)!r}: every image and category needs an 'id'") from None
    for ann in data["annotations"]:
        _check_annotation(path, ann, categories, images)
    return data


def _check_annotation(path: Path, ann, categories: set, images: dict) -> None:
    name = f"{str(path)!r}, annotation {ann.get('id', '?') if isinstance(ann, dict) else '?'}"
    if not isinstance(ann, dict):
        raise ValueError(f"{name}: not an object")
    if ann.get("category_id") not in categories:
        raise ValueError(f"{name}: category_id {ann.get('category_id')!r} is not among the file's categories")
    if ann.get("image_id") not in images:
        raise ValueError(f"{name}: image_id {ann.get('image_id')!r} is not among the file's images")
    bbox = ann.get("bbox")
    if (not isinstance(bbox, list) or len(bbox) != 4
            or not all(isinstance(v, (int, float)) and v == v for v in bbox)):
        raise ValueError(f"{name}: bbox {bbox!r} is not [x, y, width, height]")
    x, y, w, h = bbox
    if w <= 0 or h <= 0:
        raise ValueError(f"{name}: box {bbox} has no width or height (width {w:g}, height {h:g})")
    image = images[ann["image_id"]]
    width, height = image.get("width"), image.get("height")
    if isinstance(width, (int, float)) and isinstance(height, (int, float)):
        t = EDGE_TOLERANCE_PX
        if x < -t or y < -t or x + w > width + t or y + h > height + t:
            raise ValueError(f"{name}: box {bbox} lies outside its image "
                             f"{image.get('file_name', image['id'])!r} of {width:g}x{height:g}")
