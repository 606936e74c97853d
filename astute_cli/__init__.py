"""Astute: offline recognition of Russian road signs in dashcam video, with spoken alerts.

The pipeline is a chain of small stages that talk through :class:`~astute_cli.types.Detections`::

    from astute_cli.detector import load_detector
    from astute_cli.tracker import Tracker
    from astute_cli.announcer import Announcer
    from astute_cli.source import frames

    detector = load_detector()                    # the bundled ONNX model
    tracker, announcer = Tracker(), Announcer(detector.labels, fps=25.0)
    for index, frame in frames("drive.mp4"):
        detections = tracker.update(detector.detect(frame))
        for alert in announcer.update(detections, index):
            print(alert.t, alert.text)
"""

import os

# onnxruntime's shared library sends telemetry (DNS lookups of a Microsoft host) a few seconds after it loads unless
# this is set before it is imported; every entry point (the CLI, `python -m astute_cli`, library use) imports this
# package first, so Astute makes no network connection outside `astute fetch`.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from astute_cli.types import Announcement, Detections, VideoInfo

__all__ = ["Announcement", "Detections", "VideoInfo"]
__version__ = "0.1.0"
