from .selectors import role_set


def navigation(request):
    """The roles of the signed-in user, so the layout shows each role what it can use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_roles": frozenset()}
    return {"nav_roles": role_set(user)}
