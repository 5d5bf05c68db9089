"""The errors of an import that cannot start or cannot finish: nothing was written.

The reading itself is exchange.tables (CSV or workbook; encodings.sniff_encoding decides a text
file's encoding) and exchange.reading (the profile's column readers).
"""

from __future__ import annotations


class ImportError_(Exception):
    """The file cannot be imported at all (encoding, header, options); nothing was written."""


ImportFileError = ImportError_


class ReaderFailed(ImportError_):
    """The forked reader of a big import stopped before the end; nothing was written."""
