"""``DIR/node.toml`` read back, and the names of the data directory's key folders.

Apart from ``node.py`` (which re-exports them) because reading who the node is needs no
key, JOSE or card code: ``hanoi247 evidence add`` reads only this.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from hanoi247.domain.errors import ConfigurationError, InvalidInput
from hanoi247.domain.federation import NodeIdentity
from hanoi247.domain.node_card import check_node_id, check_url

NODE_FILE = "node.toml"
KEYS_DIR = "keys"
PREVIOUS_KEYS_DIR = "previous"


def read_identity(data_dir: Path) -> NodeIdentity:
    path = data_dir / NODE_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"no node in {data_dir}: run `hanoi247 init --state XX --name NAME --url URL "
            f"--data-dir {data_dir}` first"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML ({exc})") from None
    try:
        return NodeIdentity(
            node_id=check_node_id(str(data["node_id"])),
            state=str(data["state"]).upper(),
            name=str(data["name"]),
            url=check_url(str(data["url"])),
        )
    except KeyError as exc:
        raise ConfigurationError(f"{path}: missing {exc.args[0]!r}") from None
    except InvalidInput as exc:  # the node's own file: the node is misconfigured
        raise ConfigurationError(f"{path}: {exc}") from None
