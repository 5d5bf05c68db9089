"""Which encoding a file is in, and refusing to guess when that is not certain.

Order: a BOM (UTF-8, UTF-16, UTF-32); strict UTF-8 (ASCII included); UTF-16 without a BOM (the
NUL bytes of ASCII text sit on one side); then detection among GB18030/GBK, Big5, Shift_JIS and
Windows-1252/Latin-1 with charset-normalizer (imported only here, only then).

Decoding proves nothing (DESIGN §10): 87–97 % of UTF-8 Chinese decodes as GB18030, and so do many
Big5 and Shift_JIS files. A candidate counts only when its text is also plausible: little "mess"
by charset-normalizer's measure, and (for Chinese and Japanese) its characters mostly the common
ones of its own script (GB2312 for GB18030, Big5 level 1 for Big5, JIS level 1 and kana for
Shift_JIS) — mojibake lands on rare characters, private-use code points and stray kana. The file's
encoding is certain when every plausible candidate gives the same text (Windows-1252 and Latin-1
often do), or when exactly one of them turns the header line into one we know. Otherwise the
file is refused with the candidates named, and `--encoding X` settles it.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from funnel_tui.exchange.import_read import ImportFileError
from funnel_tui.i18n import _

SAMPLE = 1 << 16  # bytes looked at for detection; the whole file is then decoded strictly
# Measured on name lists of 2–30 rows: right decodings have a mess ratio of 0.00–0.15 and 0.99–1.0
# of their ideographs common; wrong ones 0.15–3.6 and at most 0.76 common. Both must pass.
MESS_LIMIT = 0.25
COMMON_SHARE = 0.85
# Candidates, in the order they are named; the Windows code pages are the supersets people have.
CANDIDATES = {"gb18030": "GB18030", "cp950": "Big5", "cp932": "Shift_JIS", "cp1252": "Windows-1252",
              "latin-1": "Latin-1"}
LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16",
          "utf-32": "UTF-32", "gb18030": "GB18030", "gbk": "GBK", "big5": "Big5", "cp950": "Big5",
          "cp932": "Shift_JIS", "shift_jis": "Shift_JIS", "cp1252": "Windows-1252", "iso8859-1": "Latin-1"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class EncodingUncertain(ImportFileError):
    """The file's encoding is not certain; `candidates` are the encodings it may be in."""

    def __init__(self, message: str, candidates: list[str]):
        super().__init__(message)
        self.candidates = candidates


@dataclass
class EncodingVerdict:
    encoding: str  # a Python codec name to open the file with
    how: str  # "bom" | "utf-8" | "utf-16" | "detected" | "given"
    candidates: list[str] = field(default_factory=list)  # what else was considered

    @property
    def label(self) -> str:
        """The encoding as people name it (UTF-8, GB18030, Big5, Windows-1252)."""
        return CANDIDATES.get(self.encoding) or LABELS.get(codecs.lookup(self.encoding).name, self.encoding)


def decode_error(path: Path, encoding: str) -> tuple[int, str] | None:
    """Decode the whole file strictly in chunks: (line, what) of the first bad byte, or None."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 1
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                at = max(exc.start, 0)
                what = f"byte 0x{chunk[at]:02x}" if chunk and at < len(chunk) else "text cut short"
                return lines + chunk[:at].count(b"\n"), what
            if not chunk:
                return None
            lines += chunk.count(b"\n")


def _utf16_without_bom(head: bytes) -> str | None:
    """utf-16-le/-be when the NULs of mostly-ASCII text sit on one side of each pair."""
    pairs = len(head) // 2
    if pairs < 8:
        return None
    even = sum(1 for i in range(0, pairs * 2, 2) if head[i] == 0)
    odd = sum(1 for i in range(1, pairs * 2, 2) if head[i] == 0)
    if odd >= 0.4 * pairs and even <= 0.02 * pairs:
        return "utf-16-le"
    if even >= 0.4 * pairs and odd <= 0.02 * pairs:
        return "utf-16-be"
    return None


def _non_ascii_sample(path: Path, limit: int = SAMPLE) -> bytes:
    """Up to `limit` bytes of the lines that hold non-ASCII bytes, from anywhere in the file:
    what tells encodings apart may sit far below a plain ASCII start."""
    out: list[bytes] = []
    size = 0
    with open(path, "rb") as fh:
        for line in fh:
            if not line.isascii():
                out.append(line)
                size += len(line)
                if size >= limit:
                    break
    return b"".join(out)


def _common_share(text: str, encoding: str) -> float:
    """Of the ideographs, kana and private-use characters in `text`, the share that are common
    characters of the candidate's own script (1.0 when there are none)."""
    total = common = 0
    for ch in set(text):  # distinct characters: names repeat, mojibake does not get a bonus
        o = ord(ch)
        # Full-width kana only: half-width katakana is what GBK bytes turn into as Shift_JIS.
        kana = 0x3040 <= o <= 0x30FF
        if 0xFF66 <= o <= 0xFF9F:
            total += 1
            continue
        if not (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xE000 <= o <= 0xF8FF or kana):
            continue
        total += 1
        if encoding == "cp932":
            common += kana or _in_range(ch, "cp932", 0x889F, 0x9872)
        elif encoding == "cp950":
            common += _in_range(ch, "cp950", 0xA440, 0xC67E)
        elif encoding == "gb18030":
            common += not kana and _in_range(ch, "gb2312", 0xB0A1, 0xF7FE)
    return common / total if total else 1.0


_LATIN_MARKS = set("€£°§©®«»–—‘’‚“”„•…·™×ºª¿¡")


def _latin_plausible(text: str) -> bool:
    """Windows-1252/Latin-1 text that reads like Latin-script names: its non-ASCII characters are
    letters or common marks, and no word holds a run of three accented letters (GBK read as
    Windows-1252 gives `¹ú¼ÒµçÍø`; names such as `Distribuição` have two at most)."""
    odd = [c for c in text if ord(c) > 127]
    if not odd:
        return True
    fine = sum(1 for c in odd if c.isalpha() or c in _LATIN_MARKS)
    if fine < 0.9 * len(odd):
        return False
    run = 0
    for c in text:
        run = run + 1 if ord(c) > 127 and c.isalpha() else 0
        if run >= 3:
            return False
    return True


def _in_range(ch: str, encoding: str, lo: int, hi: int) -> bool:
    try:
        raw = ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return len(raw) == 2 and lo <= int.from_bytes(raw, "big") <= hi


def plausible(sample: bytes) -> dict[str, tuple[str, float]]:
    """Each candidate that decodes `sample` strictly, with its text and mess ratio, and whose
    text is plausible (see the module doc); the best first."""
    from charset_normalizer.md import mess_ratio

    out: dict[str, tuple[str, float]] = {}
    for enc in CANDIDATES:
        try:
            text = codecs.getincrementaldecoder(enc)("strict").decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        if any(ord(c) < 32 and c not in "\t\r\n" or 0x7F <= ord(c) <= 0x9F for c in set(text)):
            continue  # control characters: Latin-1 reading Windows-1252's €, “ ” and –
        if enc in ("cp1252", "latin-1") and not _latin_plausible(text):
            continue
        mess = mess_ratio(text, 1.0)
        if mess <= MESS_LIMIT and _common_share(text, enc) >= COMMON_SHARE:
            out[enc] = (text, mess)
    return dict(sorted(out.items(), key=lambda kv: kv[1][1]))


def sniff_encoding(path: Path, requested: str = "auto", *,
                   header_known: Callable[[str], bool] | None = None) -> EncodingVerdict:
    """The encoding to read `path` with, or ImportFileError/EncodingUncertain saying why not.

    `header_known(first_line)` tells whether a decoded header line is one a profile knows; it
    settles a choice between candidates that read the data equally well.
    """
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE)
    bom = next((enc for mark, enc in _BOMS if head.startswith(mark)), None)
    if requested and requested != "auto":
        try:
            name = codecs.lookup(requested).name
        except LookupError:
            raise ImportFileError(_("encoding: {name} is not an encoding Python knows; use e.g. "
                                                   "utf-8, gb18030, big5, shift_jis, cp1252").format(
                                                       name=repr(requested))) from None
        enc = "utf-8-sig" if name == "utf-8" and bom == "utf-8-sig" else requested
        bad = decode_error(path, enc)
        if bad:
            raise ImportFileError(_("encoding: line {line} is not valid {encoding} ({why}); try "
                                                   "--encoding auto").format(
                                                       line=bad[0], encoding=requested, why=bad[1]))
        return EncodingVerdict(enc, "given")
    if bom:
        bad = decode_error(path, bom)
        if bad:
            raise ImportFileError(_("encoding: the file starts with a {encoding} BOM but line {line} "
                                                   "is not valid {encoding} ({why})").format(
                                                       encoding=bom, line=bad[0], why=bad[1]))
        return EncodingVerdict(bom, "bom")
    utf16 = _utf16_without_bom(head)
    if utf16 and decode_error(path, utf16) is None:
        return EncodingVerdict(utf16, "utf-16")
    if head.count(b"\x00") > len(head) // 100:  # a stray NUL is one row's problem (tables says which)
        raise ImportFileError(_("this is not a CSV file or a workbook (it holds binary data)"))
    bad_utf8 = decode_error(path, "utf-8")
    if bad_utf8 is None:
        return EncodingVerdict("utf-8", "utf-8")
    found = plausible(_non_ascii_sample(path))
    # Candidates that read the sample to the same text are one answer (Windows-1252 / Latin-1).
    texts: dict[str, list[str]] = {}
    for enc, (text, _score) in found.items():
        texts.setdefault(text, []).append(enc)
    groups = list(texts.values())
    if len(groups) > 1 and header_known is not None:
        first_line = head.split(b"\n", 1)[0]
        known = [g for g in groups if _decodes(first_line, g[0])
                 and header_known(first_line.decode(g[0]).strip("\r"))]
        if len(known) == 1:
            groups = known
    named = ", ".join(CANDIDATES[g[0]] for g in groups)
    if len(groups) == 1:
        enc = groups[0][0]
        bad = decode_error(path, enc)
        if bad is None:
            return EncodingVerdict(enc, "detected", [CANDIDATES[g[0]] for g in texts.values()])
        raise ImportFileError(_("encoding: the file reads as {encoding} at first but line {line} "
                                               "is not ({why}); give --encoding").format(
                                                   encoding=CANDIDATES[enc], line=bad[0], why=bad[1]))
    if not groups:
        decodes = [CANDIDATES[e] for e in CANDIDATES if _decodes(head, e)]
        garbage = (_(" (it decodes as {encodings} but reads as garbage)").format(encodings=", ".join(decodes))
                   if decodes else "")
        raise EncodingUncertain(
            _("encoding: neither UTF-8 (line {line}: {why}) nor any other encoding we know reads it "
                             "as plausible text{garbage}; save it as UTF-8, or give --encoding X").format(
                                 line=bad_utf8[0], why=bad_utf8[1], garbage=garbage), decodes)
    first = groups[0][0]
    raise EncodingUncertain(
        _("encoding: not certain; the file reads as plausible text in {encodings}; say which with "
                         "--encoding {first} (or another of them)").format(encodings=named, first=first),
        [CANDIDATES[g[0]] for g in groups])


def _decodes(data: bytes, enc: str) -> bool:
    try:
        codecs.getincrementaldecoder(enc)("strict").decode(data, final=False)
        return True
    except UnicodeDecodeError:
        return False
