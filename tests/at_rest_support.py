"""The test harness's secret key: one key file per test session, outside every data dir.

``tests/conftest.py`` points ``HANOI247_SECRET_KEY_FILE`` at it for the whole session (so
``Settings.from_env`` and the node processes the tests start find it), and tests that
build a unit of work by hand take ``session_cipher()``.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

from hanoi247.adapters.crypto.at_rest import FieldCipher
from hanoi247.adapters.crypto.key_files import KeyFileSeal
from hanoi247.adapters.crypto.secret_key import create_key_file, read_key_file


@functools.cache
def session_key_file() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="hanoi247-test-secret-key-"))
    path = directory / "secret.key"
    create_key_file(path)
    return path


def remove_session_key_file() -> None:
    if session_key_file.cache_info().currsize:
        shutil.rmtree(session_key_file().parent, ignore_errors=True)
        session_key_file.cache_clear()
        session_cipher.cache_clear()


@functools.cache
def session_cipher() -> FieldCipher:
    return FieldCipher(read_key_file(session_key_file()))


def session_seal() -> KeyFileSeal:
    """Opens the key files of the nodes the tests create with the session's secret key."""
    return KeyFileSeal.of(read_key_file(session_key_file()))
