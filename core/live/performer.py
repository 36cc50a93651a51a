"""Stage 2 live: motion for the newest frames, on a sliding window whose past is held fixed.

Every update samples the motion model (the same one as offline) over the last CONTEXT_S of
frames already sent plus the frames whose audio arrived since, with the frames already sent
held to what was sent (the inpainting of segment regeneration), so what went out is never
contradicted and the motion stays continuous. The newest `lookahead` frames are sampled but
not released: their phones may still change, and the model's window gives them right context
at the next update.

Released frames get a speaking person's blinks (drawn as the take goes: soon after most pauses,
at gamma-distributed intervals between them, core.motion.articulation's timing) and sealed
bilabials. A new instruction is cross-faded in over FADE_S. When the CPU falls behind, the
frames it cannot make in time are skipped (the last pose is held for them and they are
counted): the output never drifts behind the audio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.arkit import NUM_CHANNELS
from core.motion import articulation as art
from core.motion.checkpoint import MotionBundle
from core.motion.features import NUM_FEATURES
from core.motion.generate import finish_motion, instruction_track
from core.motion.sampler import sample

CONTEXT_S = 1.0               # frames already sent that the sampler sees
FADE_S = 0.5                  # a new instruction's cross-fade
MAX_BACKLOG_S = 0.5           # frames waiting beyond this are skipped, not made late


@dataclass
class Released:
    """Frames [start, start + len(motion)) ready to send; `skipped` of them were not sampled."""

    start: int
    motion: np.ndarray        # (n, 55): 52 weights 0..1, head pitch, yaw, roll (radians)
    skipped: int = 0


class LiveBlinks:
    """A speaking person's blinks, drawn as the take goes (the offline schedule's rules)."""

    def __init__(self, fps: float, seed: int = 0) -> None:
        self.fps = fps
        self.rng = np.random.default_rng(seed)
        self.blinks: list[tuple[float, float]] = []
        self.next_free = self.rng.uniform(0.5, 2.5)
        self._silent_run = 0
        self._was_speaking = False
        self._seen = 0

    def _add(self, t: float) -> None:
        if self.blinks and t - self.blinks[-1][0] < art.MIN_INTERVAL_S:
            return
        self.blinks.append((t, self.rng.uniform(*art.BLINK_S)))
        self.next_free = t + art.MIN_INTERVAL_S + self.rng.gamma(2.0, (art.MEAN_INTERVAL_S - art.MIN_INTERVAL_S) / 2.0)

    def closure(self, start: int, speaking: np.ndarray) -> np.ndarray:
        """Eyelid closure for frames [start, start + len(speaking)) (called once per frame range,
        in order), planning blinks from the speech activity seen."""
        need = max(1, int(round(art.PAUSE_MIN_S * self.fps)))
        for k, s in enumerate(np.asarray(speaking) > 0.5):
            i = start + k
            if i < self._seen:
                continue
            self._seen = i + 1
            t = i / self.fps
            if s:
                self._was_speaking, self._silent_run = True, 0
            else:
                self._silent_run += 1
                if self._was_speaking and self._silent_run == need:        # a pause began `need` frames ago
                    self._was_speaking = False
                    if self.rng.random() < art.PAUSE_BLINK_P:
                        self._add(t + self.rng.uniform(0.05, 0.2))
            if t >= self.next_free:
                self._add(t + 1.0 / self.fps)
        self.blinks = [b for b in self.blinks if b[0] + b[1] >= start / self.fps - 1.0]
        return art.blink_closure(len(speaking), self.fps, self.blinks, start)


class LivePerformer:
    """Feeds on speech features; releases motion frames in order."""

    def __init__(self, bundle: MotionBundle, instruction: np.ndarray, *, lookahead: int = 2, steps: int = 4,
                 guidance: float = 2.0, seed: int = 0) -> None:
        self.bundle = bundle
        self.fps = bundle.fps
        self.lookahead = int(lookahead)
        self.steps = int(steps)
        self.guidance = float(guidance)
        self.seed = int(seed)
        self.context = int(round(CONTEXT_S * self.fps))
        self.fade = max(1, int(round(FADE_S * self.fps)))
        self.max_backlog = int(round(MAX_BACKLOG_S * self.fps))
        self._raw = np.zeros((int(60 * self.fps), NUM_CHANNELS), np.float32)   # the model's motion of the frames sent
        self.sent = 0                                           # frames released so far
        self.skipped = 0
        self.blinks = LiveBlinks(self.fps, seed)
        self._cond = self._condition(instruction)
        self._cond_from, self._fade_start = self._cond, 0
        self._updates = 0

    @property
    def raw(self) -> np.ndarray:
        """The model's own motion (before blinks and seals) of the frames released so far."""
        return self._raw[:self.sent]

    def _keep(self, start: int, rows: np.ndarray) -> None:
        end = start + len(rows)
        if end > len(self._raw):
            bigger = np.zeros((max(end, 2 * len(self._raw)), NUM_CHANNELS), np.float32)
            bigger[:start] = self._raw[:start]
            self._raw = bigger
        self._raw[start:end] = rows

    def _condition(self, embedding: np.ndarray) -> np.ndarray:
        emb = np.asarray(embedding, np.float32).reshape(1, -1)
        return instruction_track(self.bundle, emb, np.array([[0, 1]]), 1)[0]

    def set_instruction(self, embedding: np.ndarray) -> None:
        """Cross-fade to a new instruction from the next frame released."""
        self._cond_from = self._instruction_at(np.array([self.sent]))[0]
        self._cond = self._condition(embedding)
        self._fade_start = self.sent

    def _instruction_at(self, frames: np.ndarray) -> np.ndarray:
        u = np.clip((frames - self._fade_start) / self.fade, 0.0, 1.0)[:, None]
        u = u * u * (3.0 - 2.0 * u)
        return ((1.0 - u) * self._cond_from + u * self._cond).astype(np.float32)

    def due(self, ready: int) -> int:
        """How many frames an update now would release, with `ready` frames of audio in."""
        return max(0, ready - self.lookahead - self.sent)

    def update(self, features, ready: int) -> Released | None:
        """Release the frames up to `ready - lookahead`. `features(start, n)` gives speech
        features (n, 48) for frames [start, start + n) (the streaming listener's)."""
        end = ready - self.lookahead
        if end <= self.sent:
            return None
        skipped = 0
        if end - self.sent > self.max_backlog:          # fell behind: hold the last pose, catch up
            skipped = end - self.max_backlog - self.sent
            hold = self.raw[-1:] if self.sent else np.zeros((1, NUM_CHANNELS), np.float32)
            self._keep(self.sent, np.repeat(hold, skipped, axis=0))
        first = self.sent + skipped
        lo = max(0, first - self.context)
        speech = features(lo, ready - lo)
        if speech.shape != (ready - lo, NUM_FEATURES):
            raise ValueError(f"speech features for {ready - lo} frames expected, got {speech.shape}")
        keep = np.zeros(ready - lo, bool)
        keep[:first - lo] = True
        known = np.zeros((ready - lo, NUM_CHANNELS), np.float32)
        known[:first - lo] = self.bundle.normalisation.normalise(self._raw[lo:first])
        cond = self._instruction_at(np.arange(lo, ready))
        out = sample(self.bundle.model, speech, cond, self.bundle.null_instruction, steps=self.steps,
                     guidance=self.guidance, seed=self.seed + self._updates, known=known, keep=keep)
        self._updates += 1
        raw = finish_motion(self.bundle.normalisation.denormalise(out))
        raw[:first - lo] = self._raw[lo:first]
        self._keep(first, raw[first - lo:end - lo])
        # blinks and lip seals over the window (the eyelid's running median sees the frames sent)
        rows = raw[:end - lo]
        closure = np.zeros(len(rows))
        closure[first - lo:] = self.blinks.closure(first, speech[first - lo:end - lo, art.SPEECH_COLUMN])
        done = art.articulate(rows, speech[:end - lo], self.fps, 0, closure=closure)[first - lo:]
        if skipped:
            done = np.concatenate([np.repeat(done[:1], skipped, axis=0), done])
        start = self.sent
        self.sent = end
        self.skipped += skipped
        return Released(start, done, skipped)
