"""The key the local user pools sign their tokens with: made on this machine, not moto's bundled one.

moto signs every user pool's tokens with a private key that ships inside the moto package, so
anyone can mint tokens the local API would accept. The cloud's server installs this module:
- one RSA key per state dir (`userpool.key`, PEM, 0600, made on first start, wiped by `reset`);
- every user pool — made from now on, or restored from the state — signs with it, under its own
  key id (`create_jwt` re-signs what moto makes);
- `GET /<pool id>/.well-known/jwks.json` serves its public half (`jwks`), which is what the local
  API Gateway and the local identity pools verify tokens against.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from stagewise.cloud.layout import USERPOOL_KEY_FILE

ALGORITHM = "RS256"


@lru_cache(maxsize=4)
def signing_key(state_dir: Path) -> Any:
    """The state dir's key as a joserfc RSAKey (made and stored on first use)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from joserfc.jwk import RSAKey

    path = state_dir / USERPOOL_KEY_FILE
    if not path.is_file():
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        state_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
        except FileExistsError:
            pass  # made meanwhile by another process: use that one
    return RSAKey.import_key(path.read_bytes())


def key_id(state_dir: Path) -> str:
    public = json.dumps(signing_key(state_dir).as_dict(private=False), sort_keys=True)
    return "stagewise-" + hashlib.sha256(public.encode()).hexdigest()[:16]


def jwks(state_dir: Path) -> dict[str, Any]:
    public = signing_key(state_dir).as_dict(private=False)
    return {"keys": [{**public, "kid": key_id(state_dir), "alg": ALGORITHM, "use": "sig"}]}


def _claims(token: str) -> dict[str, Any]:
    """The payload of a token moto has just made (read, not verified: verifying would cache a public
    key object on the pool's key, which the cloud's snapshot cannot pickle)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def install(state_dir: Path) -> None:
    """Make every local user pool sign with this state dir's key (call after the state is restored)."""
    from joserfc import jwt
    from moto.cognitoidp import models

    key, kid = signing_key(state_dir), key_id(state_dir)
    original = models.CognitoIdpUserPool.create_jwt
    if getattr(original, "_stagewise", False):
        return

    def create_jwt(self: Any, *args: Any, **kwargs: Any) -> tuple[str, int]:
        token, expires_in = original(self, *args, **kwargs)
        return jwt.encode({"kid": kid, "alg": ALGORITHM}, _claims(token), key), expires_in

    create_jwt._stagewise = True  # type: ignore[attr-defined]
    models.CognitoIdpUserPool.create_jwt = create_jwt  # type: ignore[method-assign]
