"""Which segments a click selects, as pure functions: a plain click selects one, Ctrl+click
toggles one in or out, Shift+click selects the range from the anchor (the last segment clicked
without Shift) to the clicked one, in time order. Qt-free; indices are the document's.
"""

from __future__ import annotations

from typing import Sequence


def toggled(selection: Sequence[int], index: int) -> list[int]:
    """The selection with `index` added, or taken out if it was in."""
    chosen = set(selection) ^ {index}
    return sorted(chosen)


def extended(order: Sequence[int], anchor: int, index: int) -> list[int]:
    """Every segment from `anchor` to `index` in time order (`order`: indices sorted by start);
    just `index` when the anchor is not a segment."""
    if anchor not in order:
        return [index]
    a, b = sorted((order.index(anchor), order.index(index)))
    return sorted(order[a: b + 1])
