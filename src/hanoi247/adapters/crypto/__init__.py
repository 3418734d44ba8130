"""The one crypto boundary: the only package that imports joserfc (and pyrage).

* ``keys``        — the node's key pair (sign / receive), files on disk, fingerprint;
* ``public_keys`` — peers' public keys from JWKs (imported once, cached), thumbprints;
* ``signing``     — compact JWS: sign, parse, verify (messages, receipts, announcements,
  webhooks with detached content);
* ``encryption``  — the JWE layer of the JWS-in-JWE federation envelope: encrypt, decrypt;
* ``compact``     — reading JOSE compact serializations (strict base64url JSON headers);
* ``webhook_key`` — the separate Ed25519 key that signs webhooks (one key per purpose).

What the fields mean (message header, receipt claims, webhook body) is wire format and
lives in ``adapters/federation/wire.py``, ``receipts.py`` and ``adapters/notify/webhook.py``;
this package only does the cryptographic operations. ``pyproject.toml``'s import-linter
contract "joserfc and pyrage only in adapters/crypto" keeps it that way.
"""
