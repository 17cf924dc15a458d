"""``tamper``: hand an artifact the app holds (a value captured by an earlier step) to a
named mutation, so the next step presents the forgery instead."""
from __future__ import annotations

from ..context import RunContext, StepFailed
from ..tampering import MUTATIONS, NotApplicable
from . import Step


class Tamper(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "required": ["value", "mutation"],
        "properties": {
            "value": {"type": "string", "description": "a captured value: code, access_token, refresh_token, "
                                                       "state, authtoken, or one saved by an expect step"},
            "mutation": {"enum": sorted(MUTATIONS)},
        },
    }

    def run(self, ctx: RunContext) -> None:
        name = self.args["value"]
        original = ctx.render(f"{{{{ {name} }}}}")
        if not isinstance(original, str):
            raise StepFailed(f"tamper: '{name}' is not a string ({type(original).__name__})")
        try:
            forged = MUTATIONS[self.args["mutation"]](original)
        except NotApplicable as exc:
            raise StepFailed(f"tamper: {self.args['mutation']} does not apply to '{name}': {exc}") from None
        if forged == original:
            raise StepFailed(f"tamper: {self.args['mutation']} left '{name}' unchanged")
        ctx.vars[name] = forged
