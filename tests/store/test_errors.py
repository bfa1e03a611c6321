from __future__ import annotations

import pytest
from pymilvus.exceptions import MilvusException

from ragsilo.errors import (
    CollectionNotFoundError,
    FilterError,
    RetriableStoreError,
    SchemaMismatchError,
    StoreError,
)
from ragsilo.store.errors import RetryPolicy, call_with_retry, translate


def test_translate_classifies_milvus_errors() -> None:
    assert isinstance(
        translate(MilvusException(100, "collection not found[x]"), "op"), CollectionNotFoundError
    )
    assert isinstance(
        translate(MilvusException(65535, "cannot parse expression: a =="), "op"), FilterError
    )
    assert isinstance(
        translate(MilvusException(8, "rate limit exceeded"), "op"), RetriableStoreError
    )
    assert isinstance(
        translate(MilvusException(1, "service unavailable"), "op"), RetriableStoreError
    )
    assert isinstance(translate(TimeoutError("deadline"), "op"), RetriableStoreError)
    plain = translate(MilvusException(1100, "invalid parameter"), "create index")
    assert type(plain) is StoreError and "create index failed" in str(plain)
    own = SchemaMismatchError("x")
    assert translate(own, "op") is own


def test_retriable_errors_are_retried_with_backoff() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise MilvusException(8, "rate limit exceeded")
        return "ok"

    policy = RetryPolicy(retries=5, base_delay=0.1, max_delay=1.0)
    assert call_with_retry(flaky, "upsert", policy, sleep=sleeps.append) == "ok"
    assert len(calls) == 3 and len(sleeps) == 2
    assert 0.05 <= sleeps[0] <= 0.1 and 0.1 <= sleeps[1] <= 0.2  # exponential, jittered


def test_gives_up_after_the_retries_and_says_so() -> None:
    sleeps: list[float] = []

    def down() -> None:
        raise MilvusException(1, "server unavailable")

    with pytest.raises(RetriableStoreError, match="gave up after 3 attempts"):
        call_with_retry(
            down, "search", RetryPolicy(retries=2, base_delay=0.01), sleep=sleeps.append
        )
    assert len(sleeps) == 2


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def bad() -> None:
        calls.append(1)
        raise MilvusException(1100, "invalid parameter")

    with pytest.raises(StoreError):
        call_with_retry(bad, "op", RetryPolicy(retries=5), sleep=lambda s: None)
    assert len(calls) == 1


def test_permission_denied_names_user_and_privilege() -> None:
    import grpc

    from ragsilo.errors import PermissionDeniedError
    from ragsilo.store.errors import translate

    class Denied(grpc.RpcError):
        def code(self):
            return grpc.StatusCode.PERMISSION_DENIED

        def details(self):
            return "PrivilegeInsert: permission deny to bob"

    err = translate(Denied(), "upsert 3 rows into 'docs'", uri="http://h:19530", user="bob")
    assert isinstance(err, PermissionDeniedError) and not err.retriable
    assert err.http_status == 403
    assert "user 'bob'" in str(err) and "Insert" in str(err) and "ragsilo roles grant" in str(err)
