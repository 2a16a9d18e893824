"""Widgets the forms of several pages share."""

from django import forms


def textarea(rows: int = 3, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "class": "form-control", **attrs})
