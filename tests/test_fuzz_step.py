"""The fuzz step: quiet against the reference MIC, and a shrunk, replayable report against broken endpoints."""
import threading

import httpx2
import jsonschema
import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from harness.context import Reply, RunContext, StepFailed
from harness.drivers.http import HttpDriver
from harness.fleet import planned_target
from harness.steps.authorize import Authorize
from harness.steps.fuzz import Fuzz
from harness.steps.login import Login
from harness.steps.token import Token


def broken_token_endpoint(flaw: str) -> Flask:
    """A password-grant token endpoint that is right but for one flaw."""
    app = Flask(__name__)

    @app.post("/token")
    def token():
        form = request.form
        if any(len(values) > 1 for _, values in form.lists()):
            if flaw == "duplicates":
                raise RuntimeError("a parameter twice")  # a 500
            return jsonify(error="invalid_request", error_description="a parameter twice"), 400
        if form.get("grant_type") == "password" and form.get("username") == "alice" and \
                (flaw == "no-password-check" or form.get("password") == "wonderland"):
            return jsonify(access_token="a-token", token_type="Bearer", expires_in=60)
        return jsonify(error="invalid_grant", error_description="no"), 400

    return app


@pytest.fixture
def serve():
    """``serve(app)``: the app on a local port, for the test's duration."""
    servers = []

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


def context(target, service, http) -> RunContext:
    return RunContext(target, target.services[service], HttpDriver(target.redirect_uri, httpx2.HTTPTransport()), http,
                      vars={"app_key": target.app_key, "app_redirect": target.redirect_uri})


def fuzz_after_login(url: str, http: httpx2.Client) -> StepFailed:
    target = planned_target()
    ctx = context(target, "oauth2-password", http)
    ctx.reply = Reply.of(http.post(f"{url}/token", data={"grant_type": "password", "username": "alice",
                                                         "password": "wonderland"}))
    assert ctx.reply.status == 200
    with pytest.raises(StepFailed) as failed:
        Fuzz({"examples": 40}).run(ctx)
    return failed.value


def test_passes_against_the_reference_mic_for_each_kind_of_request(fleet, http):
    ctx = context(fleet.target, "oauth2-password", http)
    Token({"grant": "password", "user": "alice"}).run(ctx)
    Fuzz({"examples": 30}).run(ctx)
    Fuzz({"authorize": {"state": "s"}, "examples": 30}).run(ctx)
    Authorize({}).run(ctx)
    Login({"user": "alice"}).run(ctx)
    Token({"grant": "authorization_code"}).run(ctx)
    assert ctx.reply.status == 200
    Fuzz({"examples": 30}).run(ctx)  # the code is spent: every variant is refused


def test_a_5xx_on_a_repeated_parameter_is_shrunk_and_replayable(serve, http):
    url = serve(broken_token_endpoint("duplicates"))
    failure = fuzz_after_login(url, http)
    message = str(failure)
    assert message.startswith("fuzz: answered 500")
    assert "'grant_type' sent twice (same value)" in message  # the simplest: first parameter, no new value
    assert f"curl -X POST {url}/token" in message
    assert "--data-binary 'grant_type=password&" in message
    assert "wonderland" not in message and '"$PASSWORD"' in message
    assert failure.cite == "RFC6749-5.2"


def test_a_token_for_a_request_missing_a_parameter_fails_the_step(serve, http):
    url = serve(broken_token_endpoint("no-password-check"))
    message = str(fuzz_after_login(url, http))
    assert message.startswith("fuzz: issued access_token (200) to a request it must refuse")
    assert "with 'password' left out" in message
    assert f"curl -X POST {url}/token" in message


def test_a_spent_request_that_gets_a_token_again_fails_the_step(serve, http):
    url = serve(broken_token_endpoint("no-password-check"))
    target = planned_target()
    ctx = context(target, "oauth2-password", http)
    ctx.reply = Reply.of(http.post(f"{url}/token", data={"grant_type": "password", "username": "alice"}))
    with pytest.raises(StepFailed, match="used once already.* with nothing changed"):
        Fuzz({"examples": 5, "spent": True}).run(ctx)


@pytest.mark.parametrize("args", [{"exampels": 5}, {"examples": 0}, {"authorize": {"stat": "x"}},
                                  {"required": "password"}])
def test_the_schema_refuses_unknown_or_malformed_arguments(args):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(args, Fuzz.SCHEMA)


@pytest.mark.parametrize("form, description", [
    ({"grant_type": ["password", "password"], "username": "alice", "password": "wonderland"}, "Multiple 'grant_type'"),
    ({"grant_type": "password", "username": "", "password": "wonderland"}, "Missing 'username'"),
    ({"grant_type": "password", "username": "alice", "password": ""}, "Missing 'password'"),
])
def test_what_the_fuzz_found_in_the_reference_mic_stays_fixed(fleet, http, form, description):
    """A repeated parameter got a token; an empty username got a 502 from the upstream's refusal."""
    response = http.post(f"{fleet.target.mic}/v3/oauth/token", data=form,
                         auth=("kid_demo.oauth2-password", fleet.target.app_secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert description in response.json()["error_description"]
