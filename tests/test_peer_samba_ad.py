"""Samba's Active Directory domain controller certifies under directory-connector (the active-directory connector).

One DC is provisioned for the module (tests/peers/samba_ad: in a network namespace of its own,
LDAPS with a certificate from a throwaway CA) and stands in for the mock AD behind the
reference MIC, through the worked example declaration harness/upstreams/samba-ad.yaml.
"""
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import trustme
from ldap3 import Connection, Server, Tls

from harness import certify
from mic_reference.config import AuthService, Provider
from mic_reference.connectors import active_directory
from mic_reference.connectors.capabilities import ConnectorError
from mock_idps.ldap import create_directory
from peers.samba_ad import samba_dc
from plumbing.fleet import Fleet
from plumbing.tls import LocalTLS

ROOT = Path(__file__).resolve().parent.parent
MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))
DECLARATION = ROOT / "harness" / "upstreams" / "samba-ad.yaml"
#: the cells that arm faults on the directory (down, slow, busy, a dropped line): a real DC has no
#: control surface, so they are not applicable to it
NOT_APPLICABLE = {"scenarios/directory/outage.yaml::ad-password::http",
                  "scenarios/directory/outage-login-page.yaml::ad-password::http"}


@pytest.fixture(scope="module")
def dc(tmp_path_factory):
    if shutil.which("samba") is None:
        pytest.skip("Samba is not installed (the Debian package samba; ./dev installs it)")
    missing = samba_dc.missing_binaries()
    assert not missing, f"{', '.join(missing)} missing: the set-up installs the Debian packages samba and faketime"
    with samba_dc.running(tmp_path_factory.mktemp("samba-ad")) as running:
        yield running


@pytest.fixture(scope="module")
def mock_ad():
    """The bundled mock AD over LDAPS, as the embedded fleet serves it: (address, port, its CA)."""
    tls = LocalTLS()
    directory = create_directory("active-directory", tls=tls)
    fleet = Fleet()
    fleet.add_twisted("ad", lambda urls: directory.ldaps_factory(), scheme="ldaps")
    with fleet:
        host, port = fleet.urls["ad"].rsplit("//", 1)[1].rsplit(":", 1)
        yield host, int(port), tls.ca_pem().decode()


def connector(dc, url=None, **options):
    options = {"baseDN": samba_dc.BASE_DN, "caCertificate": dc.ca_pem, **options}
    service = AuthService(id="ad", owner="kid_test", scope="environment", name="ad", redirect_uris=("http://app/cb",),
                          provider=Provider("active-directory", url or dc.url, options),
                          allowed_attributes=("id", "mail", "displayName", "sAMAccountName", "memberOf"))
    return active_directory.build(service, None)


def refusal(login, username, password):
    with pytest.raises(ConnectorError) as caught:
        login.password_login(username, password)
    return caught.value


def test_users_log_in_by_each_name_form_with_their_entry(dc):
    login = connector(dc)
    ids = {login.password_login(name, "wonderland").user_id for name in ("alice", "alice@corp.example",
                                                                          "CORP\\alice", "ALICE@CORP.EXAMPLE")}
    assert len(ids) == 1 and re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", ids.pop())
    alice = login.password_login("alice", "wonderland").attributes
    assert alice["mail"] == "alice@corp.example" and alice["displayName"] == "Alice Liddell"
    assert alice["sAMAccountName"] == "alice" and alice["memberOf"] == "CN=readers,CN=Users,DC=corp,DC=example"
    assert alice["objectSid"].startswith("S-1-5-21-")


@pytest.mark.parametrize("username, account", [
    ("carl", "carl"), ("carl@corp.example", "carl"), ("CORP\\carl", "carl"),
    ("dora", "dora"), ("dora@wonderland.example", "dora"), ("dora@corp.example", "dora")])
def test_an_account_whose_upn_is_not_in_the_domain_logs_in_by_the_implicit_one(dc, username, account):
    """AD takes sAMAccountName@<its DNS name> for every account, whatever its UPN (carl has none,
    dora's has another suffix); the entry is found by the name the DC took."""
    found = connector(dc).password_login(username, f"{account}-password").attributes
    assert found["sAMAccountName"] == account
    assert found.get("userPrincipalName") == samba_dc.UPNS[account]


@pytest.mark.parametrize("username, password, error, says", [
    ("lorina", "tweedledum", "access_denied", "locked"), ("edith", "tweedledee", "access_denied", "expired"),
    ("erin", "erin-password", "access_denied", "disabled"), ("frank", "frank-password", "access_denied", "changed"),
    ("alice", "wrong", "invalid_grant", "username or password is not right"),
    ("nobody", "wonderland", "invalid_grant", "username or password is not right")])
def test_the_dcs_reasons_become_the_connectors_sentences(dc, username, password, error, says):
    """Samba answers AD's sub-codes (775, 532, 533, 773, 52e) as the mock AD does."""
    refused = refusal(connector(dc), username, password)
    assert (refused.error, says in refused.description) == (error, True), refused.description


@pytest.mark.parametrize("name, password", [
    ("alice@corp.example", "wonderland"), ("CORP\\bob", "builder"), ("ALICE@CORP.EXAMPLE", "wonderland"),
    ("alice@corp.example", "wrong"), ("nobody@corp.example", "wonderland"), ("OTHER\\alice", "wonderland"),
    ("lorina@corp.example", "tweedledum"), ("lorina@corp.example", "wrong"), ("edith@corp.example", "tweedledee"),
    ("erin@corp.example", "erin-password"), ("frank@corp.example", "frank-password")])
def test_the_mock_ad_answers_binds_as_samba_does(dc, mock_ad, name, password):
    """The same bind, the same result code and AD sub-code (``data NNN``) from both."""
    host, port, ca = mock_ad
    mock = Connection(Server(host, port, use_ssl=True, tls=Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=ca)),
                      name, password, raise_exceptions=False)
    answers = [(c.bind(), c.result["result"], re.findall(r"\bdata (\w+)", c.result["message"]))
               for c in (dc.connection(name, password), mock)]
    assert answers[0] == answers[1], answers


def test_plain_ldap_needs_starttls_for_a_simple_bind(dc):
    plain = f"ldap://{dc.address}"
    assert connector(dc, plain, startTLS=True).password_login("bob", "builder").attributes["sAMAccountName"] == "bob"
    # "ldap server require strong auth": Samba refuses the password in the clear (result 8)
    assert refusal(connector(dc, plain), "bob", "builder").error == "server_error"


def certify_run(dc, package: Path, ca_pem: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SAMBA_AD_CA": ca_pem}
    return subprocess.run([MIC_HARNESS, "certify", "--profile", "directory-connector", "--connector-url", dc.url,
                           "--connector", str(DECLARATION), "--report", str(package)],
                          check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


def test_samba_ad_certifies_under_directory_connector(dc, tmp_path):
    before = dc.binds("alice")
    done = certify_run(dc, tmp_path / "package", dc.ca_pem)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    manifest = json.loads((tmp_path / "package" / certify.MANIFEST).read_text())
    assert manifest["verdict"] == "certified" and manifest["refusals"] == [] and manifest["unmapped"] == []
    outcomes = {cell["id"]: cell["outcome"] for cell in manifest["cells"]}
    assert {cell["id"] for cell in manifest["cells"] if not cell["applicable"]} == NOT_APPLICABLE
    assert all(outcomes[cell] == "passed" for cell in set(outcomes) - NOT_APPLICABLE), outcomes
    # the optional cell too: Samba says why it refused lorina and edith
    assert outcomes["scenarios/directory/account-status.yaml::ad-password::http"] == "passed"
    assert dc.binds("alice") > before  # the DC, not a mock, checked alice's password


def test_a_dc_the_mic_does_not_trust_is_refused_cleanly(dc, tmp_path):
    done = certify_run(dc, tmp_path / "package", trustme.CA().cert_pem.bytes().decode())
    assert done.returncode != 0
    manifest = json.loads((tmp_path / "package" / certify.MANIFEST).read_text())
    assert manifest["verdict"] == "refused"
    assert "scenarios/login/password-grant.yaml::ad-password::http" in "\n".join(manifest["refusals"])
    results = (tmp_path / "package" / "results.json").read_text()
    # the MIC's trust is wrong, not the DC's availability: a server_error naming the certificate
    assert "could not be trusted" in results
    assert "Traceback" not in results
    assert '"status": 500' not in results
