"""Storage for private uploads (archive scans, problem-record evidence).

Files live under ``settings.PRIVATE_MEDIA_ROOT``, outside any public URL; views serve them only
after the access layer said yes. The root is read on every use (not cached at import) so that a
test or deployment that changes the setting is obeyed.
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


@deconstructible
class PrivateMediaStorage(FileSystemStorage):
    """FileSystemStorage rooted at ``settings.PRIVATE_MEDIA_ROOT``, without a public base URL."""

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None

    def url(self, name):
        raise ValueError("私有文件没有公开地址，只能通过授权的页面下载")


private_storage = PrivateMediaStorage()
