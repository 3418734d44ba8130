"""Two network namespaces joined by a veth pair, for nodes on "separate hosts" (Linux, root).

``Link`` creates ``<prefix>a`` and ``<prefix>b`` namespaces, a veth pair between them with
``10.<x>.<y>.1/24`` and ``.2/24``, and removes everything in ``close()`` (deleting a
namespace deletes its end of the veth). Names carry a random suffix: parallel runs never
meet. ``cut()`` / ``restore()`` set the A side of the link down and up.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")


@dataclass
class Link:
    suffix: str = field(default_factory=lambda: secrets.token_hex(3))
    made: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        third, fourth = secrets.randbelow(200) + 20, secrets.randbelow(250) + 1
        self.subnet = f"10.{third}.{fourth}"

    @property
    def a(self) -> str:
        return f"h247a{self.suffix}"

    @property
    def b(self) -> str:
        return f"h247b{self.suffix}"

    @property
    def veth_a(self) -> str:
        return f"hva{self.suffix}"  # at most 15 characters

    @property
    def veth_b(self) -> str:
        return f"hvb{self.suffix}"

    def address(self, side: str) -> str:
        return f"{self.subnet}.{1 if side == 'a' else 2}"

    def open(self) -> Link:
        for ns in (self.a, self.b):
            ip("netns", "add", ns)
            self.made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("link", "add", self.veth_a, "netns", self.a, "type", "veth", "peer", "name",
           self.veth_b, "netns", self.b)  # fmt: skip
        for ns, dev, side in ((self.a, self.veth_a, "a"), (self.b, self.veth_b, "b")):
            ip("-n", ns, "addr", "add", f"{self.address(side)}/24", "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
        return self

    def exec_prefix(self, side: str) -> Sequence[str]:
        return ["ip", "netns", "exec", self.a if side == "a" else self.b]

    def cut(self) -> None:
        ip("-n", self.a, "link", "set", self.veth_a, "down")

    def restore(self) -> None:
        ip("-n", self.a, "link", "set", self.veth_a, "up")

    def close(self) -> None:
        errors = []
        for ns in reversed(self.made):
            try:
                ip("netns", "del", ns)
            except RuntimeError as error:  # keep deleting the others
                errors.append(str(error))
        self.made.clear()
        if errors:
            raise RuntimeError("; ".join(errors))
