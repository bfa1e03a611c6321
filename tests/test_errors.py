from __future__ import annotations

from ragsilo import errors


def _all_errors() -> list[type[errors.RagsiloError]]:
    out = []
    for name in dir(errors):
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, errors.RagsiloError):
            out.append(obj)
    return out


def test_every_error_has_distinct_code_status_and_exit() -> None:
    codes = [e.code for e in _all_errors()]
    assert len(codes) == len(set(codes))
    for e in _all_errors():
        assert 400 <= e.http_status < 600 and e.exit_code >= 1


def test_tree_is_drawn_in_the_docstring() -> None:
    for e in _all_errors():
        assert e.__name__ in (errors.__doc__ or "")


def test_missing_dependency_names_the_extra() -> None:
    e = errors.MissingDependencyError("pypdf", "pdf", "reading PDF files")
    assert 'pip install "ragsilo[pdf]"' in str(e)
    assert e.to_dict() == {"error": "missing_dependency", "message": str(e)}


def test_retriable_flags() -> None:
    assert errors.RetriableStoreError.retriable and errors.ConnectionFailedError.retriable
    assert not errors.SchemaMismatchError.retriable
