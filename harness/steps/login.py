"""``login``: complete the login page the flow stopped at, with the service's login recipe."""
from __future__ import annotations

from ..context import RunContext, StepFailed
from . import Step
from .authorize import capture_landing


class Login(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "user": {"type": "string", "description": "a test user of the target"},
            "username": {"type": "string"},
            "password": {"type": "string", "description": "overrides the test user's password"},
        },
    }

    def run(self, ctx: RunContext) -> None:
        if ctx.landing is None or ctx.landing.at_app:
            raise StepFailed("login: there is no login page to complete (authorize first)")
        recipe = ctx.service.login
        if recipe is None:
            raise StepFailed(f"login: the target gives no login recipe for service '{ctx.service.id}'")
        username, password = ctx.credentials(ctx.render(self.args))
        ctx.landing = ctx.driver.submit_login(recipe, username, password)
        capture_landing(ctx)
