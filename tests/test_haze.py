"""Hazy frames are stretched back to the full range before detection; any other frame is searched as it is."""

from __future__ import annotations

import numpy as np
import pytest

from astute_cli.haze import lift_haze


def _frame(low: int, high: int, seed: int = 0) -> np.ndarray:
    """A 720p frame whose levels span [low, high] in every channel (a smooth ramp plus noise)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, 1280, dtype=np.float32)[None, :, None] * np.ones((720, 1, 3), np.float32)
    noisy = ramp + rng.normal(0, 0.02, (720, 1280, 3)).astype(np.float32)
    return np.clip(low + np.clip(noisy, 0, 1) * (high - low), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("low", "high", "lifted"),
    [
        pytest.param(110, 220, True, id="fog-grey-and-flat"),
        pytest.param(60, 200, True, id="haze"),
        pytest.param(0, 255, False, id="clear-day"),
        pytest.param(15, 235, False, id="daylight-camera"),
        pytest.param(0, 60, False, id="night-dark-and-flat"),
        pytest.param(5, 120, False, id="dusk"),
        pytest.param(70, 255, False, id="backlight-lifted-but-wide"),
        pytest.param(140, 150, False, id="flat-grey-not-fog"),
    ],
)
def test_only_hazy_frames_are_lifted(low, high, lifted):
    frame = _frame(low, high)
    out = lift_haze(frame)
    assert (out is not frame) == lifted
    if lifted:
        assert out.shape == frame.shape and out.dtype == np.uint8
        assert np.percentile(out, 1) <= 5 and np.percentile(out, 99) >= 250  # back to the full range
        assert lift_haze(out) is out  # a lifted frame is not hazy: lifting twice changes nothing more
    else:
        assert np.array_equal(out, frame)


@pytest.mark.parametrize(("sun_share", "lifted"), [pytest.param(0.0, True, id="fog"),
                                                   pytest.param(0.03, False, id="fog-with-the-sun-in-view")])
def test_a_clipped_sun_is_backlight_not_fog(sun_share, lifted):
    frame = _frame(110, 220)
    frame[:round(720 * sun_share)] = 255
    assert (lift_haze(frame) is not frame) == lifted


def test_lifting_keeps_the_order_of_levels_and_the_hue():
    frame = _frame(110, 220)
    frame[100:140, 600:640] = (120, 120, 200)  # a reddish patch in the fog
    out = lift_haze(frame)
    patch = out[100:140, 600:640].reshape(-1, 3).mean(axis=0)
    assert patch[2] > patch[1] + 60 and patch[2] > patch[0] + 60  # still red, and redder than before
    flat = frame[360, ::64, 0].astype(int)
    assert np.all(np.diff(out[360, ::64, 0].astype(int)[np.argsort(flat, kind="stable")]) >= 0)


@pytest.mark.parametrize("shape", [pytest.param((0, 0, 3), id="empty"), pytest.param((4, 4, 3), id="tiny")])
def test_odd_frames_pass_through(shape):
    frame = np.full(shape, 150, np.uint8)
    assert lift_haze(frame) is frame
