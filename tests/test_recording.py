"""What the recorder keeps of a URL, a header and a body, who it says is behind a URL, and
how the sequence diagram lays out a long cell."""
from harness.fleet import planned_target
from harness.recording import MIC, Participants, mask_url, masked_body, masked_headers
from harness.report import sequence
from plumbing.masking import mask


def test_secret_parameters_are_masked_in_the_query_the_fragment_and_a_location():
    assert mask_url("http://app/cb?code=abc&state=s1#access_token=t0k&token_type=Bearer") == (
        f"http://app/cb?code={mask('abc')}&state=s1#access_token={mask('t0k')}&token_type=Bearer")
    assert mask_url("http://mic/v3/oauth/auth?client_id=kid") == "http://mic/v3/oauth/auth?client_id=kid"
    headers = masked_headers({"Location": "/cb?code=abc", "Set-Cookie": "s=1", "Content-Type": "text/html"})
    assert headers == {"Location": f"/cb?code={mask('abc')}", "Set-Cookie": mask("s=1"), "Content-Type": "text/html"}


def test_only_forms_and_json_are_kept_of_a_body():
    assert masked_body("application/x-www-form-urlencoded", b"username=alice&password=pw") == {
        "username": "alice", "password": mask("pw")}
    assert masked_body("text/xml", b"<secret>pw</secret>") == "(19 bytes of text/xml)"


def test_participants_by_origin_and_the_baas_by_path_at_the_mic_origin():
    target = planned_target()
    who = Participants(target)
    assert who.of(f"{target.mic}/v3/oauth/token") == MIC
    assert who.of(f"{target.mic}/appdata/kid_demo/things") == "BaaS"
    assert who.of(target.surfaces["oauth2-idp"] + "/oauth/token") == "oauth2-idp"
    assert who.of(target.redirect_uri + "?code=x") == "App callback"
    assert who.of("http://elsewhere.invalid:8080/x") == "elsewhere.invalid:8080"
    assert {"oauth2-idp", "saml-idp"} <= set(who.upstreams) and MIC not in who.upstreams


def test_a_long_cell_shows_its_first_and_last_exchanges_and_says_how_many_are_left_out():
    exchanges = [{"source": "App", "target": MIC, "method": "POST", "url": f"http://mic/t?n={n}", "started": n,
                  "ended": n + 0.5, "status": 400, "request": {}, "response": {}} for n in range(60)]
    drawn = sequence.svg(exchanges, "k")
    assert drawn.count('class="exchange request') == 2 * sequence.SHOWN
    assert "12 more exchanges" in drawn and "t?n=23" in drawn and "t?n=36" in drawn and "t?n=24" not in drawn
