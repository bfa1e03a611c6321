from __future__ import annotations

from pathlib import Path

import pytest

from ragsilo.cli.config_template import CONFIG_TEMPLATE
from ragsilo.errors import ConfigError
from ragsilo.settings import load_settings


def _yaml(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "ragsilo.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_are_the_embedded_lite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert s.milvus.uri == "./ragsilo.db" and s.milvus.is_lite
    assert s.collection.name == "ragsilo" and s.index.type == "auto"
    assert s.embedding.provider == "onnx" and s.chunking.size == 200


def test_precedence_cli_over_env_over_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _yaml(tmp_path, "ingest:\n  workers: 3\n  retries: 7\ncollection:\n  name: fromyaml\n")
    monkeypatch.setenv("RAGSILO_INGEST__WORKERS", "4")
    s = load_settings(cfg)
    assert (s.ingest.workers, s.ingest.retries, s.collection.name) == (4, 7, "fromyaml")
    s = load_settings(cfg, {"ingest": {"workers": 6}, "collection": {"name": None}})
    assert s.ingest.workers == 6 and s.collection.name == "fromyaml"


def test_all_problems_reported_with_their_place(tmp_path: Path) -> None:
    cfg = _yaml(
        tmp_path, "chunking:\n  size: 100\n  overlap: 100\nbogus: 1\nindex:\n  type: FANCY\n"
    )
    with pytest.raises(ConfigError) as e:
        load_settings(cfg)
    text = str(e.value)
    assert "chunking: Value error" not in text
    assert "overlap (100) must be smaller" in text
    assert "bogus: unknown setting" in text
    assert "index.type: index.type 'FANCY' is unknown" in text


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(_yaml(tmp_path, "milvus: [unclosed\n"))
    with pytest.raises(ConfigError, match="ragsilo init"):
        load_settings(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(_yaml(tmp_path, "- a\n- b\n"))


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("./x.db", True),
        ("http://h:19530", True),
        ("https://h", True),
        ("ftp://h", False),
        ("x.txt", False),
    ],
)
def test_uri_checked(uri: str, ok: bool) -> None:
    if ok:
        assert load_settings(None, {"milvus": {"uri": uri}}).milvus.uri == uri
    else:
        with pytest.raises(ConfigError, match="milvus.uri"):
            load_settings(None, {"milvus": {"uri": uri}})


def test_secrets_never_shown(tmp_path: Path) -> None:
    s = load_settings(None, {"milvus": {"token": "root:SuperSecret1"}})
    assert "SuperSecret1" not in repr(s) and "SuperSecret1" not in str(s.redacted())
    assert s.milvus.resolved_token() == "root:SuperSecret1"
    assert s.milvus.login_user == "root"


def test_password_file(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("Pa55word!\n", encoding="utf-8")
    s = load_settings(None, {"milvus": {"user": "reader", "password_file": str(pw)}})
    assert s.milvus.resolved_token() == "reader:Pa55word!"
    with pytest.raises(ConfigError, match="not both"):
        load_settings(None, {"milvus": {"user": "a", "password": "b", "token": "c"}})


def test_init_template_is_valid_and_complete(tmp_path: Path) -> None:
    s = load_settings(_yaml(tmp_path, CONFIG_TEMPLATE))
    assert s.milvus.uri == "./ragsilo.db"
    for section in ("milvus:", "collection:", "index:", "embedding:", "chunking:", "ingest:"):
        assert section in CONFIG_TEMPLATE


def test_retrieval_and_clustering_sections_check_their_values(tmp_path: Path) -> None:
    s = load_settings(_yaml(tmp_path, CONFIG_TEMPLATE))
    r = s.retrieval
    assert (r.mode, r.rerank, r.route_clusters) == ("dense", "cluster_smooth", 0)
    assert s.clustering.k == "auto" and s.clustering.partitions == "auto"
    assert "retrieval:" in CONFIG_TEMPLATE and "clustering:" in CONFIG_TEMPLATE
    s = load_settings(None, {"clustering": {"k": "12", "partitions": "true"}})
    assert s.clustering.k == 12 and s.clustering.partitions is True
    bad = {
        "retrieval": {
            "mode": "fuzzy",
            "rerank": "bogus",
            "weights": {"dense": 1.0},
            "analyzer": "klingon",
            "rrf_k": 0,
        },
        "clustering": {"k": 0},
    }
    with pytest.raises(ConfigError) as e:
        load_settings(None, bad)
    text = str(e.value)
    for needle in (
        "retrieval.mode",
        "reranker 'bogus' is unknown",
        "keys dense and bm25",
        "analyzer 'klingon' is unknown",
        "retrieval.rrf_k",
        "clustering.k",
    ):
        assert needle in text, needle
    assert load_settings(None, {"retrieval": {"rerank": "custom:pkg.mod:fn"}}).retrieval.rerank
