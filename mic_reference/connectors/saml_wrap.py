"""The SAML-WRAP connector: a password exchanged at an OAuth WRAP v0.9 endpoint for a signed SAML assertion.

``provider.remoteService`` is the WRAP Access Token URL; ``options.wrapScope`` the scope
asked for, which the assertion's audience must be. The assertion is believed as the SAML
connectors believe one (``saml_response``): no DTD or entity, signed by
``idpCertificate``, issued by ``idpEntityId`` (default: the Access Token URL), within its
validity window on the MIC's clock (``clockSkew`` of leeway), a NameID of one text node
in ``nameIdFormat``, and taken once. Its NameID is the user id, its attributes the
identity's, and the WRAP token (the assertion as received) is the upstream token that
data links carry, alive for ``wrap_access_token_expires_in`` but never past the
assertion's NotOnOrAfter.

The request is WRAP's (draft-hardt-oauth-01 5.1): a form POST of ``wrap_name``,
``wrap_password`` and ``wrap_scope``. A 401 with ``WWW-Authenticate: WRAP`` is a wrong
password (``invalid_grant``); a 400 asking for a CAPTCHA or a visit to a verification URL
(6.1.6, 6.1.7) is something MIC's login cannot do (``access_denied``); any other 400 is
the MIC's request refused (``server_error``). An endpoint down, slow (``timeout``) or
answering 5xx is ``temporarily_unavailable``; an answer that is not WRAP's is
``server_error``.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import httpx2

from ..config import AuthService
from . import saml_response
from .capabilities import ConnectorError, Identity, PasswordLogin, current_login
from .saml import ASSERTION_OPTIONS, AssertionChecks

#: a password login at MIC's own page or its token endpoint; nothing comes back by redirect
CALLBACK_PATH = None
DEFAULT_TIMEOUT = 5
FORM = "application/x-www-form-urlencoded"
#: the most of an answer the MIC reads; a signed assertion is a few kilobytes
MAX_ANSWER = 256 * 1024
BAD_CREDENTIALS = "The username or password is not right."
#: what WRAP (6.1.6, 6.1.7) may ask of a user before it issues a token, and MIC's login cannot offer
_USER_STEPS = {"wrap_captcha_url": "the identity provider wants a CAPTCHA solved first, which MIC's login cannot show",
               "wrap_verification_url": "the identity provider wants the user to verify the account at its site first"}

PROVIDER_SCHEMA = {
    "type": "object",
    "required": ["remoteService", "options"],
    "properties": {
        "remoteService": {"type": "string", "pattern": "^https?://[^#]+$",
                          "description": "the WRAP endpoint's Access Token URL"},
        "options": {
            "type": "object",
            "additionalProperties": False,
            "required": ["idpCertificate", "wrapScope"],
            "properties": {
                **ASSERTION_OPTIONS,
                "wrapScope": {"type": "string", "minLength": 1,
                              "description": "wrap_scope: the scope asked for, the assertion's audience"},
                "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 60,
                            "description": f"seconds the endpoint may take to answer (default {DEFAULT_TIMEOUT})"},
            },
        },
    },
}


def build(service: AuthService, transport: httpx2.BaseTransport) -> "WrapLogin":
    return WrapLogin(service, transport)


class WrapLogin(AssertionChecks, PasswordLogin):
    def __init__(self, service: AuthService, transport: httpx2.BaseTransport) -> None:
        super().__init__(service)
        options = service.provider.options
        self.url = service.provider.remote_service
        self.scope = options["wrapScope"]
        self.client = httpx2.Client(transport=transport, follow_redirects=False,
                                    timeout=httpx2.Timeout(float(options.get("timeout", DEFAULT_TIMEOUT))))

    def password_login(self, username: str, password: str) -> Identity:
        login = current_login()
        if login is None:
            raise ConnectorError("server_error", "the MIC checked this login outside a request",
                                 debug="no login context (the MIC's clock and memory) while calling the connector")
        expected = self.expected(self.scope, login.now)
        if not username or not password:
            raise ConnectorError("invalid_grant", BAD_CREDENTIALS, debug="no username or no password")
        fields = self._token_answer(username, password)
        token, lifetime = fields["wrap_access_token"], fields.get("wrap_access_token_expires_in")
        assertion = saml_response.read_assertion(token.encode(), expected, "the WRAP token")
        saml_response.take_once(assertion, expected, login.first_use)
        remaining = int(assertion.not_on_or_after - login.now)
        upstream: dict[str, Any] = {"access_token": token, "token_type": "WRAP",
                                    "expires_in": min(int(lifetime), remaining) if lifetime else remaining}
        return Identity(user_id=assertion.name_id, attributes=assertion.attributes, upstream_token=upstream)

    def _token_answer(self, username: str, password: str) -> dict[str, str]:
        """The endpoint's success parameters, or its refusal as a ConnectorError."""
        try:
            response = self.client.post(self.url, data={"wrap_name": username, "wrap_password": password,
                                                        "wrap_scope": self.scope})
        except httpx2.TimeoutException:
            raise ConnectorError("temporarily_unavailable", "the identity provider did not answer in time",
                                 debug="the WRAP endpoint timed out") from None
        except httpx2.HTTPError as exc:
            raise ConnectorError("temporarily_unavailable", "the identity provider could not be reached",
                                 debug=f"{type(exc).__name__} calling the WRAP endpoint") from None
        fields = _form(response)
        if response.status_code == 200:
            return _success(fields)
        said = f": {fields['error_description'][:200]}" if fields and fields.get("error_description") else ""
        if response.status_code == 401 and _scheme(response.headers.get("WWW-Authenticate", "")) == "wrap":
            raise ConnectorError("invalid_grant", BAD_CREDENTIALS,
                                 debug=f"the WRAP endpoint refused the credentials{said}")
        if response.status_code == 400 and fields:
            step = next((name for name in _USER_STEPS if fields.get(name)), None)
            if step is not None:
                raise ConnectorError("access_denied", _USER_STEPS[step], debug=f"{step} {fields[step][:200]}")
            raise ConnectorError("server_error", "the identity provider refused the MIC's request",
                                 debug=f"the WRAP endpoint answered 400{said}")
        if response.status_code >= 500:
            raise ConnectorError("temporarily_unavailable", "the identity provider cannot serve logins right now",
                                 debug=f"the WRAP endpoint answered {response.status_code}")
        raise ConnectorError("server_error", "the identity provider answered in a way WRAP does not define",
                             debug=f"the WRAP endpoint answered {response.status_code}"
                                   f"{'' if response.status_code != 401 else ' without WWW-Authenticate: WRAP'}")


def _scheme(challenge: str) -> str:
    """The auth scheme of a WWW-Authenticate challenge (case-insensitive, RFC 9110 11.1)."""
    return challenge.strip().split(" ")[0].lower()


def _form(response: httpx2.Response) -> dict[str, str] | None:
    """A WRAP answer's parameters (7.1: a form in the body), each given once; None if it is not one."""
    if response.headers.get("Content-Type", "").split(";")[0].strip().lower() != FORM \
            or len(response.content) > MAX_ANSWER:
        return None
    try:
        parsed = parse_qs(response.content.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    if any(len(values) > 1 for values in parsed.values()):
        return None
    return {name: values[0] for name, values in parsed.items()}


def _success(fields: dict[str, str] | None) -> dict[str, str]:
    if fields is None or not fields.get("wrap_access_token"):
        raise ConnectorError("server_error", "the identity provider sent an unreadable token answer",
                             debug="the WRAP answer is not a form with one wrap_access_token")
    lifetime = fields.get("wrap_access_token_expires_in")
    if lifetime is not None and not (lifetime.isascii() and lifetime.isdigit() and int(lifetime) > 0):
        raise ConnectorError("server_error", "the identity provider sent an unreadable token answer",
                             debug="wrap_access_token_expires_in is not a number of seconds")
    return fields
