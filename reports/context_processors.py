from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def unread_notices(request):
    """How many of the signed-in user's notices are unread, for the badge in the navigation.

    Lazy: the one COUNT query (on the recipient/read_at index) runs only when a page shows it.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notice_count": SimpleLazyObject(lambda: unread_count(user))}
