"""Spoken alerts: the Speaker protocol, offline eSpeak NG (default), a phrase cache, the alert track, live playback.

A speaker turns a phrase into float32 mono samples in [-1, 1]. ``make_speaker()`` builds the default:
eSpeak NG through ctypes (the library and voices ship in the ``espeakng-loader`` wheel, so nothing is
downloaded), wrapped in a cache of synthesised phrases under ``astute_home()/speech``.
``AlertTrack`` lays alerts out on a timeline without overlaps, the most urgent first.
"""

from __future__ import annotations

import ctypes
import hashlib
import heapq
import io
import os
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from astute_cli.files import atomic_path

ESPEAK_RATE_WPM = 170
ALERT_GAP_S = 0.2
WARM_UP = {"ru": "Внимание", "en": "Attention"}  # synthesised to no one before live work starts (``warm_up``)
ALERT_MAX_WAIT_S = 4.0  # live: a sign announced ~1.5 s before it is passed is well behind the car 4 s after
ENGINES = ("espeak", "gtts", "none")

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_VOICES = {"ru": "ru", "en": "en"}
# abbreviations that engines spell out letter by letter ("K M slash H"): said in full instead
_SAID_IN_FULL = {
    "en": {"km/h": "kilometres per hour"},
    "ru": {"км/ч": "километров в час"},
}
_CACHE_VERSION = 2  # bump when the audio for the same text changes (e.g. _SAID_IN_FULL)
_LOCK = threading.Lock()  # libespeak-ng keeps global state: one synthesis at a time per process


class Speaker(Protocol):
    name: str
    sample_rate: int

    def synthesize(self, text: str, lang: str) -> np.ndarray: ...


def spoken_text(text: str, lang: str) -> str:
    """``text`` as it should be said: abbreviations such as ``km/h`` written out in full."""
    for short, full in _SAID_IN_FULL.get(lang, {}).items():
        text = text.replace(short, full)
    return text


class SpeechError(RuntimeError):
    """No way to synthesise speech (engine missing or failing)."""


# --- eSpeak NG -----------------------------------------------------------------------------------------

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@dataclass
class _EspeakLibrary:
    """The loaded libespeak-ng, initialised for synchronous synthesis into a callback."""

    lib: ctypes.CDLL
    sample_rate: int
    chunks: list[np.ndarray] = field(default_factory=list)
    callback: object = None  # the CFUNCTYPE object: must stay referenced while the library may call it

    def synthesize(self, text: str, voice: str, rate_wpm: int) -> np.ndarray:
        data = text.encode("utf-8") + b"\0"
        self.chunks.clear()
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise SpeechError(f"eSpeak NG has no voice {voice!r}")
        self.lib.espeak_SetParameter(_ESPEAK_RATE, rate_wpm, 0)
        status = self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None)
        if status != 0:
            raise SpeechError(f"espeak_Synth failed with status {status}")
        self.lib.espeak_Synchronize()
        pcm = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        self.chunks.clear()
        return pcm

    def _collect(self, wav, numsamples: int, events) -> int:
        if wav and numsamples > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        return 0


_LIBRARY: _EspeakLibrary | None = None


def _load_espeak() -> _EspeakLibrary:
    """Load and initialise libespeak-ng from espeakng-loader once per process (raises OSError/ImportError)."""
    global _LIBRARY
    if _LIBRARY is not None:
        return _LIBRARY
    import espeakng_loader

    lib = ctypes.CDLL(str(espeakng_loader.get_library_path()))
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                 ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
    data_path = str(espeakng_loader.get_data_path()).encode()
    sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
    if sample_rate <= 0:
        raise OSError(f"espeak_Initialize failed ({sample_rate})")
    library = _EspeakLibrary(lib, sample_rate)
    library.callback = _SYNTH_CALLBACK(library._collect)
    lib.espeak_SetSynthCallback(library.callback)
    _LIBRARY = library
    return library


def _espeak_binary() -> str | None:
    return shutil.which("espeak-ng") or shutil.which("espeak")


def _read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """(samples float32 mono, sample rate) of a 16-bit PCM WAV held in memory."""
    with wave.open(io.BytesIO(data)) as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return (pcm.reshape(-1, channels).mean(axis=1) / 32768.0).astype(np.float32), rate


class EspeakSpeaker:
    """Offline speech with eSpeak NG: the bundled library through ctypes, else an ``espeak-ng`` binary.

    Args:
        rate_wpm: speaking rate in words per minute; bigger is faster and shorter.
    """

    name = "espeak"

    def __init__(self, rate_wpm: int = ESPEAK_RATE_WPM) -> None:
        self.rate_wpm = rate_wpm
        self._binary: str | None = None
        try:
            with _LOCK:
                self.sample_rate = _load_espeak().sample_rate
        except (OSError, ImportError, AttributeError) as error:
            self._binary = _espeak_binary()
            if self._binary is None:
                raise SpeechError(f"eSpeak NG is not available ({error}); install the espeakng-loader package "
                                  "or the espeak-ng program, or use --speech none") from error
            self.sample_rate = _read_wav(self._run_binary("a", "en"))[1]

    def synthesize(self, text: str, lang: str) -> np.ndarray:
        """(N,) float32 samples of ``text`` spoken in ``lang`` (``ru`` or ``en``)."""
        if not text.strip():
            return np.zeros(0, np.float32)
        if self._binary is not None:
            return _read_wav(self._run_binary(spoken_text(text, lang), lang))[0]
        with _LOCK:
            pcm = _load_espeak().synthesize(spoken_text(text, lang), _VOICES.get(lang, lang), self.rate_wpm)
        return (pcm.astype(np.float32) / 32768.0).clip(-1.0, 1.0)

    def _run_binary(self, text: str, lang: str) -> bytes:
        command = [str(self._binary), "-v", _VOICES.get(lang, lang), "-s", str(self.rate_wpm), "--stdout", text]
        return subprocess.run(command, capture_output=True, check=True).stdout


# --- other engines ---------------------------------------------------------------------------------------


class GTTSSpeaker:
    """Google Translate TTS (online; needs the optional ``gtts`` package). Decoded with the bundled ffmpeg."""

    name = "gtts"
    sample_rate = 24000

    def __init__(self) -> None:
        try:  # checked here, before any frame, not at the first alert
            import gtts  # noqa: F401
        except ImportError as error:
            raise SpeechError("The gtts engine needs the gtts package: pip install gtts") from error

    def synthesize(self, text: str, lang: str) -> np.ndarray:
        try:
            from gtts import gTTS
        except ImportError as error:
            raise SpeechError("The gtts engine needs the gtts package: pip install gtts") from error
        mp3 = io.BytesIO()
        gTTS(text=spoken_text(text, lang), lang=lang).write_to_fp(mp3)
        return _decode_audio(mp3.getvalue(), self.sample_rate)


def _decode_audio(data: bytes, sample_rate: int) -> np.ndarray:
    from astute_cli.ffmpeg import ffmpeg_exe

    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", "pipe:0",
               "-f", "f32le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]
    out = subprocess.run(command, input=data, capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<f4").astype(np.float32)


class SilentSpeaker:
    """Says nothing: every phrase is an empty array."""

    name = "none"
    sample_rate = 16000

    def synthesize(self, text: str, lang: str) -> np.ndarray:
        return np.zeros(0, np.float32)


class CachedSpeaker:
    """Keeps each synthesised phrase as a ``.npy`` file, keyed by sha1(engine, lang, text).

    Args:
        inner: the speaker that synthesises phrases not yet in the cache.
        cache_dir: where the phrases go (default ``astute_home()/speech``).
    """

    def __init__(self, inner: Speaker, cache_dir: str | Path | None = None) -> None:
        from astute_cli.paths import astute_home

        self.inner = inner
        self.name = inner.name
        self.sample_rate = inner.sample_rate
        self.cache_dir = Path(cache_dir) if cache_dir is not None else astute_home() / "speech"

    def path_for(self, text: str, lang: str) -> Path:
        key = f"{_CACHE_VERSION}\0{self.name}\0{self.sample_rate}\0{lang}\0{text}".encode()
        return self.cache_dir / f"{hashlib.sha1(key).hexdigest()}.npy"  # noqa: S324 - a cache key, not security

    def synthesize(self, text: str, lang: str) -> np.ndarray:
        path = self.path_for(text, lang)
        if path.exists():
            try:
                return np.load(path)
            except (OSError, ValueError):
                pass  # a truncated file: synthesise again
        samples = np.asarray(self.inner.synthesize(text, lang), dtype=np.float32)
        self._store(path, samples)
        return samples

    def _store(self, path: Path, samples: np.ndarray) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # atomic: concurrent runs never read half a file
        with atomic_path(path, prefix=".speech.", suffix=".npy") as temp, open(temp, "wb") as file:
            np.save(file, samples)


def make_speaker(engine: str = "espeak", cache: bool = True) -> Speaker:
    """A speaker by engine name: ``espeak`` (offline, default), ``gtts`` (online) or ``none`` (silent)."""
    if engine == "none":
        return SilentSpeaker()
    if engine == "espeak":
        speaker: Speaker = EspeakSpeaker()
    elif engine == "gtts":
        speaker = GTTSSpeaker()
    else:
        raise ValueError(f"Unknown speech engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return CachedSpeaker(speaker) if cache else speaker


# --- the alert track --------------------------------------------------------------------------------------


@dataclass
class _Alert:
    t_s: float
    samples: np.ndarray
    priority: int


class AlertTrack:
    """Alerts laid out on one audio track: never overlapping, the most urgent first.

    An alert due while another is playing waits until that one ends plus ``gap_s``; of the alerts
    waiting at that moment the most urgent (lowest priority number, then the earliest) plays first.

    Args:
        sample_rate: samples per second of the alerts and of the rendered track.
        gap_s: silence between two alerts that follow each other.
    """

    def __init__(self, sample_rate: int, gap_s: float = ALERT_GAP_S) -> None:
        self.sample_rate = int(sample_rate)
        self.gap_s = gap_s
        self._alerts: list[_Alert] = []

    def __len__(self) -> int:
        return len(self._alerts)

    def add(self, t_s: float, samples: np.ndarray, priority: int = 5) -> None:
        """Queue ``samples`` (float32 mono) to be spoken at ``t_s`` seconds or as soon after as free."""
        self._alerts.append(_Alert(max(0.0, float(t_s)), np.asarray(samples, np.float32).reshape(-1), priority))

    def schedule(self) -> list[tuple[float, int]]:
        """(start in seconds, start in samples) of every alert, in the order they were added."""
        starts = self._start_seconds()
        return [(s, round(s * self.sample_rate)) for s in starts]

    def _start_seconds(self) -> list[float]:
        order = sorted(range(len(self._alerts)), key=lambda i: self._alerts[i].t_s)
        starts = [0.0] * len(self._alerts)
        waiting: list[tuple[int, float, int]] = []
        free_at, nxt = 0.0, 0
        while nxt < len(order) or waiting:
            if not waiting:
                free_at = max(free_at, self._alerts[order[nxt]].t_s)
            while nxt < len(order) and self._alerts[order[nxt]].t_s <= free_at:
                i = order[nxt]
                heapq.heappush(waiting, (self._alerts[i].priority, self._alerts[i].t_s, i))
                nxt += 1
            i = heapq.heappop(waiting)[2]
            starts[i] = free_at
            free_at += len(self._alerts[i].samples) / self.sample_rate + self.gap_s
        return starts

    def render(self, duration_s: float) -> np.ndarray:
        """(round(duration_s * sample_rate),) float32 track; alerts past the end are dropped or cut."""
        track = np.zeros(max(0, round(duration_s * self.sample_rate)), np.float32)
        for alert, (_, start) in zip(self._alerts, self.schedule(), strict=True):
            if start >= len(track):
                continue
            piece = alert.samples[: len(track) - start]
            track[start:start + len(piece)] += piece
        return np.clip(track, -1.0, 1.0)

    def write_wav(self, path: str | Path, duration_s: float) -> Path:
        """Write the rendered track as a 16-bit PCM mono WAV file."""
        path = Path(path)
        write_wav(path, self.render(duration_s), self.sample_rate)
        return path


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write float32 mono samples in [-1, 1] as 16-bit PCM."""
    pcm = (np.clip(np.asarray(samples, np.float32), -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate))
        wav.writeframes(pcm.tobytes())


# --- live playback ----------------------------------------------------------------------------------------

_PLAYERS = {
    "aplay": ["-q"],
    "paplay": [],
    "ffplay": ["-nodisp", "-autoexit", "-loglevel", "quiet"],
}


def play(samples: np.ndarray, sample_rate: int) -> bool:
    """Start playing samples without waiting: ``sounddevice`` if installed, else ``aplay``/``paplay``/``ffplay``.

    Returns False when there is nothing to play or no way to play it.
    """
    if len(samples) == 0:
        return False
    return _play_sounddevice(samples, sample_rate) or _play_subprocess(samples, sample_rate)


def _play_sounddevice(samples: np.ndarray, sample_rate: int) -> bool:
    try:
        import sounddevice  # optional; not a dependency
    except (ImportError, OSError):  # OSError: the module is there but PortAudio is not
        return False
    try:
        sounddevice.play(np.asarray(samples, np.float32), int(sample_rate))
    except Exception:  # no output device (PortAudioError and others): fall back to a player program
        return False
    return True


def _play_subprocess(samples: np.ndarray, sample_rate: int) -> bool:
    player = next((name for name in _PLAYERS if shutil.which(name)), None)
    if player is None:
        return False
    fd, name = tempfile.mkstemp(prefix="astute-alert.", suffix=".wav")
    os.close(fd)
    write_wav(name, samples, sample_rate)
    command = [str(shutil.which(player)), *_PLAYERS[player], name]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    threading.Thread(target=_remove_when_done, args=(process, Path(name)), daemon=True).start()
    return True


def _remove_when_done(process: subprocess.Popen, path: Path) -> None:
    process.wait()
    path.unlink(missing_ok=True)


@dataclass
class Spoken:
    """An alert the player started: its text, when it became due (``time.perf_counter()``; live: the capture time
    of the frame that made it) and when its sound started."""

    text: str
    priority: int
    due: float
    started: float
    queued: float = float("nan")  # when ``say`` was called
    behind: bool = False  # it came while another alert was being said, and waited for it

    @property
    def latency_s(self) -> float:
        return self.started - self.due


def warm_up(speaker: Speaker, lang: str) -> None:
    """Synthesise a short phrase now: an engine's first phrase loads its voice (about 0.5 s with espeak-ng), which
    live work must not pay on its first alert."""
    speaker.synthesize(WARM_UP.get(lang, WARM_UP["en"]), lang)


class AlertPlayer:
    """Speaks alerts on a background thread, so that the caller never waits for synthesis or sound: one at a time,
    each after the previous one has ended plus ``gap_s``, the most urgent waiting alert first (then the earliest).

    A speaker's error is raised again by the next ``say`` (or ``close``), never lost. ``spoken`` lists what started.

    Args:
        speaker: synthesises the phrases.
        lang: ``ru`` or ``en``.
        output: starts playing (samples, sample rate) without waiting, like :func:`play` (the default); a silent
            sink (``lambda samples, rate: True``) measures timing without a sound device.
        gap_s: silence between two alerts that follow each other.
        max_wait_s: an alert still waiting this long after it was due is dropped, not said late (the sign is behind
            the car by then); None: never dropped. ``dropped`` lists them.

    An alert queued with the ``key`` of one still waiting (the same sign: its number completed, or corrected)
    replaces it, so a sign is said once, as last known.
    """

    def __init__(self, speaker: Speaker, lang: str = "ru", output=None, gap_s: float = ALERT_GAP_S,
                 max_wait_s: float | None = ALERT_MAX_WAIT_S) -> None:
        self.speaker, self.lang, self.gap_s, self.max_wait_s = speaker, lang, gap_s, max_wait_s
        self.output = play if output is None else output
        self.spoken: list[Spoken] = []
        self.dropped: list[str] = []  # alerts that waited too long or were replaced
        # heap of (priority, order, text, due, queued, key); order is unique, so the key is never compared
        self._waiting: list[tuple[int, int, str, float, float, object]] = []
        self._order = 0
        self._free_at = float("-inf")  # when the alert being said ends, plus the gap
        self._error: BaseException | None = None
        self._closing = self._drain = False
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="astute-alerts", daemon=True)
        self._thread.start()

    def say(self, text: str, priority: int = 5, due: float | None = None, key: object = None) -> None:
        """Queue an alert and return at once; ``due``: when it was due (default: now); ``key``: the sign it is about
        (a waiting alert with the same key is replaced by this one)."""
        self._raise()
        with self._changed:
            now = time.perf_counter()
            if key is not None:
                replaced = [item for item in self._waiting if item[5] == key]
                if replaced:
                    self.dropped += [item[2] for item in replaced]
                    self._waiting = [item for item in self._waiting if item[5] != key]
                    heapq.heapify(self._waiting)
                    priority = min([priority] + [item[0] for item in replaced])
                    due = min([now if due is None else due] + [item[3] for item in replaced])  # the sign's first
            heapq.heappush(self._waiting, (priority, self._order, text, now if due is None else due, now, key))
            self._order += 1
            self._changed.notify_all()

    def close(self, wait: bool = False, timeout: float = 30.0) -> None:
        """Stop the thread: at once (``wait=False``; what is queued is not said), or once the queued alerts have
        started and the last has ended (``wait=True``, at most ``timeout`` seconds)."""
        with self._changed:
            self._closing, self._drain = True, wait
            self._changed.notify_all()
        if not wait:
            self._stop.set()
        self._thread.join(timeout=timeout if wait else 2.0)
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._raise()

    def __enter__(self) -> AlertPlayer:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        try:
            while True:
                with self._changed:
                    while not self._waiting and not self._closing:
                        self._changed.wait(timeout=0.5)
                    if not self._waiting or (self._closing and not self._drain):
                        return
                    priority, _, text, due, queued, _ = heapq.heappop(self._waiting)
                if self.max_wait_s is not None and time.perf_counter() - due > self.max_wait_s:
                    self.dropped.append(text)
                    continue
                samples = self.speaker.synthesize(text, self.lang)
                if self._stop.is_set():
                    return
                started = time.perf_counter()
                self.output(samples, self.speaker.sample_rate)
                self.spoken.append(Spoken(text, priority, due, started, queued, behind=queued < self._free_at))
                self._free_at = started + len(samples) / self.speaker.sample_rate + self.gap_s
                if self._stop.wait(self._free_at - time.perf_counter()):
                    return
        except Exception as error:  # raised again in the caller's thread by say() or close()
            self._error = error
