"""Checks for uploaded scans (archive items, problem-record evidence): JPG, PNG or PDF up to 2 MB.

The type is decided from the file's first bytes, never from its name or the browser's claim.
"""

from django.core.exceptions import ValidationError

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# Magic numbers: JPEG (JFIF/EXIF all start FF D8 FF), PNG (8-byte signature), PDF ("%PDF-").
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)


def check_scan(upload) -> tuple[str, str]:
    """Validate an uploaded file (a Django ``UploadedFile``) as a scan.

    Returns ``(content_type, extension)`` decided from the content ("image/png", ".png").
    Raises ValidationError in Chinese when the file is empty, larger than 2 MB, or not a JPG, PNG
    or PDF by content. The file position is left at the start.
    """
    size = getattr(upload, "size", None) or 0
    if size <= 0:
        raise ValidationError("文件为空", code="empty")
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError("文件不能超过 2 MB", code="too_large")
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    raise ValidationError("只能上传 JPG、PNG 或 PDF 文件（按文件内容判断）", code="file_type")
