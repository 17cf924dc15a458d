"""The mock directories behave like real ones, where ldaptor's defaults would let a connector get away with bugs.

They are driven by independent clients: ldap3 and OpenLDAP's ldapsearch.
"""
import os
import shutil
import ssl
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx2
import pytest
from ldap3 import NONE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException as ClientLDAPError
from ldap3.utils.conv import escape_filter_chars

from mock_idps.ldap import create_directory, tree
from plumbing.clock import VirtualClock
from plumbing.fleet import Fleet
from plumbing.tls import LocalTLS

ALICE = "uid=alice,ou=people,dc=example,dc=org"
SERVICE = ("cn=mic-service,ou=services,dc=example,dc=org", "mic-service-secret")
BASE = "dc=example,dc=org"
PASSWORD_POLICY = "1.3.6.1.4.1.42.2.27.8.5.1"  # draft-behera-ldap-password-policy
AD_BASE = "DC=corp,DC=example"


@pytest.fixture(scope="module")
def local_tls():
    return LocalTLS()


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def directories(clock, local_tls):
    """Both flavours on the reactor thread (plain with StartTLS, and LDAPS), each with its control surface."""
    ldap = create_directory("ldap", clock=clock, test_mode=True, tls=local_tls)
    ad = create_directory("active-directory", clock=clock, test_mode=True, tls=local_tls)
    fleet = Fleet()
    fleet.add_twisted("ldap", lambda urls: ldap.server_factory(), scheme="ldap")
    fleet.add_twisted("ldaps", lambda urls: ldap.ldaps_factory(), scheme="ldaps")
    fleet.add_twisted("ad", lambda urls: ad.server_factory(), scheme="ldap")
    fleet.add("ldap-control", lambda urls: ldap.control_app())
    fleet.add("ad-control", lambda urls: ad.control_app())
    with fleet:
        yield fleet.urls


def server(url, **options):
    scheme, _, rest = url.partition("://")
    host, port = rest.split(":")
    return Server(host, int(port), use_ssl=scheme == "ldaps", get_info=NONE, connect_timeout=3, **options)


def bind(url, user, password, **options):
    connection = Connection(server(url, **options), user, password, receive_timeout=3)
    connection.bind()
    return connection


def result_of(connection):
    return connection.result["result"], connection.result["message"]


def arm(control, **spec):
    response = httpx2.post(f"{control}/_control/faults", json=spec)
    assert response.status_code == 201, response.text
    return response.json()


def logged(control, path):
    return httpx2.get(f"{control}/_control/requests", params={"path": path}).json()["requests"]


# -- binds ---------------------------------------------------------------------------

def test_ssha_and_plaintext_passwords_bind_and_wrong_ones_get_49(directories):
    assert bind(directories["ldap"], ALICE, "wonderland").bound  # {SSHA}
    assert bind(directories["ldap"], "uid=bob,ou=people,dc=example,dc=org", "builder").bound  # plaintext
    wrong = bind(directories["ldap"], ALICE, "wonderlanD")
    assert not wrong.bound and result_of(wrong)[0] == 49
    unknown = bind(directories["ldap"], "uid=nobody,ou=people,dc=example,dc=org", "wonderland")
    assert result_of(unknown)[0] == 49  # the same answer: no account enumeration


def test_anonymous_and_passwordless_binds_are_refused(directories):
    anonymous = bind(directories["ldap"], "", "")
    assert not anonymous.bound and result_of(anonymous) == (48, "anonymous bind disallowed")
    name_only = _ldapsearch(directories["ldap"], "-D", ALICE, "-w", "", "-b", BASE, "(uid=alice)")
    assert name_only.returncode == 53 and "unauthenticated bind" in name_only.stderr  # RFC 4513 5.1.2
    password_only = _ldapsearch(directories["ldap"], "-D", "", "-w", "wonderland", "-b", BASE, "(uid=alice)")
    assert password_only.returncode == 49


def test_a_bind_name_that_is_no_dn_is_invalid_dn_syntax_on_ldap(directories):
    for name in ("not a dn", "uid=,ou=people,dc=example,dc=org", "uid=a\x00b,ou=people,dc=example,dc=org",
                 "uid=a;b,ou=people,dc=example,dc=org"):
        assert result_of(bind(directories["ldap"], name, "wonderland")) == (34, "invalid DN"), name
    assert result_of(bind(directories["ldap"], r"uid=\2a\29\28uid=\2a,ou=people,dc=example,dc=org", "x"))[0] == 49


def test_who_am_i_names_the_bound_user_as_each_directory_does(directories):
    assert bind(directories["ldap"], ALICE, "wonderland").extend.standard.who_am_i() == f"dn:{ALICE}"
    assert bind(directories["ad"], "alice@corp.example", "wonderland").extend.standard.who_am_i() == "u:CORP\\alice"


def test_locked_and_expired_accounts_get_a_bare_49_even_with_the_right_password_and_expiry_follows_the_clock(
        directories, clock):
    lorina, edith = "uid=lorina,ou=people,dc=example,dc=org", "uid=edith,ou=people,dc=example,dc=org"
    assert result_of(bind(directories["ldap"], lorina, "tweedledum")) == (49, "")
    assert result_of(bind(directories["ldap"], edith, "tweedledee")) == (49, "")  # changed 2020, pwdMaxAge 1 year
    clock.set(datetime(2020, 6, 1, tzinfo=timezone.utc).timestamp())
    assert bind(directories["ldap"], edith, "tweedledee").bound
    assert not bind(directories["ldap"], lorina, "tweedledum").bound  # 000001010000Z: until an administrator acts


@pytest.mark.parametrize("user, password, value", [
    ("alice", "wonderland", b"0\x00"), ("alice", "wrong", b"0\x00"), ("lorina", "wrong", b"0\x03\x81\x01\x01"),
    ("edith", "tweedledee", b"0\x03\x81\x01\x00"), ("edith", "wrong", b"0\x00"), ("nobody", "wrong", None)])
def test_the_password_policy_control_says_why_a_bind_was_refused_as_ppolicy_does(directories, user, password, value):
    connection = Connection(server(directories["ldap"]), f"uid={user},ou=people,dc=example,dc=org", password)
    connection.open()
    connection.bind(controls=[(PASSWORD_POLICY, False, None)])
    assert (connection.result.get("controls") or {}).get(PASSWORD_POLICY, {}).get("value") == value
    ad = Connection(server(directories["ad"]), "lorina@corp.example", "tweedledum")
    ad.open()
    ad.bind(controls=[(PASSWORD_POLICY, False, None)])
    assert ad.result["result"] == 49 and not ad.result.get("controls")  # AD says why in its own words


def test_a_lockout_ends_after_the_policys_duration_on_the_directorys_clock(tmp_path, clock):
    ldif = (Path(tree.__file__).with_name("fixtures") / "ldap.ldif").read_text()
    ldif = ldif.replace("pwdLockout: TRUE", "pwdLockout: TRUE\npwdLockoutDuration: 600")
    ldif = ldif.replace("pwdAccountLockedTime: 000001010000Z", "pwdAccountLockedTime: 20300101000000Z")
    (tmp_path / "tree.ldif").write_text(ldif)
    timed = create_directory("ldap", tmp_path / "tree.ldif", clock=clock)
    fleet = Fleet()
    fleet.add_twisted("ldap", lambda urls: timed.server_factory(), scheme="ldap")
    with fleet:
        lorina = "uid=lorina,ou=people,dc=example,dc=org"
        clock.set(datetime(2030, 1, 1, 0, 9, tzinfo=timezone.utc).timestamp())
        assert result_of(bind(fleet.urls["ldap"], lorina, "tweedledum"))[0] == 49
        clock.advance(60)
        assert bind(fleet.urls["ldap"], lorina, "tweedledum").bound


# -- searches --------------------------------------------------------------------------

def test_no_search_before_a_bind_and_on_ldap_not_even_of_the_root_dse(directories):
    connection = Connection(server(directories["ldap"]))
    connection.open()
    for base, scope in ((BASE, "SUBTREE"), ("", "BASE")):
        assert not connection.search(base, "(objectClass=*)", search_scope=scope)
        assert result_of(connection) == (53, "authentication required")  # slapd's "require authc"
    connection.rebind(*SERVICE)
    assert connection.search("", "(objectClass=*)", search_scope="BASE", attributes=["*", "+"])
    root = connection.response[0]["raw_attributes"]
    assert root["namingContexts"] == [BASE.encode()]
    assert root["supportedExtension"] == [b"1.3.6.1.4.1.1466.20037", b"1.3.6.1.4.1.4203.1.11.3"]  # StartTLS, whoami
    assert root["supportedFeatures"] == [b"1.3.6.1.4.1.4203.1.5.1"]  # "+" (RFC 3673)
    ad = Connection(server(directories["ad"]))
    ad.open()
    assert ad.search("", "(objectClass=*)", search_scope="BASE", attributes=["defaultNamingContext"])
    assert not ad.search(AD_BASE, "(objectClass=user)")
    assert ad.result["result"] == 1 and "000004DC" in ad.result["message"]


def test_passwords_are_never_returned_nor_searchable(directories):
    connection = bind(directories["ldap"], *SERVICE)
    assert connection.search(BASE, "(uid=alice)", attributes=["*", "userPassword"])
    attributes = connection.response[0]["raw_attributes"]
    assert attributes["mail"] == [b"alice@example.org"] and not attributes.get("userPassword")
    assert not connection.search(BASE, "(userPassword=builder)") and not connection.entries
    assert not connection.search(BASE, "(|(uid=nobody)(userPassword=*))") and not connection.entries
    assert connection.compare(ALICE, "mail", "alice@example.org")
    assert not connection.compare(ALICE, "userPassword", "wonderland") and connection.result["result"] == 50


def test_member_of_and_the_password_policy_state_are_operational_on_ldap_and_member_of_is_not_on_ad(directories):
    connection = bind(directories["ldap"], *SERVICE)
    groups = [b"cn=admins,ou=groups,dc=example,dc=org", b"cn=wonderland-staff,ou=groups,dc=example,dc=org"]
    for asked, shown in ((["*"], set()), (["*", "memberOf"], {"memberOf"}), (["memberof"], {"memberOf"}),
                         (["+"], {"memberOf", "pwdAccountLockedTime"}), (["1.1"], set())):
        connection.search(BASE, "(|(uid=alice)(uid=lorina))", attributes=asked)
        found = {name for item in connection.response for name in item["raw_attributes"]}
        assert found & {"memberOf", "pwdAccountLockedTime"} == shown, asked
        assert ("mail" in found) == ("*" in asked), asked
    connection.search(BASE, "(uid=alice)", attributes=["memberOf"])
    assert connection.response[0]["raw_attributes"]["memberOf"] == groups
    connection.search(BASE, "(memberOf=cn=admins,ou=groups,dc=example,dc=org)", attributes=["uid"])
    assert [item["raw_attributes"]["uid"] for item in connection.response] == [[b"alice"]]
    ad = bind(directories["ad"], "alice@corp.example", "wonderland")
    ad.search(AD_BASE, "(sAMAccountName=alice)", attributes=["*"])
    assert b"CN=Domain Admins,CN=Users,DC=corp,DC=example" in ad.response[0]["raw_attributes"]["memberOf"]


def test_an_escaped_filter_is_a_name_not_an_injection(directories):
    connection = bind(directories["ldap"], *SERVICE)
    assert connection.search(BASE, "(&(objectClass=inetOrgPerson)(uid=*))") and len(connection.entries) == 4
    escaped = escape_filter_chars("*)(uid=*")
    assert not connection.search(BASE, f"(&(objectClass=inetOrgPerson)(uid={escaped}))")
    assert logged(directories["ldap-control"], "/search")[-1]["body"]["filter"] == \
        r"(&(objectClass=inetOrgPerson)(uid=\2a\29\28uid=\2a))"


def test_a_search_under_a_base_that_is_not_there_names_where_the_tree_stops_and_nothing_else(directories):
    connection = bind(directories["ldap"], *SERVICE)
    assert not connection.search(f"uid=x,ou=nowhere,{BASE}", "(uid=alice)")
    assert result_of(connection) == (32, "") and connection.result["dn"] == BASE


def test_size_limits_the_client_asks_for_and_the_servers_own(directories, clock, local_tls):
    connection = bind(directories["ldap"], *SERVICE)
    assert connection.search(BASE, "(objectClass=*)", size_limit=2)
    assert len(connection.entries) == 2 and result_of(connection)[0] == 4  # sizeLimitExceeded
    small = create_directory("ldap", clock=clock, test_mode=True, size_limit=3)
    fleet = Fleet()
    fleet.add_twisted("ldap", lambda urls: small.server_factory(), scheme="ldap")
    with fleet:
        connection = bind(fleet.urls["ldap"], *SERVICE)
        connection.search(BASE, "(objectClass=*)", size_limit=100)
        assert len(connection.entries) == 3 and result_of(connection)[0] == 4


def test_a_search_slower_than_its_time_limit_ends_with_time_limit_exceeded(directories):
    arm(directories["ldap-control"], path="/search", delay=5)
    connection = bind(directories["ldap"], *SERVICE)
    began = time.monotonic()
    connection.search(BASE, "(uid=alice)", time_limit=1)
    assert result_of(connection)[0] == 3 and time.monotonic() - began < 3


def test_the_directory_is_read_only(directories):
    connection = bind(directories["ldap"], *SERVICE)
    assert not connection.add("uid=mallory,ou=people,dc=example,dc=org", "inetOrgPerson",
                              {"cn": "Mallory", "sn": "M", "userPassword": "x"})
    assert connection.result["result"] == 50


# -- Active Directory --------------------------------------------------------------------

def test_ad_binds_by_upn_by_domain_account_and_by_dn(directories):
    for name in ("alice@corp.example", "CORP\\alice", "corp\\ALICE", "CN=Alice Liddell,CN=Users,DC=corp,DC=example"):
        assert bind(directories["ad"], name, "wonderland").bound, name
    assert not bind(directories["ad"], "OTHER\\alice", "wonderland").bound


@pytest.mark.parametrize("user, password, sub_code", [
    ("alice@corp.example", "wrong", "52e"), ("nobody@corp.example", "wonderland", "52e"),
    ("lorina@corp.example", "tweedledum", "775"), ("lorina@corp.example", "wrong", "775"),
    ("edith@corp.example", "tweedledee", "532"), ("erin@corp.example", "erin-password", "533"),
    ("frank@corp.example", "frank-password", "773")])
def test_ad_refusals_carry_the_sub_code(directories, user, password, sub_code):
    code, message = result_of(bind(directories["ad"], user, password))
    assert code == 49 and f"AcceptSecurityContext error, data {sub_code}," in message


def test_ad_password_expiry_reads_the_clock_and_never_expiring_passwords_do_not(directories, clock):
    clock.set(datetime(2020, 1, 20, tzinfo=timezone.utc).timestamp())  # 19 days after edith's pwdLastSet
    assert bind(directories["ad"], "edith@corp.example", "tweedledee").bound
    clock.set(datetime(2040, 1, 1, tzinfo=timezone.utc).timestamp())
    assert bind(directories["ad"], "alice@corp.example", "wonderland").bound  # DONT_EXPIRE_PASSWORD


def test_ad_entries_carry_binary_ids_and_member_of(directories):
    connection = bind(directories["ad"], "alice@corp.example", "wonderland")
    assert connection.search(AD_BASE, "(sAMAccountName=alice)",
                             attributes=["objectGUID", "objectSid", "memberOf", "unicodePwd"])
    entry = connection.response[0]["raw_attributes"]
    assert entry["objectGUID"][0] == bytes.fromhex("9827b33ca1c2da52a0b116b666cac527")
    assert entry["objectSid"][0][:2] == b"\x01\x05" and not entry.get("unicodePwd")
    assert b"CN=Domain Admins,CN=Users,DC=corp,DC=example" in entry["memberOf"]


# -- TLS -----------------------------------------------------------------------------------

def test_starttls_and_ldaps_present_a_certificate_the_ca_vouches_for(directories, local_tls):
    trusted = Tls(ca_certs_data=local_tls.ca_pem().decode(), validate=ssl.CERT_REQUIRED)
    plain = Connection(server(directories["ldap"], tls=trusted), ALICE, "wonderland")
    plain.open()
    assert plain.start_tls() and plain.bind()
    assert bind(directories["ldaps"], ALICE, "wonderland", tls=trusted).bound
    untrusted = Tls(ca_certs_data=LocalTLS().ca_pem().decode(), validate=ssl.CERT_REQUIRED)
    with pytest.raises(ClientLDAPError):
        bind(directories["ldaps"], ALICE, "wonderland", tls=untrusted)
    assert [e["status"] for e in logged(directories["ldap-control"], "/starttls")] == [0]


def test_starttls_is_refused_by_a_directory_without_a_certificate(clock):
    bare = create_directory("ldap", clock=clock)
    fleet = Fleet()
    fleet.add_twisted("ldap", lambda urls: bare.server_factory(), scheme="ldap")
    with fleet:
        connection = Connection(server(fleet.urls["ldap"], tls=Tls(validate=ssl.CERT_NONE)))
        connection.open()
        with pytest.raises(ClientLDAPError):
            connection.start_tls()


# -- control surface -------------------------------------------------------------------------

def test_the_request_log_shows_binds_and_searches_with_passwords_masked(directories):
    connection = bind(directories["ldap"], *SERVICE)
    connection.search(BASE, "(uid=bob)", attributes=["mail"])
    bind(directories["ldap"], ALICE, "nope")
    binds = logged(directories["ldap-control"], "/bind")
    assert [(b["body"]["name"], b["status"]) for b in binds] == [(SERVICE[0], 0), (ALICE, 49)]
    assert all(b["body"]["password"].startswith("***") for b in binds)
    assert "mic-service-secret" not in httpx2.get(f"{directories['ldap-control']}/_control/requests").text
    search = logged(directories["ldap-control"], "/search")[-1]
    assert search["body"] | {"returned": search["returned"]} == {
        "base": BASE, "scope": "sub", "filter": "(uid=bob)", "attributes": ["mail"], "size_limit": 0,
        "time_limit": 0, "returned": 1}


@pytest.mark.parametrize("result, code", [("busy", 51), ("unavailable", 52), (53, 53)])
def test_a_result_code_fault_answers_in_the_directorys_stead(directories, result, code):
    arm(directories["ldap-control"], path="/bind", result=result, times=1)
    assert result_of(bind(directories["ldap"], ALICE, "wonderland"))[0] == code
    assert bind(directories["ldap"], ALICE, "wonderland").bound  # times: 1


def test_a_slow_bind_a_dropped_connection_and_a_directory_that_is_down(directories):
    control = directories["ldap-control"]
    arm(control, path="/bind", delay=0.5, times=1)
    began = time.monotonic()
    assert bind(directories["ldap"], ALICE, "wonderland").bound and time.monotonic() - began >= 0.5
    arm(control, path="/bind", drop=True, times=1)
    with pytest.raises(ClientLDAPError):
        bind(directories["ldap"], ALICE, "wonderland")
    arm(control, path="/connect", drop=True)
    with pytest.raises(ClientLDAPError):
        bind(directories["ldap"], ALICE, "wonderland")
    assert httpx2.delete(f"{control}/_control/faults").json() == {"cleared": 1}
    assert bind(directories["ldap"], ALICE, "wonderland").bound
    arm(control, path="/connect", delay=0.5, times=1)  # a slow accept
    began = time.monotonic()
    assert bind(directories["ldap"], ALICE, "wonderland").bound and time.monotonic() - began >= 0.5


def test_a_result_for_every_operation_first_strikes_the_connection_with_a_notice_of_disconnection(directories):
    arm(directories["ldap-control"], path="/*", result="unavailable", message="shutting down", times=1)
    with pytest.raises(ClientLDAPError):
        bind(directories["ldap"], ALICE, "wonderland")
    assert logged(directories["ldap-control"], "/connect")[-1]["status"] == 52
    assert bind(directories["ldap"], ALICE, "wonderland").bound


@pytest.mark.parametrize("spec, complaint", [
    ({"path": "/oauth/token", "result": "busy"}, "LDAP operation"),
    ({"path": "/bind", "result": "no-such-code"}, "result is an LDAP result code"),
    ({"path": "/bind"}, "needs a result"),
    ({"path": "/bind", "status": 503}, "unknown fault field")])
def test_a_fault_the_directory_cannot_honour_is_refused_clearly(directories, spec, complaint):
    response = httpx2.post(f"{directories['ldap-control']}/_control/faults", json=spec)
    assert response.status_code == 400 and complaint in response.json()["error_description"]


def test_the_control_surface_moves_the_directorys_clock(directories):
    control = directories["ad-control"]
    before = httpx2.get(f"{control}/_control/clock").json()["now"]
    httpx2.post(f"{control}/_control/clock", json={"set": "2020-01-10T00:00:00Z"})
    assert bind(directories["ad"], "edith@corp.example", "tweedledee").bound
    assert httpx2.get(f"{control}/_control/clock").json()["now"] < before


# -- independent client, fixtures ---------------------------------------------------------------

@pytest.mark.skipif(shutil.which("ldapsearch") is None, reason="needs ldapsearch (Debian ldap-utils)")
def test_ldapsearch_finds_alice_without_her_password(directories):
    found = _ldapsearch(directories["ldap"], "-D", SERVICE[0], "-w", SERVICE[1], "-b", BASE, "(uid=alice)")
    assert found.returncode == 0, found.stderr
    assert f"dn: {ALICE}" in found.stdout and "mail: alice@example.org" in found.stdout
    assert "userPassword" not in found.stdout and "# numEntries: 1" in found.stdout
    ad = _ldapsearch(directories["ad"], "-D", "CORP\\bob", "-w", "builder", "-b", AD_BASE,
                     "(userPrincipalName=bob@corp.example)", "memberOf")
    assert "memberOf: CN=Wonderland Staff,CN=Users,DC=corp,DC=example" in ad.stdout


def test_a_broken_ldif_fixture_is_named(tmp_path):
    broken = tmp_path / "broken.ldif"
    broken.write_text("dn: dc=example,dc=org\nobjectClass: top\n\ndn: uid=x,ou=missing,dc=example,dc=org\nuid: x\n")
    with pytest.raises(tree.FixtureError, match="broken.ldif"):
        tree.load(broken)


def _ldapsearch(url, *args):
    if shutil.which("ldapsearch") is None:
        pytest.skip("needs ldapsearch (Debian ldap-utils)")
    return subprocess.run(["ldapsearch", "-x", "-H", url, "-o", "nettimeout=5", *args],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(shutil.which("ldapsearch") is None, reason="needs ldapsearch (Debian ldap-utils)")
def test_python_m_mock_idps_ldap_serves_a_directory_that_ldapsearch_reaches_over_starttls(tmp_path):
    ca_file = tmp_path / "ca.pem"
    process = subprocess.Popen([sys.executable, "-m", "mock_idps.ldap", "--flavour", "active-directory", "--port", "0",
                                "--control-port", "0", "--ca-file", str(ca_file)],
                               stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        url = process.stdout.readline().split()[4]
        control = process.stdout.readline().split()[-1].removesuffix("/_control/")
        found = subprocess.run(["ldapsearch", "-x", "-ZZ", "-H", url, "-D", "CORP\\alice", "-w", "wonderland",
                                "-b", AD_BASE, "(sAMAccountName=alice)", "mail"], capture_output=True, text=True,
                               timeout=30, env={**os.environ, "LDAPTLS_CACERT": str(ca_file)})
        assert found.returncode == 0, found.stderr
        assert "mail: alice@corp.example" in found.stdout
        assert [e["status"] for e in logged(control, "/starttls")] == [0]
    finally:
        process.terminate()
        process.wait(timeout=10)
