"""What the HTTP driver reads of a page: every form, which one a recipe means, and whether
the page posts a form by itself.

Real IdP pages are not ours: a page may carry several forms (a read-only summary or a
language picker before the login form), and a SAML HTTP-POST binding page may be posted
by ``<body onload="…submit()">``, by a ``<script>`` (``document.forms[0].submit()``,
``document.getElementById('f').submit()``), or by a script file with a ``<noscript>``
button for browsers without one (Shibboleth, SimpleSAMLphp, samlify's and saml-idp's
pages). Such a form holds hidden fields only: nothing a person could fill.

Selectors (a recipe's ``form`` and ``submit``) are simple CSS selectors: an optional tag,
then any of ``#id``, ``.class`` and ``[attr]``, ``[attr=v]``, ``[attr*=v]``, ``[attr^=v]``,
``[attr$=v]`` (values quoted or not), e.g. ``#login-form``, ``form[name=login]``,
``form[action*="/login"]``, ``button[type=submit]``. Combinators and pseudo-classes are
not supported, and say so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from ..context import StepFailed

_VOID = ("input", "br", "img", "meta", "link", "hr")
_SIMPLE = re.compile(r"""^(?P<tag>[a-zA-Z][\w-]*)?(?P<parts>(?:\#[\w-]+|\.[\w-]+|\[[\w-]+(?:[*^$]?=(?:"[^"]*"|'[^']*'|[^\]'"]*))?\])*)$""")
_PART = re.compile(r"""\#(?P<id>[\w-]+)|\.(?P<cls>[\w-]+)|\[(?P<attr>[\w-]+)(?:(?P<op>[*^$]?=)(?P<value>"[^"]*"|'[^']*'|[^\]'"]*))?\]""")
#: how a script names the form it submits, and by what (an index, an id, a name, a selector)
_SCRIPT_FORM = ((re.compile(r"forms\s*\[\s*(\d+)\s*\]\s*\.submit\s*\("), "index"),
                (re.compile(r"""getElementById\(\s*['"]([^'"]+)['"]\s*\)\s*\.submit\s*\("""), "id"),
                (re.compile(r"""forms\s*\[\s*['"]([^'"]+)['"]\s*\]\s*\.submit\s*\("""), "name"),
                (re.compile(r"""forms\.([A-Za-z_]\w*)\s*\.submit\s*\("""), "name"),
                (re.compile(r"""querySelector\(\s*['"]([^'"]+)['"]\s*\)\s*\.submit\s*\("""), "selector"))


@dataclass
class Control:
    """An element of a form: an input, or a button."""

    tag: str
    attrs: dict[str, str]
    in_noscript: bool = False


@dataclass
class Form:
    attrs: dict[str, str]
    controls: list[Control] = field(default_factory=list)

    @property
    def action(self) -> str:
        return self.attrs.get("action", "")

    @property
    def method(self) -> str:
        return self.attrs.get("method", "get").lower()

    @property
    def fields(self) -> dict[str, str]:
        """The inputs a browser would send: a checkbox or radio only when ticked."""
        sent = {}
        for control in self.controls:
            attrs = control.attrs
            if control.tag != "input" or not attrs.get("name") or attrs.get("type") in ("submit", "image", "button"):
                continue
            box = attrs.get("type") in ("checkbox", "radio")
            if not box or "checked" in attrs:
                sent[attrs["name"]] = attrs.get("value", "on" if box else "")
        return sent

    @property
    def names(self) -> list[str]:
        return [c.attrs["name"] for c in self.controls if c.attrs.get("name")]

    def submits(self) -> list[Control]:
        return [c for c in self.controls
                if (c.tag == "button" and c.attrs.get("type", "submit") == "submit")
                or (c.tag == "input" and c.attrs.get("type") in ("submit", "image"))]

    @property
    def hidden_only(self) -> bool:
        """Nothing here a person could fill or press (a noscript button aside): a form for a script to post."""
        inputs = [c for c in self.controls if c.tag == "input" and c.attrs.get("type") not in ("submit", "image")]
        if not inputs or any(c.attrs.get("type") != "hidden" for c in inputs):
            return False
        return all(c.in_noscript for c in self.controls if c not in inputs)

    def describe(self) -> str:
        where = self.action or "(this page)"
        return f"<form{_ident(self.attrs)} action={where} method={self.method}> fields: {', '.join(self.names) or 'none'}"


def _ident(attrs: dict[str, str]) -> str:
    return "".join(f" {k}={attrs[k]}" for k in ("id", "name") if attrs.get(k))


class Page(HTMLParser):
    """A page's forms, its text, the text of elements by id, its scripts and its body's onload."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.onload = ""
        self.scripts: list[str] = []
        self.external_script = False
        self.text: list[str] = []
        self.by_id: dict[str, list[str]] = {}
        self._form: Form | None = None
        self._open_ids: list[str | None] = []
        self._noscript = 0
        self._unread = 0
        self._script: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self._unread += tag in ("style", "script")
        if tag == "script":
            self._script = []
            self.external_script = self.external_script or "src" in attributes
        self._noscript += tag == "noscript"
        if tag == "body":
            self.onload = attributes.get("onload", "")
        if tag not in _VOID:
            self._open_ids.append(attributes.get("id"))
            if attributes.get("id"):
                self.by_id.setdefault(attributes["id"], [])
        if tag == "form":
            self._form = Form(attributes)
            self.forms.append(self._form)
        elif tag in ("input", "button", "select", "textarea") and self._form is not None:
            self._form.controls.append(Control(tag, attributes, self._noscript > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None
        self._unread -= tag in ("style", "script") and self._unread > 0
        self._noscript -= tag == "noscript" and self._noscript > 0
        if tag == "form":
            self._form = None
        if self._open_ids and tag not in _VOID:
            self._open_ids.pop()

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)
        if self._unread:
            return  # inside <style> or <script>: not text a person reads
        self.text.append(data)
        for element_id in filter(None, self._open_ids):
            self.by_id[element_id].append(data)

    def describe(self) -> str:
        """The forms seen, for a message that says why a page could not be got past."""
        if not self.forms:
            return "no form"
        return "; ".join(f"#{i + 1} {form.describe()}" for i, form in enumerate(self.forms))

    def autopost(self) -> Form | None:
        """The form this page posts by itself, if it does (see the module's docstring)."""
        for trigger, onload in [(self.onload, True), *((script, False) for script in self.scripts)]:
            for pattern, kind in _SCRIPT_FORM:
                for found in pattern.finditer(trigger):
                    form = self._named(kind, found.group(1))
                    if form is not None and (onload or form.hidden_only):
                        return form
        if "submit()" in self.onload and self.forms:
            return self.forms[0]
        scripted = any(".submit(" in s for s in self.scripts) or self.external_script
        for form in self.forms:
            if form.hidden_only and (scripted or any(c.in_noscript for c in form.submits())):
                return form
        return None

    def _named(self, kind: str, name: str) -> Form | None:
        """The form a script names (``document.forms`` takes a name or an id)."""
        if kind == "index":
            return self.forms[int(name)] if int(name) < len(self.forms) else None
        if kind == "selector":
            try:
                return next(iter(self.select(name)), None)
            except StepFailed:  # a selector beyond what this driver reads names no form it can post
                return None
        return next((f for f in self.forms if f.attrs.get("id") == name
                     or (kind == "name" and f.attrs.get("name") == name)), None)

    def select(self, selector: str) -> list[Form]:
        """The forms a simple CSS selector matches."""
        return [f for f in self.forms if matches(selector, "form", f.attrs)]

    def form_for(self, fields: dict[str, str], submit: str, selector: str | None, url: str, status: int) -> Form:
        """The form a recipe means: its ``form`` selector's, else the one holding every field
        (or, with no field to fill, the one holding the submit button)."""
        if selector:
            chosen = self.select(selector)
            why = f"no form matches the recipe's form selector {selector!r}"
        elif fields:
            chosen = [f for f in self.forms if set(fields) <= set(f.names)]
            why = f"no form has the fields {', '.join(fields)}"
        else:
            chosen = [f for f in self.forms if self.button(f, submit) is not None]
            why = f"no form has the button {submit!r}"
        if not chosen:
            raise StepFailed(f"cannot get past the page at {url} (status {status}): {why}; forms seen: "
                             f"{self.describe()}")
        return chosen[0]

    @staticmethod
    def button(form: Form, submit: str) -> Control | None:
        """The form's submit control the recipe's ``submit`` selector names."""
        return next((c for c in form.controls if matches(submit, c.tag, c.attrs)), None)


def matches(selector: str, tag: str, attrs: dict[str, str]) -> bool:
    """Whether an element (``tag``, ``attrs``) matches a simple CSS selector (see the module's docstring)."""
    selector = selector.strip()
    shape = _SIMPLE.match(selector)
    if not selector or shape is None:
        raise StepFailed(f"the selector {selector!r} is not one the HTTP driver reads: a tag, then #id, .class "
                         "or [attr], [attr=v], [attr*=v], [attr^=v], [attr$=v] (no combinators or pseudo-classes)")
    if shape.group("tag") and shape.group("tag").lower() != tag:
        return False
    for part in _PART.finditer(shape.group("parts")):
        if part.group("id") is not None and attrs.get("id") != part.group("id"):
            return False
        if part.group("cls") is not None and part.group("cls") not in attrs.get("class", "").split():
            return False
        if part.group("attr") is not None and not _attr_matches(attrs.get(part.group("attr")), part.group("op"),
                                                                 part.group("value")):
            return False
    return True


def _attr_matches(actual: str | None, op: str | None, value: str | None) -> bool:
    if actual is None:
        return False
    if op is None:
        return True
    value = value.strip("'\"") if value and value[0] in "'\"" else (value or "")
    return {"=": actual == value, "*=": value in actual, "^=": actual.startswith(value),
            "$=": actual.endswith(value)}[op]
