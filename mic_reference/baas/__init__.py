"""The BaaS stand-in: the parts of the Kinvey backend that the SDKs need around a MIC login.

The SDK posts the MIC tokens to ``/user/:appKey/login`` and gets a session
(``_kmd.authtoken``); every later call carries ``Authorization: Kinvey <authtoken>``.
When the MIC token behind a session is no longer good, the answer is exactly the 401
``InvalidCredentials`` that makes the SDKs refresh and log in again.
"""
