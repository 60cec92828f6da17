"""Accent folding for search: ``Nguyễn`` and ``nguyen`` fold to the same text.

Both databases compare the folded text with plain ``LIKE``, so the search
works the same on SQLite and PostgreSQL without ``unaccent`` or collations.
"""

from __future__ import annotations

import unicodedata

# Letters that are not a base letter plus a combining mark.
_SEPARATE = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "ø": "o", "ł": "l", "ß": "ss"})


def fold(text: str | None) -> str:
    """Lower-case ``text`` and drop its accents and tone marks."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SEPARATE))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())
