"""Storing uploaded files safely: allow-listed types, sniffed content, random names, checksums."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


class UploadRejected(ValueError):
    """The file is refused; the message says why in terms the uploader can act on."""


@dataclass(frozen=True)
class StoredFile:
    path: Path
    original_name: str
    sha256: str
    size: int
    kind: str


def sniff_kind(head: bytes, filename: str) -> str:
    """The file's real type from its first bytes; the extension must agree with it."""
    extension = Path(filename).suffix.lower()
    if head.startswith(ZIP_MAGIC):
        kind = "xlsx"
    elif head.startswith(PDF_MAGIC):
        kind = "pdf"
    elif head.startswith(PNG_MAGIC):
        kind = "png"
    elif head.startswith(JPEG_MAGIC):
        kind = "jpeg"
    elif b"\x00" not in head:
        kind = "csv"
    else:
        kind = "binary"
    expected = {
        ".xlsx": "xlsx",
        ".csv": "csv",
        ".txt": "csv",
        ".pdf": "pdf",
        ".png": "png",
        ".jpg": "jpeg",
        ".jpeg": "jpeg",
    }.get(extension)
    if expected is None:
        raise UploadRejected(f"file type {extension or '(none)'} is not accepted")
    if kind != expected:
        raise UploadRejected(
            f"the content of {filename} does not match its {extension} extension"
            f" (it looks like {kind})"
        )
    return kind


def store_upload(
    stream: BinaryIO, filename: str, folder: Path, *, allowed: set[str], max_bytes: int
) -> StoredFile:
    """Write the stream under a random name, checking type and size; nothing stays on refusal."""
    folder.mkdir(parents=True, exist_ok=True)
    head = stream.read(8192)
    kind = sniff_kind(head, filename)
    if kind not in allowed:
        raise UploadRejected(
            f"{kind} files are not accepted here (allowed: {', '.join(sorted(allowed))})"
        )
    target = folder / f"{secrets.token_hex(16)}.{kind}"
    digest = hashlib.sha256()
    size = 0
    try:
        with target.open("wb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRejected(
                        f"{filename} is larger than {max_bytes // (1024 * 1024)} MB"
                    )
                digest.update(chunk)
                out.write(chunk)
                chunk = stream.read(1 << 16)
        if size == 0:
            raise UploadRejected(f"{filename} is empty")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return StoredFile(target, Path(filename).name, digest.hexdigest(), size, kind)
