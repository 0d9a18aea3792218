"""Where the speech is: WhisperX's voice-activity model run by ONNX Runtime instead of PyTorch,
or the Silero model that faster-whisper ships (`Silero`, the default: WHISPER_VAD).

WhisperX finds speech with pyannote's segmentation model (SincNet and a 4-layer BiLSTM), slid
over the audio in 5 s windows every 0.5 s: every sample goes through the model ten times, a
large share of WhisperX's whole transcription time on a CPU. The same model, exported once to
ONNX and run by ONNX Runtime, gives the same scores (within MAX_SCORE_DIFF, checked in every
process) in less time, so the same speech windows come out and the transcript does not change
(bench/README.md, "Figures behind the defaults").

The export is made once per machine into the model cache, named by the checkpoint's hash; every
process checks its session against PyTorch on a fixed input before using it, and keeps PyTorch
if the two disagree or the export cannot be made.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whisperx.vads import Vad

log = logging.getLogger(__name__)
VADS = ("silero", "pyannote")

MAX_SCORE_DIFF = 1e-3  # scores are probabilities; thresholds sit at 0.363 and 0.5
# Windows per run. ONNX Runtime keeps its largest run's buffers for the process's life: 32 (what
# pyannote uses) held several times the memory 8 does in every worker, at the same speed
# (bench/README.md, "Figures behind the defaults").
BATCH = 8


def _checkpoint() -> Path:
    import whisperx

    return Path(whisperx.__file__).parent / "assets" / "pytorch_model.bin"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def export(model, cache_dir: Path) -> Path:
    """The ONNX file of this segmentation model, exported once (atomically: workers starting
    together never see half a file)."""
    import torch

    target = Path(cache_dir) / f"vad-segmentation-{_digest(_checkpoint())}-torch{torch.__version__}.onnx"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".vad-", suffix=".onnx")
    os.close(fd)
    try:
        sample = torch.zeros(1, 1, 80000)
        # The TorchScript exporter warns that it is the legacy one: it is the one that handles
        # the LSTM with a dynamic batch here.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (sample,), tmp, input_names=["waveforms"],
                              output_names=["scores"], opset_version=17, dynamo=False,
                              dynamic_axes={"waveforms": {0: "batch"}, "scores": {0: "batch"}})
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Threads that spin after a run would take CPU from the Whisper decoder that runs next.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _agrees(session, model) -> float:
    """The largest score difference between the session and PyTorch on a fixed input."""
    import torch

    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, 1, 80000)) * 0.1).astype(np.float32)
    x[1, 0, 40000:] = 0.0  # half silence: both sides of the thresholds
    with torch.inference_mode():
        want = model(torch.from_numpy(x)).numpy()
    got = session.run(None, {"waveforms": x})[0]
    return float(np.abs(got - want).max())


def accelerate(pipe, cache_dir: Path, threads: int) -> bool:
    """Run the pipeline's pyannote VAD model with ONNX Runtime. True when it now does; False
    (PyTorch kept, reason logged) when the pipeline has another VAD or the export disagrees."""
    from pyannote.audio.core.inference import map_with_specifications

    vad = getattr(pipe, "vad_model", None)
    inference = getattr(getattr(vad, "vad_pipeline", None), "_segmentation", None)
    if inference is None or not hasattr(inference, "infer"):
        return False
    if getattr(inference, "oneway_onnx", False):
        return True
    model = inference.model
    try:
        path = export(model, cache_dir)
        try:
            session = _session(path, threads)
        except Exception:
            path.unlink(missing_ok=True)
            session = _session(export(model, cache_dir), threads)
        diff = _agrees(session, model)
    except Exception as exc:
        log.warning("VAD stays on PyTorch: the ONNX export could not be used (%s)", exc)
        return False
    if not diff <= MAX_SCORE_DIFF:
        log.warning("VAD stays on PyTorch: ONNX scores differ by %.2g", diff)
        return False

    def infer(self, chunks):
        import torch

        scores = torch.from_numpy(session.run(None, {"waveforms": chunks.numpy()})[0])
        return map_with_specifications(self.model.specifications,
                                       lambda out, conversion, **_: conversion(out).numpy(),
                                       scores, self.conversion)

    inference.infer = types.MethodType(infer, inference)
    inference.batch_size = BATCH
    inference.oneway_onnx = True
    log.info("VAD runs on ONNX Runtime (scores within %.1g of PyTorch)", diff)
    return True


@dataclass
class _Span:
    start: float
    end: float
    speaker: str = "UNKNOWN"


class Silero(Vad):
    """Silero VAD from the ONNX file in faster-whisper's wheel, as WhisperX's VAD: speech spans
    of at most `chunk_size` seconds, which WhisperX's `merge_chunks` joins into windows.

    WhisperX's own Silero class fetches its model from GitHub at run time, which cannot work
    here; pyannote's model (WhisperX's default) slides a 5 s window every 0.5 s, so every
    sample goes through it ten times: on 2 cores it took 1.9 CPU s a minute of speech where this
    takes 0.11. A span ends after `min_silence_s` below the threshold and is padded by `pad_s`
    each side, so windows are cut in pauses between sentences: with faster-whisper's own
    `vad_filter` values (2 s, 0.4 s) a span ran on to the 30 s limit and was cut inside
    speech, and the word error rate of accented answers went up or down by a tenth from one
    draw of speakers to the next; with these it was at or below pyannote's on every draw
    (bench/README.md, "Figures behind the defaults")."""

    def __init__(self, onset: float = 0.5, chunk_size: float = 30.0, min_silence_s: float = 0.5,
                 pad_s: float = 0.2):
        super().__init__(onset)
        self.onset, self.chunk_size = onset, chunk_size
        self.min_silence_s, self.pad_s = min_silence_s, pad_s

    def __call__(self, audio: dict, **_kwargs) -> list[_Span]:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        rate = audio["sample_rate"]
        if rate != 16000:
            raise ValueError("the VAD takes 16 kHz audio")
        samples = np.asarray(audio["waveform"], dtype=np.float32).reshape(-1)
        options = VadOptions(threshold=self.onset, max_speech_duration_s=self.chunk_size,
                             min_silence_duration_ms=round(self.min_silence_s * 1000),
                             speech_pad_ms=round(self.pad_s * 1000))
        found = get_speech_timestamps(samples, options, sampling_rate=rate)
        return [_Span(t["start"] / rate, t["end"] / rate) for t in found]

    @property
    def settle_margin_s(self) -> float:
        """How long before the end of the audio so far a span must have ended for more audio
        not to change it (app/media/batched.settled_windows): the model reads forwards only, and
        a span ends once `min_silence_s` of silence followed it; a 32 ms frame and its padding
        are added to that."""
        return self.min_silence_s + self.pad_s + 0.1

    @staticmethod
    def preprocess_audio(audio):
        return audio

    @staticmethod
    def merge_chunks(segments, chunk_size, onset: float = 0.5, offset: float | None = None):
        return Vad.merge_chunks(segments, chunk_size, onset, offset) if segments else []
