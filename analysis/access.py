"""Who may see what: the one place where access to runs, their items and libraries is checked.

Views and the API both fetch through these; anyone else gets 404, as for something that does not exist.
"""

from uuid import UUID

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from analysis.models import Item, Library, Run


def get_run_for_user(request: HttpRequest, code: UUID) -> Run:
    return get_object_or_404(Run.objects.visible_to(request.user), code=code)


def get_item_for_user(request: HttpRequest, code: UUID, number: int) -> Item:
    run = get_run_for_user(request, code)
    return get_object_or_404(run.items.select_related("upload"), number=number)


def get_library_for_user(request: HttpRequest, code: UUID) -> Library:
    """A library its owner or a member of its group may use."""
    return get_object_or_404(Library.objects.usable_by(request.user), code=code)
