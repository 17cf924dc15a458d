"""The embedded target file must agree with what the MIC and the mock actually serve."""
import httpx2

from harness import target as targets
from harness.fleet import planned_target
from mock_idps.ldap import DEFAULT_FIXTURES, tree
from mock_idps.ldap.flavours import password_matches
from mic_reference import config as mic_config
from mic_reference.connectors import available, service_defaults
from mock_idps.oauth2 import fixture as oauth2_fixture
from mock_idps.saml import fixture as saml_fixture
from samples.flexauth_service.users import DEMO_USERS as FLEXAUTH_USERS


def test_embedded_target_matches_the_mic_demo_configuration():
    target = planned_target()
    demo = mic_config.load(variables={"OAUTH2_IDP": "http://idp", "APP": "http://app"},
                           provider_schemas={k: v.PROVIDER_SCHEMA for k, v in available().items()},
                           service_defaults=service_defaults())
    environment = demo.environment(target.app_key)
    assert environment is not None and environment.app_secret == target.app_secret
    mic_services = [s for s in target.services.values() if s.provider is None]  # not an OpenID provider checked directly
    assert set(environment.services) == {s.id for s in mic_services}
    for service in mic_services:
        configured = environment.services[service.id]
        assert configured.provider.type == service.connector
        assert service.ttl == {"grant": configured.grant_ttl, "token": configured.token_ttl,
                               "refresh": configured.refresh_ttl}


def test_embedded_users_exist_at_the_idp_with_those_passwords():
    fixtures = [oauth2_fixture.load(variables={"MIC": "http://mic"}), saml_fixture.load(variables={"MIC": "http://mic"})]
    known = {(u.username, u.password) for fixture in fixtures for u in fixture.users}
    directory = tree.load(DEFAULT_FIXTURES["ldap"])  # the directories' users: lorina (locked), edith (expired)
    known |= {(user, password) for user, password in planned_target().users.items()
              if (entry := tree.lookup(directory, f"uid={user},ou=people,dc=example,dc=org")) is not None
              and password_matches(entry, "userPassword", password.encode())}
    known |= {(u["username"], u["password"]) for u in FLEXAUTH_USERS}  # the sample custom auth service's
    assert set(planned_target().users.items()) <= known


def test_a_login_recipe_that_does_not_exist_is_named(tmp_path):
    path = tmp_path / "target.yaml"
    path.write_text("mic: http://mic\napp: {key: k, secret: s, redirect_uri: http://app/cb}\n"
                    "services:\n  svc: {connector: oauth2, capabilities: [password-grant], login: nowhere}\n")
    try:
        targets.load(path)
    except targets.yamlfile.YamlError as exc:
        assert exc.line == 4 and "no login recipe 'nowhere'" in exc.message
    else:
        raise AssertionError("a missing recipe was accepted")


def test_the_demo_app_shows_what_the_mic_sent(fleet):
    page = httpx2.get(fleet.urls["app"] + "/callback", params={"error": "access_denied", "state": "<s>"})
    assert page.status_code == 200 and "access_denied" in page.text and "&lt;s&gt;" in page.text
