"""The MIC's LDAP and Active Directory connectors against the mock directories, over the wire."""
import re
import time

import httpx2
import pytest

from mic_reference.config import AuthService, Provider
from mic_reference.connectors import active_directory, ldap
from mic_reference.connectors.capabilities import ConnectorError
from mock_idps.ldap import create_directory
from plumbing.clock import VirtualClock
from plumbing.fleet import Fleet
from plumbing.tls import LocalTLS

INJECTIONS = ["*)(uid=*", "admin)(|(a=*", "alice)(uid=*", "*", "alice\\", "alice,ou=people,dc=example,dc=org",
              "alice)(objectClass=*", "\x00alice"]
ALICE_GUID = "3cb32798-c2a1-52da-a0b1-16b666cac527"


@pytest.fixture(scope="module")
def local_tls():
    return LocalTLS()


@pytest.fixture(scope="module")
def directories(local_tls):
    clock = VirtualClock()
    plain = create_directory("ldap", clock=clock, test_mode=True, tls=local_tls)
    ad = create_directory("active-directory", clock=clock, test_mode=True, tls=local_tls)
    fleet = Fleet()
    fleet.add_twisted("ldap", lambda urls: plain.server_factory(), scheme="ldap")
    fleet.add_twisted("ad", lambda urls: ad.ldaps_factory(), scheme="ldaps")
    fleet.add("ldap-control", lambda urls: plain.control_app())
    fleet.add("ad-control", lambda urls: ad.control_app())
    with fleet:
        yield fleet.urls


@pytest.fixture(autouse=True)
def no_faults(directories):
    yield
    for control in ("ldap-control", "ad-control"):
        httpx2.delete(f"{directories[control]}/_control/faults")


#: what the demo's LDAP services map: memberOf among them, which OpenLDAP sends only when asked by name
MAPPED = {"allowed_attributes": ("id", "audience", "mail", "cn", "memberOf"),
          "datalink_header_mapping": {"mail": "X-User-Email", "client_token": "X-Kinvey-Auth"}}
ALICE_GROUPS = ["cn=admins,ou=groups,dc=example,dc=org", "cn=wonderland-staff,ou=groups,dc=example,dc=org"]


def service(kind, url, mapped=MAPPED, **options):
    return AuthService(id="dir", owner="kid_test", scope="environment", name="dir", redirect_uris=("http://app/cb",),
                       provider=Provider(kind, url, options), **mapped)


@pytest.fixture
def searching(directories, local_tls):
    """LDAP with a service account that searches (RFC 4515 filters), over StartTLS."""
    return ldap.build(service("ldap", directories["ldap"], baseDN="ou=people,dc=example,dc=org",
                              bindDN="cn=mic-service,ou=services,dc=example,dc=org", bindPassword="mic-service-secret",
                              startTLS=True, caCertificate=local_tls.ca_pem().decode(), timeout=1), None)


@pytest.fixture
def direct(directories):
    """LDAP binding straight to uid=<name>,<baseDN> (RFC 4514 DNs), in the clear."""
    return ldap.build(service("ldap", directories["ldap"], baseDN="ou=people,dc=example,dc=org", timeout=1), None)


@pytest.fixture
def active(directories, local_tls):
    return active_directory.build(service("active-directory", directories["ad"], baseDN="DC=corp,DC=example",
                                          caCertificate=local_tls.ca_pem().decode(), timeout=1), None)


def refusal(connector, username, password):
    with pytest.raises(ConnectorError) as caught:
        connector.password_login(username, password)
    return caught.value


def log(directories, control, path):
    return httpx2.get(f"{directories[control]}/_control/requests", params={"path": path}).json()["requests"]


def test_ldap_logins_carry_the_entrys_attributes(searching, direct):
    for connector in (searching, direct):
        alice = connector.password_login("alice", "wonderland")
        assert alice.user_id == "alice" and alice.attributes["mail"] == "alice@example.org"
        assert alice.attributes["memberOf"] == ALICE_GROUPS
        assert "userPassword" not in alice.attributes and "pwdChangedTime" not in alice.attributes
        assert connector.password_login("bob", "builder").attributes["cn"] == "Bob Builder"


def test_the_directory_is_asked_by_name_for_what_the_service_maps_and_the_rest_is_star(searching, directories):
    searching.password_login("alice", "wonderland")
    # operational attributes (the memberof overlay's memberOf) come only when named; MIC's own names
    # (id, audience) and names no directory can hold (client_token) are not asked for
    assert log(directories, "ldap-control", "/search")[-1]["body"]["attributes"] == ["*", "mail", "cn", "memberOf",
                                                                                     "uid"]
    unmapped = ldap.build(service("ldap", directories["ldap"], {"allowed_attributes": ("id", "audience")},
                                  baseDN="ou=people,dc=example,dc=org"), None)
    assert "memberOf" not in unmapped.password_login("alice", "wonderland").attributes


def test_users_may_log_in_by_another_attribute_and_only_those_the_filter_admits(directories):
    by_mail = ldap.build(service("ldap", directories["ldap"], baseDN="ou=people,dc=example,dc=org",
                                 bindDN="cn=mic-service,ou=services,dc=example,dc=org",
                                 bindPassword="mic-service-secret", loginAttribute="mail",
                                 userFilter="(memberOf=cn=admins,ou=groups,dc=example,dc=org)"), None)
    alice = by_mail.password_login("alice@example.org", "wonderland")
    assert alice.user_id == "alice" and alice.attributes["memberOf"] == ALICE_GROUPS
    assert refusal(by_mail, "alice", "wonderland").error == "invalid_grant"
    assert refusal(by_mail, "bob@example.org", "builder").error == "invalid_grant"  # not in admins
    assert log(directories, "ldap-control", "/search")[-1]["body"]["filter"] == \
        "(&(objectClass=inetOrgPerson)(memberOf=cn=admins,ou=groups,dc=example,dc=org)(mail=bob@example.org))"
    direct = ldap.build(service("ldap", directories["ldap"], baseDN="ou=people,dc=example,dc=org",
                                userFilter="(memberOf=cn=admins,ou=groups,dc=example,dc=org)"), None)
    assert direct.password_login("alice", "wonderland").user_id == "alice"
    assert refusal(direct, "bob", "builder").error == "invalid_grant"  # bound, but not admitted


@pytest.mark.parametrize("name", ["searching", "direct", "active"])
def test_wrong_unknown_and_empty_are_invalid_grant_and_a_locked_or_expired_account_ends_the_login_with_why(
        request, name):
    connector = request.getfixturevalue(name)
    for username, password in (("alice", "not-hers"), ("nobody", "wonderland"), ("alice", ""), ("", "wonderland")):
        assert refusal(connector, username, password).error == "invalid_grant"
    # AD's sub-code, or the LDAP directory's password policy control (ppolicy), says why
    for username, password, why in (("lorina", "tweedledum", "locked"), ("edith", "tweedledee", "expired")):
        refused = refusal(connector, username, password)
        assert refused.error == "access_denied" and why in refused.description, username
    assert refusal(connector, "edith", "not-hers").error == "invalid_grant"  # expiry is no news to a stranger


@pytest.mark.parametrize("value", [b"0\x00", b"0\x03\x81\x01\x07", b"0\x05\x81\x01\x01", b"0\x03\x81\x81\x01",
                                   b"\x04\x03\x81\x01\x01", b"", None])
def test_a_password_policy_answer_that_gives_no_known_reason_is_a_wrong_password(searching, value):
    refused = searching.refusal({"result": 49, "controls": {ldap.PASSWORD_POLICY: {"value": value}}})
    assert refused.error == "invalid_grant" and refused.description == "The username or password is not right."


@pytest.mark.parametrize("name", ["searching", "direct", "active"])
@pytest.mark.parametrize("username", INJECTIONS)
def test_an_injected_name_is_just_a_name_that_fails(request, directories, name, username):
    connector = request.getfixturevalue(name)
    refused = refusal(connector, username, "wonderland")
    assert refused.error == "invalid_grant"
    shown = f"{refused.description} {refused.debug}"
    assert not any(leak in shown for leak in ("uid=", "dc=", "DC=", "(&", "objectClass", "LdapErr", username))


def test_filters_and_dns_reach_the_directory_escaped(searching, direct, directories):
    refusal(searching, "*)(uid=*", "wonderland")
    assert log(directories, "ldap-control", "/search")[-1]["body"]["filter"] == \
        r"(&(objectClass=inetOrgPerson)(uid=\2a\29\28uid=\2a))"
    refusal(direct, "alice,ou=people,dc=example,dc=org", "wonderland")
    assert log(directories, "ldap-control", "/bind")[-1]["body"]["name"] == \
        r"uid=alice\,ou\=people\,dc\=example\,dc\=org,ou=people,dc=example,dc=org"
    refusal(direct, "\x00alice ", "wonderland")
    assert log(directories, "ldap-control", "/bind")[-1]["body"]["name"] == \
        r"uid=\00alice\ ,ou=people,dc=example,dc=org"  # RFC 4514 2.4: NUL as \00


def test_active_directory_names_ids_and_groups(active):
    for username in ("alice", "alice@corp.example", "CORP\\alice", "ALICE@CORP.EXAMPLE"):
        alice = active.password_login(username, "wonderland")
        assert alice.user_id == ALICE_GUID, username
    assert alice.attributes["objectSid"] == "S-1-5-21-1004336348-1177238915-682003330-1104"
    assert alice.attributes["sAMAccountName"] == "alice" and alice.attributes["mail"] == "alice@corp.example"
    assert "CN=Domain Admins,CN=Users,DC=corp,DC=example" in alice.attributes["memberOf"]


@pytest.mark.parametrize("username, password, error, says", [
    ("lorina", "tweedledum", "access_denied", "locked"), ("edith", "tweedledee", "access_denied", "expired"),
    ("erin", "erin-password", "access_denied", "disabled"), ("frank", "frank-password", "access_denied", "changed"),
    ("alice", "wrong", "invalid_grant", "username or password is not right")])
def test_active_directory_sub_codes_become_plain_sentences(active, username, password, error, says):
    refused = refusal(active, username, password)
    assert refused.error == error and says in refused.description
    assert "data" not in refused.description and "LdapErr" not in refused.description


@pytest.mark.parametrize("fault", [{"path": "/connect", "drop": True}, {"path": "/connect", "result": "unavailable"},
                                   {"path": "/bind", "drop": True},
                                   {"path": "/bind", "result": "busy"}, {"path": "/bind", "result": "unavailable"},
                                   {"path": "/search", "result": "busy"}])
def test_a_directory_that_is_down_or_busy_is_temporarily_unavailable_then_used_again(directories, searching, fault):
    httpx2.post(f"{directories['ldap-control']}/_control/faults", json=fault)
    assert refusal(searching, "alice", "wonderland").error == "temporarily_unavailable"
    httpx2.delete(f"{directories['ldap-control']}/_control/faults")
    assert searching.password_login("alice", "wonderland").user_id == "alice"


def test_a_slow_directory_is_given_up_on_within_the_timeout(directories, active):
    httpx2.post(f"{directories['ad-control']}/_control/faults", json={"path": "/bind", "delay": 5})
    began = time.monotonic()
    refused = refusal(active, "alice", "wonderland")
    assert refused.error == "temporarily_unavailable" and time.monotonic() - began < 2.5
    httpx2.delete(f"{directories['ad-control']}/_control/faults")
    assert active.password_login("alice", "wonderland").user_id == ALICE_GUID


def test_a_directory_whose_certificate_is_not_trusted_is_not_used(directories):
    stranger = active_directory.build(service("active-directory", directories["ad"], baseDN="DC=corp,DC=example",
                                              caCertificate=LocalTLS().ca_pem().decode(), timeout=1), None)
    binds = len(log(directories, "ad-control", "/bind"))
    refused = refusal(stranger, "alice", "wonderland")
    # the MIC's configuration is wrong, not the directory's availability: another try cannot mend it
    assert refused.error == "server_error" and "could not be trusted" in refused.description
    assert len(log(directories, "ad-control", "/bind")) == binds  # the password never left the MIC


def test_an_oversized_password_never_reaches_the_directory(directories, searching):
    """Samba drops the connection of a bind that large; the MIC refuses it as a wrong password first."""
    before = len(log(directories, "ldap-control", "/bind"))
    assert refusal(searching, "alice", "x" * 1_000_000).error == "invalid_grant"
    assert len(log(directories, "ldap-control", "/bind")) == before


def test_no_bind_without_a_password(directories, searching):
    before = len(log(directories, "ldap-control", "/bind"))
    refusal(searching, "alice", "")
    assert len(log(directories, "ldap-control", "/bind")) == before


@pytest.mark.parametrize("old, new, message", [
    ("remoteService: ${LDAP:-ldap://ldap.invalid}", "remoteService: http://ldap.example", "does not match"),
    ("\n                    bindPassword: mic-service-secret", "", "'bindPassword' is a dependency of 'bindDN'"),
    ('baseDN: "DC=corp,DC=example", ', "", "options is missing 'baseDN'"),
    ("timeout: 1\n", "timeout: 0\n", "less than or equal to the minimum of 0"),
    ("bindPassword: mic-service-secret", "bindPassword: mic-service-secret\n                    userFilter: uid=x",
     "does not match"),
    ("bindPassword: mic-service-secret", "bindPassword: mic-service-secret\n                    loginAttribute: e mail",
     "does not match"),
])
def test_a_directory_service_misconfigured_is_named_with_its_line(demo_refusal, old, new, message):
    refused = demo_refusal(old, new)
    assert re.search(message, str(refused)) and refused.line is not None


def test_a_service_account_the_directory_refuses_is_the_mics_fault_not_the_users(directories):
    misconfigured = ldap.build(service("ldap", directories["ldap"], baseDN="ou=people,dc=example,dc=org",
                                       bindDN="cn=mic-service,ou=services,dc=example,dc=org",
                                       bindPassword="not-the-secret"), None)
    refused = refusal(misconfigured, "alice", "wonderland")
    assert refused.error == "server_error" and "service account" in refused.debug
