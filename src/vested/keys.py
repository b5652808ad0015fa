"""Signing keys: Ed25519 key pairs in PEM files, signatures as base64 text.

    create_key_pair(private_path, passphrase=None) -> public PEM text
    load_private_key(path, passphrase=None) -> Ed25519PrivateKey
    sign(private_key, data) -> base64 text
    verify_signature(public_pem, signature_b64, data) -> bool

The private key file is written with mode 0600 (only its owner reads it), encrypted with the
passphrase when one is given, and never overwritten. Every failure a user can cause (a wrong
passphrase, a missing file, a file that is not an Ed25519 key) is a :class:`KeyFileError` saying so.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyFileError(Exception):
    """A key file that cannot be written or read, with a message for the user."""


def create_key_pair(private_path: str | Path, passphrase: str | None = None) -> str:
    """Write a new private key to ``private_path`` (0600, PEM, PKCS#8) and return the public key's PEM text."""
    path = Path(private_path)
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase else serialization.NoEncryption())
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    try:
        # O_EXCL: refuse an existing file, atomically; the mode is set at creation, never readable by others
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path}: a file is already there; a key is never overwritten (choose another path)") from None
    except OSError as problem:
        raise KeyFileError(f"{path}: cannot create the key file: {problem.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)  # nothing half-written stays behind
        raise
    return public_pem(key)


def public_pem(key: Ed25519PrivateKey) -> str:
    """The PEM text (SubjectPublicKeyInfo) of a private key's public key."""
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def load_private_key(path: str | Path, passphrase: str | None = None) -> Ed25519PrivateKey:
    """The private key in ``path``; the passphrase it was encrypted with, if any."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"{file}: no such key file") from None
    except OSError as problem:
        raise KeyFileError(f"{file}: cannot read the key file: {problem.strerror}") from None
    secret = passphrase.encode("utf-8") if passphrase else None
    try:
        key = serialization.load_pem_private_key(data, password=secret)
    except TypeError:
        # raised by cryptography for a missing passphrase of an encrypted key, or one given for a plain key
        if secret is None:
            raise KeyFileError(f"{file}: the key is encrypted; give its passphrase") from None
        raise KeyFileError(f"{file}: the key is not encrypted; give no passphrase") from None
    except ValueError as problem:
        if b"ENCRYPTED" in data and secret is not None:
            raise KeyFileError(f"{file}: wrong passphrase for this key") from None
        raise KeyFileError(f"{file}: not a PEM private key ({problem})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{file}: a {type(key).__name__.lstrip('_')} key, not an Ed25519 key")
    return key


def sign(private_key: Ed25519PrivateKey, data: bytes) -> str:
    """The Ed25519 signature of ``data``, as base64 text."""
    return base64.b64encode(private_key.sign(data)).decode("ascii")


def load_public_key(public_pem_text: str) -> Ed25519PublicKey:
    """The Ed25519 public key of a PEM text; :class:`KeyFileError` for anything else."""
    try:
        key = serialization.load_pem_public_key(public_pem_text.encode("utf-8"))
    except (ValueError, TypeError) as problem:
        raise KeyFileError(f"not a PEM public key ({problem})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"a {type(key).__name__.lstrip('_')} public key, not an Ed25519 key")
    return key


def verify_signature(public_pem_text: str, signature_b64: str, data: bytes) -> bool:
    """Whether ``signature_b64`` is the signature of ``data`` by the key of ``public_pem_text``.

    False for a wrong signature, a signature that is not base64 and a public key that is not an
    Ed25519 PEM key: a verifier reports each as a broken signature rather than failing.
    """
    try:
        key = load_public_key(public_pem_text)
        signature = base64.b64decode(signature_b64.encode("ascii"), validate=True)
        key.verify(signature, data)
    except (KeyFileError, InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True
