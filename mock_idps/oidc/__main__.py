"""Run the mock OpenID provider on its own: ``python -m mock_idps.oidc --var MIC=http://… --var APP=http://…``.

``MIC`` is the MIC's URL (its client's redirect URI is ``${MIC}/oidc/redirect``), ``APP`` the
relying party's of the provider-check clients. Its issuers are this URL and ``<url>/second``;
``--test-mode`` adds the clock, faults, request log, key rotation and id_token forgery.
"""
from __future__ import annotations

import sys

from mock_idps.shared import standalone

from . import create_app
from . import fixture as fixtures

if __name__ == "__main__":
    sys.exit(standalone.main("python -m mock_idps.oidc", __doc__, "mock OpenID provider", create_app, fixtures.DEFAULT,
                             8083, sys.argv[1:]))
