"""Checking evidence uploads (佐证材料): JPG, PNG or PDF up to 2 MB, the type decided from the
file's first bytes (magic numbers), never from its name or the browser's Content-Type."""

from django.core.exceptions import ValidationError

MAX_EVIDENCE_BYTES = 2 * 1024 * 1024
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),  # JPEG: SOI marker + first segment marker
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),  # PNG: 8-byte signature (ISO/IEC 15948)
    (b"%PDF-", "application/pdf", ".pdf"),  # PDF header (ISO 32000)
)


def check_upload(upload) -> tuple[str, str]:
    """Validate ``upload`` (a Django ``UploadedFile``) and return (content type, extension).

    Raises ValidationError (field "file", Chinese) for an empty file, one over 2 MB, or content
    that is not JPG, PNG or PDF. Leaves the file positioned at its start.
    """
    size = getattr(upload, "size", 0) or 0
    if size <= 0:
        raise ValidationError({"file": "文件为空"})
    if size > MAX_EVIDENCE_BYTES:
        raise ValidationError({"file": "文件不能超过 2 MB"})
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    raise ValidationError({"file": "只能上传 JPG、PNG 或 PDF 文件（按文件内容判断，不看扩展名）"})
