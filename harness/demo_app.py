"""The demo app's redirect URI: a page where the MIC's answer lands and can be read.

Browsers need somewhere real to arrive; a person trying ``mic-harness serve`` sees the
code (or the error) the MIC sent, and a curl command that redeems it.
"""
from __future__ import annotations

import html
from typing import Callable, Iterable
from urllib.parse import parse_qsl


def create_app(mic_url: str) -> Callable[[dict, Callable], Iterable[bytes]]:
    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/callback":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"the demo app only has /callback"]
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td id='{html.escape(k)}'>{html.escape(v)}</td></tr>"
                       for k, v in params)
        code = dict(params).get("code")
        hint = "" if code is None else (
            "<p>Redeem it (once, within the grant TTL):</p><pre>curl -u APP_KEY:APP_SECRET"
            f" -d grant_type=authorization_code -d code={html.escape(code)} "
            f"--data-urlencode redirect_uri=REDIRECT_URI {html.escape(mic_url)}/v3/oauth/token</pre>")
        title = "Signed in" if code else "The MIC answered with an error" if "error" in dict(params) else "Callback"
        body = (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
                f"<h1>{title}</h1><table>{rows}</table>{hint}</body></html>").encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    return app
