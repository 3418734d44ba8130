"""``hanoi247 conformance``: exercise another node (any implementation) over the wire.

    hanoi247 conformance card --kit-dir DIR --state FR --url http://HOST:PORT
    hanoi247 conformance run URL --card NODE-CARD.json --kit-dir DIR

``card`` makes the kit's identity (keys and a card); the node under test pins that card
(on hanoi247: ``hanoi247 peer add DIR/card.json --fingerprint FP``). ``run`` prints one
line per requirement with the docs/protocol.md section it checks, and exits 1 if any
fails. See docs/conformance.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hanoi247.entrypoints.cli_common import fail

conformance_app = typer.Typer(
    help="Check another node against docs/protocol.md (docs/conformance.md).",
    no_args_is_help=True,
)

KitDirOption = Annotated[
    Path, typer.Option("--kit-dir", help="The kit's directory (its keys and card.json).")
]


@conformance_app.command("card")
def card_command(
    kit_dir: KitDirOption,
    state: Annotated[str, typer.Option(help="The State the kit speaks for (ISO alpha-2).")],
    url: Annotated[str, typer.Option(help="Where the kit listens for answers (its inbox).")],
    node_id: Annotated[str, typer.Option("--node-id", help="The kit's node id.")] = "",
) -> None:
    """Create (or reuse) the kit's keys and print its card for the node under test to pin."""
    from hanoi247.adapters.federation.conformance_kit import create_kit

    kit = create_kit(
        kit_dir, node_id=node_id or f"conformance-{state.lower()}", state=state, url=url
    )
    typer.echo(json.dumps(kit.card, indent=2))
    typer.echo(
        f"Pin it on the node under test: hanoi247 peer add {kit_dir / 'card.json'} "
        f'--fingerprint "{kit.card["fingerprint"]}"',
        err=True,
    )


@conformance_app.command("run")
def run_command(
    url: Annotated[str, typer.Argument(help="Base URL of the node under test.")],
    card: Annotated[Path, typer.Option("--card", help="The node under test's card (JSON).")],
    kit_dir: KitDirOption,
    pong_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the node's drill.pong.")
    ] = 30.0,
) -> None:
    """Run every check; one line per requirement; exit 1 if any fails."""
    import httpx

    from hanoi247.adapters.federation.conformance import Run
    from hanoi247.adapters.federation.conformance_kit import KitInbox, load_kit
    from hanoi247.adapters.federation.conformance_traffic import run_all
    from hanoi247.adapters.federation.node import parse_card
    from hanoi247.domain.node_card import check_url

    try:
        data = json.loads(card.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{card}: not a readable JSON node card ({type(exc).__name__})")
    parsed = parse_card(data, source=str(card))
    kit = load_kit(kit_dir)
    inbox = KitInbox.for_card(kit, parsed)
    try:
        inbox.start()
    except OSError as exc:
        fail(f"the kit cannot listen at {kit.identity.url} ({exc.strerror})")
    try:
        with httpx.Client(timeout=15.0) as http:
            results = run_all(
                Run(check_url(url), parsed, kit, http, pong_timeout=pong_timeout), inbox
            )
    finally:
        inbox.stop()
    for result in results:
        typer.echo(result.line())
    failed = sum(not r.passed for r in results)
    typer.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)
