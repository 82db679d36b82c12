"""The Teams app package: the rendered manifest is valid against the Teams manifest schema of the
version it declares (vendored, offline), the icons are what Teams asks for, and the zip is
reproducible."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.teams import package

SCHEMAS = Path(__file__).parent / "schemas"
APP_ID = "11111111-2222-3333-4444-555555555555"
URL = "https://callouts.school.example"


def schema_for(manifest: dict[str, Any]) -> dict[str, Any]:
    version = manifest["manifestVersion"]
    assert f"/v{version}/" in manifest["$schema"]
    path = SCHEMAS / f"MicrosoftTeams.v{version}.schema.json"
    assert path.exists(), f"vendor the v{version} manifest schema (see schemas/README.md)"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_the_rendered_manifest_is_valid_for_its_declared_schema_version() -> None:
    manifest = package.render_manifest(APP_ID, URL)
    schema = schema_for(manifest)
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    (bot,) = manifest["bots"]
    assert bot["botId"] == manifest["id"] == APP_ID
    assert bot["supportsFiles"] is True  # workbooks in personal chat
    commands = {c["title"] for lst in bot["commandLists"] for c in lst["commands"]}
    assert {"new", "template", "status", "cancel", "help"} <= commands
    assert manifest["developer"]["privacyUrl"] == f"{URL}/privacy"


def test_the_schema_check_catches_a_broken_manifest() -> None:
    manifest = package.render_manifest(APP_ID, URL)
    manifest["bots"][0]["scopes"] = ["everyone"]
    errors = list(jsonschema.Draft4Validator(schema_for(manifest)).iter_errors(manifest))
    assert errors


@pytest.mark.parametrize(("app_id", "url"), [("my-bot", URL), (APP_ID, "http://insecure.example")])
def test_bad_package_inputs_are_refused(app_id: str, url: str) -> None:
    with pytest.raises(ValueError, match=r"GUID|https"):
        package.render_manifest(app_id, url)


def png_info(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 6)  # 8-bit RGBA
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    return width, height, zlib.decompress(data[idat + 4 : idat + 4 + length])


def pixels(data: bytes) -> list[tuple[int, ...]]:
    width, height, raw = png_info(data)
    stride = width * 4 + 1
    return [
        tuple(raw[y * stride + 1 + x * 4 : y * stride + 5 + x * 4])
        for y in range(height)
        for x in range(width)
    ]


def test_the_icons_are_the_sizes_and_colours_teams_asks_for() -> None:
    assert png_info(package.color_icon())[:2] == (192, 192)
    assert png_info(package.outline_icon())[:2] == (32, 32)
    outline = set(pixels(package.outline_icon()))
    assert outline == {(255, 255, 255, 255), (0, 0, 0, 0)}  # white on transparent
    assert all(p[3] == 255 for p in pixels(package.color_icon()))  # colour icon is opaque


def test_the_package_is_a_reproducible_zip_with_everything_at_its_root(tmp_path: Path) -> None:
    first = package.build_package(APP_ID, URL, tmp_path / "a.zip").read_bytes()
    second = package.build_package(APP_ID, URL, tmp_path / "b.zip").read_bytes()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["id"] == APP_ID


def test_the_command_line_refuses_a_bad_app_id(tmp_path: Path) -> None:
    out = tmp_path / "p.zip"
    assert package.main(["--app-id", "x", "--developer-url", URL, "--out", str(out)]) == 2
    assert not out.exists()
    assert package.main(["--app-id", APP_ID, "--developer-url", URL, "--out", str(out)]) == 0
    assert out.exists()


def test_the_icons_in_the_repository_are_the_generated_ones() -> None:
    assert (package.MANIFEST_DIR / package.COLOR_ICON).read_bytes() == package.color_icon()
    assert (package.MANIFEST_DIR / package.OUTLINE_ICON).read_bytes() == package.outline_icon()
