"""``login``: complete the login page the flow stopped at, with the service's login recipe.

The recipe's fields are filled in the form its ``form`` selector names, or else in the form
that holds them (a real IdP's page may carry several); a page that posts itself onward is
the driver's to pass. When the flow already reached the app (an IdP session logged the
user in), there is nothing to complete; ``expect: {landed: page}`` before it insists on a page.

A permissions screen after the login (Facebook's: what the app may read) is accepted as it
comes, unless the step ``decline``s some permissions (unticks them) or ``cancel``s; both
need the screen to come, as the recipe's ``permissions`` describes it.
"""
from __future__ import annotations

from typing import Any

import pyotp

from ..context import Authenticator, RunContext, StepFailed
from ..target import Service
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
            "decline": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1},
                        "description": "permissions to untick on the permissions screen"},
            "cancel": {"const": True, "description": "cancel on the permissions screen"},
        },
        "not": {"required": ["decline", "cancel"]},
    }

    @classmethod
    def reaches_upstream(cls, args: dict[str, Any], service: Service) -> bool:
        return True  # a login (or a live IdP session) makes the identity provider issue anew

    def run(self, ctx: RunContext) -> None:
        if ctx.landing is None:
            raise StepFailed("login: there is no login page to complete (authorize first)")
        deciding = "decline" in self.args or "cancel" in self.args
        if ctx.landing.at_app:
            if deciding:
                raise StepFailed("login: a live session logged the user in; there was no permissions screen")
            return  # a live session (the IdP's) logged the user in without a page

        recipe = ctx.service.login
        if recipe is None:
            raise StepFailed(f"login: the target gives no login recipe for service '{ctx.service.id}'")
        username, password = ctx.credentials(ctx.render(self.args))
        ctx.landing = ctx.driver.submit_form({recipe.username: username, recipe.password: password}, recipe.submit,
                                             form=recipe.form)
        if recipe.totp_code and not ctx.landing.at_app and ctx.driver.has_field(recipe.totp_code):
            ctx.landing = self._second_step(ctx, recipe, username)
        screen = recipe.permissions
        if screen and not ctx.landing.at_app and ctx.driver.text_by_id(screen["allow"]) is not None:
            ctx.landing = self._permissions(ctx, screen)
        elif deciding:
            raise StepFailed("login: no permissions screen came to decline or cancel on (had the user decided "
                             "before?)")
        capture_landing(ctx)

    def _permissions(self, ctx: RunContext, screen: dict[str, str]):
        """Accept the permissions screen, with the declined permissions unticked; or cancel it."""
        if self.args.get("cancel"):
            return ctx.driver.submit_form({}, f"#{screen['cancel']}")
        untick = tuple(screen["checkbox"].replace("{permission}", p) for p in self.args.get("decline", []))
        missing = [name for name in untick if not ctx.driver.has_field(name)]
        if missing:
            raise StepFailed(f"login: the permissions screen has no {', '.join(missing)} to untick")
        return ctx.driver.submit_form({}, f"#{screen['allow']}", untick)

    @staticmethod
    def _second_step(ctx: RunContext, recipe, username: str):
        """A TOTP code, from the secret the page shows at enrolment or the one remembered since.

        A code serves once (RFC 6238 5.2): when this user already used the current time
        step, the next step's code is given, and the target's clock moved on if even
        that one is not due yet, as a person would wait for their app's next code.
        """
        key = (ctx.service.id, username)
        shown = ctx.driver.text_by_id(recipe.totp_secret_id) if recipe.totp_secret_id else None
        if shown:
            ctx.enrolled[key] = Authenticator(shown)
        if key not in ctx.enrolled:
            raise StepFailed(f"login: the page asks {username} for a TOTP code, but no secret was ever shown "
                             "to this harness")
        app = ctx.enrolled[key]
        totp = pyotp.TOTP(app.secret)
        current = int(ctx.now() // totp.interval)
        step = max(current, app.last_step + 1)
        if step > current + 1:
            ctx.advance_clock({"advance": (step - current - 1) * totp.interval})
        app.last_step = step
        landing = ctx.driver.submit_form({recipe.totp_code: totp.at(step * totp.interval)}, recipe.submit)
        ctx.keep_clocks()  # the step is spent at this time: the clocks may not go back behind it
        return landing
