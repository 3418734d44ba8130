"""The JSON API under ``/api/v1`` (docs/api.md): bearer tokens per user, problem+json for
every error, OpenAPI 3.1 at ``/api/v1/openapi.json``. One module per resource:
``requests`` (drafting, sending, reading, the requesting desk's actions), ``answers`` (the
requested desk's), ``inbox``, ``directory``, ``treaty``; ``schemas`` and ``views`` hold the
bodies and answers; ``routing`` the body cap and error mapping; ``router`` the wiring."""

from hanoi247.entrypoints.web.api.router import api_router, install_api

__all__ = ["api_router", "install_api"]
