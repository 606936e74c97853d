"""The committed clips with valued signs: fixed scenarios, values outside RTSD's class list."""

from __future__ import annotations

import pytest

from astute_cli.labels.clips import load_clip_labels
from astute_cli.synth.drive import STANDARD_CLIPS, ClipSpec, PlacedSign, make_clips


def test_a_fixed_scenario_is_rendered_as_given(tmp_path):
    spec = ClipSpec("fixed", 60, 5, (320, 180), 1.0, "solidWhiteRight", 1, (PlacedSign("3_24_n110", 3.0, 14.0, 2.3),))
    labels = load_clip_labels(make_clips(tmp_path, [spec])[0])
    assert [s.label for s in labels.signs] == ["3_24_n110"]
    assert labels.signs[0].value == 110


@pytest.mark.parametrize("label", ["3_24_n90", "3_24_n110", "3_24_n130", "3_13_r3.8", "3_11_n15", "3_11_r7.5"])
def test_standard_clips_hold_values_rtsd_lacks(label):
    assert any(s.label == label for spec in STANDARD_CLIPS if spec.signs for s in spec.signs)


def test_a_weight_limit_shares_a_pole_with_a_speed_limit():
    pairs = [(a, b) for spec in STANDARD_CLIPS if spec.signs for a in spec.signs for b in spec.signs
             if a.label.startswith("3_11") and b.label.startswith("3_24") and a.z_m == b.z_m and a.x_m == b.x_m]
    assert pairs
