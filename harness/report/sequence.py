"""A cell's HTTP exchanges as an inline SVG sequence diagram, drawn here so the page needs no script.

One column per participant (app, browser, MIC, BaaS, each identity provider, the app's
redirect URI), one row per request and per answer, in the order they happened; the
back channel (the MIC calling an identity provider) nests inside the request that
caused it. Each arrow's tooltip has the whole (masked) request or answer.
"""
from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import urlsplit

from ..recording import APP, BAAS, BROWSER, CALLBACK, MIC

#: the columns' order; servers not named here come between the BaaS and the redirect URI
ORDER = (APP, BROWSER, MIC, BAAS)
COLUMN, ROW, TOP, LEFT, BOX = 180, 24, 44, 64, 150
LABEL_CHARS = 44
#: a long cell (a fuzz step's variants) shows this many exchanges from its start and as many from its end
SHOWN = 24
#: a tooltip longer than this is cut (a fuzzed body can be kilobytes)
TOOLTIP_CHARS = 1200
#: arrowhead colours, matching the page's stroke colours for each kind of arrow
COLOURS = {"front": "#333", "back": "#1f5fa8", "error": "#b00"}


def participants(exchanges: list[dict[str, Any]]) -> list[str]:
    seen = list(dict.fromkeys(name for e in exchanges for name in (e["source"], e["target"])))
    others = [name for name in seen if name not in ORDER and name != CALLBACK]
    return [name for name in ORDER if name in seen] + others + ([CALLBACK] if CALLBACK in seen else [])


def svg(exchanges: list[dict[str, Any]], key: str) -> str:
    """The diagram, or an empty string when nothing was recorded.

    ``key`` makes its arrowheads' ids unique in the page: Chromium draws no marker whose
    first definition sits in a closed ``<details>``.
    """
    if not exchanges:
        return ""
    names = participants(exchanges)
    x = {name: LEFT + BOX // 2 + i * COLUMN for i, name in enumerate(names)}
    rows = _rows(exchanges)
    height = TOP + (len(rows) + 1) * ROW
    width = LEFT + BOX + (len(names) - 1) * COLUMN + 16
    parts = [f'<svg class="sequence" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="HTTP sequence diagram">',
             "<defs>" + "".join(f'<marker id="{key}-{kind}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
                                f'markerHeight="8" orient="auto"><path d="M0 0L10 5L0 10z" fill="{colour}"/></marker>'
                                for kind, colour in COLOURS.items()) + "</defs>"]
    for name in names:
        parts.append(f'<g class="participant"><line class="lifeline" x1="{x[name]}" y1="{TOP - 8}" '
                     f'x2="{x[name]}" y2="{height}"/><rect x="{x[name] - BOX // 2}" y="4" width="{BOX}" '
                     f'height="28" rx="4"/><text x="{x[name]}" y="23">{escape(name)}</text></g>')
    for row, event in enumerate(rows, start=1):
        y = TOP + row * ROW
        if event is None:
            parts.append(f'<text class="gap" x="{LEFT}" y="{y}">… {len(exchanges) - 2 * SHOWN} more exchanges '
                         "(results.json has them all) …</text>")
        else:
            parts.append(_arrow(event[2], event[1], x, y, event[0], key))
    parts.append("</svg>")
    return "".join(parts)


def _rows(exchanges: list[dict[str, Any]]) -> list[tuple[float, bool, dict[str, Any]] | None]:
    """Requests and answers as (time, is answer, exchange) in order; None where a long cell's middle is left out."""
    def events(chosen: list[dict[str, Any]]) -> list[tuple[float, bool, dict[str, Any]]]:
        timed = [(e["started"], False, i) for i, e in enumerate(chosen)] + [(e["ended"], True, i)
                                                                            for i, e in enumerate(chosen)]
        return [(at, answer, chosen[i]) for at, answer, i in sorted(timed)]
    if len(exchanges) <= 2 * SHOWN:
        return events(exchanges)
    return [*events(exchanges[:SHOWN]), None, *events(exchanges[-SHOWN:])]


def _arrow(exchange: dict[str, Any], answer: bool, x: dict[str, int], y: int, at: float, key: str) -> str:
    source, target = (exchange["target"], exchange["source"]) if answer else (exchange["source"], exchange["target"])
    status = exchange["status"]
    kind = ["answer" if answer else "request", "back" if exchange["source"] == MIC else "front"]
    if answer and (status is None or status >= 400):
        kind.append("error")
    label = _answer_label(exchange) if answer else f"{exchange['method']} {_path(exchange['url'])}"
    short = label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"
    x1, x2 = x[source], x[target]
    head = f'marker-end="url(#{key}-{kind[-1]})"'
    line = (f'<path d="M{x1} {y}h40v10h-38" {head}/>' if x1 == x2 else
            f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" {head}/>')
    time = "" if answer else f'<text class="time" x="4" y="{y + 4}">{at * 1000:.0f} ms</text>'
    return (f'<g class="exchange {" ".join(kind)}"><title>{escape(_details(exchange, answer))}</title>{time}'
            f'{line}<text x="{(x1 + x2) // 2 if x1 != x2 else x1 + 46}" y="{y - 5}">{escape(short)}</text></g>')


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _answer_label(exchange: dict[str, Any]) -> str:
    status = exchange["status"]
    if status is None:
        return "no answer" + (f" ({exchange['response']['failure']})" if exchange["response"].get("failure") else "")
    location = _header(exchange["response"], "location")
    fault = " (injected fault)" if exchange["response"].get("fault") else ""
    return f"{status}{fault}" + (f" → {_path(location) or location}" if location else "")


def _details(exchange: dict[str, Any], answer: bool) -> str:
    """The tooltip: the whole request line and body, or the answer's status, location and body."""
    side = exchange["response" if answer else "request"]
    lines = [_answer_label(exchange) if answer else f"{exchange['method']} {exchange['url']}"]
    if side.get("body") is not None:
        lines.append(side["body"] if isinstance(side["body"], str)
                     else json.dumps(side["body"], indent=1, ensure_ascii=False))
    text = "\n".join(lines)
    return text if len(text) <= TOOLTIP_CHARS else text[:TOOLTIP_CHARS] + "…"


def _header(side: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in side.get("headers", {}).items() if k.lower() == name), None)
