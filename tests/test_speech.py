from __future__ import annotations

import itertools
import sys
import time
import wave

import numpy as np
import pytest

from astute_cli import speech

RATE = 1000  # a round sample rate makes track positions easy to read


class CountingSpeaker:
    """A fake engine: a constant tone 0.1 s per character, counting how often it is asked."""

    name = "counting"
    sample_rate = RATE

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def synthesize(self, text: str, lang: str) -> np.ndarray:
        self.calls.append((text, lang))
        return np.full(len(text) * 100, 0.5, np.float32)


def tone(seconds: float, level: float = 0.5) -> np.ndarray:
    return np.full(round(seconds * RATE), level, np.float32)


@pytest.fixture(scope="module")
def espeak():
    try:
        return speech.EspeakSpeaker()
    except speech.SpeechError as error:
        pytest.skip(f"eSpeak NG not available: {error}")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        pytest.param("Ограничение скорости 60", "ru", id="ru"),
        pytest.param("Speed limit 60 km/h", "en", id="en"),
        pytest.param("Пешеходный переход", "ru", id="ru-short"),
    ],
)
def test_espeak_speaks(espeak, text, lang):
    samples = espeak.synthesize(text, lang)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert 0.5 <= len(samples) / espeak.sample_rate <= 5.0
    assert 0.05 < np.abs(samples).max() <= 1.0


@pytest.mark.parametrize(
    ("text", "lang", "said"),
    [
        pytest.param("Speed limit 60 km/h", "en", "Speed limit 60 kilometres per hour", id="en-kmh"),
        pytest.param("Ограничение скорости 60 км/ч", "ru", "Ограничение скорости 60 километров в час", id="ru-kmh"),
        pytest.param("Ограничение скорости 60", "ru", "Ограничение скорости 60", id="unchanged"),
        pytest.param("60 km/h", "de", "60 km/h", id="unknown-lang"),
    ],
)
def test_spoken_text(text, lang, said):
    assert speech.spoken_text(text, lang) == said


def test_espeak_empty_text_is_silence(espeak):
    assert len(espeak.synthesize("  ", "ru")) == 0


def _fake_program(folder, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)


def test_espeak_falls_back_to_the_program(tmp_path, monkeypatch):
    body = ("import io, sys, wave\nb = io.BytesIO()\nw = wave.open(b, 'wb')\nw.setnchannels(1)\n"
            "w.setsampwidth(2)\nw.setframerate(8000)\n"
            "w.writeframes(b'\\x00\\x20' * 8000)\nw.close()\nsys.stdout.buffer.write(b.getvalue())\n")
    _fake_program(tmp_path, "espeak-ng", body)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(speech, "_load_espeak", _raise_os_error)
    speaker = speech.EspeakSpeaker()
    samples = speaker.synthesize("привет", "ru")
    assert speaker.sample_rate == 8000 and len(samples) == 8000 and samples.max() > 0.2


def test_espeak_missing_everywhere_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(speech, "_load_espeak", _raise_os_error)
    with pytest.raises(speech.SpeechError, match="espeak"):
        speech.EspeakSpeaker()


def _raise_os_error():
    raise OSError("no library")


def test_cached_speaker_synthesises_each_phrase_once(tmp_path):
    inner = CountingSpeaker()
    first, second = speech.CachedSpeaker(inner, tmp_path), speech.CachedSpeaker(inner, tmp_path)
    a = first.synthesize("Дети", "ru")
    b = second.synthesize("Дети", "ru")
    first.synthesize("Дети", "en")
    np.testing.assert_array_equal(a, b)
    assert inner.calls == [("Дети", "ru"), ("Дети", "en")]
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_cached_speaker_defaults_to_astute_home(astute_home):
    cached = speech.CachedSpeaker(CountingSpeaker())
    cached.synthesize("a", "en")
    assert len(list((astute_home / "speech").glob("*.npy"))) == 1
    assert (cached.name, cached.sample_rate) == ("counting", RATE)


@pytest.mark.parametrize(
    ("engine", "kind"),
    [
        pytest.param("none", speech.SilentSpeaker, id="none"),
    ],
)
def test_make_speaker(engine, kind):
    assert isinstance(speech.make_speaker(engine), kind)


def test_make_speaker_unknown_engine():
    with pytest.raises(ValueError, match="Unknown speech engine"):
        speech.make_speaker("festival")


def test_silent_speaker_is_empty():
    assert len(speech.SilentSpeaker().synthesize("Дети", "ru")) == 0


@pytest.mark.parametrize(
    ("alerts", "starts"),
    [
        pytest.param([(1.0, 1.0, 5)], [1.0], id="single"),
        pytest.param([(0.0, 1.0, 5), (3.0, 1.0, 5)], [0.0, 3.0], id="apart"),
        pytest.param([(0.0, 1.0, 5), (0.5, 1.0, 5)], [0.0, 1.2], id="overlap-waits-for-end-plus-gap"),
        pytest.param([(0.0, 1.0, 5), (0.0, 1.0, 1)], [1.2, 0.0], id="same-moment-urgent-first"),
        pytest.param([(0.0, 1.0, 5), (0.5, 0.5, 5), (0.6, 0.5, 1)], [0.0, 1.9, 1.2],
                     id="waiting-urgent-goes-first"),
        pytest.param([(2.0, 1.0, 2), (0.0, 1.0, 2), (0.2, 1.0, 2)], [2.4, 0.0, 1.2], id="added-out-of-order"),
    ],
)
def test_schedule(alerts, starts):
    track = speech.AlertTrack(RATE)
    for t, seconds, priority in alerts:
        track.add(t, tone(seconds), priority)
    schedule = track.schedule()
    assert [s for s, _ in schedule] == pytest.approx(starts)
    assert [n for _, n in schedule] == [round(s * RATE) for s in starts]
    spans = sorted((s, s + seconds) for (s, _), (_, seconds, _) in zip(schedule, alerts, strict=True))
    assert all(end + 0.2 - 1e-9 <= nxt for (_, end), (nxt, _) in itertools.pairwise(spans))


@pytest.mark.parametrize(
    ("duration_s", "sound_s"),
    [
        pytest.param(5.0, 2.0, id="all-fit"),
        pytest.param(1.7, 1.5, id="second-cut"),
        pytest.param(1.0, 1.0, id="second-dropped"),
        pytest.param(0.0, 0.0, id="empty"),
    ],
)
def test_render_length_and_cuts(duration_s, sound_s):
    track = speech.AlertTrack(RATE)
    track.add(0.0, tone(1.0), 5)
    track.add(0.5, tone(1.0), 5)  # starts at 1.2 s
    audio = track.render(duration_s)
    assert audio.dtype == np.float32 and len(audio) == round(duration_s * RATE)
    assert np.count_nonzero(audio) == round(sound_s * RATE)


def test_write_wav(tmp_path):
    track = speech.AlertTrack(RATE)
    track.add(0.1, tone(0.2, 1.0), 1)
    path = track.write_wav(tmp_path / "alerts.wav", 1.0)
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()) == (1, 2, RATE, RATE)
        pcm = np.frombuffer(wav.readframes(RATE), "<i2")
    assert pcm[150] == 32767 and pcm[0] == 0


class FakeSoundDevice:
    """Stands in for the optional ``sounddevice`` module: records what it was asked to play."""

    def __init__(self):
        self.played = []

    def play(self, samples, sample_rate):
        self.played.append((len(samples), sample_rate))


@pytest.fixture(autouse=True)
def no_sounddevice(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails: tests use player programs


def test_play_prefers_sounddevice(tmp_path, monkeypatch):
    fake = FakeSoundDevice()
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert speech.play(tone(0.1), RATE) is True
    assert fake.played == [(len(tone(0.1)), RATE)]


def test_play_without_a_player(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert speech.play(tone(0.1), RATE) is False


def test_play_runs_a_player_without_waiting(tmp_path, monkeypatch):
    log = tmp_path / "played.txt"
    body = f"import sys, time\ntime.sleep(0.3)\nopen({str(log)!r}, 'w').write(sys.argv[-1])\n"
    _fake_program(tmp_path, "aplay", body)
    monkeypatch.setenv("PATH", str(tmp_path))
    start = time.perf_counter()
    assert speech.play(tone(0.1), RATE) is True
    assert time.perf_counter() - start < 0.3
    deadline = time.perf_counter() + 5
    while not log.exists() and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert log.read_text().endswith(".wav")
