"""The MIC as an OAuth2 authorization server: authlib's RFC 6749 machinery, MIC's rules.

``clients`` maps Kinvey identifiers onto RFC 6749 clients, ``grants`` holds the grant
types (``rfc6749`` sections in their docstrings), ``errors`` the error bodies MIC adds
``debug`` to, and ``server`` assembles them.
"""
