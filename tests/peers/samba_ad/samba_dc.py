"""A Samba Active Directory domain controller for interop tests, in a network namespace of its own.

Samba's LDAP server takes the standard ports (389, 636 and the global catalog's 3268/3269)
and has no option to move them, so each DC runs in a network namespace made for it (this
needs root), reached from this machine over a veth pair with private addresses: nothing
outside this machine can reach it, and it clashes with no other server here. Provisioning,
the users and the start take about 10 s, so a test module starts one DC.

The users are the conformance target's (harness/targets/embedded.yaml), set up as an
administrator would: lorina locked out by a wrong password under a fine-grained password
policy (PSO) that locks after one until an administrator unlocks her; edith's password set
60 days ago (under faketime) while the domain's maximum password age is 42 days; and, as in
the mock AD, erin disabled and frank due to change his password at the next login; carl has
no UPN and dora's has another suffix, which AD allows. The DC
presents a certificate for its address from a throwaway CA: the one Samba generates names
only its host name, which no resolver here knows.
"""
from __future__ import annotations

import ipaddress
import json
import random
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme
from ldap3 import MODIFY_DELETE, MODIFY_REPLACE, Connection, Server, Tls

REALM, DOMAIN, BASE_DN = "CORP.EXAMPLE", "CORP", "DC=corp,DC=example"
ADMIN_PASSWORD = "Samba-DC-Adm1n"  # provisioning checks it against the default (complex) policy
#: what must be installed: the Debian packages samba, faketime and iproute2
BINARIES = ("samba", "samba-tool", "faketime", "ip")
#: the target's users (and the mock AD's erin and frank) with what the directory holds of them
USERS = {
    "alice": {"password": "wonderland", "given-name": "Alice", "surname": "Liddell"},
    "bob": {"password": "builder", "given-name": "Bob", "surname": "Builder"},
    "lorina": {"password": "tweedledum", "given-name": "Lorina", "surname": "Liddell"},
    "edith": {"password": "tweedledee", "given-name": "Edith", "surname": "Liddell"},
    "erin": {"password": "erin-password", "given-name": "Erin", "surname": "Disabled"},
    "frank": {"password": "frank-password", "given-name": "Frank", "surname": "Reset"},
    "carl": {"password": "carl-password", "given-name": "Carl", "surname": "Legacy"},
    "dora": {"password": "dora-password", "given-name": "Dora", "surname": "Elsewhere"},
}
GROUPS = {"readers": ["alice", "bob"]}
#: accounts whose UPN is not <name>@<the domain>: none (as in domains older than UPNs), or another suffix
UPNS = {"carl": None, "dora": "dora@wonderland.example"}
PASSWORD_SET_AGO = "-60d"  # edith's password's age (faketime's offset); the domain's maximum is 42 days
START_TIMEOUT = 30


@dataclass(frozen=True)
class SambaDC:
    address: str
    ca_pem: str
    directory: Path

    @property
    def url(self) -> str:
        return f"ldaps://{self.address}"

    def connection(self, user: str, password: str) -> Connection:
        """An unbound LDAPS connection as ``user`` (a UPN or ``CORP\\name``), trusting the DC's CA."""
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=self.ca_pem)
        server = Server(self.address, 636, use_ssl=True, tls=tls, connect_timeout=5)
        return Connection(server, user, password, receive_timeout=5, raise_exceptions=False)

    def binds(self, name: str, status: str = "NT_STATUS_OK") -> int:
        """How many binds as ``name`` ended with ``status`` so far (samba's auth_audit log lines)."""
        who = rf"(became|mapped to) \[{DOMAIN}\]\\\[{name}\][ .]"
        line = re.compile(rf"^Auth: .* status \[{status}\] .* {who}", re.MULTILINE)
        return len(line.findall((self.directory / "samba.log").read_text(errors="replace")))


def missing_binaries() -> list[str]:
    return [name for name in BINARIES if shutil.which(name) is None]


@contextmanager
def running(directory: Path) -> Iterator[SambaDC]:
    """A provisioned DC serving LDAP and LDAPS in its own namespace until the block ends."""
    with _namespace() as (namespace, address):
        ca = trustme.CA()
        conf = _provision(directory, address, ca)
        _add_users(conf)
        with (directory / "samba.log").open("wb") as log:
            process = subprocess.Popen(["ip", "netns", "exec", namespace, "samba", "-i", "-M", "single",
                                        "-s", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for(address, 636, process, directory / "samba.log")
            dc = SambaDC(address, ca.cert_pem.bytes().decode(), directory)
            _lock_out(dc, "lorina")
            _set_upns(dc)
            yield dc
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def _namespace() -> Iterator[tuple[str, str]]:
    """A network namespace joined to this machine by a veth pair: its name and its end's address."""
    tag = secrets.token_hex(4)
    namespace, host_end, dc_end = f"mic-samba-{tag}", f"msb{tag}h", f"msb{tag}n"
    network = _free_network()
    host_address, dc_address = (str(address) for address in network.hosts())
    _ip("netns", "add", namespace)
    try:
        _ip("link", "add", host_end, "type", "veth", "peer", "name", dc_end, "netns", namespace)
        _ip("addr", "add", f"{host_address}/{network.prefixlen}", "dev", host_end)
        _ip("link", "set", host_end, "up")
        for command in (("addr", "add", f"{dc_address}/{network.prefixlen}", "dev", dc_end),
                        ("link", "set", dc_end, "up"), ("link", "set", "lo", "up")):
            _ip("-n", namespace, *command)
        yield namespace, dc_address
    finally:
        _ip("netns", "del", namespace, check=False)  # takes the veth pair with it
        _ip("link", "del", host_end, check=False)


def _free_network() -> ipaddress.IPv4Network:
    """A /30 in 10.254.0.0/16 that overlaps no address or route of this machine."""
    taken = [ipaddress.ip_network(f"{a['local']}/{a['prefixlen']}", strict=False)
             for link in json.loads(_ip("-j", "-4", "addr").stdout) for a in link.get("addr_info", ())]
    taken += [ipaddress.ip_network(route["dst"]) for route in json.loads(_ip("-j", "-4", "route").stdout)
              if route.get("dst", "default") != "default"]
    pool = list(ipaddress.ip_network("10.254.0.0/16").subnets(new_prefix=30))
    for network in random.sample(pool, 64):
        if not any(network.overlaps(other) for other in taken):
            return network
    raise RuntimeError("no free private /30 for the DC's namespace")


def _provision(directory: Path, address: str, ca: trustme.CA) -> Path:
    """``samba-tool domain provision`` into ``directory``: only the LDAP service, on ``address``."""
    tls = directory / "tls"
    tls.mkdir(parents=True)
    leaf = ca.issue_cert(address)
    leaf.private_key_pem.write_to_path(str(tls / "key.pem"))
    (tls / "key.pem").chmod(0o600)  # Samba refuses a key others may read
    leaf.cert_chain_pems[0].write_to_path(str(tls / "cert.pem"))
    ca.cert_pem.write_to_path(str(tls / "ca.pem"))
    options = {"interfaces": address, "bind interfaces only": "yes", "server services": "ldap",
               "pid directory": directory / "run", "log file": directory / "log.%m",
               "log level": "1 auth_audit:3",  # a line per bind: who, over what, with what outcome
               "tls keyfile": tls / "key.pem", "tls certfile": tls / "cert.pem", "tls cafile": tls / "ca.pem"}
    (directory / "run").mkdir()
    _samba_tool("domain", "provision", f"--realm={REALM}", f"--domain={DOMAIN}",
                "--server-role=dc", "--dns-backend=NONE", f"--adminpass={ADMIN_PASSWORD}",
                f"--targetdir={directory}", f"--host-ip={address}",
                *(f"--option={name}={value}" for name, value in options.items()))
    return directory / "etc" / "smb.conf"


def _add_users(conf: Path) -> None:
    """The users, their group and account states, written to the DC's database before it starts."""
    at = f"--configfile={conf}"
    # the target's passwords are plain words: the domain's complexity rule would refuse them
    _samba_tool("domain", "passwordsettings", "set", at, "--complexity=off", "--min-pwd-length=0")
    for name, user in USERS.items():
        options = [f"--{key}={value}" for key, value in user.items() if key != "password"]
        if name == "frank":
            options.append("--must-change-at-next-login")  # pwdLastSet 0
        command = ["user", "create", name, user["password"], at, f"--mail-address={name}@corp.example", *options]
        _samba_tool(*command, faketime=PASSWORD_SET_AGO if name == "edith" else None)
    _samba_tool("user", "disable", "erin", at)
    for group, members in GROUPS.items():
        _samba_tool("group", "add", group, at)
        _samba_tool("group", "addmembers", group, ",".join(members), at)
    # lorina's policy: locked after one wrong password, until an administrator unlocks her (duration 0)
    _samba_tool("domain", "passwordsettings", "pso", "create", "lock-after-one", "10",
                "--account-lockout-threshold=1", "--account-lockout-duration=0", at)
    _samba_tool("domain", "passwordsettings", "pso", "apply", "lock-after-one", "lorina", at)


def _lock_out(dc: SambaDC, name: str) -> None:
    """One wrong password, as a person would type it; the PSO locks the account."""
    connection = dc.connection(f"{name}@corp.example", USERS[name]["password"] + "-wrong")
    if connection.bind():
        raise RuntimeError(f"the DC took a wrong password for {name}")
    connection.unbind()


def _set_upns(dc: SambaDC) -> None:
    """Each account in UPNS given its UPN, as an administrator edits the attribute."""
    admin = dc.connection(f"Administrator@{REALM.lower()}", ADMIN_PASSWORD)
    if not admin.bind():
        raise RuntimeError(f"the DC refused its administrator: {admin.result}")
    for name, upn in UPNS.items():
        admin.search(BASE_DN, f"(sAMAccountName={name})", attributes=["cn"])
        change = (MODIFY_REPLACE, [upn]) if upn else (MODIFY_DELETE, [])
        if not admin.modify(admin.response[0]["dn"], {"userPrincipalName": [change]}):
            raise RuntimeError(f"the DC refused {name}'s UPN: {admin.result}")
    admin.unbind()


def _wait_for(address: str, port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"samba exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection((address, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"samba did not listen on {address}:{port} within {START_TIMEOUT} s")


def _samba_tool(*arguments: str, faketime: str | None = None) -> None:
    command = ["samba-tool", *arguments]
    if faketime:
        command = ["faketime", "-f", faketime, *command]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"samba-tool {' '.join(arguments[:2])} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def _ip(*arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *arguments], check=False, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(arguments)}: {done.stderr.strip()}")
    return done
