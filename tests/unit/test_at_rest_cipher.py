"""AES-256-GCM sealing of database values: bound to table, column and row; key ids."""

from __future__ import annotations

import pytest

from hanoi247.adapters.crypto.at_rest import FieldCipher, SecretKey, file_cipher, is_sealed
from hanoi247.domain.errors import ConfigurationError, IntegrityError

KEY = SecretKey(bytes(range(32)))
OTHER = SecretKey(bytes(range(1, 33)))
PLACE = {"table": "requests", "column": "elements", "row": "r1"}


def test_a_sealed_value_opens_with_the_same_key_at_the_same_place() -> None:
    cipher = FieldCipher([KEY])
    token = cipher.seal_json({"facts": "Lan's phone"}, **PLACE)
    assert is_sealed(token)
    assert token.startswith(f"h247e:1:{KEY.kid}:")
    assert "Lan" not in token
    assert cipher.open_json(token, **PLACE) == {"facts": "Lan's phone"}


def test_sealing_twice_gives_different_tokens_random_nonce() -> None:
    cipher = FieldCipher([KEY])
    assert cipher.seal_text("x", **PLACE) != cipher.seal_text("x", **PLACE)


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"table": "requests", "column": "elements", "row": "r2"},
        {"table": "requests", "column": "results", "row": "r1"},
        {"table": "inbox", "column": "elements", "row": "r1"},
    ],
)
def test_a_value_moved_to_another_row_column_or_table_is_refused(
    elsewhere: dict[str, str],
) -> None:
    cipher = FieldCipher([KEY])
    token = cipher.seal_text("secret facts", **PLACE)
    with pytest.raises(IntegrityError, match="moved from another row"):
        cipher.open_text(token, **elsewhere)


def test_an_altered_value_is_refused_and_the_error_holds_no_content() -> None:
    cipher = FieldCipher([KEY])
    token = cipher.seal_text("secret facts", **PLACE)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(IntegrityError) as caught:
        cipher.open_text(flipped, **PLACE)
    assert "secret" not in str(caught.value)


def test_a_value_under_a_key_the_node_was_not_given_names_that_key() -> None:
    token = FieldCipher([OTHER]).seal_text("x", **PLACE)
    with pytest.raises(ConfigurationError, match=OTHER.kid):
        FieldCipher([KEY]).open_text(token, **PLACE)


def test_a_keyring_seals_with_its_first_key_and_opens_with_all() -> None:
    old_token = FieldCipher([OTHER]).seal_text("old", **PLACE)
    ring = FieldCipher([KEY, OTHER])
    assert ring.open_text(old_token, **PLACE) == "old"
    assert ring.kid_of(ring.seal_text("new", **PLACE)) == KEY.kid


def test_a_clear_json_value_is_reported_not_trusted() -> None:
    with pytest.raises(IntegrityError, match="in clear"):
        FieldCipher([KEY]).open_json({"facts": "x"}, **PLACE)


def test_key_files_and_columns_use_different_derived_keys() -> None:
    token = file_cipher([KEY]).seal_text("x", **PLACE)
    with pytest.raises(IntegrityError):
        FieldCipher([KEY]).open_text(token, **PLACE)


def test_the_key_never_shows_in_its_repr() -> None:
    assert bytes(range(32)).hex() not in repr(KEY)
    assert KEY.kid in repr(KEY)
