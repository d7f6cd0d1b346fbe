"""Checks every uploaded file by its bytes, not its name: PDF, JPEG or PNG, not empty,
not larger than `VILLE_UPLOAD_MAX_BYTES` (10 MB); each refusal says why, translated."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from ville.procedures.errors import ErrorCode, UploadRejected

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
CHUNK_SIZE = 64 * 1024

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
ACCEPTED_TYPES = (PDF, JPEG, PNG)

# A PNG starts with its 8-byte signature, then the length of the IHDR chunk and its name.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class DetectedFile:
    content_type: str
    size: int
    sha256: str


def upload_max_bytes() -> int:
    return int(getattr(settings, "VILLE_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def content_type_of(head: bytes) -> str | None:
    """The type announced by the first bytes, or None for anything else (an .exe, a ZIP,
    an HTML page, a text file… whatever its name says)."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(PNG_SIGNATURE) and head[12:16] == b"IHDR":
        return PNG
    return None


def _name(file: Any) -> str:
    return str(getattr(file, "name", "") or _("the file")).rsplit("/", 1)[-1]


def _reject(code: ErrorCode, message: str) -> UploadRejected:
    return UploadRejected(message, code=code)


def _chunks(file: Any) -> Any:
    # Django's uploaded files stream from memory or a temporary file; plain files too.
    if hasattr(file, "chunks"):
        return file.chunks(CHUNK_SIZE)
    return iter(lambda: file.read(CHUNK_SIZE), b"")


def upload_check(file: IO[bytes] | Any) -> DetectedFile:
    """The detected type, size and SHA-256 of `file`; UploadRejected (code `upload_type`,
    `upload_size` or `upload_empty`) otherwise. Reads in chunks, stops as soon as the file
    is too large, and leaves the file at its start for whoever stores it."""
    name = _name(file)
    limit = upload_max_bytes()
    too_large = _reject(
        ErrorCode.UPLOAD_SIZE,
        _(
            "“%(name)s” is larger than %(max)s. Please send a smaller file, for example a "
            "scan at a lower resolution."
        )
        % {"name": name, "max": filesizeformat(limit)},
    )
    declared = getattr(file, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise too_large
    if hasattr(file, "seek"):
        file.seek(0)
    digest = hashlib.sha256()
    size = 0
    head = b""
    for chunk in _chunks(file):
        if len(head) < 16:
            head += chunk[: 16 - len(head)]
        size += len(chunk)
        if size > limit:
            raise too_large
        digest.update(chunk)
    if hasattr(file, "seek"):
        file.seek(0)
    if size == 0:
        raise _reject(
            ErrorCode.UPLOAD_EMPTY,
            _("“%(name)s” is empty. Please choose the file again.") % {"name": name},
        )
    content_type = content_type_of(head)
    if content_type is None:
        raise _reject(
            ErrorCode.UPLOAD_TYPE,
            _(
                "“%(name)s” is not a PDF document, a JPEG photo or a PNG image (we look at "
                "what the file contains, not at its name). Please send one of these."
            )
            % {"name": name},
        )
    return DetectedFile(content_type=content_type, size=size, sha256=digest.hexdigest())
