from uuid import UUID

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, TooManyFilesSent
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from analysis.access import get_item_for_user, get_library_for_user, get_run_for_user
from analysis.engine.stages import FINDINGS
from analysis.exports import csv_response, report_context, report_pdf
from analysis.forms import TOO_MANY_FILES, ApiKeyForm, ReviewForm, SignUpForm, UploadForm
from analysis.fragments import REVIEW_FILTERS, TOP_PAIRS, run_context
from analysis.models import ApiToken, Library, Review
from analysis.pixels import overlay_jpeg, pair_drawing, pair_findings, pair_sides, pair_views, panel_jpeg
from analysis.throttling import signup_open, throttled, too_many


@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:  # what DeepChecker does, for a visitor
        return render(request, "home.html") if request.method == "GET" else redirect_to_login(request.path)
    if request.method == "POST" and (wait := throttled(request, "submissions", "user", settings.SUBMISSIONS_PER_USER)):
        return too_many(request, wait, "analyses started")
    refusal = None
    try:
        form = UploadForm(request.POST or None, request.FILES or None, owner=request.user)
    except TooManyFilesSent:  # far more than the form's limit: Django stopped reading
        form, refusal = UploadForm(owner=request.user), TOO_MANY_FILES.format(limit=settings.UPLOAD_MAX_FILES)
    if request.method == "POST" and form.is_bound and form.is_valid():
        run = form.save(request.POST.getlist("paths"))  # None when a quota ran out meanwhile: the form says so
        if run is not None:
            return HttpResponseClientRedirect(run.get_absolute_url()) if request.htmx else redirect(run)
    template = "analysis/upload.html#errors" if request.htmx else "analysis/upload.html"
    recent = request.user.runs.all()[:5]
    context = {"form": form, "refusal": refusal, "runs": recent}
    return render(request, template, context, status=400 if form.errors or refusal else 200)


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    runs, query = request.user.runs.all(), request.GET.get("q", "").strip()
    if query:
        runs = runs.filter(Q(name__icontains=query) | Q(case__icontains=query) | Q(uploads__name__icontains=query))
    return render(request, "analysis/run_list.html", {"runs": runs.distinct(), "query": query})


@login_required
@require_GET
def run_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    run = get_run_for_user(request, code)
    asked = request.GET.get("top", "")
    top = min(int(asked), 1000) if asked.isdigit() and int(asked) > TOP_PAIRS else TOP_PAIRS
    review = request.GET.get("review", "")
    review = review if review in REVIEW_FILTERS else ""
    context = run_context(run, top, review, hide_dismissed=request.GET.get("hide_dismissed") == "1")
    template = "analysis/run_detail.html#results" if request.htmx else "analysis/run_detail.html"
    return render(request, template, context)


@login_required
@require_POST
def run_cancel(request: HttpRequest, code: UUID) -> HttpResponse:
    run = get_run_for_user(request, code)
    run.request_cancel()
    if request.htmx:
        return render(request, "analysis/run_detail.html#progress", run_context(run))
    return redirect(run)


@login_required
@require_POST
def run_delete(request: HttpRequest, code: UUID) -> HttpResponse:
    run = get_run_for_user(request, code)
    if not run.is_over:
        return HttpResponse("Cancel the analysis before deleting it.", status=409)
    run.delete_with_files()
    return redirect("run_list")


@login_required
@require_GET
def run_csv(request: HttpRequest, code: UUID) -> HttpResponse:
    run = get_run_for_user(request, code)
    return csv_response(run, every=request.GET.get("all") == "1")


@login_required
@require_GET
@csp_update({"style-src": [UNSAFE_INLINE]})  # the report is one file: its styles are in it
def run_report(request: HttpRequest, code: UUID) -> HttpResponse:
    run = get_run_for_user(request, code)
    response = render(request, "analysis/report.html", report_context(run))
    response["Content-Disposition"] = f'attachment; filename="{run.file_name("report", "html")}"'
    return response


@login_required
@require_GET
def run_report_pdf(request: HttpRequest, code: UUID) -> HttpResponse:
    run = get_run_for_user(request, code)
    html = render_to_string("analysis/report.html", report_context(run), request)
    response = HttpResponse(report_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{run.file_name("report", "pdf")}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def pair_detail(request: HttpRequest, code: UUID, rank: int) -> HttpResponse:
    run = get_run_for_user(request, code)
    # a pair with no verdict is no finding: it has no evidence to draw, and is only in the all-pairs CSV
    pair = get_object_or_404(run.pairs.select_related("first", "second"), rank=rank, verdict__in=FINDINGS)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        Review.record(pair, form.cleaned_data["decision"], form.cleaned_data["comment"], request.user)
        return redirect("pair_detail", code=run.code, rank=rank)
    context = {
        "run": run,
        "pair": pair,
        "drawing": pair_drawing(pair),
        "sides": pair_sides(pair),
        "findings": pair_findings(pair, pair_views(pair)),
        "form": form,
        "review": Review.latest_for([pair], run.owner).get(pair.pk),
        "history": pair.reviews.select_related("author"),
    }
    return render(request, "analysis/pair_detail.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def pair_overlay(request: HttpRequest, code: UUID, rank: int) -> HttpResponse:
    run = get_run_for_user(request, code)
    pair = get_object_or_404(
        run.pairs.select_related("first", "second"), rank=rank, verdict__in=FINDINGS, matrix__isnull=False
    )
    return HttpResponse(overlay_jpeg(pair), content_type="image/jpeg")


@login_required
@require_GET
def item_picture(request: HttpRequest, code: UUID, number: int, size: str) -> FileResponse:
    item = get_item_for_user(request, code, number)
    picture = {"thumbnail": item.thumbnail, "view": item.preview}.get(size)
    if not picture:
        raise Http404("no picture of this item")
    return FileResponse(picture.open("rb"), content_type="image/jpeg")


@login_required
@require_GET
def item_panel(request: HttpRequest, code: UUID, number: int, panel: int) -> HttpResponse:
    item = get_item_for_user(request, code, number)
    if not item.preview or not 1 <= panel <= len(item.panels):
        raise Http404("no such panel")
    # ?size=view: at the resolution of the figure's view, for the pair page; else a thumbnail
    most = None if request.GET.get("size") == "view" else 256
    return HttpResponse(panel_jpeg(item, panel, most), content_type="image/jpeg")


@login_required
@require_GET
def item_original(request: HttpRequest, code: UUID, number: int) -> FileResponse:
    item = get_item_for_user(request, code, number)
    if item.upload is None:
        raise Http404("the original file is gone")
    filename = item.upload.name.rsplit("/", 1)[-1]
    return FileResponse(item.upload.file.open("rb"), as_attachment=True, filename=filename)


LIBRARY_PAGE = 60


@login_required
@require_GET
def library_list(request: HttpRequest) -> HttpResponse:
    libraries = [(library, library.label_for(request.user)) for library in Library.usable(request.user)]
    return render(request, "analysis/library_list.html", {"libraries": libraries})


@login_required
@require_GET
def library_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    library = get_library_for_user(request, code)
    entries = Paginator(library.entries.select_related("kept_by", "run"), LIBRARY_PAGE)
    page = entries.get_page(request.GET.get("page"))
    for entry in page:
        entry.removable = entry.removable_by(request.user)
    context = {"library": library, "label": library.label_for(request.user), "page": page}
    return render(request, "analysis/library_detail.html", context)


@login_required
@require_POST
def library_entry_remove(request: HttpRequest, code: UUID, key: str) -> HttpResponse:
    library = get_library_for_user(request, code)
    entry = get_object_or_404(library.entries.select_related("library"), key=key)
    if not entry.removable_by(request.user):
        raise PermissionDenied("only who kept a picture, or the library's owner, may remove it")
    library.forget([entry.key])
    return redirect(library)


@login_required
@require_GET
def library_entry_picture(request: HttpRequest, code: UUID, key: str) -> FileResponse:
    library = get_library_for_user(request, code)
    entry = get_object_or_404(library.entries, key=key)
    if not entry.thumbnail:
        raise Http404("no picture of this entry")
    return FileResponse(entry.thumbnail.open("rb"), content_type="image/jpeg")


@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    key = None
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _, key = ApiToken.issue(request.user, form.cleaned_data["name"])
    context = {"form": ApiKeyForm() if key else form, "key": key, "tokens": request.user.api_tokens.all()}
    return render(request, "analysis/api_keys.html", context, status=400 if form.errors else 200)


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    context = {"api": request.build_absolute_uri("/api/"), "clip_models": settings.CLIP_MODELS}
    return render(request, "analysis/api_docs.html", context)


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(request.user.api_tokens, pk=pk).delete()
    return redirect("api_keys")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not signup_open():
        raise Http404("sign-up is turned off; ask an administrator for an account")
    if request.method == "POST" and (wait := throttled(request, "signup", "ip", settings.SIGNUPS_PER_ADDRESS)):
        return too_many(request, wait, "accounts made from this address")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        first = settings.SIGNUP_ENABLED is None  # sign-up was open only for the first account: the administrator
        user = form.save()
        if first:
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("upload")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)
