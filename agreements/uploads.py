"""Checks and storage for scanned paper signatures (JPG/PNG/PDF, at most 2 MB).

The content is checked, not the name: the first bytes must be a JPEG, PNG or PDF signature and the
file must parse (Pillow for images, pypdf for PDF). Files go to ``settings.PRIVATE_MEDIA_ROOT``
through ``students.storage.private_storage`` and are served only by views behind the access layer.
"""

import io
import uuid

from django.core.exceptions import ValidationError

from students.storage import private_storage

MAX_SCAN_BYTES = 2 * 1024 * 1024
KINDS = {b"\xff\xd8\xff": ("jpg", "image/jpeg"), b"\x89PNG\r\n\x1a\n": ("png", "image/png"),
         b"%PDF-": ("pdf", "application/pdf")}


def check_scan(upload) -> tuple[str, str]:
    """Validate an uploaded scan. Returns (extension, content type).

    Raises ValidationError (field "scan", Chinese message) when the file is empty, larger than
    2 MB, not JPG/PNG/PDF by content, or does not parse.
    """
    if upload is None or not upload.size:
        raise ValidationError({"scan": "请上传签字页扫描件"})
    if upload.size > MAX_SCAN_BYTES:
        raise ValidationError({"scan": "扫描件不能超过 2 MB"})
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    found = next((kind for magic, kind in KINDS.items() if data.startswith(magic)), None)
    if found is None:
        raise ValidationError({"scan": "只接受 JPG、PNG 或 PDF 格式的扫描件"})
    ext, ctype = found
    try:
        if ext == "pdf":
            from pypdf import PdfReader

            if not PdfReader(io.BytesIO(data)).pages:
                raise ValueError("empty pdf")
        else:
            from PIL import Image

            with Image.open(io.BytesIO(data)) as img:
                img.verify()
    except Exception as exc:  # any parser error means a damaged or disguised file: a field error, never a 500
        raise ValidationError({"scan": "扫描件已损坏或格式不正确"}) from exc
    return ext, ctype


def store_scan(upload, *, school_id: int, agreement_id: int, ext: str) -> str:
    """Save the checked ``upload`` privately; returns its storage name (relative path)."""
    name = f"agreements/{school_id}/{agreement_id}/{uuid.uuid4().hex}.{ext}"
    return private_storage.save(name, upload)
