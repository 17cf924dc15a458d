"""Whatever a client sends, the MIC and the mock IdP answer with an RFC 6749 error, never a 5xx."""
import httpx2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from harness.fleet import EmbeddedFleet

FIELDS = ["grant_type", "client_id", "code", "redirect_uri", "username", "password", "refresh_token",
          "response_type", "scope", "state", "code_verifier", "code_challenge", "code_challenge_method"]
VALUES = st.one_of(
    st.sampled_from(["authorization_code", "password", "refresh_token", "code", "kid_demo", "kid_demo.oauth2-password",
                     "kid_demo.nothing", "alice", "wonderland", "undefined", "null", "S256", "plain", ""]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=500, max_size=2000),
)
FORMS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8)
AUTH = st.one_of(st.none(), st.tuples(st.sampled_from(["kid_demo", "kid_demo.oauth2-password", "mic-demo", "x"]),
                                      st.sampled_from(["demo-app-secret", "mic-demo-secret", "wrong", ""])))


@pytest.fixture(scope="module")
def module_fleet():
    with EmbeddedFleet() as started:
        yield started


@pytest.fixture(scope="module")
def mic(module_fleet):
    with httpx2.Client(base_url=module_fleet.target.mic, follow_redirects=False) as client:
        yield client


@pytest.fixture(scope="module")
def idp(module_fleet):
    with httpx2.Client(base_url=module_fleet.urls["oauth2-idp"], follow_redirects=False) as client:
        yield client


def assert_rfc6749_error_or_success(response):
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body["error"], str) and "Traceback" not in response.text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=FORMS, auth=AUTH, path=st.sampled_from(["/oauth/token", "/v1/oauth/token", "/v3/oauth/token"]))
def test_token_endpoint_never_fails_on_bad_input(mic, form, auth, path):
    response = mic.post(path, data=form, auth=auth)
    assert_rfc6749_error_or_success(response)
    if response.status_code == 200:
        assert form.get("grant_type") == "password" and form.get("password") == "wonderland"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=FORMS, path=st.sampled_from(["/oauth/auth", "/v2/oauth/auth", "/v3/oauth/auth", "/oauth2/redirect"]))
def test_authorization_endpoints_never_fail_on_bad_input(mic, query, path):
    response = mic.get(path, params=query)
    assert response.status_code < 500, response.text
    if response.status_code == 302:
        location = response.headers["location"]
        # a redirect goes upstream (valid request) or to the registered redirect URI, never elsewhere
        assert location.startswith(("http://127.0.0.1:",)), location
    else:
        assert_rfc6749_error_or_success(response)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=FORMS, auth=AUTH, method=st.sampled_from(["GET", "POST"]),
       path=st.sampled_from(["/oauth/token", "/oauth/authorize", "/api/me"]))
def test_the_mock_idp_never_fails_on_bad_input(idp, form, auth, method, path):
    if method == "GET":
        response = idp.get(path, params=form, auth=auth)
    else:
        response = idp.post(path, data=form, auth=auth)
    assert response.status_code < 500, response.text


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children,
                                                                                      max_size=3), max_leaves=8)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(JSON, st.fixed_dictionaries({"_socialIdentity": st.fixed_dictionaries(
           {"kinveyAuth": st.dictionaries(st.sampled_from(["access_token", "refresh_token", "client_id"]), JSON)})})),
       auth=st.one_of(st.none(), st.just(("kid_demo", "demo-app-secret")), st.just(("kid_nobody", "x"))),
       path=st.sampled_from(["/user/kid_demo/login", "/user/kid_demo", "/user/kid_nobody/login"]))
def test_the_baas_never_fails_on_bad_input(mic, body, auth, path):
    response = mic.post(path, json=body, auth=auth)
    assert response.status_code in (400, 401, 404, 405), response.text
    assert "error" in response.json()
