"""The JSON API, for editorial systems and scripts: `Authorization: Bearer <key>` on every request.

Keys are made on the "API keys" page. No session cookies are read here, so there is nothing to forge
across sites and no CSRF token to send.
"""

from collections.abc import Callable
from functools import wraps
from uuid import UUID

from django.conf import settings
from django.core.exceptions import TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from analysis.access import get_run_for_user
from analysis.exports import csv_response, pair_json, run_json
from analysis.forms import TOO_MANY_FILES, UploadForm
from analysis.models import ApiToken, Library, Review, Run
from analysis.throttling import throttled, too_many_json


def token_required(view: Callable) -> Callable:
    @csrf_exempt
    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        limit = settings.API_KEY_FAILURES_PER_ADDRESS
        # an address that sent too many wrong keys waits, whatever key it sends now: keys cannot be guessed
        if wait := throttled(request, "api-key-failures", "ip", limit, count=False):
            return too_many_json(wait, "wrong API keys from this address")
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        owner = ApiToken.owner_of(key.strip()) if scheme.lower() == "bearer" and key else None
        if owner is None:
            if wait := throttled(request, "api-key-failures", "ip", limit):
                return too_many_json(wait, "wrong API keys from this address")
            return JsonResponse({"error": "an API key is needed: Authorization: Bearer <key>"}, status=401)
        request.user = owner
        return view(request, *args, **kwargs)

    return checked


def _described(request: HttpRequest, run: Run) -> dict:
    links = {
        "self": reverse("api_run", args=[run.code]),
        "pairs": reverse("api_pairs", args=[run.code]),
        "csv": reverse("api_csv", args=[run.code]),
        "page": run.get_absolute_url(),
    }
    return {**run_json(run), "links": {name: request.build_absolute_uri(path) for name, path in links.items()}}


@token_required
@require_http_methods(["GET", "POST"])
def runs(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        return JsonResponse({"runs": [_described(request, run) for run in request.user.runs.all()[:100]]})
    if wait := throttled(request, "submissions", "user", settings.SUBMISSIONS_PER_USER):
        return too_many_json(wait, "submissions")
    try:
        form = UploadForm(request.POST, request.FILES, owner=request.user, only_pictures=True)
        valid = form.is_valid()
    except TooManyFilesSent:
        refusal = TOO_MANY_FILES.format(limit=settings.UPLOAD_MAX_FILES)
        return JsonResponse({"errors": {"files": [{"message": refusal, "code": "too_many"}]}}, status=400)
    run = form.save(request.POST.getlist("paths")) if valid else None
    if run is None:
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    return JsonResponse(_described(request, run), status=201)


@token_required
@require_GET
def run(request: HttpRequest, code: UUID) -> JsonResponse:
    found = get_run_for_user(request, code)
    details = _described(request, found)
    details["duplicate_groups"] = [
        [member.name for member in group.members.all()] for group in found.groups.prefetch_related("members__item")
    ]
    details["skipped_files"] = [{"name": item.name, "reason": item.skipped} for item in found.items.exclude(skipped="")]
    return JsonResponse(details)


@token_required
@require_GET
def pairs(request: HttpRequest, code: UUID) -> JsonResponse:
    found = get_run_for_user(request, code)
    chosen = list(found.pairs.select_related("first", "second"))
    if request.GET.get("verdict"):
        chosen = [pair for pair in chosen if pair.verdict == request.GET["verdict"]]
    reviews = Review.latest_for(chosen, found.owner)
    return JsonResponse({"pairs": [pair_json(pair, reviews.get(pair.pk)) for pair in chosen]})


@token_required
@require_GET
def pairs_csv(request: HttpRequest, code: UUID) -> HttpResponse:
    return csv_response(get_run_for_user(request, code), every=request.GET.get("all") == "1")


@token_required
@require_GET
def libraries(request: HttpRequest) -> JsonResponse:
    """The libraries a run may be checked against (`library`, by code) and keep its pictures in (`keep`)."""
    usable = Library.usable(request.user)
    return JsonResponse(
        {
            "libraries": [
                {
                    "code": str(library.code),
                    "name": library.label_for(request.user),
                    "pictures": library.entries.count(),
                }
                for library in usable
            ]
        }
    )
