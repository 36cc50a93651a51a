"""Joint decoding of a take's emotions: per-segment evidence -> one emotion path.

A speaker's emotional state persists, so the segments of a take are not read one by one: the take
is decoded as a hidden Markov chain over the eight MEAD emotions. Each segment brings log-scores
per emotion (its words, its voice, its non-speech sounds, a language model); the Viterbi path
maximises the sum of those scores minus a cost for every change of emotion, higher between emotion
families than inside one. A segment without evidence (no words, a calm voice) has flat scores and
so follows its neighbours; a change that the evidence of a segment carries strongly still shows.

Families (how the issue's targets count): hostile = angry, disgusted, contempt; joy = happy;
alarm = fearful, surprised; sad; calm = neutral.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from core.project import EMOTIONS

FAMILY: dict[str, str] = {
    "neutral": "calm", "happy": "joy", "sad": "sad", "angry": "hostile", "disgusted": "hostile",
    "contempt": "hostile", "surprised": "alarm", "fearful": "alarm",
}
NEGATIVE = ("sad", "angry", "fearful", "disgusted", "contempt")


def switch_costs(between: float, within: float) -> np.ndarray:
    """(8, 8) cost of going from emotion i to emotion j (0 on the diagonal)."""
    cost = np.zeros((len(EMOTIONS), len(EMOTIONS)))
    for i, a in enumerate(EMOTIONS):
        for j, b in enumerate(EMOTIONS):
            if i != j:
                cost[i, j] = within if FAMILY[a] == FAMILY[b] else between
    return cost


def viterbi(scores: np.ndarray, cost: np.ndarray) -> list[int]:
    """The emotion index per segment maximising sum(scores) - sum(switch costs).

    scores: (S, 8) log-domain evidence per segment; cost: (8, 8) from switch_costs."""
    scores = np.asarray(scores, float)
    if scores.ndim != 2 or scores.shape[1] != len(EMOTIONS):
        raise ValueError(f"scores must be (segments, {len(EMOTIONS)}), got {scores.shape}")
    n = len(scores)
    if n == 0:
        return []
    best = scores[0].copy()
    back = np.zeros((n, len(EMOTIONS)), int)
    for t in range(1, n):
        cand = best[:, None] - cost            # from i (rows) to j (columns)
        back[t] = np.argmax(cand, axis=0)
        best = cand[back[t], np.arange(len(EMOTIONS))] + scores[t]
    path = [int(np.argmax(best))]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def posteriors(scores: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """(S, 8) forward-backward marginals of the same chain (transition weight exp(-cost))."""
    scores = np.asarray(scores, float)
    n = len(scores)
    if n == 0:
        return np.zeros((0, len(EMOTIONS)))
    trans = np.exp(-cost)
    emit = np.exp(scores - scores.max(axis=1, keepdims=True))
    fwd = np.zeros_like(emit)
    bwd = np.ones_like(emit)
    fwd[0] = emit[0] / emit[0].sum()
    for t in range(1, n):
        f = (fwd[t - 1] @ trans) * emit[t]
        fwd[t] = f / f.sum()
    for t in range(n - 2, -1, -1):
        b = trans @ (emit[t + 1] * bwd[t + 1])
        bwd[t] = b / b.sum()
    post = fwd * bwd
    return post / post.sum(axis=1, keepdims=True)


def family_of(emotions: Sequence[str]) -> list[str]:
    return [FAMILY[e] for e in emotions]
