"""Password rules for Xueji accounts (AUTH_PASSWORD_VALIDATORS): at least 8 characters, letters and digits."""

import re

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's minimum-length rule with its message in Chinese.

    Django 5.2 changed this message's msgid and its zh-hans catalogue has no translation for the new
    one, so the stock validator answers in English. Raises ValidationError (code ``password_too_short``).
    """

    def get_error_message(self):
        return f"密码太短，至少需要 {self.min_length} 个字符。"

    def get_help_text(self):
        return f"密码至少需要 {self.min_length} 个字符。"


class LettersAndDigitsValidator:
    """A password must contain at least one letter and at least one digit (security settings).

    Raises ValidationError (code ``password_letters_and_digits``).
    """

    def validate(self, password, user=None):
        if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
            raise ValidationError("密码必须同时包含字母和数字。", code="password_letters_and_digits")

    def get_help_text(self):
        return "密码必须同时包含字母和数字。"
