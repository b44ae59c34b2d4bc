"""Secrets (pre-shared keys, webhook secrets): encrypted at rest, write-only through the
API, never in the change log or events.

A model declares a column with ``models.base.secret()``. The write path seals what a
client sends (Fernet: AES-128-CBC with an HMAC, from the ``cryptography`` package) before
it reaches the database; GraphQL types and filters leave the field out, and change-log
snapshots skip it. The key comes from ``DANBYTE_SECRET_KEY``, else from
``DANBYTE_HOME/secret-key``, generated (mode 0600) the first time one is needed. Lose the
key and the sealed values are lost: back it up with the database.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets as random
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from danbyte.settings import get_settings
from models.registry import ModelSpec

KEY_FILE = "secret-key"


def home_key(home: Path) -> str:
    """The key kept under ``home``, created on first use (readable by its owner only)."""
    path = home / KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it a moment ago
        else:
            with os.fdopen(descriptor, "w") as out:
                out.write(random.token_urlsafe(48))
    return path.read_text().strip()


@cache
def _box() -> Fernet:
    settings = get_settings()
    key = settings.secret_key or home_key(settings.home)
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def seal(value: str) -> str:
    return _box().encrypt(value.encode()).decode()


def unseal(token: str) -> str:
    """A sealed value in clear, for the code that uses it (never for an API answer)."""
    return _box().decrypt(token.encode()).decode()


def seal_values(spec: ModelSpec, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each secret column's value sealed (null and '' stay as they are)."""
    for name in spec.secret_names:
        if values.get(name):
            values[name] = seal(values[name])
    return values
