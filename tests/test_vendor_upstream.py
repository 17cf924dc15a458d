"""A vendor's upstream by URL: the reference MIC brokers to their server in place of a bundled mock.

The "vendor" here is the mock OAuth2 provider served on its own, outside the harness's
fleet: nothing of it is in-process with the MIC, and the harness reaches it only by URL.
"""
import json
import re
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harness import certify, profiles, upstream
from harness.fleet import planned_target
from mock_idps import oauth2 as oauth2_idp
from plumbing.clock import VirtualClock
from plumbing.fleet import Fleet

ROOT = Path(__file__).resolve().parent.parent
MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def vendor():
    """A third party's OAuth2 provider that knows the MIC only by the port it was told."""
    mic_port = _free_port()
    fleet = Fleet()
    fleet.add("vendor", lambda urls: oauth2_idp.create_app(
        clock=VirtualClock(), variables={"MIC": f"http://127.0.0.1:{mic_port}"}))
    urls = fleet.start()
    yield urls["vendor"], mic_port
    fleet.stop()


#: the one service the vendor's provider backs, as a vendor would type it into the console: every
#: endpoint given in full under the vendor's URL, the port and the secret from the environment
SERVICES = """services:
  oauth2-code:
    provider:
      remoteService: ${CONNECTOR_URL}/oauth/token
      options:
        grantType: authorization-code
        grantEndpoint: ${CONNECTOR_URL}/oauth/authorize
        clientId: mic-demo
        clientSecret: "${VENDOR_SECRET}"
        userIdAttribute: id
        userIdEndpoint: ${CONNECTOR_URL}/api/me
        scope: profile email
"""


def _certify(tmp_path, vendor, declaration: str):
    url, mic_port = vendor
    (tmp_path / "vendor.yaml").write_text(f"mic_port: ${{MIC_PORT}}\n{declaration}{SERVICES}")
    package = tmp_path / "package"
    done = subprocess.run([MIC_HARNESS, "certify", "--profile", "oauth2-connector",
                           "--connector-url", url, "--connector", str(tmp_path / "vendor.yaml"),
                           "--report", str(package)], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "MIC_PORT": str(mic_port), "VENDOR_SECRET": "mic-demo-secret"})
    manifest = json.loads((package / certify.MANIFEST).read_text()) if (package / certify.MANIFEST).exists() else None
    return done, manifest


def test_a_vendors_provider_certifies_by_url_and_its_uncontrollable_cells_are_not_applicable(tmp_path, vendor):
    done, manifest = _certify(tmp_path, vendor, "users: {alice: {password: wonderland}}\n")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert manifest["verdict"] == "certified"
    assert manifest["target"]["upstream"] == {"replaces": "oauth2-idp", "url": vendor[0]}
    assert manifest["target"]["mic"] == f"http://127.0.0.1:{vendor[1]}"
    # the services the declaration does not map are listed, not run
    assert "org-sso" in manifest["unmapped"] and "oauth2-password" in manifest["unmapped"]
    assert "not run: service org-sso (the declaration does not map it)" in manifest["notes"]
    assert {c["id"].split("::")[1] for c in manifest["cells"]} == {"oauth2-code"}
    cells = {c["id"]: c for c in manifest["cells"]}
    assert cells["scenarios/login/authorization-code.yaml::oauth2-code::browser"]["outcome"] == "passed"
    faulted = cells["scenarios/refresh/upstream.yaml::oauth2-code::http"]
    assert faulted["outcome"] == "skipped" and faulted["applicable"] is False and faulted["required"] is False
    assert "wonderland" not in json.dumps(manifest) and "mic-demo-secret" not in json.dumps(manifest)


def test_a_vendors_provider_that_refuses_the_declared_users_is_not_certified(tmp_path, vendor):
    done, manifest = _certify(tmp_path, vendor, "users: {alice: {password: not-what-the-vendor-has}}\n")
    assert done.returncode == 1
    assert manifest["verdict"] == "refused"
    assert any("login/authorization-code.yaml::oauth2-code" in r for r in manifest["refusals"])


def test_the_vendors_server_replaces_the_mock_and_takes_its_services_only():
    vendor = upstream.load(("ldap", "ad"), "ldaps://directory.example.com:636", None)
    target = planned_target(vendor)
    assert {s.upstream for s in target.services.values()} == {"ldap"}
    assert "ldap" not in target.surfaces and "mic" in target.surfaces and target.clocks == ("mic",)


def test_a_declaration_can_choose_among_the_profiles_upstreams_and_gives_users_and_login(tmp_path):
    path = tmp_path / "ad.yaml"
    path.write_text("url: ldaps://ad.example.com\nreplaces: ad\nusers: {alice: {password: s3cret}}\n"
                    "login: {username: user, password: pass, submit: '#go'}\n")
    vendor = upstream.load(("ldap", "ad"), None, str(path))
    target = planned_target(vendor)
    assert {s.upstream for s in target.services.values()} == {"ad"}
    assert target.password_of("alice") == "s3cret"
    assert {s.login.submit for s in target.services.values()} == {"#go"}
    assert "ad" not in target.surfaces


@pytest.mark.parametrize("members, url, text, complaint", [
    ((), "http://idp.example.com", None, "no upstream a vendor's server can replace"),
    (("oauth2-idp",), None, None, "--connector-url URL"),
    (("ldap", "ad"), None, "url: ldap://x\nreplaces: oauth2-idp\n", "'oauth2-idp' is not an upstream of this profile"),
    (("ldap",), None, "url: ftp://x\n", "does not match"),
])
def test_a_vendor_upstream_that_cannot_be_used_says_why(tmp_path, members, url, text, complaint):
    path = None
    if text is not None:
        path = tmp_path / "vendor.yaml"
        path.write_text(text)
    with pytest.raises(Exception) as raised:
        upstream.load(members, url, str(path) if path else None)
    assert complaint in str(raised.value)


def test_connector_url_without_a_connector_profile_is_a_usage_error():
    done = subprocess.run([MIC_HARNESS, "run", "--connector-url", "http://idp.example.com", "scenarios/login"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 4
    assert "need --mic-profile" in done.stderr + done.stdout


def test_every_profile_is_listed_with_what_a_vendor_url_replaces():
    done = subprocess.run([MIC_HARNESS, "list", "--profiles"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    for name in profiles.available():
        assert any(line.startswith(name) for line in done.stdout.splitlines()), name
    assert "oauth2-connector (connectors: oauth2; --connector-url replaces: oauth2-idp)" in done.stdout


@pytest.mark.parametrize("text, complaint", [
    # an option the connector type does not know, at its line
    ("url: ldap://dir.example.org\nservices:\n  ldap-password:\n    provider:\n      remoteService: ldap://x\n"
     "      options: {baseDN: 'dc=x', bindDn: 'cn=y'}\n",
     r"vendor.yaml:6:\d+: unknown key 'bindDn' in services.ldap-password.provider.options"),
    # a service of another upstream
    ("url: ldap://dir.example.org\nservices:\n  ad-password:\n    provider: {remoteService: ldaps://x}\n",
     r"vendor.yaml:3:3: 'ad-password' is not a service that brokers to 'ldap' \(those are: ldap-password, "
     r"ldap-refresh\)"),
    # the port from a variable that is not a number
    ("url: ldap://dir.example.org\nmic_port: ${HOSTNAME_LIKE}\n", r"vendor.yaml:2:11: mic_port: 'mic.example' is not "
     "of type 'integer'"),
    ("url: ldap://dir.example.org\nservices: {ldap-password: {login: {username: u, password: p, submit: s}}}\n",
     r"vendor.yaml:2:27: services.ldap-password is missing 'provider'"),
])
def test_a_broken_declaration_is_named_at_its_file_and_line(tmp_path, monkeypatch, text, complaint):
    monkeypatch.setenv("HOSTNAME_LIKE", "mic.example")
    path = tmp_path / "vendor.yaml"
    path.write_text(text)
    with pytest.raises(Exception) as raised:
        planned_target(upstream.load(("ldap", "ad"), None, str(path)))
    assert re.search(complaint, str(raised.value)), str(raised.value)


def test_a_broken_declaration_stops_certify_as_a_usage_error_with_its_line(tmp_path):
    path = tmp_path / "vendor.yaml"
    path.write_text("url: ${CONNECTOR_URL}\nservices:\n  ldap-password:\n    provider:\n"
                    "      remoteService: ${CONNECTOR_URL}\n      options: {baseDN: 42}\n")
    done = subprocess.run([MIC_HARNESS, "certify", "--profile", "directory-connector", "--connector-url",
                           "ldap://127.0.0.1:1", "--connector", str(path), "--report", str(tmp_path / "p")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 4
    assert re.search(r"vendor.yaml:6:\d+: services.ldap-password.provider.options.baseDN: 42 is not of type "
                     "'string'", done.stderr + done.stdout), done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout


def test_the_declared_provider_replaces_the_demos_and_others_are_left_as_they_are(tmp_path):
    path = tmp_path / "vendor.yaml"
    path.write_text("services:\n  ldap-refresh:\n    provider:\n      remoteService: ${CONNECTOR_URL}\n"
                    "      options: {baseDN: 'ou=staff,dc=corp', loginAttribute: uid}\n")
    vendor = upstream.load(("ldap",), "ldap://dir.example.org:3389/", str(path))
    assert set(planned_target(vendor).services) == {"ldap-refresh"}
    assert vendor.unmapped(planned_target()) == ["ldap-password"]
    document = {"organizations": [{"id": "o", "services": [], "apps": [{"id": "a", "environments": [{
        "appKey": "k", "services": [{"id": "ldap-refresh", "provider": {"type": "ldap", "remoteService": "old",
                                                                        "options": {"bindDN": "cn=old"}}},
                                    {"id": "ldap-password", "provider": {"type": "ldap"}}]}]}]}]}
    services = vendor.configure(document)["organizations"][0]["apps"][0]["environments"][0]["services"]
    assert services[0]["provider"] == {"type": "ldap", "remoteService": "ldap://dir.example.org:3389",
                                       "options": {"baseDN": "ou=staff,dc=corp", "loginAttribute": "uid"}}
    assert services[1] == {"id": "ldap-password", "provider": {"type": "ldap"}}


#: each worked example declaration and the profile it is written for
EXAMPLES = {"example.yaml": "oauth2-connector", "oidc-provider.yaml": "oidc-connector", "saml-idp.yaml": "saml-connector",
            "openldap.yaml": "directory-connector", "samba-ad.yaml": "directory-connector",
            "flexauth.yaml": "flexauth-connector", "facebook.yaml": "facebook-connector"}


def test_there_is_a_worked_example_for_every_kind_of_upstream():
    shipped = {path.name for path in (ROOT / "harness" / "upstreams").glob("*.yaml")}
    assert shipped == set(EXAMPLES)
    replaceable = {member for name in profiles.available() for member in profiles.load(name).upstream}
    assert {_example(name, profile).member for name, profile in EXAMPLES.items()} == replaceable


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_worked_example_declaration_is_valid_for_its_profile(name):
    vendor = _example(name, EXAMPLES[name])
    target = planned_target(vendor)
    assert target.services and all(s.upstream == vendor.member for s in target.services.values())
    assert vendor.users, "a declaration names the vendor's test users"


def _example(name: str, profile: str):
    """The example, loaded with a made-up value for each variable it reads from the environment."""
    path = ROOT / "harness" / "upstreams" / name
    names = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", path.read_text()))
    pem = "-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n"
    values = {n: "18080" if n.endswith("PORT") else "http://vendor.example:8080" if n.endswith(("URL", "ISSUER"))
              else pem if n.endswith(("_CA", "_PEM", "_CERT")) else f"value-of-{n.lower()}"
              for n in names - {"CONNECTOR_URL"}}
    with pytest.MonkeyPatch.context() as patch:
        for n, v in values.items():
            patch.setenv(n, v)
        url = "ldaps://vendor.example:636" if profile == "directory-connector" else "http://vendor.example:8080"
        return upstream.load(profiles.load(profile).upstream, url, str(path))
