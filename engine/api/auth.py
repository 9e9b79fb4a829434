"""Bearer-token authentication and per-endpoint roles for the REST API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request

from engine.api import throttle
from engine.workspace import tokens
from engine.workspace.tokens import Principal


def principal(request: Request) -> Principal:
    """The caller, from `Authorization: Bearer <token>`; 401 when missing or wrong."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise HTTPException(401, "missing bearer token (send 'Authorization: Bearer <token>')")
    state = request.app.state.kadenz
    client, now = throttle.client_of(request), state.clock.now()
    wait = state.throttles.bearer.retry_after(client, now)
    if wait is not None:
        raise HTTPException(
            429,
            f"too many wrong tokens from this address; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    with state.db.session() as session:
        found = tokens.authenticate(session, value.strip(), now)
    if found is None:
        state.throttles.bearer.failed(client, now)
        raise HTTPException(401, "unknown or revoked token (create one: kadenz token create)")
    return found


def require(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that admits admins and the given roles, 403 for anyone else."""

    def check(who: Principal = Depends(principal)) -> Principal:
        if who.role != "admin" and who.role not in roles:
            raise HTTPException(
                403, f"role {who.role!r} may not do this (needs: {', '.join(('admin', *roles))})"
            )
        return who

    return check
