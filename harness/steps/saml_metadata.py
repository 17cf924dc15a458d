"""``saml_metadata``: fetch the MIC's SAML service-provider metadata under an API version.

The answer becomes the last reply, as JSON an ``expect`` step can check: ``entity_id``
and ``acs`` as published, and the same relative to the MIC's base URL (``entity_path``,
``acs_path``), so a scenario can say what they must be without knowing the target's URL.
"""
from __future__ import annotations

import json

from lxml import etree

from plumbing.xmldsig import parse

from ..context import Reply, RunContext, StepFailed
from . import Step
from .authorize import VERSIONS

MD = "urn:oasis:names:tc:SAML:2.0:metadata"


class SamlMetadata(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"version": {"enum": VERSIONS, "description": "MIC API version in the path ('none': unversioned)"}},
    }

    def run(self, ctx: RunContext) -> None:
        version = self.args.get("version", "v2")
        url = f"{ctx.target.mic}{'' if version == 'none' else '/' + version}/saml/metadata"
        response = ctx.http.get(url)
        ctx.reply = Reply.of(response)
        if response.status_code != 200:
            return
        try:
            root = parse(response.content)
        except etree.XMLSyntaxError as exc:
            raise StepFailed(f"saml_metadata: {url} is not XML: {exc}") from None
        acs = root.find(f".//{{{MD}}}AssertionConsumerService")
        summary = {
            "entity_id": root.get("entityID"),
            "entity_path": _relative(root.get("entityID") or "", ctx.target.mic),
            "acs": None if acs is None else acs.get("Location"),
            "acs_path": None if acs is None else _relative(acs.get("Location") or "", ctx.target.mic),
            "acs_binding": None if acs is None else acs.get("Binding"),
            "name_id_formats": [e.text for e in root.iter(f"{{{MD}}}NameIDFormat")],
        }
        ctx.reply = Reply(200, {"content-type": "application/json"}, json.dumps(summary), ctx.reply.request)


def _relative(value: str, base: str) -> str:
    return value[len(base):] if value.startswith(base) else value
