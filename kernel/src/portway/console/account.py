"""The logged-in user's own page: rotate the second-factor key, renew recovery codes.

A rotated key is kept aside as *pending* and takes over only when a code
from it is confirmed, so a user who never finishes scanning the QR code
keeps the key that works.
"""

from __future__ import annotations

import base64

import structlog
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portway.console.auth import user_of
from portway.console.sessions import ConsoleSession
from portway.console.site import Site

log = structlog.get_logger("portway.console")
ISSUER = "portway"


class AccountPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    def routes(self) -> list[Route]:
        page = self.site.page
        return [
            Route("/account", page(self.show), methods=["GET"]),
            Route("/account/factor/new", page(self.start_rotation), methods=["POST"]),
            Route("/account/factor/confirm", page(self.confirm_rotation), methods=["POST"]),
            Route("/account/recovery", page(self.new_recovery_codes), methods=["POST"]),
        ]

    async def show(
        self, request: Request, session: ConsoleSession, status: int = 200, **extra: object
    ) -> Response:
        site = self.site
        user = user_of(session)
        found = await to_thread.run_sync(site.users.get, user)
        factor = site.factor()
        pending = await to_thread.run_sync(site.users.pending_secret, user) if factor else None
        qr = uri = ""
        if factor and pending:
            uri = factor.provisioning_uri(pending, user, ISSUER)
            svg = factor.qr_svg(uri)
            qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
        context: dict[str, object] = {"error": "", "notice": "", "codes": []}
        context.update(extra)
        return site.render(
            request,
            "account.html",
            session,
            status,
            account=found,
            factor=factor,
            second_factor=site.settings.second_factor,
            pending=bool(pending),
            qr=qr,
            uri=uri,
            **context,
        )

    async def start_rotation(self, request: Request, session: ConsoleSession) -> Response:
        factor = self.site.factor()
        if factor is None:
            return await self.show(request, session, 400, error="No second factor is configured.")
        user = user_of(session)
        await to_thread.run_sync(self.site.users.set_pending_secret, user, factor.new_secret())
        log.info("console_factor_rotation_started", user=user)
        return await self.show(request, session)

    async def confirm_rotation(self, request: Request, session: ConsoleSession) -> Response:
        site = self.site
        factor = site.factor()
        user = user_of(session)
        pending = await to_thread.run_sync(site.users.pending_secret, user)
        if factor is None or pending is None:
            return await self.show(
                request, session, 400, error="There is no new key to confirm; start again."
            )
        code = str(request.state.form.get("code", ""))
        # A new key has no used steps yet; its first accepted step becomes the replay guard.
        step = factor.verify(pending, code, None)
        if step is None:
            return await self.show(
                request, session, 400, error="That code does not match the new key; the old key stays active."
            )
        await to_thread.run_sync(site.users.confirm_pending, user, step)
        log.info("console_factor_rotated", user=user)
        return await self.show(request, session, notice="The new key is active; the old one no longer works.")

    async def new_recovery_codes(self, request: Request, session: ConsoleSession) -> Response:
        user = user_of(session)
        codes = await to_thread.run_sync(self.site.users.new_recovery_codes, user)
        log.info("console_recovery_codes_renewed", user=user)
        return await self.show(
            request, session, codes=codes, notice="New recovery codes; the old ones no longer work."
        )
