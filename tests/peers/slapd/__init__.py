"""OpenLDAP's slapd, the directory the mock's "ldap" flavour imitates, run for a test from its tmp dir.

``running(tmp)`` fills in ``slapd.conf`` beside this file (memberof and ppolicy overlays,
StartTLS with a throwaway CA), loads the mock directory's own tree (its people, service
account and password policy by ``slapadd``; its groups through the running server, so the
memberof overlay is what gives the people their memberOf), serves it on a free loopback
port and stops it afterwards. The same tree in both is what lets tests hold the mock to
slapd's answers.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Iterator

from ldap3 import IP_SYSTEM_DEFAULT, NONE, Connection, Server
from ldap3.core.exceptions import LDAPException

from plumbing.tls import LocalTLS

HERE = Path(__file__).parent
TREE = HERE.parents[2] / "mock_idps" / "ldap" / "fixtures" / "ldap.ldif"
ADMIN_DN = "cn=admin,dc=example,dc=org"
SERVICE = ("cn=mic-service,ou=services,dc=example,dc=org", "mic-service-secret")
BINARIES = ("slapd", "slapadd")
STARTUP_SECONDS = 10


@dataclass(frozen=True)
class Slapd:
    url: str
    ca_pem: str
    admin_dn: str
    admin_password: str
    directory: Path


def installed() -> bool:
    """Whether the Debian package slapd is there (its binaries are in /usr/sbin)."""
    return all(_binary(name) for name in BINARIES)


@contextmanager
def running(tmp: Path, tree: Path = TREE) -> Iterator[Slapd]:
    """slapd serving ``tree`` on ``ldap://127.0.0.1:<free port>/`` until the block ends."""
    missing = [name for name in BINARIES if not _binary(name)]
    if missing:
        raise RuntimeError(f"slapd is not installed ({', '.join(missing)} not found): apt-get install -y slapd")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "db").mkdir(exist_ok=True)
    tls = LocalTLS()
    (tmp / "ca.pem").write_bytes(tls.ca_pem())
    tls.leaf.cert_chain_pems[0].write_to_path(tmp / "cert.pem")
    tls.leaf.private_key_pem.write_to_path(tmp / "key.pem")
    admin_password = "slapd-admin-" + tmp.name
    config = tmp / "slapd.conf"
    config.write_text(Template((HERE / "slapd.conf").read_text()).substitute(
        DIR=tmp, ROOT_PASSWORD=admin_password))
    people, groups = _split(tree.read_text())
    (tmp / "people.ldif").write_text(people)
    _run([_binary("slapadd"), "-q", "-f", str(config), "-l", str(tmp / "people.ldif")])
    url = f"ldap://127.0.0.1:{_free_port()}/"
    log = (tmp / "slapd.log").open("w")
    process = subprocess.Popen([_binary("slapd"), "-h", url, "-f", str(config), "-d", "0"],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        admin = _connected(url, admin_password, process, tmp / "slapd.log")
        for dn, attributes in groups:
            if not admin.add(dn, attributes=attributes):
                raise RuntimeError(f"slapd refused {dn}: {admin.result}")
        admin.unbind()
        yield Slapd(url=url.rstrip("/"), ca_pem=tls.ca_pem().decode(), admin_dn=ADMIN_DN,
                    admin_password=admin_password, directory=tmp)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()  # (a slapd that inherited a blocked SIGTERM, say) must not outlive the test
            process.wait(timeout=10)
        log.close()


def _split(ldif: str) -> tuple[str, list[tuple[str, dict[str, list[str]]]]]:
    """The LDIF's entries without groups (for slapadd), and its groups (DN and attributes) to add
    online. Groups hold only plain text values, which the split relies on."""
    people, groups = [], []
    for block in ldif.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("#")]
        if not lines:
            continue
        if any(line.startswith("member:") for line in lines):
            pairs = [line.split(": ", 1) for line in lines]
            attributes: dict[str, list[str]] = {}
            for name, value in pairs[1:]:
                attributes.setdefault(name, []).append(value)
            groups.append((pairs[0][1], attributes))
        else:
            people.append("\n".join(lines))
    return "\n\n".join(people) + "\n", groups


def _connected(url: str, admin_password: str, process: subprocess.Popen, log: Path) -> Connection:
    """A connection bound as the rootdn, once slapd answers (or why it never did)."""
    host, port = url.removeprefix("ldap://").rstrip("/").split(":")
    # IP_SYSTEM_DEFAULT: ldap3 would otherwise skip the address for a while after one refusal
    server = Server(host, int(port), get_info=NONE, connect_timeout=1, mode=IP_SYSTEM_DEFAULT)
    deadline = time.monotonic() + STARTUP_SECONDS  # a real process starting: wall time, not a TTL
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slapd exited with {process.returncode}: {log.read_text()[-2000:]}")
        connection = Connection(server, ADMIN_DN, admin_password, receive_timeout=2)
        try:
            if connection.bind():
                return connection
        except LDAPException:
            pass  # not listening yet
        time.sleep(0.05)
    raise RuntimeError(f"slapd did not answer within {STARTUP_SECONDS} s: {log.read_text()[-2000:]}")


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr[-2000:]}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _binary(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin")
