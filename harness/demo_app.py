"""The demo app: its redirect URI, its hosted login page and its brand stylesheet.

Browsers need somewhere real to arrive; a person trying ``mic-harness serve`` sees the
code (or the error) the MIC sent, and a curl command that redeems it. The hosted login
page is what an app serves when its auth service hands the login page off to it: it
posts the credentials back to MIC with the signed reference MIC gave it.
"""
from __future__ import annotations

import html
from typing import Callable, Iterable
from urllib.parse import parse_qsl

BRAND_CSS = b"body { background: #fdf6e3; } h1 { color: #268bd2; }\n"


def create_app(mic_url: str) -> Callable[[dict, Callable], Iterable[bytes]]:
    def page(start_response: Callable, title: str, body: str) -> Iterable[bytes]:
        document = (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
                    f"<body><h1>{title}</h1>{body}</body></html>").encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(document)))])
        return [document]

    def callback(params: dict[str, str]) -> tuple[str, str]:
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td id='{html.escape(k)}'>{html.escape(v)}</td></tr>"
                       for k, v in params.items())
        code = params.get("code")
        hint = "" if code is None else (
            "<p>Redeem it (once, within the grant TTL):</p><pre>curl -u APP_KEY:APP_SECRET"
            f" -d grant_type=authorization_code -d code={html.escape(code)} "
            f"--data-urlencode redirect_uri=REDIRECT_URI {html.escape(mic_url)}/v3/oauth/token</pre>")
        title = "Signed in" if code else "The MIC answered with an error" if "error" in params else "Callback"
        return title, f"<table>{rows}</table>{hint}"

    def hosted_login(params: dict[str, str]) -> tuple[str, str]:
        error = params.get("login_error")
        return "Sign in to the demo app", (
            (f"<p role='alert'>{html.escape(error)}</p>" if error else "")
            + f"<form method='post' action='{html.escape(mic_url)}/oauth/authenticate'>"
            f"<input type='hidden' name='login_ref' value='{html.escape(params.get('login_ref', ''))}'>"
            "<label>User <input name='username'></label><label>Secret <input name='password' type='password'></label>"
            "<button id='go' type='submit'>Go</button></form>")

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if path == "/callback":
            return page(start_response, *callback(params))
        if path == "/hosted-login":
            return page(start_response, *hosted_login(params))
        if path == "/brand.css":
            start_response("200 OK", [("Content-Type", "text/css"), ("Content-Length", str(len(BRAND_CSS)))])
            return [BRAND_CSS]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"the demo app has /callback, /hosted-login and /brand.css"]

    return app
