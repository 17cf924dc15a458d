"""The admin API edits auth services at run time, refusing invalid ones with the field named."""
import copy

import httpx2
import pytest
from sqlalchemy import text

import mic_reference
from mic_reference.vault import Keyring


@pytest.fixture
def admin(fleet):
    with httpx2.Client(base_url=f"{fleet.urls['mic']}/admin",
                       headers={"Authorization": f"Bearer {fleet.admin_token}"}) as client:
        yield client


def password_grant(fleet, client_id="kid_demo.oauth2-password"):
    return httpx2.post(f"{fleet.target.mic}/v3/oauth/token", auth=(client_id, fleet.target.app_secret), data={
        "grant_type": "password", "username": "alice", "password": "wonderland"})


def test_the_admin_api_wants_its_token(fleet):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {fleet.admin_token}"}):
        response = httpx2.get(f"{fleet.urls['mic']}/admin/config", headers=headers)
        assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_without_an_admin_token_there_is_no_admin_api(monkeypatch):
    monkeypatch.delenv("MIC_ADMIN_TOKEN", raising=False)
    app = mic_reference.create_app(variables={"OAUTH2_IDP": "http://idp", "APP": "http://app"}, test_mode=True,
                                   database_url="sqlite://", vault_keys=Keyring.generate().spec())
    assert app.test_client().get("/admin/config", headers={"Authorization": "Bearer x"}).status_code == 404


def test_secrets_are_masked_on_the_way_out(admin):
    text = admin.get("/config").text
    assert "demo-app-secret" not in text and "mic-demo-secret" not in text
    assert "mic-service-secret" not in text  # a directory's service account (bindPassword)
    service = admin.get("/environments/kid_demo/services/oauth2-password").json()
    assert service["provider"]["options"]["clientSecret"].startswith("***")


def test_a_mask_that_is_not_the_stored_secrets_is_refused_not_stored(fleet, admin):
    service = admin.get("/environments/kid_demo/services/oauth2-password").json()
    service["provider"]["options"]["clientSecret"] = "***0123abcd"  # shown by another MIC process, say
    refused = admin.put("/environments/kid_demo/services/oauth2-password", json=service)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
    assert password_grant(fleet).status_code == 200  # the stored secret is untouched


def test_a_changed_service_takes_effect_at_once_and_a_masked_secret_is_kept(fleet, admin):
    service = admin.get("/environments/kid_demo/services/oauth2-password").json()
    service["tokenTtl"] = 120
    changed = admin.put("/environments/kid_demo/services/oauth2-password", json=service)
    assert changed.status_code == 200, changed.text
    tokens = password_grant(fleet)
    assert tokens.status_code == 200 and tokens.json()["expires_in"] == 120  # upstream secret still right


def test_a_new_service_is_created_and_usable(fleet, admin):
    service = copy.deepcopy(admin.get("/environments/kid_demo/services/oauth2-password").json())
    service.pop("id")
    # a mask is no secret: a new service given one is refused at once, the field named
    refused = admin.put("/environments/kid_demo/services/second-password", json=service)
    assert refused.status_code == 400 and "provider.options.clientSecret: a masked value" in refused.text
    assert password_grant(fleet, "kid_demo.second-password").json()["error"] == "invalid_client"
    service["provider"]["options"]["clientSecret"] = "mic-demo-secret"  # a new service needs the real secret
    created = admin.put("/environments/kid_demo/services/second-password", json=service)
    assert created.status_code == 201
    assert password_grant(fleet, "kid_demo.second-password").status_code == 200
    assert admin.delete("/environments/kid_demo/services/second-password").status_code == 204
    assert password_grant(fleet, "kid_demo.second-password").json()["error"] == "invalid_client"


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(allowedAttributes=["email"]), "allowedAttributes must include id and audience"),
    (lambda s: s["provider"].update(type="carrier-pigeon"), "unknown provider type 'carrier-pigeon'"),
    (lambda s: s["provider"]["options"].pop("userIdAttribute"), "userIdAttribute"),
    (lambda s: s.update(tokenTtl="an hour"), "tokenTtl"),
    (lambda s: s.update(colour="blue"), "unknown key 'colour'"),
    (lambda s: s.update(id="another-id"), "id: the body says another-id"),
])
def test_an_invalid_service_is_refused_with_the_field_named_and_nothing_changes(fleet, admin, change, message):
    service = admin.get("/environments/kid_demo/services/oauth2-password").json()
    change(service)
    refused = admin.put("/environments/kid_demo/services/oauth2-password", json=service)
    assert refused.status_code == 400 and message in refused.json()["error_description"], refused.text
    assert password_grant(fleet).json()["expires_in"] == 3600


@pytest.mark.parametrize("path, message", [
    ("/environments/kid_demo/services/oauth2-code", "defaultService oauth2-code is not one of"),
    ("/organizations/demo-org/services/org-sso", "org-sso is not a service of organization demo-org"),
])
def test_a_service_in_use_cannot_be_deleted(admin, path, message):
    refused = admin.delete(path)
    assert refused.status_code == 400 and message in refused.json()["error_description"]


def test_unknown_owners_and_services_are_404s(admin):
    assert admin.get("/environments/kid_nobody/services").status_code == 404
    assert admin.get("/organizations/demo-org/services/nothing").status_code == 404
    assert admin.get("/environments/kid_demo/services").json()["useServices"] == ["org-sso"]


def restart_mic(fleet):
    assert httpx2.post(f"{fleet.target.supervisor}/_control/restart/mic").status_code == 200


def test_a_change_survives_a_restart_and_deleting_the_saved_configuration_goes_back_to_the_file(fleet, admin):
    service = admin.get("/environments/kid_demo/services/oauth2-password").json()
    service["tokenTtl"] = 120
    assert admin.put("/environments/kid_demo/services/oauth2-password", json=service).status_code == 200
    restart_mic(fleet)
    assert password_grant(fleet).json()["expires_in"] == 120  # the vault's revision, not the file
    assert admin.get("/environments/kid_demo/services/oauth2-password").json()["tokenTtl"] == 120
    assert admin.delete("/config").json() == {"forgotten": 1}
    assert password_grant(fleet).json()["expires_in"] == 3600  # the file's, at once
    restart_mic(fleet)
    assert password_grant(fleet).json()["expires_in"] == 3600  # and after a restart


def test_a_refused_change_is_not_saved(fleet, admin):
    service = admin.get("/environments/kid_demo/services/oauth2-password").json()
    service["allowedAttributes"] = ["audience"]
    assert admin.put("/environments/kid_demo/services/oauth2-password", json=service).status_code == 400
    restart_mic(fleet)
    assert admin.delete("/config").json() == {"forgotten": 0}


def test_the_saved_configuration_is_sealed(fleet, admin):
    service = admin.get("/environments/kid_demo/services/oauth2-password").json()
    assert admin.put("/environments/kid_demo/services/oauth2-password", json=service).status_code == 200
    vault = fleet.fleet.app("mic").extensions["mic"].vault
    with vault.transaction() as db:
        sealed = b"".join(row.sealed for row in db.execute(text("SELECT sealed FROM configurations")))
    assert sealed and b"mic-demo-secret" not in sealed and b"oauth2-password" not in sealed
