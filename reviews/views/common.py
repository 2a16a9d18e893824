"""Helpers shared by the workflow views: refusals become 409 pages, never 500s; pages; form errors."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from branches.errors import WorkflowError


def refuse_conflict(request, error: WorkflowError):
    """Answer an illegal move with HTTP 409 and a page that says why."""
    return render(request, "reviews/conflict.html", {"message": error.message}, status=409)


def workflow_action(view):
    """Turn a WorkflowError raised by a service into a 409 page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except WorkflowError as error:
            return refuse_conflict(request, error)

    return wrapper


def done(request, message: str, to: str, *args):
    messages.success(request, message)
    return redirect(to, *args)


PER_PAGE = 25


def page_of(request, queryset, per_page: int = PER_PAGE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def query_without_page(request) -> str:
    """The request's query string without ``page``, for the pager's links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, under the field it names if the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages_ in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages_)


def handle_form(request, form, action, *, message: str, to: str, args: tuple = ()):
    """On a valid POST run ``action(cleaned_data)`` and redirect with ``message``; else None.

    A ValidationError from the service lands on the form, so the page is shown again with
    everything the user typed and the reason next to the field it names.
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        action(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    return done(request, message, to, *args)
