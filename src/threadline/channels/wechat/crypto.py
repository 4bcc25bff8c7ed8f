"""WeChat's signatures and its encrypted ("safe") mode.

`signature` = SHA1 of the sorted, concatenated token, timestamp and nonce; in safe mode `msg_signature` =
SHA1 of the sorted token, timestamp, nonce and the `Encrypt` text. The payload is AES-256-CBC with the key
base64-decoded from the 43-character EncodingAESKey (plus "="), the IV its first 16 bytes, PKCS#7 padding to
32-byte blocks; the plaintext is 16 random bytes, the message length (4 bytes, big-endian), the message and
the AppID, which must be ours.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from threadline.channels.base import VerificationError

BLOCK = 32


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=")
    except (binascii.Error, ValueError) as exc:
        raise VerificationError("the EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise VerificationError("the EncodingAESKey must decode to 32 bytes")
    return key


def decrypt(encoding_aes_key: str, app_id: str, encrypted: str) -> bytes:
    key = _key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypted)
    except (binascii.Error, ValueError) as exc:
        raise VerificationError("Encrypt is not base64") from exc
    if not data or len(data) % 16:
        raise VerificationError("Encrypt has a wrong length")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK:
        raise VerificationError("bad padding in the decrypted payload")
    content = plain[16:-pad]
    if len(content) < 4:
        raise VerificationError("decrypted payload too short")
    length = struct.unpack(">I", content[:4])[0]
    message, sender = content[4:4 + length], content[4 + length:].decode("utf-8", "replace")
    if sender != app_id:
        raise VerificationError("the payload was encrypted for another AppID")
    return message


def encrypt(encoding_aes_key: str, app_id: str, message: bytes) -> str:
    key = _key(encoding_aes_key)
    plain = os.urandom(16) + struct.pack(">I", len(message)) + message + app_id.encode()
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
