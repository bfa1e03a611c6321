"""Login and connection failures against the real server (authentication on)."""

from __future__ import annotations

import socket

import pytest

from ragsilo.errors import AuthenticationError, ConnectionFailedError
from ragsilo.settings import MilvusSettings
from ragsilo.store import MilvusStore

pytestmark = pytest.mark.server


def test_wrong_password_is_one_clear_line_without_the_password(milvus_server) -> None:
    with pytest.raises(AuthenticationError) as e:
        MilvusStore.connect(MilvusSettings(uri=milvus_server.uri, token="root:NotThePassword9"))
    text = str(e.value)
    assert text.startswith(f"authentication failed for user 'root' at {milvus_server.uri}")
    assert "NotThePassword9" not in text


def test_unknown_user_and_missing_login(milvus_server) -> None:
    with pytest.raises(AuthenticationError, match="user 'ghost'"):
        MilvusStore.connect(
            MilvusSettings(uri=milvus_server.uri, user="ghost", password="Whatever12!")
        )
    with pytest.raises(AuthenticationError, match="requires a login"):
        MilvusStore.connect(MilvusSettings(uri=milvus_server.uri))


def test_nothing_listening_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionFailedError, match=f"127.0.0.1:{port}"):
        MilvusStore.connect(MilvusSettings(uri=f"http://127.0.0.1:{port}", timeout=3))
