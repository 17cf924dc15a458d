"""JSON from outside, parsed with a nesting limit.

Python's parser recurses once per level, so a body nested a few thousand deep raises
RecursionError (a 500) instead of a ValueError every caller already refuses cleanly.
The depth is measured first, without recursion; strings are skipped so that brackets
inside them do not count.
"""
from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

#: deeper than any request or answer the MIC's protocols carry, far below the stack's limit
MAX_DEPTH = 64
#: possessive, so an unterminated string costs one pass, not a backtracking search
_STRING = re.compile(r'"(?:[^"\\]|\\.)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class TooDeep(ValueError):
    """Nested deeper than the limit: refused as any unreadable JSON is."""


def depth(text: str) -> int:
    """How deep the arrays and objects of ``text`` nest (0 for a scalar)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads(data: str | bytes | bytearray, *, limit: int = MAX_DEPTH, **kwargs: Any) -> Any:
    """``json.loads`` that raises TooDeep (a ValueError) beyond ``limit`` levels."""
    text = data if isinstance(data, str) else bytes(data).decode(json.detect_encoding(data), "surrogatepass")
    if depth(text) > limit:
        raise TooDeep(f"JSON nested deeper than {limit} levels")
    return json.loads(text, **kwargs)
