"""``/admin``: people, peers and the outbox, for those who keep the node running.

* Users (``user:manage``): the list, and a form to add one. The administrator chooses no
  password and never sees a TOTP secret: the answer to that form shows, once, the new
  user's one-time enrolment code and the ``/enrol`` address where the user chooses both
  (``pages/enrol.py``, ``services/enrolment.py``).
* Peers and their keys, and the outbox (``peer:manage``): dead letters first, each with a
  retry button (``POST /admin/outbox/{id}/retry``, CSRF-protected, audited as
  ``federation:message:retried`` like ``hanoi247 outbox retry``); then pending messages,
  then the last delivered ones.

Without either permission the page is the 403 page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hanoi247.domain.accounts import LOCALES, Permission, Role
from hanoi247.domain.errors import Problem, ValidationFailed
from hanoi247.domain.federation import OutboxStatus
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.web.pages.desk import (
    BadRequest,
    NotFound,
    Viewer,
    desk_of,
    posted,
    require,
    signed_in,
)
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.services import federation as federation_service
from hanoi247.services.accounts import NewUser, add_user, list_users
from hanoi247.services.federation import NoSuchOutboxEntry, NotADeadLetter

router = APIRouter(include_in_schema=False)
ADMINS = (Permission.USER_MANAGE, Permission.PEER_MANAGE)
RECENT_DELIVERED = 20
NOTICES = ("retried", "not_dead")


def _admin_page(
    request: Request,
    viewer: Viewer,
    *,
    created: NewUser | None = None,
    problems: tuple[Problem, ...] = (),
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    desk = desk_of(request)
    context: dict[str, Any] = {"users": [], "peers": [], "outbox": [], "counts": {}}
    if viewer.can(Permission.USER_MANAGE):
        context["users"] = list_users(desk.uow_factory())
    if viewer.can(Permission.PEER_MANAGE):
        with desk.uow_factory() as uow:
            context["peers"] = uow.peers.list()
            context["counts"] = uow.outbox.counts()
            context["outbox"] = [
                *uow.outbox.list(status=OutboxStatus.DEAD),
                *uow.outbox.list(status=OutboxStatus.PENDING),
                *uow.outbox.list(status=OutboxStatus.DELIVERED, limit=RECENT_DELIVERED),
            ]
    notice = request.query_params.get("notice", "")
    default_zone = next(iter(_zones(request)), "UTC")
    return render(
        request,
        "admin.html",
        viewer=viewer,
        title=viewer.tr.gettext("Administration"),
        status=status,
        can_users=viewer.can(Permission.USER_MANAGE),
        can_peers=viewer.can(Permission.PEER_MANAGE),
        created=created,
        enrol_url=str(request.url_for("enrol_form")),
        problems=problems,
        form=form or {"role": Role.OFFICER.value, "locale": viewer.lang, "timezone": default_zone},
        roles=list(Role),
        locales=LOCALES,
        notice=notice if notice in NOTICES else "",
        outbox_statuses=list(OutboxStatus),
        now=desk.clock.now(),
        problem_text=lambda problem: i18n.problem_message(problem, viewer.tr, viewer.timezone),
        **context,
    )


def _zones(request: Request) -> tuple[str, ...]:
    desk = desk_of(request)
    state = desk.catalogue.states.get(desk.runtime.local.identity.state.upper())
    return state.timezones if state else ()


@router.get("/admin")
def admin(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    require(viewer, *ADMINS)
    return _admin_page(request, viewer)


@router.post("/admin/users")
def add_user_form(
    request: Request,
    viewer: Annotated[Viewer, Depends(posted)],
    username: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "en",
    timezone: Annotated[str, Form()] = "UTC",
) -> Response:
    require(viewer, Permission.USER_MANAGE)
    if role not in set(Role):
        raise BadRequest("role")
    desk = desk_of(request)
    form = {
        "username": username.strip(),
        "display_name": display_name.strip(),
        "email": email.strip(),
        "role": role,
        "locale": locale,
        "timezone": timezone.strip(),
    }
    try:
        created = add_user(
            desk.uow_factory(),
            desk.authenticator,
            username=form["username"],
            display_name=form["display_name"],
            email=form["email"],
            role=Role(role),
            locale=locale,
            timezone=form["timezone"],
            enrol_within=desk.runtime.settings.enrolment_ttl,
            now=desk.clock.now(),
            actor=viewer.user.id,
        )
    except ValidationFailed as error:
        return _admin_page(request, viewer, problems=tuple(error.problems), form=form, status=422)
    return _admin_page(request, viewer, created=created)


@router.post("/admin/outbox/{entry_id}/retry")
def retry_dead_letter(
    request: Request, entry_id: int, viewer: Annotated[Viewer, Depends(posted)]
) -> Response:
    require(viewer, Permission.PEER_MANAGE)
    desk = desk_of(request)
    now = desk.clock.now()
    with desk.uow_factory() as uow:
        try:
            federation_service.retry_dead_letter(uow, entry_id, by=viewer.user.id, at=now)
        except NoSuchOutboxEntry:
            raise NotFound(str(entry_id)) from None
        except NotADeadLetter:
            return RedirectResponse("/admin?notice=not_dead#outbox", status_code=303)
        uow.commit()
    desk.runtime.notify_outbox()
    return RedirectResponse("/admin?notice=retried#outbox", status_code=303)
