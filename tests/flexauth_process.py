"""The sample FlexAuth service (or a script built on it) run on its own, as a vendor runs theirs."""
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def running(command: list[str], auth_key: str) -> Iterator[str]:
    """Start ``python <command> --port 0 …`` with ``auth_key`` in its environment; its URL while it runs."""
    env = {**os.environ, "FLEXAUTH_AUTH_KEY": auth_key, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, *command, "--port", "0"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        started = process.stdout.readline()  # "FlexAuth service on http://127.0.0.1:PORT (handler …)"
        if " on " not in started:
            raise RuntimeError(f"the service did not start: {started!r}")
        yield started.split(" on ", 1)[1].split()[0]
    finally:
        process.terminate()
        process.wait(timeout=10)
