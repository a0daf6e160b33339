"""What every console page shares: the runtime, users, sessions, templates, guards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
import structlog
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from portway.console.security import cookie_name
from portway.console.sessions import ConsoleSession, Sessions, same
from portway.console.throttle import Throttle
from portway.console.users import AdminUsers
from portway.declarations import AuthFactor
from portway.runtime import Runtime

log = structlog.get_logger("portway.console")
TEMPLATES = Path(__file__).parent / "templates"

Handler = Callable[[Request, ConsoleSession], Awaitable[Response]]


def signing_key(runtime: Runtime) -> bytes:
    """A key for signing anonymous session ids, derived from the environment's secrets key.

    Every server of an environment has the same secrets key, so a login
    form served by one server can be posted to another.
    """
    import hashlib

    secret = runtime.env.secrets_key.read_bytes().strip()
    return hashlib.sha256(b"portway console anonymous sessions v1\0" + secret).digest()


class Site:
    """The console's shared state; one per :func:`build_console` call."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.env.settings.console
        self.settings = settings
        self.users = AdminUsers(runtime.store.db, runtime.catalog.box)
        self.sessions = Sessions(runtime.store.db, settings.session_ttl_s, signing_key(runtime))
        self.throttle = Throttle(runtime.store.db)
        self.cookie = cookie_name(settings.secure_cookies)
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    # second factor

    def factor(self) -> AuthFactor | None:
        """The required second factor, or ``None`` when none is configured."""
        name = self.settings.second_factor
        return self.runtime.plugins.auth_factors.get(name) if name else None

    def factor_problem(self) -> str | None:
        """Why the configured second factor cannot be used, or ``None`` when it can."""
        name = self.settings.second_factor
        if not name or name in self.runtime.plugins.auth_factors:
            return None
        status = self.runtime.plugins.statuses.get(name)
        if status is None:
            why = f"no installed plugin provides it (install portway-{name})"
        else:
            why = f"plugin {name!r} is {status.label}"
        return (
            f"portway.toml sets [console] second_factor = {name!r}, but {why}. "
            "The console refuses every login until the factor is available; it never logs "
            "anyone in without it."
        )

    # sessions and rendering

    def base(self, request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    async def session_of(self, request: Request) -> ConsoleSession | None:
        return await to_thread.run_sync(self.sessions.get, request.cookies.get(self.cookie))

    def set_cookie(self, response: Response, session: ConsoleSession) -> None:
        response.set_cookie(
            self.cookie,
            session.token,
            httponly=True,
            secure=self.settings.secure_cookies,
            samesite="strict",
            path="/",
        )

    def render(
        self,
        request: Request,
        template: str,
        session: ConsoleSession | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        page = self.templates.get_template(template).render(
            base=self.base(request),
            session=session,
            csrf=session.csrf if session else "",
            user=session.user if session and session.logged_in else None,
            **context,
        )
        return HTMLResponse(page, status_code=status)

    def redirect(self, request: Request, path: str) -> RedirectResponse:
        return RedirectResponse(self.base(request) + path, status_code=303)

    def forbidden(self, request: Request, why: str) -> HTMLResponse:
        log.warning("console_forbidden", path=request.url.path, reason=why)
        return self.render(request, "error.html", None, 403, title="Forbidden", message=why)

    def csrf_ok(self, session: ConsoleSession | None, form: Any) -> bool:
        sent = form.get("csrf")
        return bool(session and isinstance(sent, str) and sent and same(sent, session.csrf))

    def page(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a logged-in page: redirect to login, check CSRF on every POST."""

        async def endpoint(request: Request) -> Response:
            session = await self.session_of(request)
            if session is None or not session.logged_in:
                if request.method != "GET":
                    return self.forbidden(request, "not logged in (or the session expired); log in again")
                return self.redirect(request, "/login")
            if request.method == "POST":
                form = await request.form()
                if not self.csrf_ok(session, form):
                    return self.forbidden(
                        request, "the form's CSRF token is missing or wrong; reload the page"
                    )
                request.state.form = form
            return await handler(request, session)

        return endpoint
