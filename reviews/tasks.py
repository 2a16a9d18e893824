"""Periodic work of the star-rating cycle; each task only calls a service."""

from celery import shared_task

from .services.decision import expire_due_certificates


@shared_task
def expire_certificates() -> int:
    """Expire certificates past their validity (daily); safe to run any number of times."""
    return expire_due_certificates()
