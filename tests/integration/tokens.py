"""HS256 tokens for the authentication tests, built with the standard
library (hmac, hashlib) so the tests do not share code with the server."""

import base64
import hashlib
import hmac
import json
import time

SECRET = "integration-test-secret-9f2c"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(claims=None, *, secret=SECRET, header=None, sign=True):
    header = header or {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": "alice", "exp": int(time.time()) + 300, **(claims or {})}
    compact = dict(separators=(",", ":"))
    signing = b64url(json.dumps(header, **compact).encode()) + "." + b64url(json.dumps(claims, **compact).encode())
    if not sign:
        return signing + "."
    sig = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64url(sig)
