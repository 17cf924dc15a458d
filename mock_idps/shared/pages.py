"""The pages and the cookie a person meets at a mock provider: its login form and its own session.

A successful login leaves the IdP's session cookie: a later authorization in the same
browser passes without the login page, as at real IdPs, which is what makes a login
survive an app's logout (browser SSO).
"""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from .records import Login, Store

#: registered by every provider app, for the shared templates only
templates = Blueprint("mock_idp_pages", __name__, template_folder="templates")


def login_page(client_id: str, *, username: str = "", error: str | None = None,
               status: int = 200, action: str | None = None) -> tuple[str, int]:
    """The login form for ``client_id``; it posts to ``action``, or back to the page's own URL."""
    return render_template("login.html", client_id=client_id, username=username, error=error,
                           action=action), status


def wrong_password(client_id: str, username: str, action: str | None = None) -> tuple[str, int]:
    return login_page(client_id, username=username, error="The username or password is not right.", status=401,
                      action=action)


def session_login(store: Store, cookie: str) -> Login | None:
    return store.session_login(request.cookies.get(cookie, ""))


def keep_session(response: Response, store: Store, login: Login, cookie: str, path: str = "/") -> Response:
    response.set_cookie(cookie, store.open_session(login), httponly=True, samesite="Lax", path=path,
                        secure=request.is_secure, max_age=store.fixture.session_ttl)
    return response


def end_session(response: Response, store: Store, cookie: str, path: str = "/") -> Response:
    store.end_session(request.cookies.get(cookie, ""))
    response.delete_cookie(cookie, path=path)
    return response
