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


def page_of(request, queryset, per_page: int = PER_PAGE, *, count: int | None = None):
    """The requested page of ``queryset``; ``count``, when the caller already knows it, spares
    the paginator its COUNT(*) (on a committee's list, a walk over every row)."""
    paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.count = count  # Paginator.count is a cached property: this is its value
    return paginator.get_page(request.GET.get("page"))


class GroupedRows:
    """A list sorted first by a column of few values (a star level), then by an indexed order,
    for the paginator: ``groups`` are the (queryset, row count) of each value in list order, so
    that a page reads only the groups it falls in, each an indexed walk of at most one page,
    instead of sorting every row of the committee for 25 of them."""

    def __init__(self, groups):
        self.groups = [(rows, n) for rows, n in groups if n]

    def count(self) -> int:
        return sum(n for _rows, n in self.groups)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            found = self[index : index + 1]
            if not found:
                raise IndexError(index)
            return found[0]
        start, stop = index.start or 0, self.count() if index.stop is None else index.stop
        rows, offset = [], 0
        for queryset, n in self.groups:
            low, high = max(start - offset, 0), min(stop - offset, n)
            if low < high:
                rows.extend(queryset[low:high])
            offset += n
            if offset >= stop:
                break
        return rows


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
