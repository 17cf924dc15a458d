"""``tamper_upstream``: arm a mutation of what an identity provider sends next (its next
SAML Response, say), through that provider's control surface.

The step does not know the mutations: the provider's ``/_control/tamper`` validates the
name and lists the ones it has, so each mock brings its own. Armed mutations are
cleared with the cell's faults, so none leaks into the next cell.
"""
from __future__ import annotations

from ..context import RunContext, StepFailed
from . import Step


class TamperUpstream(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "required": ["mutation"],
        "properties": {
            "mutation": {"type": "string", "minLength": 1,
                         "description": "a mutation the provider's /_control/tamper knows (it lists them)"},
            "server": {"type": "string", "description": "a control surface; default 'upstream', the cell's IdP"},
            "times": {"type": "integer", "minimum": 1, "description": "how many answers it spoils (default 1)"},
        },
    }
    NEEDS_CONTROL = "surfaces"

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        surface = ctx.surface(args.get("server", "upstream"))
        spec = {"mutation": args["mutation"], **({"times": args["times"]} if "times" in args else {})}
        response = ctx.http.post(f"{surface}/_control/tamper", json=spec)
        if response.status_code != 201:
            raise StepFailed(f"tamper_upstream: {args.get('server', 'upstream')} refused {args['mutation']} "
                             f"({response.status_code}): {response.text[:300]}")
        ctx.armed.add(surface)
