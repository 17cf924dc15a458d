"""The admin API: the console's Service Catalog, over REST, with the configuration's field names.

Services are read, created, replaced and deleted while the MIC runs; every change is
validated as a whole configuration first (a mistake names the field and changes
nothing), then the configuration and its connectors are swapped in at once. Secrets
are masked on the way out; a masked secret sent back unchanged keeps the stored one.
Each change is saved in the vault as a new revision, and the newest revision is the
configuration the MIC starts with; ``DELETE /admin/config`` forgets them and goes back
to the file.
"""
from __future__ import annotations

import copy
import secrets
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from plumbing.masking import MASKED, is_secret_name, mask, mask_fields
from plumbing.yamlfile import Document, YamlError

from . import config as mic_config
from . import connectors

bp = Blueprint("admin", __name__, url_prefix="/admin")


class AdminError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@bp.errorhandler(AdminError)
def _admin_error(exc: AdminError):
    return jsonify(error=exc.error, error_description=exc.description), exc.status


@bp.before_request
def _authenticate() -> None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected = current_app.extensions["mic_admin_token"]
    if scheme != "Bearer" or not secrets.compare_digest(token.encode(), expected.encode()):
        raise AdminError(401, "invalid_token", "the admin API wants 'Authorization: Bearer <admin token>'")


def _document() -> dict[str, Any]:
    return current_app.extensions["mic"].clients.config.document


def _owner(document: dict[str, Any], kind: str, owner_id: str) -> dict[str, Any]:
    """The organization or environment (by app key) whose services are addressed."""
    for org in document["organizations"]:
        if kind == "organizations" and org["id"] == owner_id:
            return org
        for app in org["apps"]:
            for environment in app["environments"]:
                if kind == "environments" and environment["appKey"] == owner_id:
                    return environment
    raise AdminError(404, "not_found", f"no {kind[:-1]} {owner_id}")


def _find(owner: dict[str, Any], service_id: str) -> dict[str, Any]:
    for service in owner.get("services", []):
        if service["id"] == service_id:
            return service
    raise AdminError(404, "not_found", f"no service {service_id} here")


@bp.get("/config")
def whole_configuration():
    return jsonify(mask_fields(_document()))


@bp.delete("/config")
def back_to_the_file():
    """Forget every saved revision and serve the configuration file again."""
    mic = current_app.extensions["mic"]
    try:
        config = current_app.extensions["mic_config_file"]()
    except YamlError as exc:
        raise AdminError(409, "invalid_request", f"the configuration file does not load: {exc}") from None
    forgotten = mic.vault.forget_configurations()
    mic.clients.reconfigure(config, connectors.build_all(config, mic.upstream))
    return jsonify(forgotten=forgotten)


@bp.get("/<any(environments,organizations):kind>/<owner_id>/services")
def list_services(kind: str, owner_id: str):
    owner = _owner(_document(), kind, owner_id)
    listing = {"services": mask_fields(owner.get("services", []))}
    if kind == "environments":
        listing |= {"useServices": owner.get("useServices", []), "defaultService": owner["defaultService"]}
    return jsonify(listing)


@bp.get("/<any(environments,organizations):kind>/<owner_id>/services/<service_id>")
def get_service(kind: str, owner_id: str, service_id: str):
    return jsonify(mask_fields(_find(_owner(_document(), kind, owner_id), service_id)))


@bp.put("/<any(environments,organizations):kind>/<owner_id>/services/<service_id>")
def put_service(kind: str, owner_id: str, service_id: str):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise AdminError(400, "invalid_request", "the body must be a JSON object: an auth service")
    if body.setdefault("id", service_id) != service_id:
        raise AdminError(400, "invalid_request", f"id: the body says {body['id']}, the path {service_id}")
    document = copy.deepcopy(_document())
    owner = _owner(document, kind, owner_id)
    services = owner.setdefault("services", [])
    existing = next((s for s in services if s["id"] == service_id), None)
    _keep_unchanged_secrets(body, existing or {})
    if existing is not None:
        services[services.index(existing)] = body
    else:
        services.append(body)
    _apply(document)
    return jsonify(mask_fields(body)), 200 if existing is not None else 201


@bp.delete("/<any(environments,organizations):kind>/<owner_id>/services/<service_id>")
def delete_service(kind: str, owner_id: str, service_id: str):
    document = copy.deepcopy(_document())
    owner = _owner(document, kind, owner_id)
    owner["services"].remove(_find(owner, service_id))
    _apply(document)
    return "", 204


def _keep_unchanged_secrets(new: Any, old: Any, at: str = "") -> None:
    """A secret sent back as it was shown (masked) means: keep the stored one. A mask that is
    not the stored secret's (shown by an earlier MIC process, whose masks had another key)
    is refused rather than stored as the secret."""
    if isinstance(new, dict):
        old = old if isinstance(old, dict) else {}
        for key, value in new.items():
            where = f"{at}.{key}" if at else key
            if is_secret_name(key) and isinstance(value, str) and MASKED.fullmatch(value):
                if key not in old or value != mask(old[key]):
                    raise AdminError(400, "invalid_request", f"{where}: a masked value that is not the stored "
                                                             "secret's; send the secret itself")
                new[key] = old[key]
            else:
                _keep_unchanged_secrets(value, old.get(key), where)


def _apply(document: dict[str, Any]) -> None:
    """Validate the whole configuration, then swap it and its connectors in together."""
    mic = current_app.extensions["mic"]
    try:
        config = mic_config.from_document(Document("admin API", document),
                                          provider_schemas=connectors.provider_schemas(),
                                          service_defaults=connectors.service_defaults())
    except YamlError as exc:
        raise AdminError(400, "invalid_request", exc.message) from None
    built = connectors.build_all(config, mic.upstream)
    mic.vault.save_configuration(document)  # first: a crash after it restarts with the change
    mic.clients.reconfigure(config, built)
