"""Ed25519 keys: files written 0600 and never overwritten, signatures that verify, clear errors."""

from __future__ import annotations

import base64
import stat
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from vested.keys import KeyFileError, create_key_pair, load_private_key, public_pem, sign, verify_signature


def test_a_key_pair_signs_and_verifies(tmp_path: Path) -> None:
    pem = create_key_pair(tmp_path / "ann.key")
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    key = load_private_key(tmp_path / "ann.key")
    assert public_pem(key) == pem
    signature = sign(key, b"statement")
    assert len(base64.b64decode(signature)) == 64  # an Ed25519 signature is 64 bytes
    # checked with the library directly, not only with our verify
    loaded = serialization.load_pem_public_key(pem.encode())
    assert isinstance(loaded, Ed25519PublicKey)
    loaded.verify(base64.b64decode(signature), b"statement")
    assert verify_signature(pem, signature, b"statement")
    assert not verify_signature(pem, signature, b"statemenT")
    other = create_key_pair(tmp_path / "bob.key")
    assert not verify_signature(other, signature, b"statement")
    assert not verify_signature(pem, "not base64!", b"statement")
    assert not verify_signature("not a key", signature, b"statement")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_the_private_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "ann.key"
    create_key_pair(path, "correct horse")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already there; a key is never overwritten"):
        create_key_pair(path)
    assert path.read_bytes() == before
    assert b"ENCRYPTED PRIVATE KEY" in before


def test_passphrases(tmp_path: Path) -> None:
    path = tmp_path / "ann.key"
    pem = create_key_pair(path, "correct horse")
    assert public_pem(load_private_key(path, "correct horse")) == pem
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_private_key(path, "wrong horse")
    with pytest.raises(KeyFileError, match="encrypted; give its passphrase"):
        load_private_key(path)
    create_key_pair(tmp_path / "plain.key")
    with pytest.raises(KeyFileError, match="not encrypted"):
        load_private_key(tmp_path / "plain.key", "anything")


def test_missing_file_and_not_a_key(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="no such key file"):
        load_private_key(tmp_path / "nope.key")
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(KeyFileError, match="not a PEM private key"):
        load_private_key(tmp_path / "notes.txt")
    rsa = generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "rsa.key").write_bytes(rsa.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    with pytest.raises(KeyFileError, match="not an Ed25519 key"):
        load_private_key(tmp_path / "rsa.key")
    with pytest.raises(KeyFileError, match="cannot create"):
        create_key_pair(tmp_path / "no-such-folder" / "k.key")
    assert not issubclass(KeyFileError, KeyError)
