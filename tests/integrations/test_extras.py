"""Without its framework installed, an adapter's import names the extra to install."""

from __future__ import annotations

import importlib
import sys

import pytest

from ragsilo import MissingDependencyError


@pytest.mark.parametrize(
    ("module", "framework", "extra"),
    [
        ("ragsilo.integrations.langchain", "langchain_core", "ragsilo[langchain]"),
        ("ragsilo.integrations.llama_index", "llama_index", "ragsilo[llama-index]"),
    ],
)
def test_a_missing_framework_names_the_extra(monkeypatch, module, framework, extra) -> None:
    for name in list(sys.modules):
        if name == framework or name.startswith(framework + "."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, framework, None)  # import fails as if not installed
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(MissingDependencyError) as e:
        importlib.import_module(module)
    assert extra in e.value.hint
