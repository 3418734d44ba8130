"""``/settings``: "Notify me on this device" — an officer opts in to Web Push.

Off by default. The page carries the node's VAPID public key (``data-vapid-key``);
``static/push.js`` registers the service worker (``static/push-sw.js``, served by the
node, no CDN), subscribes with that key and posts the subscription (``endpoint``,
``p256dh``, ``auth``, the key it subscribed with, CSRF token) to ``POST /settings/push``.
Each device is listed and removable (``POST /settings/push/{device}/remove``). Both are
audited (``services.push_devices``). A device subscribed under a previous VAPID key of the
node (``hanoi247 node push-key --rotate``) is listed as stale, with what to do: no alert
reaches it until it is turned on again. E-mail remains the fallback: it is sent whatever
the push.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.push import PushSubscription
from hanoi247.entrypoints.web.pages.desk import Viewer, desk_of, posted
from hanoi247.entrypoints.web.pages.live import Form, SignedIn, one
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.services.push_devices import devices_of, remove_device, subscribe_device

router = APIRouter(include_in_schema=False)
Posted = Annotated[Viewer, Depends(posted)]
NOTICES = frozenset({"subscribed", "removed", "refused", "key_changed"})


@router.get("/settings")
def settings_page(request: Request, viewer: SignedIn) -> Response:
    desk = desk_of(request)
    vapid = desk.runtime.local.vapid_key
    notice = request.query_params.get("notice", "")
    return render(
        request,
        "settings.html",
        viewer=viewer,
        title=viewer.tr.gettext("Settings"),
        vapid_key=vapid.public_b64() if vapid is not None else "",
        devices=devices_of(
            desk.uow_factory,
            viewer.user.id,
            server_key=vapid.public_b64() if vapid is not None else None,
        ),
        notice=notice if notice in NOTICES else "",
    )


@router.post("/settings/push")
def subscribe(request: Request, form: Form, viewer: Posted) -> Response:
    desk = desk_of(request)
    vapid = desk.runtime.local.vapid_key
    if vapid is None or one(form, "server_key") != vapid.public_b64():
        # the page was loaded before the node's key was replaced: subscribe again
        return RedirectResponse("/settings?notice=key_changed", status_code=303)
    try:
        subscription = PushSubscription(
            user_id=viewer.user.id,
            endpoint=one(form, "endpoint"),
            p256dh=one(form, "p256dh"),
            auth=one(form, "auth"),
            server_key=vapid.public_b64(),
        )
        subscribe_device(
            desk.uow_factory,
            subscription,
            clock=desk.clock,
            replaces=one(form, "replaces") or None,
        )
    except (ValueError, IntegrityError):
        return RedirectResponse("/settings?notice=refused", status_code=303)
    return RedirectResponse("/settings?notice=subscribed", status_code=303)


@router.post("/settings/push/{device}/remove")
def remove(request: Request, device: str, viewer: Posted) -> Response:
    desk = desk_of(request)
    remove_device(desk.uow_factory, viewer.user.id, device, clock=desk.clock)
    return RedirectResponse("/settings?notice=removed", status_code=303)
