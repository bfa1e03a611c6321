"""The image model path end to end on Milvus Lite, with a tiny CLIP built here offline.

No CLIP weights ship with the tests, so a CLIP of a few thousand parameters is made
from a random ``CLIPConfig`` and fitted for a few seconds to five colour-square
images and their captions; ragsilo then loads it from its folder like any local
model. Text→image and image→image must return the right square among the others.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason='the CLIP path needs torch: pip install "ragsilo[clip]"'
)
transformers = pytest.importorskip("transformers", reason='pip install "ragsilo[clip]"')
Image = pytest.importorskip("PIL.Image")

from ragsilo.settings import load_settings  # noqa: E402
from ragsilo.silo import Silo  # noqa: E402

pytestmark = [pytest.mark.lite, pytest.mark.embed]

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 180, 40),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 20),
    "purple": (140, 40, 170),
}


def _bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def _square(rgb: tuple[int, int, int], size: int = 48, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), rgb).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer

    folder = tmp_path_factory.mktemp("tiny-clip")
    chars = list(_bytes_to_unicode().values())
    vocab = {t: i for i, t in enumerate([*chars, *(c + "</w>" for c in chars)])}
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    processor = CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 40,
            "bos_token_id": vocab["<|startoftext|>"],
            "eos_token_id": vocab["<|endoftext|>"],
            "pad_token_id": vocab["<|endoftext|>"],
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    model = CLIPModel(config)
    captions = [f"a {name} square" for name in COLOURS]
    images = [Image.open(io.BytesIO(_square(rgb))) for rgb in COLOURS.values()]
    text_in = tokenizer(captions, padding=True, return_tensors="pt")
    pixels = processor(images=images, return_tensors="pt")["pixel_values"]
    torch.set_num_threads(2)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    labels = torch.arange(len(captions))
    model.train()
    for _ in range(40):
        out = model(
            input_ids=text_in["input_ids"],
            attention_mask=text_in["attention_mask"],
            pixel_values=pixels,
            return_loss=True,
        )
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        logits = model(
            input_ids=text_in["input_ids"],
            attention_mask=text_in["attention_mask"],
            pixel_values=pixels,
        ).logits_per_text
    assert torch.equal(logits.argmax(1), labels)  # the fit worked
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_text_to_image_and_image_to_image(tiny_clip: Path, tmp_path: Path, embedder) -> None:
    pics = tmp_path / "pics"
    pics.mkdir()
    for name, rgb in COLOURS.items():
        (pics / f"{name}.png").write_bytes(_square(rgb))
    (pics / "notes.md").write_text("# Notes\n\nThe squares were painted in spring.", "utf-8")
    settings = load_settings(
        None,
        {
            "milvus": {"uri": str(tmp_path / "clip.db")},
            "images": {"model": str(tiny_clip), "ocr": False},
        },
    )
    with Silo.open(settings, embedder=embedder) as silo:
        report = silo.ingest([pics])
        assert report.failed == 0 and report.ingested == 6
        assert "image_embed" in report.stages
        assert silo.store.count(silo.images_collection) == len(COLOURS)
        for name in COLOURS:
            hits = silo.search_images(f"a {name} square", k=3)
            assert Path(hits[0].source).name == f"{name}.png", (name, hits)
            assert hits[0].metadata["image"]["format"] == "PNG"
        # image→image with a re-encoded, resized copy of the green square
        query = tmp_path / "query.jpg"
        query.write_bytes(_square(COLOURS["green"], size=80, fmt="JPEG"))
        hits = silo.search_images(image=query, k=5)
        assert Path(hits[0].source).name == "green.png" and hits[0].score > 0.9
        assert len(hits) == len(COLOURS)
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True) and not np.isclose(scores[0], scores[-1])
        # a re-run writes nothing, and a changed image replaces its vector
        assert silo.ingest([pics]).skipped == 6
        (pics / "red.png").write_bytes(_square(COLOURS["blue"], size=50))
        assert silo.ingest([pics]).ingested == 1
        assert silo.store.count(silo.images_collection) == len(COLOURS)
        top = silo.search_images("a blue square", k=2)
        assert {Path(h.source).name for h in top} == {"blue.png", "red.png"}


def test_cli_search_image(tiny_clip: Path, tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from ragsilo.cli.main import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAGSILO_IMAGES__MODEL", str(tiny_clip))
    monkeypatch.setenv("RAGSILO_IMAGES__OCR", "false")
    pics = tmp_path / "pics"
    pics.mkdir()
    for name, rgb in COLOURS.items():
        (pics / f"{name}.png").write_bytes(_square(rgb))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["--uri", str(tmp_path / "c.db"), *args], catch_exceptions=False)

    assert run("ingest", str(pics)).exit_code == 0
    query = tmp_path / "q.png"
    query.write_bytes(_square(COLOURS["yellow"], size=64))
    res = run("search", "--image", str(query), "-k", "2", "--json")
    assert res.exit_code == 0, res.output
    assert Path(json.loads(res.output)[0]["source"]).name == "yellow.png"
    res = run("search", "a purple square", "--images", "--json")
    assert Path(json.loads(res.output)[0]["source"]).name == "purple.png"
    assert run("search", "x", "--image", str(query)).exit_code == 2
    monkeypatch.delenv("RAGSILO_IMAGES__MODEL")
    assert "images.model" in run("search", "--image", str(query)).output


def test_image_search_keeps_to_the_tenant(tiny_clip: Path, tmp_path: Path, embedder) -> None:
    from ragsilo.errors import InputError

    folders = {"acme": ("red", "green"), "globex": ("blue",)}
    settings = load_settings(
        None,
        {
            "milvus": {"uri": str(tmp_path / "tenants.db")},
            "collection": {"tenants": True},
            "images": {"model": str(tiny_clip), "ocr": False},
        },
    )
    with Silo.open(settings, embedder=embedder) as silo:
        for tenant, names in folders.items():
            folder = tmp_path / tenant
            folder.mkdir()
            for name in names:
                (folder / f"{name}.png").write_bytes(_square(COLOURS[name]))
            assert silo.ingest([folder], tenant=tenant).ingested == len(names)
        red_for_globex = silo.search_images("a red square", k=5, tenant="globex")
        assert [Path(h.source).name for h in red_for_globex] == ["blue.png"]
        red_for_acme = silo.search_images("a red square", k=5, tenant="acme")
        assert [Path(h.source).name for h in red_for_acme][0] == "red.png"
        assert {Path(h.source).name for h in red_for_acme} == {"red.png", "green.png"}
        with pytest.raises(InputError, match="multi-tenant"):
            silo.search_images("a red square", k=5)
