"""Canonical JSON (RFC 8785 style) for everything nodes sign, and its strict reader."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final, NoReturn

_SAFE_INT: Final = 2**53 - 1  # I-JSON (RFC 7493): integers every peer parses exactly


def canonical_json(obj: Any) -> bytes:
    """Serialize ``obj`` as RFC 8785 (JCS) canonical JSON, UTF-8, no whitespace.

    Object members are sorted by UTF-16 code units; strings escape only ``"``, ``\\`` and
    control characters; finite floats use the ECMAScript shortest form (``1.0`` → ``1``).
    Raises ``ValueError`` for NaN/Infinity, integers beyond ±(2**53-1), lone surrogates,
    and ``TypeError`` for non-JSON types or non-string keys.
    """
    try:
        if _plain(obj, 0):  # the common case: json's own C encoder writes the same bytes
            return _PLAIN.encode(obj).encode("utf-8")
        parts: list[str] = []
        _encode(obj, parts)
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("strings must not contain lone surrogates") from None


# With sorted keys, no floats and ASCII member names, json's encoder writes JCS exactly:
# strings escape the same way, integers print the same, and code-point order of ASCII names
# is their UTF-16 order.
_PLAIN: Final = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


def _plain(obj: Any, depth: int) -> bool:
    """True when ``obj`` holds only dicts with ASCII string keys, lists, strings, integers
    within ±(2**53-1), booleans and None (nested at most 64 deep)."""
    if obj is None or obj is True or obj is False or type(obj) is str:
        return True
    if type(obj) is int:
        return -_SAFE_INT <= obj <= _SAFE_INT
    if depth > 64:
        return False
    if type(obj) is dict:
        return all(type(k) is str and k.isascii() and _plain(v, depth + 1) for k, v in obj.items())
    if type(obj) is list:
        return all(_plain(v, depth + 1) for v in obj)
    return False


def _encode(obj: Any, out: list[str]) -> None:
    if obj is None or obj is True or obj is False:
        out.append({None: "null", True: "true", False: "false"}[obj])
    elif isinstance(obj, str):
        out.append(_json_string(obj))
    elif isinstance(obj, int):
        if abs(obj) > _SAFE_INT:
            raise ValueError("integers must lie within ±(2**53-1); send larger ones as strings")
        out.append(str(int(obj)))
    elif isinstance(obj, float):
        out.append(_json_number(obj))
    elif isinstance(obj, Mapping):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError("JSON object keys must be strings")
        items = sorted(obj.items(), key=lambda kv: kv[0].encode("utf-16-be", "surrogatepass"))
        out.append("{")
        for i, (key, value) in enumerate(items):
            out.append("," if i else "")
            out.append(_json_string(key) + ":")
            _encode(value, out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, value in enumerate(obj):
            out.append("," if i else "")
            _encode(value, out)
        out.append("]")
    else:
        raise TypeError(f"{type(obj).__name__} is not a JSON type")


def _json_string(value: str) -> str:
    # Python's escaping with ensure_ascii=False is exactly JCS: " \\ \b \f \n \r \t, \u00xx.
    return json.dumps(value, ensure_ascii=False)


def _json_number(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError("NaN and Infinity are not JSON")
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    assert isinstance(exponent, int)
    point = exponent + len("".join(map(str, digit_tuple)))  # value = 0.DIGITS × 10**point
    k, prefix = len(digits), "-" if sign else ""
    if k <= point <= 21:
        return prefix + digits + "0" * (point - k)
    if 0 < point <= 21:
        return prefix + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return prefix + "0." + "0" * -point + digits
    e = point - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{prefix}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def loads_strict(data: bytes) -> Any:
    """Strict JSON parse: UTF-8, no NaN/Infinity, no duplicate member names."""

    def no_constants(name: str) -> NoReturn:
        raise ValueError("non-finite number")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            raise ValueError("duplicate member name")
        return result

    return json.loads(
        data.decode("utf-8"), parse_constant=no_constants, object_pairs_hook=no_duplicates
    )
