"""Listing and revoking API tokens (SPEC 2: tokens are listed and revocable).

Who may do what: a user lists and revokes their own tokens; a super admin any token of
the account; nobody sees another account's. A token that exists but is not the caller's
to manage is answered like one that does not exist, so ids tell nothing. The operator's
functions (``tokens_of``, ``revoke``: the CLI) act on a whole account.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.domain.auth import USERS_READ, USERS_WRITE, Principal, Role, parse_scopes
from propsync.domain.errors import NotFoundError, ValidationError
from propsync.domain.record_ids import parse_record_id
from propsync.services.accounts import NewToken, create_token
from propsync.storage import accounts as store
from propsync.storage.db import read_transaction, write_transaction


@dataclass(frozen=True)
class TokenView:
    token_id: int
    name: str
    scopes: tuple[str, ...]
    user_id: int
    user_email: str
    created_ms: int
    last_used_ms: int | None
    revoked_ms: int | None

    @property
    def revoked(self) -> bool:
        return self.revoked_ms is not None


def list_tokens(engine: Engine, principal: Principal) -> list[TokenView]:
    """The tokens ``principal`` may manage, by id (scope ``settings.users.read``: tokens
    are users' credentials)."""
    principal.require(USERS_READ)
    return tokens_of(engine, principal.account_id, _managed_user(principal))


def revoke_token(engine: Engine, principal: Principal, token_id: int) -> TokenView:
    """Revoke a token ``principal`` may manage (a revoked one stays revoked), or a 404
    (scope ``settings.users.write``)."""
    principal.require(USERS_WRITE)
    return revoke(engine, principal.account_id, token_id, _managed_user(principal))


def create_own_token(engine: Engine, principal: Principal, name: str, scopes: str) -> NewToken:
    """A new token acting for ``principal``'s user (its secret is shown once), with no scope
    that ``principal`` lacks."""
    try:
        wanted = parse_scopes(scopes)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    principal.require(*sorted(wanted))
    return create_token(engine, principal.account_id, scopes, principal.user_id, name.strip())


def tokens_of(engine: Engine, account_id: int, user_id: int | None = None) -> list[TokenView]:
    """The account's tokens (only ``user_id``'s when given), by id."""
    with read_transaction(engine) as conn:
        return [_view(r) for r in store.token_rows(conn, account_id, user_id)]


def revoke(engine: Engine, account_id: int, token_id: int, user_id: int | None = None
           ) -> TokenView:
    """Revoke the account's token ``token_id`` (only if it is ``user_id``'s, when given)."""
    with write_transaction(engine) as conn:
        if not store.token_rows(conn, account_id, user_id, token_id):
            raise NotFoundError(f"There is no token {token_id} among the tokens you may "
                                "manage in this account.")
        store.revoke_token(conn, account_id, token_id, now_ms())
        return _view(store.token_rows(conn, account_id, user_id, token_id)[0])


def parse_token_id(raw: str) -> int:
    """A token id from a path (read as strictly as record ids); anything else: 404."""
    parsed = parse_record_id(raw)
    if parsed is None:
        raise NotFoundError(f"There is no token {raw[:40]!r}: token ids are whole numbers.")
    return parsed


def _managed_user(principal: Principal) -> int | None:
    return None if principal.role is Role.SUPER_ADMIN else principal.user_id


def _view(row: store.TokenRow) -> TokenView:
    return TokenView(row.token_id, row.name, tuple(row.scopes.split()), row.user_id,
                     row.user_email, row.created_ms, row.last_used_ms, row.revoked_ms)
