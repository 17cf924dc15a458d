"""OpenLDAP slapd, a real directory: the mock answers as it does, the MIC logs in against it, and it certifies.

slapd (tests/peers/slapd) serves the mock directory's own tree with the memberof and ppolicy
overlays, so every difference between the two is the mock's to fix.
"""
import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from ldap3 import IP_SYSTEM_DEFAULT, NONE, Connection, Server, Tls

from harness import certify, upstream
from harness.fleet import EmbeddedFleet
from mic_reference.connectors import ldap
from mic_reference.connectors.capabilities import ConnectorError
from mock_idps.ldap import create_directory
from peers import slapd
from plumbing.fleet import Fleet
from plumbing.tls import LocalTLS
from test_directory_connectors import ALICE_GROUPS, INJECTIONS, service

ROOT = Path(__file__).resolve().parent.parent
MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))
DECLARATION = ROOT / "harness" / "upstreams" / "openldap.yaml"
BASE, PEOPLE = "dc=example,dc=org", "ou=people,dc=example,dc=org"
#: the cells a directory behind the MIC cannot take part in: they arm its faults
NEEDS_FAULTS = {f"scenarios/directory/{name}::{sid}::http" for name, sid in (
    ("outage.yaml", "ldap-password"), ("outage-login-page.yaml", "ldap-password"),
    ("outage-login-page.yaml", "ldap-refresh"))}

pytestmark = pytest.mark.skipif(not slapd.installed(), reason="OpenLDAP's slapd is not installed (Debian package "
                                                              "slapd, which ./dev installs)")


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    with slapd.running(tmp_path_factory.mktemp("slapd")) as running:
        yield running


@pytest.fixture(scope="module")
def mock_directory():
    tls = LocalTLS()
    plain = create_directory("ldap", tls=tls)
    fleet = Fleet()
    fleet.add_twisted("ldap", lambda urls: plain.server_factory(), scheme="ldap")
    with fleet:
        yield fleet.urls["ldap"], tls.ca_pem().decode()


def person(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def whoami(url: str, name: str, password: str) -> tuple[int, str]:
    """A simple bind and "Who am I?" by OpenLDAP's own client (ldap3 sends no bind with an empty name
    or password): the result code, and who the directory says is bound or its diagnostic text."""
    done = subprocess.run(["ldapwhoami", "-x", "-H", url, "-o", "nettimeout=5", "-D", name, "-w", password],
                          capture_output=True, text=True, timeout=30)
    return done.returncode, done.stdout.strip() or done.stderr.partition("additional info: ")[2].strip()


def observed(url: str, ca_pem: str) -> dict:
    """What a client sees of a directory: bind answers, searches before and after a bind,
    which attributes ``*``, names and ``+`` bring, StartTLS, limits and password protection."""
    host, port = url.removeprefix("ldap://").rstrip("/").split(":")
    server = Server(host, int(port), get_info=NONE, connect_timeout=3, mode=IP_SYSTEM_DEFAULT,
                    tls=Tls(ca_certs_data=ca_pem, validate=ssl.CERT_REQUIRED))

    def answer(connection):
        return connection.result["result"], connection.result["message"]

    def bound(name, password):
        connection = Connection(server, name, password, receive_timeout=3, return_empty_attributes=False)
        connection.bind()
        return connection

    seen: dict = {"binds": {f"{name or '(none)'} / {password or '(none)'}": whoami(url, name, password) for
                            name, password in ((person("alice"), "wonderland"), (person("alice"), "wonderlanD"),
                                               (person("nobody"), "wonderland"), (person("lorina"), "tweedledum"),
                                               (person("edith"), "tweedledee"), ("", ""), ("", "wonderland"),
                                               (person("alice"), ""))}}
    seen["names that are not DNs"] = {name: answer(bound(name, "wonderland")) for name in (
        "not a dn", f"uid=,{PEOPLE}", f"uid=a\x00b,{PEOPLE}", f"uid=a;b,{PEOPLE}", f"uid=#04024869,{PEOPLE}",
        rf"uid=\2a\29\28uid=\2a,{PEOPLE}", f"uid=alice, {PEOPLE}")}
    seen["password policy control"] = {}
    for name, password in ((person("alice"), "wonderland"), (person("alice"), "x"), (person("lorina"), "tweedledum"),
                           (person("edith"), "tweedledee"), (person("edith"), "x"), (person("nobody"), "x")):
        asking = Connection(server, name, password, receive_timeout=3)
        asking.open()
        asking.bind(controls=[(ldap.PASSWORD_POLICY, False, None)])
        seen["password policy control"][f"{name} / {password}"] = (
            asking.result["result"], (asking.result.get("controls") or {}).get(ldap.PASSWORD_POLICY, {}).get("value"))
    anonymous = Connection(server, receive_timeout=3)
    anonymous.open()
    seen["starttls before a bind"] = anonymous.start_tls()
    for base, scope in ((BASE, "SUBTREE"), ("", "BASE")):
        anonymous.search(base, "(objectClass=*)", search_scope=scope)
        seen[f"search of '{base}' before a bind"] = answer(anonymous)
    reader = bound(*slapd.SERVICE)

    def attributes(search_filter, asked):
        reader.search(BASE, search_filter, attributes=asked)
        return {item["dn"]: sorted(item["raw_attributes"]) for item in reader.response}

    operational = {"memberOf", "pwdAccountLockedTime", "pwdChangedTime"}
    people = "(|(uid=alice)(uid=lorina)(uid=edith))"
    seen["*"] = attributes(people, ["*"])
    seen["* and memberOf"] = attributes(people, ["*", "memberOf"])
    seen["+ (those of the mock's)"] = {dn: sorted(operational & set(names))
                                      for dn, names in attributes(people, ["+"]).items()}
    reader.search(BASE, "(uid=alice)", attributes=["memberOf"])
    seen["alice's groups"] = sorted(reader.response[0]["raw_attributes"]["memberOf"])
    seen["members of admins"] = sorted(attributes("(memberOf=cn=admins,ou=groups,dc=example,dc=org)", ["1.1"]))
    seen["by password"] = attributes("(userPassword=builder)", ["uid"])
    reader.compare(person("alice"), "userPassword", "wonderland")
    seen["compare a password"] = reader.result["result"]
    reader.search(BASE, "(objectClass=*)", size_limit=2)
    seen["size limit 2"] = (reader.result["result"], len(reader.response))
    reader.search(f"ou=nowhere,{BASE}", "(uid=alice)")
    seen["search under a base that is not there"] = (*answer(reader), reader.result["dn"])
    bob = bound(person("bob"), "builder")
    bob.search(BASE, "(uid=alice)", attributes=["mail"])
    seen["bob reads alice"] = [item["raw_attributes"] for item in bob.response]
    return seen


def test_the_mock_directory_answers_as_slapd_does(directory, mock_directory):
    real = observed(directory.url, directory.ca_pem)
    assert real["alice's groups"] == sorted(group.encode() for group in ALICE_GROUPS)  # the memberof overlay's
    assert observed(*mock_directory) == real


@pytest.fixture
def searching(directory):
    """The demo's ldap-password service, pointed at slapd: a service account, StartTLS."""
    return ldap.build(service("ldap", directory.url, baseDN=PEOPLE, bindDN=slapd.SERVICE[0],
                              bindPassword=slapd.SERVICE[1], startTLS=True, caCertificate=directory.ca_pem,
                              timeout=2), None)


@pytest.fixture
def direct(directory):
    """The demo's ldap-refresh service, pointed at slapd: binds as uid=<name>,baseDN, over StartTLS."""
    return ldap.build(service("ldap", directory.url, baseDN=PEOPLE, startTLS=True, caCertificate=directory.ca_pem,
                              timeout=2), None)


@pytest.mark.parametrize("name", ["searching", "direct"])
def test_the_mic_logs_in_against_slapd_with_the_overlays_member_of_and_ppolicys_reasons(request, name):
    connector = request.getfixturevalue(name)
    alice = connector.password_login("alice", "wonderland")
    assert alice.user_id == "alice" and alice.attributes["mail"] == "alice@example.org"
    assert sorted(alice.attributes["memberOf"]) == ALICE_GROUPS
    assert not {"userPassword", "pwdChangedTime", "entryUUID"} & set(alice.attributes)
    for username, password, error in (("alice", "wrong", "invalid_grant"), ("nobody", "wonderland", "invalid_grant"),
                                      ("lorina", "tweedledum", "access_denied"),  # ppolicy: accountLocked
                                      ("edith", "tweedledee", "access_denied"),  # ppolicy: passwordExpired
                                      *((injected, "wonderland", "invalid_grant") for injected in INJECTIONS)):
        with pytest.raises(ConnectorError) as refused:
            connector.password_login(username, password)
        assert refused.value.error == error, (username, refused.value.debug)


def test_a_service_account_slapd_refuses_is_the_mics_fault(directory):
    misconfigured = ldap.build(service("ldap", directory.url, baseDN=PEOPLE, bindDN=slapd.SERVICE[0],
                                       bindPassword="not-the-secret"), None)
    with pytest.raises(ConnectorError) as refused:
        misconfigured.password_login("alice", "wonderland")
    assert refused.value.error == "server_error" and "service account" in refused.value.debug


def test_through_the_fleet_alices_groups_from_slapd_reach_the_backend_and_data_links(directory, monkeypatch):
    monkeypatch.setenv("LDAP_CA_PEM", directory.ca_pem)
    monkeypatch.setenv("LDAP_BIND_PASSWORD", slapd.SERVICE[1])
    vendor = upstream.load(("ldap", "ad"), directory.url, str(DECLARATION))
    with EmbeddedFleet(upstream=vendor) as fleet, httpx2.Client() as http:
        target = fleet.target
        client_id = target.services["ldap-password"].client_id(target.app_key)
        tokens = http.post(f"{target.mic}/v3/oauth/token", auth=(client_id, target.app_secret), data={
            "grant_type": "password", "client_id": client_id, "username": "alice", "password": "wonderland"})
        assert tokens.status_code == 200, tokens.text
        login = http.post(f"{target.baas}/user/{target.app_key}/login", auth=(target.app_key, target.app_secret),
                          json={"_socialIdentity": {"kinveyAuth": {"access_token": tokens.json()["access_token"],
                                                                   "client_id": client_id}}})
        assert login.status_code == 200, login.text
        kinvey_auth = login.json()["_socialIdentity"]["kinveyAuth"]
        assert kinvey_auth["id"] == "alice" and sorted(kinvey_auth["memberOf"]) == ALICE_GROUPS
        echo = http.get(f"{target.baas}/appdata/{target.app_key}/datalink-echo",
                        headers={"Authorization": f"Kinvey {login.json()['_kmd']['authtoken']}"})
        assert echo.json()["headers"] == {"X-User-Email": "alice@example.org", "X-User-Name": "Alice Liddell"}


def certify_run(directory, package: Path, bind_password: str) -> tuple[subprocess.CompletedProcess, dict]:
    env = {**os.environ, "LDAP_CA_PEM": directory.ca_pem, "LDAP_BIND_PASSWORD": bind_password}
    done = subprocess.run([MIC_HARNESS, "certify", "--profile", "directory-connector", "--connector-url",
                           directory.url, "--connector", str(DECLARATION), "--report", str(package)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)
    return done, json.loads((package / certify.MANIFEST).read_text())


def test_openldap_certifies_under_directory_connector_with_the_worked_declaration(directory, tmp_path):
    done, manifest = certify_run(directory, tmp_path / "package", slapd.SERVICE[1])
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert manifest["verdict"] == "certified" and manifest["refusals"] == [] and manifest["unmapped"] == []
    assert set(manifest["target"]["services"]) == {"ldap-password", "ldap-refresh"}
    assert all(cell["outcome"] == "passed" for cell in manifest["cells"] if cell["required"]), manifest["cells"]
    not_applicable = {cell["id"]: cell["reason"] for cell in manifest["cells"] if not cell["applicable"]}
    assert set(not_applicable) == NEEDS_FAULTS, not_applicable
    assert all("control surface" in reason for reason in not_applicable.values())
    ran = {cell["id"] for cell in manifest["cells"] if cell["outcome"] == "passed"}
    assert {"scenarios/directory/attributes.yaml::ldap-password::http",  # memberOf reaches kinveyAuth
            "scenarios/directory/attributes.yaml::ldap-refresh::http",
            "scenarios/directory/refusals.yaml::ldap-password::http"} <= ran  # ppolicy's locked and expired
    assert slapd.SERVICE[1] not in (tmp_path / "package" / certify.MANIFEST).read_text()


def test_a_declaration_with_the_wrong_service_account_password_is_refused(directory, tmp_path):
    done, manifest = certify_run(directory, tmp_path / "package", "not-the-secret")
    assert done.returncode != 0 and manifest["verdict"] == "refused"
    refused = "\n".join(manifest["refusals"])
    for cell in ("scenarios/login/password-grant.yaml::ldap-password::http",
                 "scenarios/directory/refusals.yaml::ldap-password::http",
                 "scenarios/directory/attributes.yaml::ldap-password::http"):
        assert cell in refused and cell in done.stdout
    assert "ldap-refresh" not in refused  # it binds as the user, with no service account: still right
