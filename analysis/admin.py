from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html

from analysis.models import Item, Library, LibraryEntry, Pair, Review, Run, Upload


class ReadOnly:
    """Audit data: staff see it, nobody adds, changes or deletes it here (a run and its files are deleted by
    its owner on the history page, a library entry on its library's page, so that files and indexes go too)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class UploadInline(ReadOnly, admin.TabularInline):
    model = Upload
    fields = ["name", "size", "sha256"]
    extra = 0


class ItemInline(ReadOnly, admin.TabularInline):
    model = Item
    fields = ["number", "name", "kind", "page", "width", "height", "keypoints", "skipped"]
    extra = 0


class PairInline(ReadOnly, admin.TabularInline):
    model = Pair
    fk_name = "run"
    fields = ["rank", "first", "second", "verdict", "confidence", "local_matches", "clip_score", "content", "transform"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("first", "second").exclude(verdict="")


@admin.register(Run)
class RunAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created", "title_link", "owner", "status", "item_count", "duplicate_count", "duration"]
    list_filter = ["status", "created"]
    search_fields = ["name", "case", "owner__username", "owner__email", "uploads__name", "code"]
    date_hierarchy = "created"
    fields = [
        "page",
        "code",
        "name",
        "case",
        "owner",
        "status",
        "error",
        "clip_model",
        "library",
        "keep",
        "item_count",
        "skipped_count",
        "pairs_verified",
        "duplicate_count",
        "group_count",
        "clip_notice",
        "created",
        "started",
        "finished",
        "timings",
        "worker",
        "lease_until",
        "attempts",
        "cancel_requested",
        "settings",
        "software",
    ]
    readonly_fields = ["page"]
    inlines = [UploadInline, ItemInline, PairInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner").distinct()

    @admin.display(description="run page")
    def page(self, run: Run) -> str:
        return format_html('<a href="{}">results</a>', run.get_absolute_url())

    @admin.display(description="analysis", ordering="name")
    def title_link(self, run: Run) -> str:
        return format_html('<a href="{}">{}</a>', run.get_absolute_url(), run.title)


@admin.register(Review)
class ReviewAdmin(ReadOnly, admin.ModelAdmin):
    """The audit trail of verdicts: read only, nothing added, changed or deleted here."""

    list_display = ["created", "author", "decision", "owner", "pair", "comment"]
    list_filter = ["decision", "author", "created"]
    search_fields = ["author__username", "owner__username", "comment", "pair__first__name", "pair__second__name"]
    date_hierarchy = "created"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "owner", "pair__first", "pair__second")


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin):
    """Libraries are made when their owner or group first uses one; entries are removed on the library page."""

    list_display = ["__str__", "owner", "group", "entry_count", "created"]
    search_fields = ["owner__username", "group__name"]
    readonly_fields = ["code", "owner", "group", "created"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner", "group").annotate(entry_total=Count("entries"))

    @admin.display(description="pictures", ordering="entry_total")
    def entry_count(self, library: Library) -> int:
        return library.entry_total

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(LibraryEntry)
class LibraryEntryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "library", "uploaded", "kept_by", "run"]
    list_filter = ["library", "uploaded"]
    search_fields = ["name", "kept_by__username", "content_hash"]
    date_hierarchy = "uploaded"
    list_select_related = ["library__owner", "library__group", "kept_by", "run"]
