"""Password rules for Xueji accounts."""

import re

from django.core.exceptions import ValidationError


class LettersAndDigitsValidator:
    """A password must contain at least one letter and at least one digit (security settings)."""

    def validate(self, password, user=None):
        if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
            raise ValidationError("密码必须同时包含字母和数字。", code="password_letters_and_digits")

    def get_help_text(self):
        return "密码必须同时包含字母和数字。"
