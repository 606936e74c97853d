from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from astute_cli.labels.formats import load_any, to_yolo


def _image(folder, name="a.jpg", size=(100, 80)):
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / name), np.zeros((size[1], size[0], 3), np.uint8))
    return folder / name


def write_rtsd(tmp_path):
    _image(tmp_path / "images")
    (tmp_path / "full-gt.csv").write_text("filename,x_from,y_from,width,height,sign_class,sign_id\n"
                                          "a.jpg,10,20,30,40,3_24_n60,0\na.jpg,50,5,10,10,5_19_1,1\n")
    return tmp_path / "full-gt.csv"


def write_coco(tmp_path):
    _image(tmp_path / "images")
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 20, 30, 40]},
                                {"id": 2, "image_id": 1, "category_id": 8, "bbox": [50, 5, 10, 10]}],
                "categories": [{"id": 7, "name": "3_24_n60"}, {"id": 8, "name": "5_19_1"}]}
    (tmp_path / "annotations.json").write_text(json.dumps(document))
    return tmp_path / "annotations.json"


def write_cvat(tmp_path):
    _image(tmp_path / "images")
    (tmp_path / "annotations.xml").write_text(
        '<annotations><version>1.1</version><image id="0" name="a.jpg" width="100" height="80">'
        '<box label="3_24_n60" xtl="10" ytl="20" xbr="40" ybr="60" occluded="0"/>'
        '<box label="5_19_1" xtl="50" ytl="5" xbr="60" ybr="15" occluded="0"/></image></annotations>')
    return tmp_path / "annotations.xml"


def write_yolo(tmp_path):
    _image(tmp_path / "images" / "train")
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text("0 0.25 0.5 0.3 0.5\n1 0.55 0.125 0.1 0.125\n")
    (tmp_path / "data.yaml").write_text("path: .\ntrain: images/train\nnames:\n  0: 3_24_n60\n  1: '5_19_1'\n")
    return tmp_path / "data.yaml"


EXPECTED = np.array([[10, 20, 40, 60], [50, 5, 60, 15]], np.float32)


@pytest.mark.parametrize("writer", [write_rtsd, write_coco, write_cvat, write_yolo],
                         ids=["rtsd-csv", "coco", "cvat", "yolo"])
def test_every_format_reads_to_the_same_samples(tmp_path, writer):
    samples = load_any(writer(tmp_path))
    assert len(samples) == 1
    assert samples[0].labels == ["3_24_n60", "5_19_1"]
    np.testing.assert_allclose(samples[0].xyxy, EXPECTED, atol=0.01)
    assert samples[0].image_path.exists()


def test_round_trip_through_yolo(tmp_path):
    samples = load_any(write_coco(tmp_path / "coco"))
    data_yaml = to_yolo(samples, tmp_path / "yolo", names=["3_24_n60", "5_19_1"])
    again = load_any(data_yaml)
    assert again[0].labels == samples[0].labels
    np.testing.assert_allclose(again[0].xyxy, samples[0].xyxy, atol=0.01)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param("gt.csv", "filename,x_from\n", "missing columns", id="csv-columns"),
        pytest.param("gt.csv", "filename,x_from,y_from,width,height,sign_class\na.jpg,1,2,x,4,2_1\n", "gt.csv:2",
                     id="csv-bad-number"),
        pytest.param("gt.csv", "filename,x_from,y_from,width,height,sign_class\na.jpg,1,2,0,4,2_1\n", "size",
                     id="csv-empty-box"),
        pytest.param("a.json", "{not json", "not valid JSON", id="json-syntax"),
        pytest.param("a.json", '{"images": []}', "not a COCO file", id="json-not-coco"),
        pytest.param("a.xml", "<annotations>", "not valid XML", id="xml-syntax"),
        pytest.param("a.txt", "hello", "Unknown label format", id="unknown"),
    ],
)
def test_bad_labels_name_the_file(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(ValueError, match=message):
        load_any(tmp_path / name)


def test_bad_yolo_row_names_file_and_line(tmp_path):
    data_yaml = write_yolo(tmp_path)
    (tmp_path / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n0 1.5 0.5 0.1\n")
    with pytest.raises(ValueError, match=r"a\.txt:2"):
        load_any(data_yaml)
