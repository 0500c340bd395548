"""Users, memberships and authentication (passwords hashed with scrypt)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from supplychain.models import Membership, Organization, Role, User

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
    email = email.strip().lower()
    if session.scalars(select(User).where(User.email == email)).first():
        raise AccountError(f"a user with email {email} already exists", "email_taken")
    user = User(
        email=email,
        display_name=display_name,
        password_hash=hash_password(password),
        locale=locale,
    )
    user.memberships.append(Membership(organization=organization, role=role))
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
