"""The denoiser: a small dilated-convolution network over frames, conditioned by FiLM.

Input: noisy motion (B, T, 55), the diffusion timestep, per-frame speech features (phones
one-hot and prosody, B x T x F) and a per-frame instruction embedding (B x T x E, the MiniLM
embedding of the segment's instruction, cross-faded at segment boundaries). Output: the clean
motion (the model predicts the sample, as motion diffusion models such as MDM do).
A model with an emotion reader (`emotion_classes` > 0) also reads, per frame, the eight emotion
probabilities of a frozen linear classifier on the embedding, fitted on the training wordings
(core.synth.train.fit_emotion_reader): a linear reading carries over to wordings never trained
on far better than what the network learns from the embedding by itself (held-out wordings:
0.95 read right by the classifier, 0.83 followed by a model without it). A finished model's
reader is sharpened (core.synth.train.sharpen_reader) so unseen wordings read as confidently
as the training wordings did.
A checkpoint stores the config it was built from (`MotionConfig`), so weights travel with it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from core.arkit import NUM_CHANNELS


@dataclass
class MotionConfig:
    speech_features: int = 48          # phones one-hot + prosody, per frame
    instruction_features: int = 768    # core.motion.text.EMBEDDING_SIZE (384: sentence half only)
    emotion_classes: int = 8           # > 0: a frozen linear emotion reader (core.project.EMOTIONS order)
    width: int = 192
    blocks: int = 8
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4, 8)
    channels: int = NUM_CHANNELS
    train_timesteps: int = 1000

    def to_json(self) -> dict:
        d = asdict(self)
        d["dilations"] = list(self.dilations)
        return d

    @classmethod
    def from_json(cls, d: dict) -> MotionConfig:
        d = dict(d)
        d["dilations"] = tuple(d.get("dilations", (1, 2, 4, 8)))
        d.setdefault("emotion_classes", 0)          # checkpoints from before the emotion reader
        return cls(**d)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class FrameNorm(nn.Module):
    """Layer norm over the channels of each frame (B, W, T), with a learned scale and shift.

    Statistics never mix frames, so a frame's output does not depend on how long the window
    is: training on 4 s windows, generating a whole take and regenerating one segment with its
    margins all see the same network. (GroupNorm over time did not: its statistics came from
    the whole window.)
    """

    def __init__(self, width: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        mean = h.mean(1, keepdim=True)
        var = (h - mean).pow(2).mean(1, keepdim=True)
        return (h - mean) * torch.rsqrt(var + self.eps) * self.weight[:, None] + self.bias[:, None]


class Block(nn.Module):
    """Residual: norm -> FiLM(condition) -> dilated conv -> GELU -> 1x1 conv."""

    def __init__(self, width: int, kernel: int, dilation: int):
        super().__init__()
        self.norm = FrameNorm(width)
        self.film = nn.Linear(width, 2 * width)
        self.conv = nn.Conv1d(width, width, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation)
        self.out = nn.Conv1d(width, width, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, h: torch.Tensor, film: torch.Tensor) -> torch.Tensor:
        # h: (B, W, T); film: (B, T, 2W), self.film applied to the condition (Denoiser.forward)
        scale, shift = film.transpose(1, 2).chunk(2, dim=1)
        x = self.norm(h) * (1 + scale) + shift
        return h + self.out(nn.functional.gelu(self.conv(x)))


@dataclass
class Prepared:
    """Denoiser.prepare's result: the speech projection (B, T, W) and each block's FiLM of the
    instruction without bias (B, T, 2W)."""
    speech: torch.Tensor
    films: list[torch.Tensor]


class Denoiser(nn.Module):
    def __init__(self, config: MotionConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.motion_in = nn.Linear(config.channels, w)
        self.speech_in = nn.Linear(config.speech_features, w)
        if config.emotion_classes:
            self.register_buffer("emotion_reader", torch.zeros(config.emotion_classes, config.instruction_features))
        self.instruction_in = nn.Sequential(nn.Linear(config.instruction_features + config.emotion_classes, w),
                                            nn.GELU(), nn.Linear(w, w))
        self.time_in = nn.Sequential(nn.Linear(w, w), nn.GELU(), nn.Linear(w, w))
        self.blocks = nn.ModuleList(
            Block(w, config.kernel, config.dilations[i % len(config.dilations)]) for i in range(config.blocks))
        self.norm = FrameNorm(w)
        self.motion_out = nn.Linear(w, config.channels)

    def forward(self, x: torch.Tensor, t: torch.Tensor, speech: torch.Tensor | None = None,
                instruction: torch.Tensor | None = None, text_keep: torch.Tensor | None = None,
                prepared: Prepared | None = None) -> torch.Tensor:
        """x (B, T, 55) noisy motion, t (B,) timesteps, speech (B, T, F), instruction (B, T, E);
        text_keep (B,) 0/1, training only: 0 hides the embedding, leaving the emotion reading.
        prepared: prepare(speech, instruction) made once for all the steps of a sampling run,
        in place of speech and instruction."""
        if prepared is None:
            prepared = self.prepare(speech, instruction, text_keep)
        h = (self.motion_in(x) + prepared.speech).transpose(1, 2)
        time = self.time_in(timestep_embedding(t, self.config.width))
        for block, film in zip(self.blocks, prepared.films):
            h = block(h, film + block.film(time)[:, None, :])
        h = nn.functional.gelu(self.norm(h)).transpose(1, 2)
        return self.motion_out(h)

    def prepare(self, speech: torch.Tensor, instruction: torch.Tensor,
                text_keep: torch.Tensor | None = None) -> Prepared:
        """What does not change between sampling steps. Each block's FiLM is linear in the
        condition (instruction + timestep), so the instruction's part of it is computed here
        once and only the timestep's part per step: a quarter of a forward pass's work."""
        cond = self.instruction_in(self.read_instruction(instruction, text_keep))
        return Prepared(self.speech_in(speech), [nn.functional.linear(cond, block.film.weight) for block in self.blocks])

    def read_instruction(self, instruction: torch.Tensor, text_keep: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, E [+ classes]): the embedding, followed by the emotion reader's probabilities
        where the model has one ("no instruction", all zeros, reads as uniform)."""
        if not self.config.emotion_classes:
            return instruction
        probs = torch.softmax(instruction @ self.emotion_reader.T, dim=-1)
        if text_keep is not None:
            instruction = instruction * text_keep[:, None, None].to(instruction.dtype)
        return torch.cat([instruction, probs], dim=-1)

    @property
    def parameters_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
