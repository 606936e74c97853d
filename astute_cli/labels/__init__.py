"""Labelled data, read and written in one place per format (a tool: the runtime never imports it).

- :mod:`astute_cli.labels.clips`: clip labels (``astute-clip-labels/1`` JSON, CVAT video XML): each physical
  sign's track of boxes, the frame it becomes readable and the frame it is passed.
- :mod:`astute_cli.labels.formats`: labelled frames: RTSD CSV, COCO, CVAT images and YOLO readers; YOLO and
  COCO writers (used by ``astute train`` conversions and by ``synth/dataset.py``).
"""
