"""The Teams app package: manifest.json (rendered for one Entra app) + two icons, zipped.

`manifests/teams/manifest.json` is the template: `${{TEAMS_APP_ID}}` and `${{DEVELOPER_URL}}` are
filled in here. The icons are drawn by code (no image library, fixed zlib settings), so every
build of the package is byte-identical: a colour icon 192×192 and a white-on-transparent outline
icon 32×32, as Teams requires. `make teams-package` runs `python -m bot.teams.package`.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

MANIFEST_DIR = Path(__file__).resolve().parents[2] / "manifests" / "teams"
TEMPLATE = MANIFEST_DIR / "manifest.json"
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
ACCENT = (0x2F, 0x5D, 0xA8)  # the colour icon's background, also the manifest's accentColor
ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed entry times: reproducible zips
GUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")

Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An RGBA PNG of `pixel(x, y)`."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _glyph(x: float, y: float, size: int) -> bool:
    """The Callouts mark: a ring (the call) around a dot (the person), in a size×size box."""
    c = (size - 1) / 2
    r = ((x - c) ** 2 + (y - c) ** 2) ** 0.5 / size
    return bool(0.30 <= r <= 0.40 or r <= 0.14)


def color_icon() -> bytes:
    white: Pixel = (255, 255, 255, 255)
    accent: Pixel = (*ACCENT, 255)
    return png(192, 192, lambda x, y: white if _glyph(x, y, 192) else accent)


def outline_icon() -> bytes:
    white: Pixel = (255, 255, 255, 255)
    clear: Pixel = (0, 0, 0, 0)
    return png(32, 32, lambda x, y: white if _glyph(x, y, 32) else clear)


def render_manifest(app_id: str, developer_url: str) -> dict[str, Any]:
    """The manifest for the Entra app `app_id` (a GUID) and the organisation's https pages."""
    if not GUID.match(app_id):
        raise ValueError(f"the Teams app id must be the Entra app's client id (a GUID): {app_id!r}")
    if not developer_url.startswith("https://"):
        raise ValueError(f"the developer URL must be https: {developer_url!r}")
    text = TEMPLATE.read_text(encoding="utf-8")
    text = text.replace("${{TEAMS_APP_ID}}", app_id).replace(
        "${{DEVELOPER_URL}}", developer_url.rstrip("/")
    )
    manifest: dict[str, Any] = json.loads(text)
    return manifest


def build_package(app_id: str, developer_url: str, out: Path) -> Path:
    """Write the zip (manifest + icons at its root) to `out`."""
    manifest = json.dumps(render_manifest(app_id, developer_url), indent=2, ensure_ascii=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in (
            ("manifest.json", manifest.encode()),
            (COLOR_ICON, color_icon()),
            (OUTLINE_ICON, outline_icon()),
        ):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Callouts Teams app package.")
    parser.add_argument("--app-id", required=True, help="the Entra app's client id (bot id)")
    parser.add_argument(
        "--developer-url",
        required=True,
        help="https base URL of your organisation's pages (website, /privacy, /terms)",
    )
    parser.add_argument("--out", type=Path, default=Path("dist/callouts-teams.zip"))
    args = parser.parse_args(argv)
    try:
        path = build_package(args.app_id, args.developer_url, args.out)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
