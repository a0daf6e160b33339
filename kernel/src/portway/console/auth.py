"""Login (password, then the second factor when configured) and logout.

The password step alone never yields a logged-in session: with a second
factor configured it yields a short ``factor`` session that can only post
a code. Each step issues a new session id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import structlog
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portway.console.sessions import ConsoleSession
from portway.console.site import Site

log = structlog.get_logger("portway.console")
T = TypeVar("T")
# Longer names are not users (console user names are at most 100 characters): a hostile
# megabyte-long name must not reach the throttle table or the page that echoes it.
MAX_USERNAME = 150
MAX_CODE = 64


def _client(request: Request) -> str:
    # The peer address; X-Forwarded-For is not trusted (anyone can send it).
    return request.client.host if request.client else "unknown"


class Auth:
    def __init__(self, site: Site) -> None:
        self.site = site

    def routes(self) -> list[Route]:
        return [
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/login/factor", self.factor_form, methods=["GET"]),
            Route("/login/factor", self.factor, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
        ]

    async def login_form(self, request: Request) -> Response:
        site = self.site
        problem = site.factor_problem()
        if problem:
            return site.render(request, "refused.html", None, 503, message=problem)
        session = await site.session_of(request)
        if session is not None and session.logged_in:
            return site.redirect(request, "/")
        if session is None or session.stage != "anon":
            session = await to_thread.run_sync(site.sessions.start)
        response = site.render(request, "login.html", session, username="", error="")
        site.set_cookie(response, session)
        return response

    async def login(self, request: Request) -> Response:
        site = self.site
        problem = site.factor_problem()
        if problem:
            return site.render(request, "refused.html", None, 503, message=problem)
        session = await site.session_of(request)
        form = await request.form()
        if session is None or not site.csrf_ok(session, form):
            return site.forbidden(
                request, "the login form expired or its CSRF token is wrong; reload the page"
            )
        username = str(form.get("username", "")).strip()[:MAX_USERNAME]
        password = str(form.get("password", ""))
        keys = (f"user:{username}", f"client:{_client(request)}")

        def again(status: int, error: str) -> Response:
            return site.render(request, "login.html", session, status, username=username, error=error)

        lock = await to_thread.run_sync(site.throttle.begin, *keys)
        if lock:
            return again(429, f"Too many failed attempts; try again in {lock.seconds_left} s.")
        ok = await _judged(site, keys, lambda: site.users.verify_password(username, password))
        if not ok:
            await to_thread.run_sync(lambda: site.throttle.fail(*keys, stage="password"))
            return again(401, "Wrong user name or password.")
        factor = site.factor()
        if factor is None:
            new = await to_thread.run_sync(site.sessions.rotate, session, username, "full")
            await to_thread.run_sync(site.throttle.clear, *keys)
            log.info("console_login", user=username, client=_client(request), second_factor=None)
            response = site.redirect(request, "/")
        else:
            has_secret = await to_thread.run_sync(site.users.factor_secret, username)
            if not has_secret:
                log.warning("console_login_no_factor_key", user=username, factor=factor.name)
                return again(
                    403,
                    f"Your account has no {factor.name} key yet, and this console requires one. "
                    f"Ask an operator to run: portway admin reset-totp ENV {username}",
                )
            new = await to_thread.run_sync(site.sessions.rotate, session, username, "factor")
            response = site.redirect(request, "/login/factor")
        site.set_cookie(response, new)
        return response

    async def factor_form(self, request: Request) -> Response:
        site = self.site
        session = await site.session_of(request)
        factor = site.factor()
        if session is None or session.stage != "factor" or factor is None:
            return site.redirect(request, "/login")
        return site.render(request, "factor.html", session, label=factor.label, error="")

    async def factor(self, request: Request) -> Response:
        site = self.site
        problem = site.factor_problem()
        if problem:
            return site.render(request, "refused.html", None, 503, message=problem)
        session = await site.session_of(request)
        form = await request.form()
        factor = site.factor()
        if session is None or session.stage != "factor" or factor is None or session.user is None:
            return site.redirect(request, "/login")
        if not site.csrf_ok(session, form):
            return site.forbidden(request, "the form's CSRF token is missing or wrong; reload the page")
        user = session.user
        keys = (f"user:{user}", f"client:{_client(request)}")

        def again(status: int, error: str) -> Response:
            return site.render(request, "factor.html", session, status, label=factor.label, error=error)

        lock = await to_thread.run_sync(site.throttle.begin, *keys)
        if lock:
            return again(429, f"Too many failed attempts; try again in {lock.seconds_left} s.")
        code = str(form.get("code", "")).strip()[:MAX_CODE]
        used = await _judged(site, keys, lambda: self._check_code(user, code))
        if not used:
            await to_thread.run_sync(lambda: site.throttle.fail(*keys, stage="second_factor"))
            return again(401, "Wrong code, or a code that was used already. Wait for the next one.")
        new = await to_thread.run_sync(site.sessions.rotate, session, user, "full")
        await to_thread.run_sync(site.throttle.clear, *keys)
        log.info("console_login", user=user, client=_client(request), second_factor=factor.name, by=used)
        response = site.redirect(request, "/")
        site.set_cookie(response, new)
        return response

    def _check_code(self, user: str, code: str) -> str:
        """``"code"`` or ``"recovery code"`` when accepted (and spent), else ``""``."""
        site = self.site
        factor = site.factor()
        secret = site.users.factor_secret(user)
        if factor is None or secret is None:
            return ""
        step = factor.verify(secret, code, site.users.last_step(user))
        if step is not None:
            return "code" if site.users.accept_step(user, step) else ""
        if len(code.replace("-", "").replace(" ", "")) == 16 and site.users.use_recovery_code(user, code):
            return "recovery code"
        return ""

    async def logout(self, request: Request) -> Response:
        site = self.site
        session = await site.session_of(request)
        form = await request.form()
        if session is None:
            return site.redirect(request, "/login")
        if not site.csrf_ok(session, form):
            return site.forbidden(request, "the form's CSRF token is missing or wrong; reload the page")
        await to_thread.run_sync(site.sessions.end, session.token)
        log.info("console_logout", user=session.user)
        response = site.redirect(request, "/login")
        response.delete_cookie(site.cookie, path="/", secure=site.settings.secure_cookies, httponly=True)
        return response


async def _judged(site: Site, keys: tuple[str, ...], check: Callable[[], T]) -> T:
    """Run a check reserved with ``throttle.begin``; give the reservation back if the check errs."""
    try:
        return await to_thread.run_sync(check)
    except BaseException:
        await to_thread.run_sync(site.throttle.release, *keys)
        raise


def user_of(session: ConsoleSession) -> str:
    assert session.user is not None  # pages behind Site.page are logged in
    return session.user
