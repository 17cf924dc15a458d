"""The curl repro: it sends the very bytes the app sent, once the reader sets the secrets."""
import shlex
import subprocess

import httpx2
import pytest

from harness.context import SentRequest
from harness.curl import as_curl


def replay(command: str, **secrets: str) -> list[str]:
    """The arguments bash would pass to curl, with the variables set."""
    script = " ".join(f"{k}={shlex.quote(v)}" for k, v in secrets.items()) + " ; " + command.replace(
        "curl ", "printf '%s\\n' ", 1)
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.splitlines()


@pytest.mark.parametrize("body", [
    b"grant_type=password&username=alice&password=wonder+land%21",
    b"grant_type=password&username=al%zzice&password=x",  # broken on purpose, as a fuzzed body is
    b"a=1&&b=2&password=",
])
def test_a_form_is_replayed_byte_for_byte_and_its_secrets_are_variables(body):
    request = SentRequest("POST", "http://mic.test/v3/oauth/token",
                          {"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic a2V5OnNlY3JldA=="},
                          body)
    note, command = as_curl(request).splitlines()
    assert note.startswith("# set AUTHORIZATION (sent: ***")
    assert "a2V5OnNlY3JldA" not in command and "wonder" not in command
    sent_password = body.split(b"password=")[1].decode()
    args = replay(command, AUTHORIZATION="Basic a2V5OnNlY3JldA==", PASSWORD=sent_password)
    assert args[args.index("--data-binary") + 1] == body.decode()
    assert "Authorization: Basic a2V5OnNlY3JldA==" in args


def test_json_bodies_are_masked_and_plain_requests_need_no_variables():
    request = httpx2.Request("POST", "http://baas.test/user/k/login", json={"_socialIdentity": {"kinveyAuth": {
        "access_token": "tok-123", "client_id": "k"}}})
    command = as_curl(SentRequest.of(request))
    assert not command.startswith("#") and "tok-123" not in command and '"client_id": "k"' in command
    assert as_curl(SentRequest("GET", "http://mic.test/v3/oauth/auth?client_id=k", {})) == (
        "curl -X GET 'http://mic.test/v3/oauth/auth?client_id=k'")
