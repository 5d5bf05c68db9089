"""Keep double-width characters (Chinese, Japanese, Korean) whole where a layer overlaps
widget edges: a toast over the board's column dividers showed `8 逾   ·`.

The cause, in Textual 8.2.8's compositor (`textual/_compositor.py`): every line of the screen
is cut at every x where any visible widget starts or ends (`Compositor.cuts`), and each
widget's line is divided at those cuts (`Strip.divide` → Rich's `Segment.divide`) even where
one widget covers the cells on both sides of the cut. A toast drawn over the board is
therefore cut at each column's edges beneath it, and a wide character that straddles such a
cut is split into two halves, which Rich replaces with a space each: the character vanishes.
(Upstream: Textualize/textual issue 6357, still open.)

The fix: a widget's line is divided only where the widget that wins the cells changes. Where
one widget wins several chops in a row, it gets one piece at the first of them and the others
an empty placeholder (so nothing behind claims them); partial updates end each piece where the
next non-empty one starts. `apply()` installs it on the Compositor class once; the snapshot of
a toast over the board (tests/test_tui_toast_cjk.py) pins it, and fails if a Textual upgrade
changes the methods this replaces.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Callable, Iterable, Mapping, Sequence

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip

# Marks a chop covered by the piece that starts at an earlier cut of the same widget.
COVERED = Strip([], 0)

_applied = False


def _render_chops(self: Compositor, crop: Region,
                  is_rendered_line: Callable[[int], bool]) -> Sequence[Mapping[int, Strip | None]]:
    """`Compositor._render_chops`, dividing each widget's line only where the winner changes."""
    cuts = self.cuts
    chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
    intersection = Region.intersection
    for region, clip, strips in self._get_renders(crop):
        render_region = intersection(region, clip)
        render_x = render_region.x
        first_cut, last_cut = render_region.column_span
        for y, strip in zip(render_region.line_range, strips):
            if not is_rendered_line(y):
                continue
            chops_line = chops[y]
            # A line's cuts are sorted (Compositor.cuts): the widget's are one slice of them.
            line_cuts = cuts[y]
            final_cuts = line_cuts[bisect_left(line_cuts, first_cut):bisect_right(line_cuts, last_cut)]
            starts = final_cuts[:-1]
            # Front to back: an empty chop is this widget's; a filled one belongs to a widget
            # in front of it. Divide only where that changes.
            free = [chops_line.get(cut) is None for cut in starts]
            keep = [i for i in range(1, len(starts)) if not (free[i] and free[i - 1])]
            pieces = strip.divide([starts[i] - render_x for i in keep] + [final_cuts[-1] - render_x])
            for start_index, piece in zip([0, *keep], pieces):
                if free[start_index]:
                    chops_line[starts[start_index]] = piece
            for i in range(1, len(starts)):
                if free[i] and free[i - 1]:
                    chops_line[starts[i]] = COVERED
    return chops


def chop_ends(cut_set: Sequence[int], line: Mapping[int, Strip | None]) -> list[int]:
    """Where each chop of a line ends: at the next cut whose chop is not covered by it."""
    ends: list[int] = []
    end = cut_set[-1]
    for cut in reversed(cut_set[:-1]):
        ends.append(end)
        if line.get(cut) is not COVERED:
            end = cut
    ends.reverse()
    return ends


def _render_partial_update(self: Compositor) -> ChopsUpdate | None:
    """`Compositor.render_partial_update`, with chop ends that know about covered chops."""
    screen_region = self.size.region
    update_regions = self._dirty_regions.copy()
    self._dirty_regions.clear()
    if not update_regions:
        return None
    crop = Region.from_union(update_regions).intersection(screen_region)
    spans = list(self._regions_to_spans(update_regions))
    is_rendered_line = {y for y, _, _ in spans}.__contains__
    chops = self._render_chops(crop, is_rendered_line)
    ends = [chop_ends(cut_set, line) for cut_set, line in zip(self.cuts, chops)]
    return ChopsUpdate(chops, spans, ends)


def apply() -> None:
    """Install the fix on Textual's Compositor (once per process)."""
    global _applied
    if _applied:
        return
    Compositor._render_chops = _render_chops  # type: ignore[method-assign]
    Compositor.render_partial_update = _render_partial_update  # type: ignore[method-assign]
    _applied = True


def plain_text(lines: Iterable[Strip]) -> list[str]:
    """The text of rendered lines (for tests and checks)."""
    return ["".join(segment.text for segment in line) for line in lines]
