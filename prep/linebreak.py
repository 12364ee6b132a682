"""Where a line of mixed Chinese and English text may break, for a terminal.

rich, like most terminal wrappers, breaks lines only at spaces: a Chinese
sentence has none, so it is moved whole to the next line and then cut at the
terminal's edge, wherever that falls (inside `shared_ptr`, before a 。). Chinese
text may break between any two characters except before closing punctuation
(。，、；：！？）」』】》 and their kin) and after opening punctuation (（「『【《);
a run of other characters (an English word, an identifier, a number) stays whole
unless it is wider than the line.
"""

from __future__ import annotations

import re

from rich.cells import cell_len

CLOSING = set("。，、；：！？）」』】》〉”’…%,.;:!?)]}")
OPENING = set("（「『【《〈“‘([{")
_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


def has_wide(text: str) -> bool:
    """Whether the text holds Chinese (or other double-width) characters, whose breaks rich does not know."""
    return bool(_WIDE.search(text))


def _pieces(text: str) -> list[str]:
    """The units a line break may fall between: one wide character (with the closing punctuation after it
    and the opening punctuation before it), a run of other non-space characters, or a run of spaces."""
    pieces: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            j = i
            while j < len(text) and text[j].isspace():
                j += 1
        elif _WIDE.match(ch) and ch not in CLOSING:
            j = i + 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and not (_WIDE.match(text[j]) and text[j] not in CLOSING):
                j += 1
            j = max(j, i + 1)
        piece = text[i:j]
        if pieces and (piece[0] in CLOSING or pieces[-1][-1] in OPENING) and not piece.isspace() \
                and not pieces[-1].isspace():
            pieces[-1] += piece  # no break before closing or after opening punctuation
        else:
            pieces.append(piece)
        i = j
    return pieces


def break_offsets(text: str, width: int, indent: int = 0) -> list[int]:
    """Offsets in `text` where lines should end so each fits `width` cells; continuation lines will be
    indented by `indent` cells. The spaces at a break are left at the end of the line before it."""
    offsets: list[int] = []
    used, position = 0, 0
    room = max(width, 1)
    for piece in _pieces(text):
        size = cell_len(piece)
        if piece.isspace() or used + size <= room or used == 0 and size <= room:
            if not (used == 0 and piece.isspace() and offsets):
                used += size
            position += len(piece)
            continue
        if used > 0:  # the piece starts the next line
            offsets.append(position)
            used, room = 0, max(width - indent, 1)
        while cell_len(piece) > room:  # wider than a whole line: cut it where the line ends
            cut, cells = 0, 0
            while cut < len(piece) and cells + cell_len(piece[cut]) <= room:
                cells += cell_len(piece[cut])
                cut += 1
            cut = max(cut, 1)
            position += cut
            offsets.append(position)
            piece = piece[cut:]
            used, room = 0, max(width - indent, 1)
        used += cell_len(piece)
        position += len(piece)
    return [o for o in offsets if 0 < o < len(text)]
