"""Badge colours a rep can read on every theme: WCAG contrast against the card's background.

Themes pick their error/warning/success/accent colours for fills, not for text on their own
surface: on `textual-light` the warning orange stands at 1.6 : 1 against the cards, and on
`textual-dark` the error red at 3 : 1. `readable` moves such a colour towards black (on a
light background) or white (on a dark one) until it reaches `MINIMUM`, WCAG's AA level for
normal text, so it keeps its hue and gains the contrast.
"""

from __future__ import annotations

from textual.color import Color

MINIMUM = 4.5  # WCAG 2 AA, normal text
_BLACK, _WHITE = Color(0, 0, 0), Color(255, 255, 255)


def luminance(colour: Color) -> float:
    """WCAG relative luminance (0 black … 1 white)."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


def contrast(foreground: str | Color, background: str | Color) -> float:
    """WCAG contrast ratio of two colours (1 … 21)."""
    a = luminance(Color.parse(foreground) if isinstance(foreground, str) else foreground)
    b = luminance(Color.parse(background) if isinstance(background, str) else background)
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


def readable(colour: str, background: str, minimum: float = MINIMUM) -> str:
    """`colour` as a hex string, blended towards black or white (whichever the background
    contrasts with more) just enough to reach `minimum` against `background`."""
    fg, bg = Color.parse(colour), Color.parse(background)
    target = _BLACK if contrast(_BLACK, bg) >= contrast(_WHITE, bg) else _WHITE
    for step in range(21):
        mixed = fg.blend(target, step / 20)
        if contrast(mixed, bg) >= minimum:
            return mixed.hex
    return target.hex
