"""Encrypt connection secrets at rest with a key derived from ``HUB_SECRET_KEY``."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken


class SecretBox:
    """Authenticated encryption (Fernet: AES-128-CBC with HMAC-SHA256) of small secrets."""

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"hub-secrets:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def encrypt(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data).encode()).decode()

    def decrypt(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ValueError(
                "connection secrets cannot be decrypted: HUB_SECRET_KEY changed "
                "since they were stored; restore the old key or reconnect"
            ) from None
