"""Masking of secrets in text that may be shown or logged.

A Milvus URI may carry a login (``http://user:password@host:19530``, which
pymilvus accepts). :func:`mask_uri` hides the password in one URI, and
:func:`scrub` hides any such login inside a longer text (an error message, a
log line). :class:`SecretMaskFilter` applies :func:`scrub` to every log record.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

MASK = "***"

# scheme://userinfo@ ; up to the last '@' before any '/', quote or white space (a
# password may itself hold an '@')
_LOGIN_IN_URL = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<info>[^/\s'\"]+)@")


def _mask_info(info: str) -> str:
    user, sep, _ = info.partition(":")
    return f"{user}:{MASK}" if sep else MASK


def mask_uri(uri: str) -> str:
    """``uri`` with the password of a login in it replaced by ``***`` (the user name stays,
    so that an error can still say who failed); a bare token becomes ``***``."""
    if "://" not in uri or "@" not in uri:
        return uri
    try:
        netloc = urlsplit(uri).netloc
    except ValueError:
        return scrub(uri)
    if "@" not in netloc:
        return uri
    info, _, host = netloc.rpartition("@")
    return uri.replace(netloc, f"{_mask_info(info)}@{host}", 1)


def scrub(text: str) -> str:
    """``text`` with the login of every URL in it masked as in :func:`mask_uri`."""
    if "@" not in text or "://" not in text:
        return text
    return _LOGIN_IN_URL.sub(lambda m: m.group("scheme") + _mask_info(m.group("info")) + "@", text)


class SecretMaskFilter(logging.Filter):
    """A logging filter that masks URL logins in each record's message (and its
    exception text), whichever logger wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = scrub(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            text = record.exc_text or ""
            if not text:
                text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(text)
        return True


def install_log_masking(handler: logging.Handler | None = None) -> None:
    """Add :class:`SecretMaskFilter` to ``handler`` (default: every root handler), once."""
    handlers = [handler] if handler is not None else logging.getLogger().handlers
    for h in handlers:
        if not any(isinstance(f, SecretMaskFilter) for f in h.filters):
            h.addFilter(SecretMaskFilter())
