"""Photos of a meeting: received as a stream (refused as soon as it passes the size limit),
recognised by content, then decoded and re-encoded with Pillow — turned upright, at most
1600 px, JPEG, with no EXIF, XMP or comment left — plus a thumbnail. The upload itself is
deleted; only the re-encoded files are ever served.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from confhub.core.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from confhub.meetings.documents import GIF, JPEG, PNG, WEBP, sniff_head
from confhub.settings import Settings

if TYPE_CHECKING:
    from PIL import Image

MAX_EDGE = 1600
THUMB_EDGE = 480
JPEG_QUALITY = 85
# A photo larger than this (in pixels, ~50 MP) is refused before it is decoded.
MAX_PIXELS = 50_000_000
ACCEPTED = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP", GIF: "GIF"}
REFUSED = "only JPEG, PNG, WebP and GIF photos are accepted"
HEAD_BYTES = 16


@dataclass(frozen=True)
class StoredImage:
    """The re-encoded photo's key (its file names) and size."""

    key: str
    width: int
    height: int
    size_bytes: int


def photos_dir(settings: Settings) -> Path:
    """Where the re-encoded photos are kept."""
    return settings.media_dir / "news"


def photo_path(settings: Settings, name: str) -> Path:
    """The file of `{key}.jpg` or `{key}-thumb.jpg`; 404 for any other name."""
    stem, dot, extension = name.rpartition(".")
    key = stem.removesuffix("-thumb")
    if dot != "." or extension != "jpg" or len(key) != 32 or not is_hex(key):
        raise NotFoundError(f"No photo {name}")
    path = photos_dir(settings) / name
    if not path.is_file():
        raise NotFoundError(f"No photo {name}")
    return path


def is_hex(value: str) -> bool:
    """Only lowercase hexadecimal digits."""
    return all(c in "0123456789abcdef" for c in value)


async def receive(chunks: AsyncIterable[bytes], folder: Path, limit: int, limit_mb: int) -> Path:
    """Write the stream to a temporary file; 413 as soon as it passes `limit` bytes."""
    handle, path = await asyncio.to_thread(_open_temp, folder)
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    await aclose()
                raise PayloadTooLargeError(f"The file is larger than the limit of {limit_mb} MB")
            await asyncio.to_thread(handle.write, chunk)
        await asyncio.to_thread(handle.close)
    except BaseException:
        handle.close()
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise InvalidInputError("file", "the file is empty")
    return path


def _open_temp(folder: Path) -> tuple[IO[bytes], Path]:
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the caller
        dir=folder, prefix=".upload-", suffix=".part", delete=False
    )
    return handle, Path(handle.name)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white (transparent parts of a PNG or GIF become white)."""
    from PIL import Image

    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _save(image: Image.Image, edge: int, path: Path) -> int:
    from PIL import Image

    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    copy.info = {}  # nothing of the original's metadata is written back
    copy.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return path.stat().st_size


def reencode(upload: Path, folder: Path) -> StoredImage:
    """Decode the uploaded file (checked by content) and write the photo and its thumbnail."""
    # Pillow costs every process about 2.5 MiB; only photo uploads need it.
    from PIL import Image, ImageOps, UnidentifiedImageError

    with upload.open("rb") as file:
        kind = sniff_head(file.read(HEAD_BYTES))
    if kind not in ACCEPTED:
        raise InvalidInputError("file", REFUSED)
    try:
        with Image.open(upload, formats=[ACCEPTED[kind]]) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise InvalidInputError("file", "the photo has too many pixels")
            opened.seek(0)
            upright = ImageOps.exif_transpose(opened)
            image = _flatten(upright)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInputError("file", REFUSED) from None
    key = secrets.token_hex(16)
    main, thumb = folder / f"{key}.jpg", folder / f"{key}-thumb.jpg"
    try:
        size = _save(image, MAX_EDGE, main)
        _save(image, THUMB_EDGE, thumb)
        with Image.open(main) as written:
            width, height = written.size
    except BaseException:
        main.unlink(missing_ok=True)
        thumb.unlink(missing_ok=True)
        raise
    return StoredImage(key=key, width=width, height=height, size_bytes=size)


async def store_image(settings: Settings, chunks: AsyncIterable[bytes]) -> StoredImage:
    """Receive an upload and keep only its re-encoded photo and thumbnail."""
    folder = photos_dir(settings)
    upload = await receive(chunks, folder, settings.max_upload_bytes, settings.max_upload_mb)
    try:
        return await asyncio.to_thread(reencode, upload, folder)
    finally:
        await asyncio.to_thread(upload.unlink, True)
