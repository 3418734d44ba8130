"""The web desk: server-rendered pages (Jinja2, htmx), sessions, CSRF, error pages.

``install_web_desk(app, runtime)`` (called once by ``create_app``, after the problem
handlers) mounts ``/static``, includes the page routers and installs the error pages.

Adding a page
-------------

1. A router module here (``pages/cases.py``) with plain ``def`` routes::

       router = APIRouter(include_in_schema=False)

       @router.get("/requests/{request_id}")
       def case(request: Request, request_id: str,
                viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
           require(viewer, Permission.REQUEST_READ)          # 403 page otherwise
           tr = viewer.tr                                     # viewer.lang, viewer.user
           with desk_of(request).uow_factory() as uow: ...    # .clock, .catalogue, .runtime
           return render(request, "case.html", viewer=viewer,
                         title=tr.gettext("Request"), view=view)

   State-changing routes take ``Depends(posted)`` instead (CSRF checked) and answer
   with a 303 redirect. Raise ``NotFound``/``Forbidden``/``BadRequest`` for error pages.
2. Add it to ``ROUTERS`` below. A path listed in ``render.NAVIGATION`` (``/compose``)
   appears in the menu as soon as a route serves it.
3. A template ``templates/case.html``::

       {% extends "base.html" %}
       {% block main %}
       <h1>{{ page.title }}</h1> … {{ _("Received") }} {{ dt(view.received_at) }}
       {% endblock %}

   Blocks: ``main`` (the page), ``head`` (extra ``<link>``/``<script src>``; no inline
   script or style: the Content-Security-Policy forbids them). Forms include
   ``{% include "_csrf.html" %}``. Every visible string goes through ``_()`` /
   ``pgettext()`` / ``ngettext()``; then ``python scripts/extract_messages.py --update``
   and translate the new msgids in every ``locale/*/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from starlette.staticfiles import StaticFiles

from hanoi247.bootstrap import make_authenticator
from hanoi247.entrypoints.web.pages import (
    admin,
    alarms,
    case,
    case_actions,
    case_evidence,
    compose,
    compose_autosave,
    directory,
    drills,
    enrol,
    inbox,
    pdf,
    providers,
    shell,
    signin,
    statistics,
    treaty,
)
from hanoi247.entrypoints.web.pages.desk import WebDesk
from hanoi247.entrypoints.web.pages.errors import install_error_pages
from hanoi247.entrypoints.web.pages.render import TEMPLATES, make_templates

if TYPE_CHECKING:
    from hanoi247.bootstrap import NodeRuntime

STATIC = TEMPLATES.parent / "static"
ROUTERS: tuple[APIRouter, ...] = (
    signin.router,
    enrol.router,
    shell.router,
    alarms.router,
    inbox.router,
    pdf.router,  # before case: /requests/{id}.pdf
    case.router,
    case_actions.router,
    case_evidence.router,
    compose_autosave.router,  # before compose: /compose/{id}/autosave
    compose.router,
    directory.router,
    drills.router,
    providers.router,
    treaty.router,
    statistics.router,
    admin.router,
)


def install_web_desk(app: FastAPI, runtime: NodeRuntime) -> None:
    """Serve the web desk of ``runtime`` from ``app`` (see the module docstring)."""
    app.state.web_desk = WebDesk(
        runtime=runtime,
        templates=make_templates(),
        authenticator=make_authenticator(runtime.settings),
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)
    install_error_pages(app)
