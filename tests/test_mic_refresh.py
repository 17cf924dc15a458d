"""Refresh (RFC 6749 6): rotation, reuse detection, TTLs on the clock, upstream refresh, restarts."""
import httpx2

import mic_reference


def refresh(fleet, http, refresh_token, redirect_uri="undefined", path="/oauth/token"):
    target = fleet.target
    return http.post(f"{target.mic}{path}", auth=(target.app_key, target.app_secret), data={
        "grant_type": "refresh_token", "client_id": target.app_key, "redirect_uri": redirect_uri,
        "refresh_token": refresh_token})


def advance(fleet, seconds):
    httpx2.post(f"{fleet.urls['mic']}/_control/clock", json={"advance": seconds})


def vault_of(fleet):
    return fleet.fleet.app("mic").extensions["mic"].vault


def test_refresh_rotates_on_every_use_as_the_sdks_send_it(fleet, http, code_tokens):
    first = code_tokens()
    second = refresh(fleet, http, first["refresh_token"])  # js/node SDKs: unversioned, redirect_uri=undefined
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["access_token"] != first["access_token"] and body["refresh_token"] != first["refresh_token"]
    third = refresh(fleet, http, body["refresh_token"], redirect_uri=fleet.target.redirect_uri, path="/v3/oauth/token")
    assert third.status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(fleet, http, code_tokens):
    first = code_tokens()
    second = refresh(fleet, http, first["refresh_token"]).json()
    reuse = refresh(fleet, http, first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    vault = vault_of(fleet)
    assert vault.find_token(first["access_token"]).is_revoked()
    assert vault.find_token(second["access_token"]).is_revoked()
    assert refresh(fleet, http, second["refresh_token"]).json()["error"] == "invalid_grant"


def test_access_and_refresh_tokens_expire_on_the_clock(fleet, http, code_tokens):
    tokens = code_tokens()
    vault = vault_of(fleet)
    advance(fleet, 3600)
    assert vault.find_token(tokens["access_token"]).is_expired()
    advance(fleet, 1209600)
    late = refresh(fleet, http, tokens["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_an_expired_upstream_token_is_refreshed_upstream_first(fleet, http, code_tokens):
    tokens = code_tokens()
    idp = fleet.urls["oauth2-idp"]
    since = httpx2.get(f"{idp}/_control/requests").json()["requests"][-1]["seq"]
    rotated = refresh(fleet, http, tokens["refresh_token"])
    assert rotated.status_code == 200
    assert httpx2.get(f"{idp}/_control/requests", params={"since": since}).json()["requests"] == []
    advance(fleet, 3601)  # the upstream token (3600 s) is dead, the MIC refresh token is not
    again = refresh(fleet, http, rotated.json()["refresh_token"])
    assert again.status_code == 200, again.text
    upstream_calls = httpx2.get(f"{idp}/_control/requests", params={"since": since, "path": "/oauth/token"}).json()
    assert [call["body"]["grant_type"] for call in upstream_calls["requests"]] == ["refresh_token"]
    advance(fleet, 60)  # the renewed upstream token is alive: no second upstream call
    assert refresh(fleet, http, again.json()["refresh_token"]).status_code == 200
    assert len(httpx2.get(f"{idp}/_control/requests", params={"since": since, "path": "/oauth/token"})
               .json()["requests"]) == 1


def test_an_upstream_refusal_fails_the_refresh_and_the_login(fleet, http, code_tokens):
    tokens = code_tokens()
    advance(fleet, 3601)
    httpx2.post(f"{fleet.urls['oauth2-idp']}/_control/faults", json={
        "path": "/oauth/token", "status": 400, "body": {"error": "invalid_grant"}})
    refused = refresh(fleet, http, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert "upstream" in refused.json()["debug"]
    assert vault_of(fleet).find_token(tokens["access_token"]).is_revoked()


def test_refresh_on_a_service_without_refresh_is_unauthorized_client(fleet, http, code_tokens):
    target = fleet.target
    response = http.post(f"{target.mic}/oauth/token", auth=("kid_demo.oauth2-password", target.app_secret),
                         data={"grant_type": "refresh_token", "refresh_token": "whatever"})
    assert response.json()["error"] == "unauthorized_client"


def test_a_restarted_mic_honours_what_it_issued(fleet, http, code_tokens):
    tokens = code_tokens()
    restarted = mic_reference.create_app(clock=fleet.clock, test_mode=True, database_url=fleet.database_url,
                                         vault_keys=fleet.vault_keys,
                                         variables={"OAUTH2_IDP": fleet.urls["oauth2-idp"], "APP": fleet.urls["app"]})
    target = fleet.target
    response = restarted.test_client().post("/oauth/token", auth=(target.app_key, target.app_secret), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "redirect_uri": "undefined"})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_the_whole_token_lifecycle_on_postgresql(postgres_url):
    from harness.fleet import EmbeddedFleet

    with EmbeddedFleet(vault_url=postgres_url) as fleet, httpx2.Client(follow_redirects=False) as http:
        target = fleet.target
        tokens = http.post(f"{target.mic}/v3/oauth/token", auth=("kid_demo.oauth2-password", target.app_secret),
                           data={"grant_type": "password", "username": "alice", "password": "wonderland"}).json()
        session = http.post(f"{target.mic}/user/{target.app_key}/login", auth=(target.app_key, target.app_secret),
                            json={"_socialIdentity": {"kinveyAuth": tokens}})
        assert session.status_code == 200, session.text
        start = http.get(f"{target.mic}/v3/oauth/auth", params={
            "client_id": target.app_key, "redirect_uri": target.redirect_uri, "response_type": "code"})
        upstream = http.post(start.headers["location"], data={"username": "alice", "password": "wonderland"})
        code = httpx2.URL(http.get(upstream.headers["location"]).headers["location"]).params["code"]
        coded = http.post(f"{target.mic}/v3/oauth/token", auth=(target.app_key, target.app_secret), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": target.redirect_uri}).json()
        assert refresh(fleet, http, coded["refresh_token"]).status_code == 200
        assert refresh(fleet, http, coded["refresh_token"]).json()["error"] == "invalid_grant"
