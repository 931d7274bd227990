"""Form helpers shared by the apps' pages."""

from django import forms
from django.core.exceptions import ValidationError


class BootstrapMixin:
    """Gives every widget of a form the Bootstrap 5 class it needs (form-control, form-select, ...).

    Mix into a ``forms.Form`` or ``forms.ModelForm`` before the form class. Fields with errors
    also get ``is-invalid`` so the red border sits next to the Chinese message.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


def add_service_error(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on ``form``: next to the field it names, else on top.

    Services name the fields of their model ({"school_code": ...}); keys the form has no field
    for (e.g. "unit") become non-field errors instead of making ``add_error`` raise ValueError.
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
