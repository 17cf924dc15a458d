"""The provider's authorization server: authlib's RFC 6749 grants over the in-memory store."""
from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc7636 import CodeChallenge

from mock_idps.shared import grants
from mock_idps.shared.records import Store


class UserIdInToken:
    """Puts the user id into the token response where the client's fixture says (``token_user_id``)."""

    def __call__(self, grant) -> None:
        grant.register_hook("after_create_token_response", self.process_token)

    @staticmethod
    def process_token(grant, response) -> None:
        _, token, _ = response
        attribute = grant.request.client.spec.token_user_id
        if attribute and grant.request.user is not None:
            token[attribute] = grant.request.user.user.id


def build(app, store: Store) -> tuple[AuthorizationServer, ResourceProtector]:
    """An authorization server and a resource protector bound to ``store``."""
    server = grants.server(app, store)
    server.register_grant(grants.bind(grants.AuthorizationCodeGrant, store),
                          [CodeChallenge(required=False), UserIdInToken()])
    server.register_grant(grants.bind(grants.PasswordGrant, store), [UserIdInToken()])
    server.register_grant(grants.bind(grants.RefreshTokenGrant, store), [UserIdInToken()])
    return server, grants.protector(store)
