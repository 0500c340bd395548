"""Users, memberships and authentication (passwords hashed with scrypt), and ending sessions.

A signed-in session remembers the user's `session_generation` from when it started; raising the
number (logout, password change, deactivation) ends every session that holds an older one.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from supplychain import audit
from supplychain.models import Membership, MembershipScope, Organization, Role, User

MIN_PASSWORD_LENGTH = 8
# A real hash to compare against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(ValueError):
    """A user-facing problem with account data; `code` lets the web layer translate it."""

    def __init__(self, message: str, code: str = "account_error"):
        super().__init__(message)
        self.code = code


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"passwords need at least {MIN_PASSWORD_LENGTH} characters", "password_too_short"
        )
    return generate_password_hash(password, method="scrypt")


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    organization: Organization,
    role: Role,
    locale: str | None = None,
) -> User:
    """A user with one membership; emails are unique and stored lower-case."""
    return add_user(
        session,
        email=email,
        password_hash=hash_password(password),
        display_name=display_name,
        organization=organization,
        role=role,
        locale=locale,
    )


def add_user(
    session: Session,
    *,
    email: str,
    password_hash: str,
    display_name: str,
    organization: Organization,
    role: Role,
    locale: str | None = None,
    scope: MembershipScope = MembershipScope.ORGANIZATION,
) -> User:
    """A user whose password was hashed earlier (an invitation claim hashes it when asked and
    creates the account only once the address is confirmed)."""
    email = email.strip().lower()
    if session.scalars(select(User).where(User.email == email)).first():
        raise AccountError(f"a user with email {email} already exists", "email_taken")
    user = User(
        email=email,
        display_name=display_name,
        password_hash=password_hash,
        locale=locale,
    )
    user.memberships.append(Membership(organization=organization, role=role, scope=scope))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, else None (same work either way)."""
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.is_active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def end_sessions(session: Session, user: User) -> int:
    """End every session of `user`, on every device; returns the new generation.

    One atomic increment in the database, so two concurrent logouts cannot both keep a number.
    """
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user, ["session_generation"])
    return user.session_generation


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one; ends the user's other sessions."""
    if not check_password_hash(user.password_hash, current):
        raise AccountError("the current password is not correct", "current_password_wrong")
    user.password_hash = hash_password(new)
    end_sessions(session, user)
    audit.record(
        session,
        action="user.password_changed",
        entity_type="user",
        entity_id=str(user.public_id),
        organization_id=None,
        actor_id=user.id,
    )


def deactivate_user(session: Session, user: User, *, actor_id: int | None = None) -> None:
    """Stop the account: its sessions end now and its API keys stop working (both check it)."""
    if not user.is_active:
        return
    user.is_active = False
    end_sessions(session, user)
    audit.record(
        session,
        action="user.deactivated",
        entity_type="user",
        entity_id=str(user.public_id),
        organization_id=None,
        actor_id=actor_id,
        before={"is_active": True},
        after={"is_active": False},
    )
