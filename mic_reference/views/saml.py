"""The MIC as a SAML service provider: its metadata, its assertion consumer, its logout.

The entity id is ``kinvey-mobile-identity-connect`` in v1 (and with no version in the
path) and ``<MIC base>/kinvey-mobile-identity-connect`` from v2 on; the assertion
consumer is ``/v1/saml/assertion``, ``/v2/saml/assertion/`` or ``/v3/saml/assertion``.
A login uses the forms of the MIC API version the app called ``/oauth/auth`` with.
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request
from saml2 import BINDING_HTTP_POST, config as saml_config
from saml2.metadata import entity_descriptor

from ..connectors.capabilities import ConnectorError, SamlLogin
from .common import VERSION_PREFIXES, absolute, finish_login, mic, remember, resumed_request, unknown_login

bp = Blueprint("saml", __name__, template_folder="../templates")

ENTITY = "kinvey-mobile-identity-connect"
ACS_PATHS = {"v1": "/v1/saml/assertion", "v2": "/v2/saml/assertion/", "v3": "/v3/saml/assertion"}


def version_of(path: str) -> str:
    """The MIC API version a path was called under (v1 when it names none)."""
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in ACS_PATHS else "v1"


def entity_id(version: str) -> str:
    return ENTITY if version == "v1" else absolute(f"/{ENTITY}")


def acs_url(version: str) -> str:
    return absolute(ACS_PATHS[version])


def begin(connector: SamlLogin, params: dict[str, str]):
    """Send the browser to the IdP with an AuthnRequest for this authorization request."""
    version = version_of(request.path)
    ref = remember(params, acs_url(version))
    sent = connector.authn_request(entity_id(version), acs_url(version), ref, mic().vault.clock.now())
    if not sent.fields:
        return redirect(sent.url, code=302)
    return render_template("saml_post.html", action=sent.url, fields=sent.fields)


def assertion_consumer():
    """The Response the IdP had the browser post: only to a login this MIC began, once."""
    relay_state = request.form.get("RelayState", "")
    if not relay_state:
        return unknown_login("This SAML response answers no login of this MIC (no RelayState): "
                             "IdP-initiated responses are refused; start from the app.")
    pending = mic().vault.take_pending(relay_state)
    if pending is None or pending.callback_url is None or urlsplit(pending.callback_url).path != request.path:
        return unknown_login("This SAML response answers a login that is unknown, expired or already done; "
                             "start again from the app.")
    version = version_of(request.path)

    def log_in(connector):
        if not isinstance(connector, SamlLogin):
            raise ConnectorError("invalid_request", "this auth service does not log in by SAML")
        return connector.complete_post(request.form.to_dict(), entity_id(version), pending.callback_url,
                                       relay_state, mic().vault.clock.now(), mic().vault.first_use)

    return finish_login(resumed_request(pending.params), log_in)


def metadata():
    version = version_of(request.path)
    return Response(_metadata(entity_id(version), acs_url(version)), mimetype="application/samlmetadata+xml")


@lru_cache(maxsize=16)
def _metadata(entity: str, acs: str) -> str:
    config = saml_config.SPConfig().load({"entityid": entity, "service": {"sp": {
        "endpoints": {"assertion_consumer_service": [(acs, BINDING_HTTP_POST)]},
        "name_id_format": ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"],
        "authn_requests_signed": False, "want_assertions_signed": True}}})
    return str(entity_descriptor(config))


def logout():
    """MIC does no SAML single logout: the app's logout ends its backend session, never the IdP's."""
    return jsonify(logged_out=False, description="MIC keeps no SAML session and does no single logout; "
                                                 "the identity provider's session is its own."), 200


for _prefix in VERSION_PREFIXES:
    bp.add_url_rule(f"{_prefix}/saml/metadata", endpoint=f"metadata{_prefix}", view_func=metadata)
    bp.add_url_rule(f"{_prefix}/saml/logout", endpoint=f"logout{_prefix}", view_func=logout,
                    methods=["GET", "POST"])
for _path in ACS_PATHS.values():
    bp.add_url_rule(_path, endpoint=f"acs{_path}", view_func=assertion_consumer, methods=["POST"],
                    strict_slashes=True)
