"""Regular expressions compiled on first use, for modules on the command line's start-up path.

`re.compile` of the Chinese date phrases, the text cleaner's escape sequences and the like
costs a few milliseconds per module at import — paid by every `funnel due --count` at a shell
prompt, which uses none of them. A `LazyPattern` compiles when first asked for anything
(`search`, `sub`, `pattern` …) and then is that compiled pattern's stand-in.
"""

from __future__ import annotations

import re
from typing import Any


class LazyPattern:
    """`re.compile(pattern, flags)`, compiled when first used."""

    __slots__ = ("_pattern", "_flags", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern, self._flags, self._compiled = pattern, flags, None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compiled(), name)


def lazy_compile(pattern: str, flags: int = 0) -> LazyPattern:
    """A pattern used like `re.compile(pattern, flags)`'s, compiled at its first use."""
    return LazyPattern(pattern, flags)
