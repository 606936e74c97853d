"""marker-look-v1: boxes kept as obstacle markers on the real road photos and every 3rd frame of the two real clips
of ../shared/data/backgrounds (US roads: no 8.22 marker in them), without the look (inf) and with it (2.0)."""

import glob

import cv2

from astute_cli.detector import load_detector

BACKGROUNDS = "../shared/data/backgrounds"
CLIPS = ("udacity-lanelines/test_videos/solidWhiteRight.mp4", "udacity-CarND-Vehicle-Detection/test_video.mp4")


def real_frames() -> list:
    frames = [cv2.imread(p) for p in sorted(glob.glob(f"{BACKGROUNDS}/**/*.jpg", recursive=True))]
    for clip in CLIPS:
        capture, index = cv2.VideoCapture(f"{BACKGROUNDS}/{clip}"), 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % 3 == 0:
                frames.append(frame)
            index += 1
    return frames


def main() -> None:
    detector, frames = load_detector(None), real_frames()
    print(len(frames), "real frames")
    for aspect in (float("inf"), 2.0):
        detector.marker_min_aspect = aspect
        boxes = markers = 0
        for frame in frames:
            found = detector.detect(frame)
            boxes += len(found)
            markers += sum(detector.labels[k].startswith("8_22") for k in found.class_id)
        print(f"aspect {aspect}: {boxes} boxes, {markers} kept as markers", flush=True)


if __name__ == "__main__":
    main()
