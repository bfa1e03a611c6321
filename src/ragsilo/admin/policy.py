"""The account policy, checked before anything is sent to Milvus.

User and role names start with a letter, are at most 32 characters, and use
only letters, digits and underscores. A password has 8 to 64 characters and at
least three of the four kinds: upper case, lower case, digit, special
character. Every refusal names the rule that failed, never the password.
"""

from __future__ import annotations

import re
import string

from ragsilo.errors import PolicyError

NAME_MAX = 32
PASSWORD_MIN = 8
PASSWORD_MAX = 64
PASSWORD_KINDS_NEEDED = 3

_NAME_CHARS = re.compile(r"^[A-Za-z0-9_]*$")


def check_name(name: str, what: str = "user name") -> str:
    """Return ``name`` when it follows the naming rule, else raise :class:`PolicyError`."""
    if not isinstance(name, str) or not name:
        raise PolicyError(f"the {what} is empty", rule="name-not-empty")
    if not name[0].isascii() or not name[0].isalpha():
        raise PolicyError(
            f"the {what} {name!r} must start with a letter", rule="name-starts-with-letter"
        )
    if len(name) > NAME_MAX:
        raise PolicyError(
            f"the {what} is {len(name)} characters; the most is {NAME_MAX}", rule="name-length"
        )
    if not _NAME_CHARS.match(name):
        raise PolicyError(
            f"the {what} {name!r} may hold only letters, digits and underscores",
            rule="name-characters",
        )
    return name


def check_username(name: str) -> str:
    return check_name(name, "user name")


def check_role_name(name: str) -> str:
    return check_name(name, "role name")


def password_kinds(password: str) -> set[str]:
    """Which of the four kinds of character ``password`` holds."""
    kinds: set[str] = set()
    for ch in password:
        if ch.isupper():
            kinds.add("upper case")
        elif ch.islower():
            kinds.add("lower case")
        elif ch.isdigit():
            kinds.add("digit")
        elif ch in string.punctuation or not ch.isalnum():
            kinds.add("special character")
    return kinds


def check_password(password: str) -> str:
    """Return ``password`` when it follows the password rule, else raise :class:`PolicyError`.

    The message says which rule failed; it never repeats the password.
    """
    if not isinstance(password, str):
        raise PolicyError("the password must be text", rule="password-length")
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise PolicyError(
            f"the password has {len(password)} characters; it needs "
            f"{PASSWORD_MIN} to {PASSWORD_MAX}",
            rule="password-length",
        )
    if any(ch in "\r\n\0" for ch in password):
        raise PolicyError(
            "the password must not hold line breaks or NUL characters",
            rule="password-characters",
        )
    kinds = password_kinds(password)
    if len(kinds) < PASSWORD_KINDS_NEEDED:
        missing = sorted({"upper case", "lower case", "digit", "special character"} - kinds)
        raise PolicyError(
            f"the password uses {len(kinds)} of the four kinds of character; it needs at least "
            f"{PASSWORD_KINDS_NEEDED} of upper case, lower case, digit and special character",
            rule="password-character-kinds",
            hint=f"add {' or '.join(missing)}",
        )
    return password
