"""Synthetic training data: sign pictures with any value, dashcam-like scenes, YOLO/COCO/crop data sets."""
