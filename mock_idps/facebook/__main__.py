"""Run the mock Facebook Graph API on its own: ``python -m mock_idps.facebook --port 8084 --var MIC=http://…``.

``MIC`` is the MIC's URL (its app's redirect URI is ``${MIC}/facebook/redirect``); the Graph API
answers under ``/v3.0/``. ``--test-mode`` adds the clock, faults, request log and revocations.
"""
from __future__ import annotations

import sys

from mock_idps.shared import standalone

from . import create_app
from . import fixture as fixtures

if __name__ == "__main__":
    sys.exit(standalone.main("python -m mock_idps.facebook", __doc__, "mock Facebook Graph API", create_app,
                             fixtures.DEFAULT, 8084, sys.argv[1:]))
