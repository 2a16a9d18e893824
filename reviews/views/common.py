"""Helpers shared by the workflow views: refusals become 409 pages, never 500s."""

from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect, render

from ..services.core import WorkflowError


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
