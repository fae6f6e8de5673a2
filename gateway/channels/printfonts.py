"""Fonts for the printed PDFs, and text made safe to draw with them.

Loaded once per process; the only files the renderer ever reads.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# DejaVu Sans draws Latin, Greek and Cyrillic; Debian's fonts-dejavu-core (and
# other distributions' DejaVu packages) put it here. Bitstream Vera ships
# inside reportlab, so the fallback always exists, but it covers Western Latin
# only: other characters are folded to their base letter (ź -> z) or "?".
_DEJAVU_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts/dejavu",
)
# Look-alikes that Unicode decomposition does not give.
# fmt: off
_FOLDS = {
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "\u0131": "i", "Ø": "O", "ø": "o", "ß": "ss",
    "Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "€": "EUR", "…": "...",
    "\u2013": "-", "\u2014": "-", "\u2212": "-",  # dashes and the minus sign
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',  # curly quotes
}
# fmt: on


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    unicode: bool  # DejaVu (True) or the Vera fallback
    cmap: frozenset[int]  # code points both faces can draw

    def fold(self, text: str) -> str:
        """``text`` with every character the fonts lack replaced by a look-alike."""
        if all(ord(c) in self.cmap for c in text):
            return text
        return "".join(c if ord(c) in self.cmap else self._substitute(c) for c in text)

    def _substitute(self, c: str) -> str:
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp"):
            return " " if c in "\t\n\r" else ""
        for candidate in (
            "".join(b for b in unicodedata.normalize("NFKD", c) if not unicodedata.combining(b)),
            _FOLDS.get(c, ""),
        ):
            if candidate and all(ord(b) in self.cmap for b in candidate):
                return candidate
        return "?"

    def width(self, text: str, size: float, font: str = "") -> float:
        return float(pdfmetrics.stringWidth(text, font or self.regular, size))

    def markup(self, text: str, *, keep_breaks: bool = False) -> str:
        """Text for reportlab's paragraph mini-markup: folded, escaped, and with
        line breaks kept as <br/> when asked."""
        lines = text.split("\n") if keep_breaks else [" ".join(text.split())]
        return "<br/>".join(escape(self.fold(line)) for line in lines)


def font_covers(text: str) -> bool:
    """Whether the fonts found on this machine draw every character of ``text``."""
    return all(ord(c) in load_fonts().cmap for c in text)


@functools.cache
def load_fonts() -> Fonts:
    for folder in map(Path, _DEJAVU_DIRS):
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return _register(str(regular), str(bold), unicode=True)
    return _register("Vera.ttf", "VeraBd.ttf", unicode=False)  # found in reportlab's fonts


def _register(regular: str, bold: str, *, unicode: bool, name: str = "GatewaySans") -> Fonts:
    """Register a regular and a bold face under ``name`` (reportlab's registry
    is global: one name, one pair of files)."""
    faces = (TTFont(name, regular), TTFont(f"{name}-Bold", bold))
    for face in faces:
        pdfmetrics.registerFont(face)
    pdfmetrics.registerFontFamily(
        name, normal=name, bold=f"{name}-Bold", italic=name, boldItalic=f"{name}-Bold"
    )
    cmap = set(faces[0].face.charToGlyph) & set(faces[1].face.charToGlyph)
    return Fonts(name, f"{name}-Bold", unicode, frozenset(cmap))
