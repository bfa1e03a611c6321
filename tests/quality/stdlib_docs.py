"""Clean Python docstring passages, built from the standard library of the running Python.

Docstrings are prose mixed with doctest examples, parameter lists and code:
exactly the unusual-but-good text the quality scorer must keep. Nothing is
stored; the passages come from ``inspect.getdoc`` of public functions,
classes and methods of the modules below, in a fixed order.
"""

from __future__ import annotations

import importlib
import inspect
import warnings

_MODULE_NAMES = (
    "abc argparse array ast asyncio base64 binascii bisect bz2 calendar cmath codecs "
    "collections concurrent.futures configparser contextlib copy csv dataclasses datetime "
    "decimal difflib dis doctest email enum filecmp fnmatch fractions functools getopt "
    "gettext glob graphlib gzip hashlib heapq hmac html http.client imaplib inspect io "
    "ipaddress itertools json keyword locale logging lzma mailbox math mimetypes mmap "
    "numbers operator optparse os pathlib pickle pickletools platform pprint queue quopri "
    "random re reprlib sched secrets selectors shlex shutil signal smtplib socket sqlite3 "
    "statistics string stringprep struct subprocess symtable sysconfig tarfile tempfile "
    "textwrap threading time token tokenize traceback types typing unicodedata unittest "
    "urllib.parse uuid warnings weakref xml.etree.ElementTree xmlrpc.client zipfile zlib"
)
MODULES = _MODULE_NAMES.split()


def docstring_passages(limit: int = 800, min_chars: int = 80) -> list[tuple[str, str]]:
    """Up to ``limit`` distinct (qualified name, docstring) pairs, spread over the modules."""
    with warnings.catch_warnings():
        # deprecated aliases (typing.re) warn when read; they are skipped all the same
        warnings.simplefilter("ignore", DeprecationWarning)
        found = _passages(min_chars)
    if len(found) <= limit:
        return found
    step = len(found) / limit
    return [found[int(i * step)] for i in range(limit)]


def _passages(min_chars: int) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attr in sorted(vars(module)):
            obj = getattr(module, attr)
            if attr.startswith("_") or not callable(obj):
                continue
            members = [(attr, obj)]
            if inspect.isclass(obj) and getattr(obj, "__module__", "") == module.__name__:
                members += [
                    (f"{attr}.{m}", v)
                    for m, v in sorted(vars(obj).items())
                    if not m.startswith("_") and callable(v)
                ]
            for qual, member in members:
                doc = inspect.getdoc(member)
                if doc and len(doc) >= min_chars and doc not in seen:
                    seen.add(doc)
                    found.append((f"{name}.{qual}", doc))
    return found
