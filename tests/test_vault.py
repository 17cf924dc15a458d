"""The vault: sealed at rest, keys rotate, and a restarted MIC finds everything it issued."""
import base64
import os

import pytest

from mic_reference.connectors.capabilities import Identity
from mic_reference.records import IssuedCode, IssuedToken
from mic_reference.vault import Keyring, KeyringError, Vault
from plumbing.clock import VirtualClock

IDENTITY = Identity("u-alice", {"email": "alice@example.com"},
                    {"access_token": "upstream-access-secret", "refresh_token": "upstream-refresh-secret"})


def key(n: int) -> str:
    return base64.b64encode(bytes([n]) * 32).decode()


@pytest.mark.parametrize("spec, message", [
    ("", "no vault key"),
    ("k1", "must look like 'id:base64key'"),
    ("k1:not base64!", "not valid base64"),
    (f"k1:{base64.b64encode(b'short').decode()}", "must be 32 bytes"),
    (f"k1:{key(1)},k1:{key(2)}", "used twice"),
])
def test_bad_key_specs_are_refused_clearly(spec, message):
    with pytest.raises(KeyringError, match=message):
        Keyring.parse(spec)


def test_sealed_values_open_only_with_their_record_and_key():
    ring = Keyring.parse(f"k1:{key(1)}")
    key_id, blob = ring.seal({"a": 1}, "grant:1")
    assert ring.open(key_id, blob, "grant:1") == {"a": 1}
    with pytest.raises(KeyringError, match="integrity"):
        ring.open(key_id, blob, "grant:2")
    with pytest.raises(KeyringError, match="no key 'k9'"):
        ring.open("k9", blob, "grant:1")


def test_rotation_seals_with_the_new_key_and_opens_with_the_old(database):
    url, clock = database, VirtualClock()
    old = Vault(url, Keyring.parse(f"old:{key(1)}"), clock)
    grant = old.open_grant(IDENTITY, None)
    old.put_token(IssuedToken(access_token="a1", refresh_token=None, client_id="c", scope="", issued_at=clock.now(),
                              expires_in=60, refresh_expires_at=None, clock=clock, grant=grant))
    old.close()
    rotated = Vault(url, Keyring.parse(f"new:{key(2)},old:{key(1)}"), clock)
    assert rotated.find_token("a1").grant.identity == IDENTITY
    assert rotated.open_grant(IDENTITY, None) and rotated.keyring.current == "new"


def test_nothing_secret_is_stored_in_the_clear(tmp_path):
    path, clock = tmp_path / "v.sqlite3", VirtualClock()
    vault = Vault(f"sqlite:///{path}", Keyring.generate(), clock)
    grant = vault.open_grant(IDENTITY, clock.now() + 60)
    vault.put_code(IssuedCode(code="the-code-value", client_id="c", redirect_uri="http://app/cb", scope="",
                              expires_at=clock.now() + 10, grant=grant))
    vault.put_token(IssuedToken(access_token="the-access-value", refresh_token="the-refresh-value", client_id="c",
                                scope="", issued_at=clock.now(), expires_in=60, refresh_expires_at=clock.now() + 600,
                                clock=clock, grant=grant))
    vault.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (b"the-code-value", b"the-access-value", b"the-refresh-value", b"upstream-access-secret",
                   b"upstream-refresh-secret", b"alice@example.com", b"u-alice"):
        assert secret not in stored


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """Each vault test runs on the embedded SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'v.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def test_a_code_is_redeemed_once_even_by_racing_threads(database):
    from concurrent.futures import ThreadPoolExecutor

    clock = VirtualClock()
    vault = Vault(database, Keyring.generate(), clock)
    grant = vault.open_grant(IDENTITY, None)
    vault.put_code(IssuedCode(code="c1", client_id="c", redirect_uri=None, scope="", expires_at=clock.now() + 10,
                              grant=grant))
    with ThreadPoolExecutor(8) as pool:
        redeemed = list(pool.map(lambda _: vault.redeem_code("c1", "c"), range(16)))
    assert sum(r is not None for r in redeemed) == 1


def test_an_in_memory_vault_works_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    clock = VirtualClock()
    vault = Vault("sqlite://", Keyring.generate(), clock)

    def issue(n):
        grant = vault.open_grant(IDENTITY, None)
        vault.put_token(IssuedToken(access_token=f"a{n}", refresh_token=None, client_id="c", scope="",
                                    issued_at=clock.now(), expires_in=60, refresh_expires_at=None, clock=clock,
                                    grant=grant))
        return vault.find_token(f"a{n}") is not None

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(issue, range(40)))


def test_environment_keys_are_used_when_none_are_given(monkeypatch, tmp_path):
    import mic_reference

    monkeypatch.setenv("MIC_VAULT_KEYS", f"env:{key(7)}")
    app = mic_reference.create_app(variables={"OAUTH2_IDP": "http://idp", "APP": "http://app"},
                                   database_url=f"sqlite:///{tmp_path / 'v.sqlite3'}")
    assert app.extensions["mic"].vault.keyring.current == "env"
    monkeypatch.delenv("MIC_VAULT_KEYS")
    with pytest.raises(KeyringError, match="MIC_VAULT_KEYS"):
        mic_reference.create_app(variables={"OAUTH2_IDP": "http://idp", "APP": "http://app"},
                                 database_url=f"sqlite:///{tmp_path / 'w.sqlite3'}")
    assert not os.path.exists("mic-reference.sqlite3")


def test_a_reused_refresh_token_revokes_its_family_even_under_a_race(database):
    from concurrent.futures import ThreadPoolExecutor

    clock = VirtualClock()
    vault = Vault(database, Keyring.generate(), clock)
    grant = vault.open_grant(IDENTITY, None)
    vault.put_token(IssuedToken(access_token="a1", refresh_token="r1", client_id="c", scope="", issued_at=clock.now(),
                                expires_in=60, refresh_expires_at=clock.now() + 600, clock=clock, grant=grant))
    with ThreadPoolExecutor(8) as pool:
        claimed = list(pool.map(lambda _: vault.claim_refresh("r1"), range(8)))
    assert sum(c is not None for c in claimed) == 1
    assert vault.find_token("a1").is_revoked()  # the losers were reuses: the family is revoked


def test_a_one_time_value_is_taken_once_even_by_racing_threads_and_forgotten_when_it_expires(database):
    from concurrent.futures import ThreadPoolExecutor

    clock = VirtualClock()
    vault = Vault(database, Keyring.generate(), clock)
    with ThreadPoolExecutor(8) as pool:
        firsts = list(pool.map(lambda _: vault.first_use("assertion-1", clock.now() + 60), range(16)))
    assert firsts.count(True) == 1
    assert vault.first_use("assertion-2", clock.now() + 60)
    clock.advance(61)
    assert vault.first_use("assertion-1", clock.now() + 60)  # expired: it could not be accepted anyway
