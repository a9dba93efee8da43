"""Photos are recognised by content, limited while streaming, and re-encoded: upright, at most
1600 px, JPEG, no EXIF/GPS/comment left; the upload itself is not kept."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from confhub.core.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from confhub.news import images
from confhub.settings import Settings

pytestmark = pytest.mark.unit

MARKER = b"SECRET-GPS-MARKER"


def photo_with_exif(size: tuple[int, int] = (2400, 1200), fmt: str = "JPEG") -> bytes:
    """A landscape photo whose EXIF says "rotate 90°", with GPS and a description."""
    image = Image.new("RGB", size, (180, 40, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.ImageDescription] = MARKER.decode()
    exif[ExifTags.Base.Make] = "CameraMaker"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (19.8, 0.0, 0.0), 3: "E", 4: (105.7, 0.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, fmt, exif=exif, comment=MARKER)
    return buffer.getvalue()


async def chunks_of(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def settings_in(tmp_path: Path, max_upload_mb: int = 20) -> Settings:
    return Settings(
        database_url="sqlite+aiosqlite://", media_dir=tmp_path, max_upload_mb=max_upload_mb
    )


async def test_a_photo_is_re_encoded_without_metadata(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    stored = await images.store_image(settings, chunks_of(photo_with_exif()))
    folder = images.photos_dir(settings)
    main = folder / f"{stored.key}.jpg"
    thumb = folder / f"{stored.key}-thumb.jpg"
    # Turned upright (the EXIF orientation applied), then limited to 1600 px.
    assert (stored.width, stored.height) == (800, 1600)
    for path in (main, thumb):
        data = path.read_bytes()
        assert MARKER not in data
        assert b"CameraMaker" not in data
        with Image.open(path) as written:
            assert written.format == "JPEG"
            assert dict(written.getexif()) == {}
            assert "comment" not in written.info
            assert "exif" not in written.info
    with Image.open(thumb) as small:
        assert max(small.size) == images.THUMB_EDGE
    # Only the re-encoded files remain: the upload's temporary file is gone.
    assert sorted(p.name for p in folder.iterdir()) == sorted([main.name, thumb.name])


async def test_png_with_transparency_becomes_a_jpeg_on_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    stored = await images.store_image(settings_in(tmp_path), chunks_of(buffer.getvalue()))
    with Image.open(images.photos_dir(settings_in(tmp_path)) / f"{stored.key}.jpg") as written:
        assert written.mode == "RGB"
        assert written.getpixel((10, 10)) == (255, 255, 255)


@pytest.mark.parametrize(
    "data",
    [
        b"<?php echo 'not a photo'; ?>" * 10,
        b"%PDF-1.4\n" + b"0" * 100,
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"\xff\xd8\xff\xe0" + b"\x00" * 200,  # a JPEG's first bytes, then nothing decodable
        b"GIF89a" + b"\x00" * 10,
    ],
)
async def test_a_file_is_judged_by_content_not_by_its_name(tmp_path: Path, data: bytes) -> None:
    # The name ("photo.jpg") is never looked at: only the bytes are.
    with pytest.raises(InvalidInputError):
        await images.store_image(settings_in(tmp_path), chunks_of(data))
    assert list(images.photos_dir(settings_in(tmp_path)).iterdir()) == []


async def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        await images.store_image(settings_in(tmp_path), chunks_of(b""))


async def test_the_size_limit_is_enforced_while_streaming(tmp_path: Path) -> None:
    read = 0
    closed = False

    async def endless() -> AsyncIterator[bytes]:
        nonlocal read, closed
        try:
            while True:
                read += 64 * 1024
                yield b"\xff" * (64 * 1024)
        finally:
            closed = True

    with pytest.raises(PayloadTooLargeError):
        await images.store_image(settings_in(tmp_path, max_upload_mb=1), endless())
    # Refused as soon as the limit was passed (1 MB and one chunk), and the stream was closed.
    assert read <= 1024 * 1024 + 64 * 1024
    assert closed
    assert list(images.photos_dir(settings_in(tmp_path)).iterdir()) == []


def test_only_stored_names_are_served(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    for name in ("../confhub.sqlite3", "x.jpg", "0" * 32 + ".png", "A" * 32 + ".jpg"):
        with pytest.raises(NotFoundError):
            images.photo_path(settings, name)
    with pytest.raises(NotFoundError):
        images.photo_path(settings, "0" * 32 + ".jpg")  # the right shape, but no such file
