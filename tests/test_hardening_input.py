"""Malformed bodies get an RFC 6749 (or Kinvey) error, never a 500: deep JSON, odd shapes."""
import subprocess
import sys

import pytest

from mic_reference import create_app
from plumbing import safejson
from plumbing.clock import VirtualClock

APP = ("kid_demo", "demo-app-secret")
DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture(scope="module")
def client():
    app = create_app(clock=VirtualClock(), test_mode=True,
                     variables={"OAUTH2_IDP": "http://127.0.0.1:9", "APP": "http://app.test"})
    return app.test_client()


@pytest.mark.parametrize("path", ["/v3/oauth/auth", "/oauth/auth", "/v3/oauth/token", "/user/kid_demo/login",
                                  "/user/kid_demo"])
def test_json_nested_thousands_deep_is_a_clean_refusal(client, path):
    response = client.post(path, data=DEEP, content_type="application/json", auth=APP)
    assert response.status_code == 400, response.data
    body = response.get_json()
    assert isinstance(body["error"], str) and "access_token" not in body and "temp_login_uri" not in body


def test_the_request_log_keeps_a_deep_body_as_text(client):
    client.post("/v3/oauth/auth", data=DEEP, content_type="application/json")
    logged = client.application.extensions["control_surface"].requests.select(path="/v3/oauth/auth")[-1]
    assert logged["body"] == DEEP


def test_temp_login_with_unreadable_json_names_the_problem(client):
    response = client.post("/v3/oauth/auth", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize("social", ['"kinveyAuth"', "[1, 2]", "null", '{"kinveyAuth": "x"}',
                                    '{"kinveyAuth": {"access_token": ["a"]}}'])
def test_baas_login_with_a_social_identity_of_the_wrong_shape(client, social):
    response = client.post("/user/kid_demo/login", data='{"_socialIdentity": %s}' % social,
                           content_type="application/json", auth=APP)
    assert response.status_code == 400
    assert response.get_json()["error"] == "IncompleteRequestBody"


def test_depth_counts_arrays_and_objects_but_not_brackets_in_strings():
    assert safejson.depth('{"a": "[[[[{{", "b": [[1]]}') == 3
    assert safejson.depth('"\\"[["') == 0
    assert safejson.depth("7") == 0
    assert safejson.loads('[' * 64 + ']' * 64) is not None
    with pytest.raises(ValueError):
        safejson.loads(b"[" * 65 + b"]" * 65)


def test_an_unterminated_string_is_measured_in_one_pass():
    """A body ending inside a string once cost a backtracking search exponential in its length."""
    code = "from plumbing import safejson; safejson.depth('{\"u\": \"' + 'a' * 200_000); print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert done.stdout.strip() == "ok", done.stderr
