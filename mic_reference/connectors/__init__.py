"""Connectors: how the MIC authenticates a user against an upstream identity source.

A connector type is a module registered under the ``mic_reference.connectors`` entry
point group, named by the provider type it serves (``oauth2``). It offers
``PROVIDER_SCHEMA`` (the JSON Schema of its ``provider`` block), ``CALLBACK_PATH`` if
its logins come back to the MIC by redirect, ``SERVICE_DEFAULTS`` if its services default
some console fields otherwise (``{"grantTtl": 10}``), and
``build(service, transport)``, where ``transport`` is the MIC's one HTTP connection
pool for upstream calls. ``build`` returns an object honouring only those interfaces
of ``capabilities`` that the configured service can: the core asks for a capability,
never for a type name.
"""
from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx2

    from ..config import MicConfig

GROUP = "mic_reference.connectors"


@lru_cache(maxsize=1)
def available() -> dict[str, ModuleType]:
    """Every installed connector type, by provider type name."""
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


def callback_paths() -> set[str]:
    """Every path an installed connector type's upstream may redirect back to."""
    return {path for module in available().values() if (path := getattr(module, "CALLBACK_PATH", None))}


def provider_schemas() -> dict[str, dict]:
    return {name: module.PROVIDER_SCHEMA for name, module in available().items()}


def service_defaults() -> dict[str, dict]:
    """By provider type, the console's defaults its services differ in (``SERVICE_DEFAULTS``)."""
    return {name: module.SERVICE_DEFAULTS for name, module in available().items()
            if hasattr(module, "SERVICE_DEFAULTS")}


def build_all(config: "MicConfig", transport: "httpx2.BaseTransport") -> dict[str, object]:
    """A connector for every service of the configuration, by the service's key."""
    types = available()
    services = {s.key: s for env in config.environments.values() for s in env.services.values()}
    return {key: types[service.provider.type].build(service, transport) for key, service in services.items()}
