"""Text normalisation for searches: what a typed query and a stored name are compared as.

Lower case, accents removed, punctuation turned into spaces, spaces collapsed.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that Unicode decomposition leaves whole but French spelling treats as two.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})
_NOT_WORD = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """`"Cours Émile-Zola, n°12"` → `"cours emile zola n 12"`."""
    lowered = unicodedata.normalize("NFKD", text.casefold()).translate(_LIGATURES)
    bare = "".join(char for char in lowered if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", bare).split())


def tokens(text: str) -> list[str]:
    """The words of `text` once normalised."""
    return normalize(text).split()
