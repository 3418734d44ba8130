"""People and nodes by name, never by id, on the case page and in its PDF.

An entry of a request's timeline or of its chain of custody names who acted by id: a user
id (or user name) of this desk, a node id (this node's or a pinned peer's), or a user id
of the peer's desk, whose name this node does not hold. ``who`` turns each into what a
person reads: the officer's display name, the node's name, or "An officer of France".
"""

from __future__ import annotations

from hanoi247.entrypoints import i18n
from hanoi247.ports import UnitOfWork


def who(
    uow: UnitOfWork,
    *,
    actor: str,
    origin: str | None,
    own_state: str,
    own_node: tuple[str, str],
    lang: str,
) -> str:
    """The name to show for ``actor`` (who acted at the desk of ``origin``, an ISO
    alpha-2; None when unknown); ``own_node``: this node's (id, name)."""
    if actor == own_node[0]:
        return own_node[1]
    peer = uow.peers.get(actor)
    if peer is not None:
        return peer.name
    if origin is None or origin.upper() == own_state.upper():
        user = uow.users.get(actor) or uow.users.by_username(actor)
        if user is not None:
            return user.display_name
    tr = i18n.translator(lang)
    if origin is None or origin.upper() == own_state.upper():
        return tr.gettext("An officer of this desk")
    state = i18n.state_name(origin, lang)
    return i18n.fill(tr.gettext("An officer of {state}"), "An officer of {state}", state=state)


def state_of_node(
    uow: UnitOfWork, node_id: str, own: tuple[str, str], own_state: str
) -> str | None:
    """The State of a node: this node's, or a pinned peer's (None if unknown)."""
    if node_id == own[0]:
        return own_state
    peer = uow.peers.get(node_id)
    return peer.state.upper() if peer is not None else None
