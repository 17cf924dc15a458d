"""The kinvey-flex-sdk service (service.js) run from a test's tmp dir on a free loopback port.

The SDK listens where its options say (it takes no port 0: a port of 0 is its default,
10001), so a free port is found first; it writes ``output.log`` into its working folder,
the tmp dir. ``running(node, workdir, key)`` yields the service's URL while it runs.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
#: the conformance suite's test users; carol wants a second factor, lorina's refusal is an Error
USERS = {"alice": {"password": "sdk-alice-pw", "email": "alice@example.com"},
         "bob": {"password": "sdk-bob-pw", "email": "bob@example.com"},
         "Zoë-日本": {"password": "sdk-ünïcødé-pässwörd", "email": "zoe@example.com"},
         "carol": {"password": "sdk-carol-pw", "email": "carol@example.com",
                   "refuse": "Carol must confirm her login with a second factor."},
         "lorina": {"password": "sdk-lorina-pw", "email": "lorina@example.com", "locked": "Lorina's account is locked."}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(node: str, workdir: Path, key: str) -> Iterator[str]:
    """The service while it runs: its base URL. Stopped (terminate, wait) when the block ends."""
    port = free_port()
    config = workdir / "flex-service.json"
    config.write_text(json.dumps({"port": port, "sharedSecret": key, "users": USERS}))
    env = {**os.environ, "NODE_ENV": "production"}  # as deployed: express shows no stack traces
    out = workdir / "flex-service.out"
    with out.open("w") as sink:
        process = subprocess.Popen([node, str(HERE / "service.js"), str(config)], cwd=workdir, env=env,
                                   stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_listening(process, out, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_listening(process: subprocess.Popen, out: Path, port: int, within: float = 15.0) -> None:
    """Until the SDK says it listens ("Service listening on PORT"); its output if it stops first."""
    deadline = time.monotonic() + within
    while f"listening on {port}" not in out.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the kinvey-flex-sdk service did not start: {out.read_text()[-2000:]!r}")
        time.sleep(0.05)
