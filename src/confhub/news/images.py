"""Photos of a meeting: received as a stream (refused as soon as it passes the size limit),
recognised by content, then decoded and re-encoded with Pillow — turned upright, at most
1600 px, JPEG, with no EXIF, XMP or comment left — plus a thumbnail. The upload itself is
deleted; only the re-encoded files are ever served.

A photo is judged by its header before a pixel is decoded: a small file can declare billions of
pixels. Only the first frame of an animated image is ever decoded, and a JPEG is decoded at the
smallest scale that still gives 1600 px (libjpeg scales by 1/2, 1/4 or 1/8 while decoding).
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import threading
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from confhub.core.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from confhub.core.i18n import N_
from confhub.meetings.documents import GIF, JPEG, PNG, WEBP, FileKind, sniff_head
from confhub.settings import Settings

if TYPE_CHECKING:
    from PIL import Image

MAX_EDGE = 1600
THUMB_EDGE = 480
JPEG_QUALITY = 85
# Pixels of a baseline JPEG, refused from its header beyond this. It is decoded scaled down to
# at most twice 1600 px (about 3 MP, 9 MiB), so only the file's own size grows with it; 50 MP is
# above any camera's photo. Also Pillow's own bomb limit (it refuses twice this outright).
MAX_PIXELS = 50_000_000
# Pixels of a photo decoded whole at full size: PNG, WebP, GIF and progressive JPEG (whose
# decoder keeps every coefficient of the image). Up to 4 bytes a pixel, twice over while it is
# flattened: 16 MP (a 12 MP phone photo fits) is some 100 MiB for a second.
MAX_FULL_DECODE_PIXELS = 16_000_000
# Scans of a progressive JPEG, each a pass over the whole image: encoders write about ten; a
# file of thousands of tiny scans costs minutes of CPU.
MAX_JPEG_SCANS = 100
# Text chunks of a PNG (which are thrown away) that Pillow unpacks while reading the header.
PNG_TEXT_MEMORY = 4 * 1024 * 1024
# Photos decoded at once by one process: each may take some 130 MiB for a second (a 16 MP PNG
# with transparency), and the worker threads would otherwise let dozens run together.
MAX_CONCURRENT_DECODES = 2
_DECODING = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)
ACCEPTED = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP", GIF: "GIF"}
REFUSED = N_("only JPEG, PNG, WebP and GIF photos are accepted")
HEAD_BYTES = 16
SCAN_CHUNK = 1024 * 1024


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
        raise NotFoundError(N_("No photo %(name)s"), name=name)
    path = photos_dir(settings) / name
    if not path.is_file():
        raise NotFoundError(N_("No photo %(name)s"), name=name)
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
                raise PayloadTooLargeError.upload(limit_mb)
            await asyncio.to_thread(handle.write, chunk)
        await asyncio.to_thread(handle.close)
    except BaseException:
        handle.close()
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise InvalidInputError("file", N_("the file is empty"))
    return path


def _open_temp(folder: Path) -> tuple[IO[bytes], Path]:
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the caller
        dir=folder, prefix=".upload-", suffix=".part", delete=False
    )
    return handle, Path(handle.name)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white (transparent parts of a PNG or GIF become white); `image` itself when it
    is RGB already."""
    from PIL import Image

    if image.mode in ("RGBA", "LA"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def _resizable(image: Image.Image) -> Image.Image:
    """`image` in a mode Pillow resizes smoothly: RGB, RGBA or L as they are; a palette (GIF,
    some PNGs) or anything else converted, keeping its transparency."""
    if image.mode in ("RGB", "RGBA", "L"):
        return image
    transparent = image.mode in ("LA", "PA") or "transparency" in image.info
    return image.convert("RGBA" if transparent else "RGB")


def _small_upright_rgb(opened: Image.Image) -> Image.Image:
    """The decoded photo at most MAX_EDGE px, turned upright, RGB on white. Shrunk first, so
    turning and flattening copy a 1600 px image, not the full-size one."""
    from PIL import Image, ImageOps

    image = _resizable(opened)
    image.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    ImageOps.exif_transpose(image, in_place=True)
    return _flatten(image)


def _save(image: Image.Image, path: Path) -> int:
    image.info = {}  # nothing of the original's metadata is written back
    image.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return path.stat().st_size


def too_many_pixels(limit: int) -> InvalidInputError:
    """The error for a photo larger than `limit` pixels."""
    return InvalidInputError(
        "file",
        N_("the photo has too many pixels (at most %(n)s megapixels)"),
        n=limit // 1_000_000,
    )


def _jpeg_scans(upload: Path) -> int:
    """How many scans (SOS markers) a JPEG file has: FF DA never occurs in coded data, where
    every FF byte is followed by 00 or a restart marker."""
    count, previous = 0, b""
    with upload.open("rb") as file:
        while chunk := file.read(SCAN_CHUNK):
            count += (previous[-1:] + chunk).count(b"\xff\xda")
            previous = chunk
    return count


def _check_size(image: Image.Image, kind: FileKind, upload: Path) -> None:
    """Refuse, from the header alone, a photo too large to decode; a JPEG is set to decode at
    the smallest scale that still gives MAX_EDGE pixels."""
    progressive = kind == JPEG and bool(image.info.get("progressive"))
    scaled = kind == JPEG and not progressive
    limit = MAX_PIXELS if scaled else MAX_FULL_DECODE_PIXELS
    width, height = image.size
    if width * height > limit:
        raise too_many_pixels(limit)
    if kind == JPEG:
        if _jpeg_scans(upload) > MAX_JPEG_SCANS:
            raise InvalidInputError(
                "file", N_("the photo has too many scans (at most %(n)s)"), n=MAX_JPEG_SCANS
            )
        longest = max(width, height)
        if longest > MAX_EDGE:
            box = (max(1, width * MAX_EDGE // longest), max(1, height * MAX_EDGE // longest))
            image.draft(None, box)


def _configure_pillow() -> None:
    from PIL import Image, PngImagePlugin

    # Set here, not left to Pillow's defaults (89 MP, 64 MiB of PNG text), which could change.
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    PngImagePlugin.MAX_TEXT_MEMORY = PNG_TEXT_MEMORY


def reencode(upload: Path, folder: Path) -> StoredImage:
    """Decode the uploaded file (checked by content) and write the photo and its thumbnail."""
    # Pillow costs every process about 2.5 MiB; only photo uploads need it.
    from PIL import Image, UnidentifiedImageError

    _configure_pillow()
    with upload.open("rb") as file:
        kind = sniff_head(file.read(HEAD_BYTES))
    if kind not in ACCEPTED:
        raise InvalidInputError("file", REFUSED)
    key = secrets.token_hex(16)
    main, thumb = folder / f"{key}.jpg", folder / f"{key}-thumb.jpg"
    try:
        with _DECODING, Image.open(upload, formats=[ACCEPTED[kind]]) as opened:
            opened.seek(0)  # the first frame of an animated image, and only that one
            _check_size(opened, kind, upload)
            image = _small_upright_rgb(opened)
            width, height = image.size
            size = _save(image, main)
            image.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
            _save(image, thumb)
    except Image.DecompressionBombError:  # Pillow's own check, at twice MAX_PIXELS
        raise too_many_pixels(MAX_PIXELS if kind == JPEG else MAX_FULL_DECODE_PIXELS) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        main.unlink(missing_ok=True)
        thumb.unlink(missing_ok=True)
        raise InvalidInputError("file", REFUSED) from None
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
