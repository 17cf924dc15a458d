"""The MIC's configuration: organizations, apps, environments and auth services.

Field names are those the Kinvey console stored (``redirectUri``, ``grantTtl``,
``provider.remoteService``…), so a configuration reads like the console's Service
Catalog. Loaded from YAML; every mistake is reported with the file, line and field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from plumbing import yamlfile

DEMO = Path(__file__).with_name("demo.yaml")

_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"}
_TTL = {"type": "integer", "minimum": 1}
SERVICE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "redirectUri", "allowedAttributes", "provider"],
    "properties": {
        "id": _ID,
        "name": {"type": "string"},
        "redirectUri": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "grantTtl": _TTL,
        "tokenTtl": _TTL,
        "refresh": {"type": "boolean"},
        "refreshTtl": _TTL,
        "allowedAttributes": {"type": "array", "items": {"type": "string"},
                              "description": "must include id and audience"},
        "datalinkHeaderMapping": {"type": "object", "additionalProperties": {"type": "string"}},
        "allowPkcePlain": {"type": "boolean",
                           "description": "accept PKCE's plain method (default: S256 only, RFC 9700 2.1.1), "
                                          "for an app that cannot hash"},
        "mfa": {"enum": ["none", "totp"],
                "description": "a second factor on MIC's own login page (TOTP, enrolled at first login)"},
        "loginPage": {
            "description": "MIC's own login page: styled by a custom CSS, or replaced by a hosted page",
            "type": "object", "additionalProperties": False, "maxProperties": 1,
            "properties": {"customCssUrl": {"type": "string", "pattern": "^https?://"},
                           "hostedLoginPageUrl": {"type": "string", "pattern": "^https?://"}},
        },
        "provider": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {
                "type": {"type": "string"},
                "remoteService": {"type": "string"},
                "options": {"type": "object"},
            },
        },
    },
}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["organizations"],
    "properties": {"organizations": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["id", "apps"],
        "properties": {
            "id": _ID,
            "name": {"type": "string"},
            "services": {"type": "array", "items": SERVICE_SCHEMA,
                         "description": "organization-scoped services its environments may use"},
            "apps": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["id", "environments"],
                "properties": {
                    "id": _ID,
                    "name": {"type": "string"},
                    "environments": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False,
                        "required": ["appKey", "appSecret", "defaultService", "services"],
                        "properties": {
                            "name": {"type": "string"},
                            "appKey": _ID,
                            "appSecret": {"type": "string", "minLength": 8},
                            "defaultService": _ID,
                            "services": {"type": "array", "items": SERVICE_SCHEMA},
                            "useServices": {"type": "array", "items": _ID,
                                            "description": "organization-scoped services this environment uses"},
                        }}},
                }}},
        }}}},
}


#: by provider type, console fields a service of that type defaults differently (``{"grantTtl": 10}``)
Defaults = Mapping[str, Mapping[str, Any]]


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Provider:
    type: str
    remote_service: str | None
    options: dict[str, Any]


@dataclass(frozen=True)
class AuthService:
    """One auth service, with the console's defaults for what it leaves out.

    It belongs to an environment, or to an organization (``scope``) whose environments
    may use it: then a login through one app is good for the others (cross-app SSO).
    """

    id: str
    owner: str  # the environment's app key, or the organization's id
    scope: str  # "environment" or "organization"
    name: str
    redirect_uris: tuple[str, ...]
    allowed_attributes: tuple[str, ...]
    provider: Provider
    grant_ttl: int = 60
    token_ttl: int = 3600
    refresh: bool = True
    refresh_ttl: int = 1209600
    datalink_header_mapping: dict[str, str] = field(default_factory=dict)
    login_page: dict[str, str] = field(default_factory=dict)
    mfa: str = "none"
    allow_pkce_plain: bool = False

    @property
    def key(self) -> str:
        """Unique in the whole configuration (ids are unique only per owner)."""
        return f"{self.scope}:{self.owner}/{self.id}"


@dataclass(frozen=True)
class Environment:
    name: str
    app_key: str
    app_secret: str = field(repr=False)
    default_service: str
    services: dict[str, AuthService]
    app_id: str
    org_id: str
    app_name: str

    def service(self, service_id: str | None) -> AuthService | None:
        return self.services.get(service_id or self.default_service)

    def shares_login_with(self, service: AuthService) -> bool:
        """Cross-app SSO: a token of this organization-scoped service is good in this environment."""
        return service.scope == "organization" and self.services.get(service.id) is service


@dataclass(frozen=True)
class MicConfig:
    environments: dict[str, Environment]
    #: the configuration as written (YAML, or as the admin API last edited it)
    document: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def environment(self, app_key: str) -> Environment | None:
        return self.environments.get(app_key)


def load(path: str | Path = DEMO, variables: dict[str, str] | None = None, *,
         provider_schemas: Mapping[str, dict], service_defaults: Defaults | None = None) -> MicConfig:
    """The configuration in ``path``; each provider block is checked by its connector type's schema."""
    return from_document(yamlfile.load(path, variables or {}), provider_schemas=provider_schemas,
                         service_defaults=service_defaults)


def from_document(document: yamlfile.Document, *, provider_schemas: Mapping[str, dict],
                  service_defaults: Defaults | None = None) -> MicConfig:
    """A configuration from a parsed document; mistakes name the place (file and line when known).

    ``service_defaults`` are, by provider type, the console's values (``grantTtl``…) for
    what a service of that type leaves out, where they differ from every type's.
    """
    defaults = service_defaults or {}
    document.validate(SCHEMA)
    environments: dict[str, Environment] = {}
    for o, org in enumerate(document.data["organizations"]):
        org_where = ("organizations", o)
        shared = _services(document, org_where, org.get("services", []), provider_schemas, defaults,
                           owner=org["id"], scope="organization")
        for a, app in enumerate(org["apps"]):
            for e, env in enumerate(app["environments"]):
                where = org_where + ("apps", a, "environments", e)
                if env["appKey"] in environments:
                    raise document.error(where + ("appKey",), f"appKey {env['appKey']} is used twice")
                services = _services(document, where, env["services"], provider_schemas, defaults,
                                     owner=env["appKey"], scope="environment")
                for u, used in enumerate(env.get("useServices", [])):
                    if used not in shared:
                        raise document.error(where + ("useServices", u),
                                             f"{used} is not a service of organization {org['id']} "
                                             f"({', '.join(shared) or 'it has none'})")
                    if used in services:
                        raise document.error(where + ("useServices", u),
                                             f"{used} is also the id of one of this environment's own services")
                    services[used] = shared[used]
                if env["defaultService"] not in services:
                    raise document.error(where + ("defaultService",),
                                         f"defaultService {env['defaultService']} is not one of this "
                                         f"environment's services ({', '.join(services) or 'none'})")
                environments[env["appKey"]] = Environment(
                    name=env.get("name", env["appKey"]), app_key=env["appKey"], app_secret=env["appSecret"],
                    default_service=env["defaultService"], services=services, app_id=app["id"], org_id=org["id"],
                    app_name=app.get("name", app["id"]))
    return MicConfig(environments, document.data)


def _services(document: yamlfile.Document, where: tuple, raws: list[dict[str, Any]],
              provider_schemas: Mapping[str, dict], defaults: Defaults, *, owner: str,
              scope: str) -> dict[str, AuthService]:
    services: dict[str, AuthService] = {}
    for s, raw in enumerate(raws):
        if raw["id"] in services:
            raise document.error(where + ("services", s, "id"), f"service id {raw['id']} is used twice")
        missing = [name for name in ("id", "audience") if name not in raw["allowedAttributes"]]
        if missing:
            raise document.error(where + ("services", s, "allowedAttributes"),
                                 f"allowedAttributes must include id and audience (missing: {', '.join(missing)})")
        _check_provider(document, where + ("services", s, "provider"), provider_schemas)
        services[raw["id"]] = _service(raw, owner, scope, defaults)
    return services


def _check_provider(document: yamlfile.Document, at: tuple, schemas: Mapping[str, dict]) -> None:
    kind = document.get(at)["type"]
    if kind not in schemas:
        raise document.error(at + ("type",), f"unknown provider type '{kind}'; "
                                             f"installed connector types: {', '.join(sorted(schemas)) or 'none'}")
    document.validate(schemas[kind], at=at)


def _service(raw: dict[str, Any], owner: str, scope: str, defaults: Defaults) -> AuthService:
    provider = raw["provider"]
    raw = {**defaults.get(provider["type"], {}), **raw}
    optional = {key: raw[source] for source, key in (
        ("grantTtl", "grant_ttl"), ("tokenTtl", "token_ttl"), ("refresh", "refresh"),
        ("refreshTtl", "refresh_ttl"), ("datalinkHeaderMapping", "datalink_header_mapping"),
        ("loginPage", "login_page"), ("mfa", "mfa"), ("allowPkcePlain", "allow_pkce_plain")) if source in raw}
    return AuthService(
        id=raw["id"], owner=owner, scope=scope, name=raw.get("name", raw["id"]), redirect_uris=tuple(raw["redirectUri"]),
        allowed_attributes=tuple(raw["allowedAttributes"]),
        provider=Provider(provider["type"], provider.get("remoteService"), dict(provider.get("options", {}))),
        **optional)
