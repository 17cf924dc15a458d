"""What ``mic-harness serve`` prints: servers, demo apps, auth services and test users."""
from __future__ import annotations

from urllib.parse import urlencode

from .fleet import EmbeddedFleet


def _table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([title, line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


def render(fleet: EmbeddedFleet) -> str:
    target = fleet.target
    servers = [(name, url, f"{url}/_control/" if name in target.surfaces else "")
               for name, url in fleet.urls.items()]
    apps = [("the app", target.app_key, target.app_secret, target.redirect_uri)]
    apps += [(role, key, secret, target.redirect_uri) for role, (key, secret) in target.peers.items()]
    services = []
    for service in target.services.values():
        client_id = service.client_id(target.app_key)
        try_it = "" if "authorization-code" not in service.capabilities else (
            f"{target.mic}/v3/oauth/auth?" + urlencode({"client_id": client_id, "redirect_uri": target.redirect_uri,
                                                        "response_type": "code", "scope": "openid"}))
        services.append((client_id, service.connector, ", ".join(sorted(service.capabilities)), try_it))
    users = [(name, password) for name, password in target.users.items()]
    return "\n\n".join([
        _table("Servers (test mode)", ("server", "url", "control surface"), servers),
        _table("Demo apps", ("role", "app key", "app secret", "redirect uri"), apps),
        _table("Auth services", ("client_id", "connector", "capabilities", "try it in a browser"), services),
        _table("Test users", ("username", "password"), users),
        _table("Admin API (the Service Catalog)", ("url", "authorization"),
               [(f"{target.mic}/admin/config", f"Bearer {fleet.admin_token}")]),
    ])
