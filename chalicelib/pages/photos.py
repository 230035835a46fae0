"""Photos a customer attaches to a return: at most 3, JPEG/PNG/WebP by content, 2 MiB each.

The type is read from the file's first bytes, never from its name or declared type. Locally
(`AFTERCARE_PHOTOS_DIR`, set by the run command) they are kept under
`{dir}/{merchant}/{case}/{n}.{ext}`; without that setting the portal offers no upload.

AWS design (not built yet): the picker page gets an S3 presigned POST per photo
(`generate_presigned_post` with `content-length-range` 1..2 MiB, `Content-Type` starting with
`image/`, key `photos/{merchant}/{case}/{uuid}`, 10-minute expiry) so photos never pass
through Lambda; the bucket is private, with a lifecycle rule deleting photos after 180 days,
and the merchant's erasure deletes the prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

from chalicelib.pages.web import PageError

__all__ = ["Upload", "MAX_PHOTOS", "MAX_BYTES", "parse_multipart", "checked_photos", "keep"]

MAX_PHOTOS = 3
MAX_BYTES = 2 * 1024 * 1024
MAX_BODY = MAX_PHOTOS * MAX_BYTES + 64 * 1024
_SIGNATURES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))


@dataclass(frozen=True)
class Upload:
    data: bytes
    ext: str


def _kind(data: bytes) -> str | None:
    for magic, ext in _SIGNATURES:
        if data.startswith(magic):
            return ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], list[bytes]]:
    """Fields (first value each) and the non-empty files of field `photos`; junk is a 400."""
    if len(body) > MAX_BODY:
        raise PageError(413, "upload too large", message="error.413")
    if "boundary=" not in content_type:
        raise PageError(400, "multipart without boundary")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise PageError(400, "not a multipart body")
    fields: dict[str, str] = {}
    files: list[bytes] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if not isinstance(name, str):
            continue
        if part.get_filename() is not None:
            if name == "photos" and data:
                files.append(data)
        elif name not in fields:
            fields[name] = data.decode("utf-8", errors="replace")
    return fields, files


def checked_photos(files: list[bytes]) -> list[Upload]:
    """The photos if there are at most 3, each an image under 2 MiB (413 / 415 otherwise)."""
    if len(files) > MAX_PHOTOS:
        raise PageError(413, "too many photos", message="error.photos_count")
    uploads = []
    for data in files:
        if len(data) > MAX_BYTES:
            raise PageError(413, "photo too large", message="error.413")
        ext = _kind(data)
        if ext is None:
            raise PageError(415, "not a JPEG, PNG or WebP photo", message="error.415")
        uploads.append(Upload(data, ext))
    return uploads


def keep(root: str, merchant_id: str, case_id: str, uploads: list[Upload]) -> list[str]:
    """Write the photos under the merchant/case prefix; their keys (same request: same keys)."""
    stored = []
    folder = Path(root) / merchant_id / case_id
    folder.mkdir(parents=True, exist_ok=True)
    for index, upload in enumerate(uploads, start=1):
        key = f"{merchant_id}/{case_id}/{index}.{upload.ext}"
        (Path(root) / key).write_bytes(upload.data)
        stored.append(key)
    return stored
