"""Analysis runs and what they found. The database, not the channel layer, holds the truth about a run."""

import hashlib
import secrets
import shutil
import uuid
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import Group as UserGroup
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from analysis.engine.confidence import band
from analysis.engine.names import library_name, panel_name
from analysis.engine.previews import PICTURE_SIZES, VIEW, picture_file
from analysis.engine.report import PairRow

if TYPE_CHECKING:  # the engine imports torch: not at the web process's start
    from analysis.engine import library as engine_library


def upload_path(upload: "Upload", filename: str) -> str:
    # a generated name: the user's file name never reaches the file system
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"{upload.run.folder}/{uuid.uuid4().hex}{suffix}"


class RunQuerySet(models.QuerySet):
    def visible_to(self, user) -> "RunQuerySet":
        """A user's own runs; staff review everyone's."""
        if not user.is_authenticated:
            return self.none()
        return self if user.is_staff else self.filter(owner=user)


class Run(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runs")
    name = models.CharField(max_length=200, blank=True, help_text="what the analysis is of, in the user's words")
    case = models.CharField(
        "manuscript or case ID", max_length=100, blank=True, help_text="the manuscript or case it belongs to"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    clip_model = models.CharField(max_length=32, default="ViT-B-32")
    library = models.ForeignKey(
        "Library",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        help_text="the library its pictures were checked against",
    )
    keep = models.BooleanField(default=False, help_text="its pictures are kept in the library for later analyses")
    stage = models.CharField(max_length=16, blank=True)
    stage_done = models.PositiveIntegerField(default=0)
    stage_total = models.PositiveIntegerField(default=0)
    item_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    pairs_verified = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    group_count = models.PositiveIntegerField(default=0)
    clip_notice = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True)
    settings = models.JSONField(default=dict, blank=True, help_text="every engine setting and threshold used")
    software = models.JSONField(default=dict, blank=True, help_text="versions of the code and libraries used")
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    worker = models.CharField(max_length=200, blank=True, help_text="the worker holding the run")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="another worker may take it after this")
    attempts = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.owner} {self.title} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("run_detail", args=[self.code])

    @property
    def library_entries(self) -> int:
        """How many pictures its library held when it ran: checking against an empty one checks nothing."""
        return (self.settings.get("library") or {}).get("entries") or 0

    @property
    def title(self) -> str:
        """How people name the analysis: its name and case, else its date in the server's time zone."""
        named = " · ".join(part for part in (self.name, self.case) if part)
        return named or f"Analysis of {timezone.localtime(self.created):%Y-%m-%d %H:%M}"

    def file_name(self, kind: str, extension: str) -> str:
        """A download's file name: the case (or name) first, so that a folder of them sorts by case."""
        label = slugify(self.case or self.name)[:60]
        return f"deepchecker-{label + '-' if label else ''}{kind}-{self.code}.{extension}"

    @property
    def group_name(self) -> str:
        """The channel-layer group that hears about this run's changes."""
        return f"run-{self.code.hex}"

    @property
    def is_over(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED)

    @property
    def worker_lost(self) -> bool:
        """Running, but its worker stopped renewing its lease: another worker will take it up."""
        return self.status == self.Status.RUNNING and self.lease_until is not None and self.lease_until < timezone.now()

    @property
    def duration(self):
        return self.finished - self.started if self.started and self.finished else None

    @classmethod
    def claim_next(cls, worker: str, lease: timedelta) -> "Run | None":
        """Takes the oldest queued run, or a running one whose worker stopped renewing its lease.

        SKIP LOCKED row locks on PostgreSQL, one writer at a time on SQLite: of many claimers, one wins.
        """
        now = timezone.now()
        waiting = models.Q(status=cls.Status.QUEUED) | models.Q(status=cls.Status.RUNNING, lease_until__lt=now)
        with transaction.atomic():
            run = cls.objects.select_for_update(skip_locked=True).filter(waiting).order_by("created").first()
            if run is None:
                return None
            run.status, run.worker, run.lease_until = cls.Status.RUNNING, worker, now + lease
            run.attempts += 1
            run.started = run.started or now
            run.stage, run.stage_done, run.stage_total = "", 0, 0
            run.save(
                update_fields=[
                    "status",
                    "worker",
                    "lease_until",
                    "attempts",
                    "started",
                    "stage",
                    "stage_done",
                    "stage_total",
                ]
            )
        return run

    @classmethod
    def fail_abandoned(cls, max_attempts: int) -> list["Run"]:
        """Runs whose workers were lost max_attempts times fail, saying so, instead of being tried again."""
        now = timezone.now()
        failed = []
        for run in cls.objects.filter(status=cls.Status.RUNNING, lease_until__lt=now, attempts__gte=max_attempts):
            message = (
                f"the analysis was started {run.attempts} times and its worker stopped each time "
                "(a crash, or a machine lost); it was not tried again"
            )
            lost = cls.objects.filter(pk=run.pk, status=cls.Status.RUNNING, lease_until=run.lease_until)
            if lost.update(status=cls.Status.FAILED, error=message, finished=now, lease_until=None):
                failed.append(run)
        return failed

    def _held(self) -> models.QuerySet:
        """This run, only while the worker that claimed it into this object still holds it."""
        return Run.objects.filter(pk=self.pk, status=self.Status.RUNNING, worker=self.worker)

    def holds_lease(self) -> bool:
        """Locks the row for the rest of the transaction (PostgreSQL): nobody takes the run meanwhile."""
        return self._held().select_for_update().exists()

    def renew_lease(self, lease: timedelta) -> bool:
        return bool(self._held().update(lease_until=timezone.now() + lease))

    def release(self) -> bool:
        """Back to the queue, for another worker, without counting this attempt."""
        return bool(
            self._held().update(
                status=self.Status.QUEUED, worker="", lease_until=None, attempts=models.F("attempts") - 1, stage=""
            )
        )

    def record_setup(self, engine_settings: dict, software: dict) -> None:
        self.settings, self.software = engine_settings, software
        self._held().update(settings=engine_settings, software=software)

    def set_stage(self, stage: str, done: int, total: int) -> None:
        self.stage, self.stage_done, self.stage_total = stage, done, total
        self._held().update(stage=stage, stage_done=done, stage_total=total)

    def finish(self, status: str, error: str = "") -> None:
        self.status, self.error, self.finished = status, error, timezone.now()
        self._held().update(status=status, error=error, finished=self.finished, lease_until=None)

    def request_cancel(self) -> None:
        """A queued run stops at once; a running one when its worker next looks."""
        stopped = Run.objects.filter(pk=self.pk, status=self.Status.QUEUED).update(
            status=self.Status.CANCELLED, finished=timezone.now()
        )
        if not stopped:
            Run.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(cancel_requested=True)
        self.refresh_from_db(fields=["status", "finished", "cancel_requested"])

    def cancel_is_requested(self) -> bool:
        return Run.objects.filter(pk=self.pk, cancel_requested=True).exists()

    @property
    def folder(self) -> str:
        """Where this run's files live, relative to MEDIA_ROOT."""
        return f"runs/{self.code}"

    @property
    def preview_folder(self) -> str:
        return f"{self.folder}/previews"

    @property
    def keeps_pictures(self) -> bool:
        """Whether its pictures go into the library it is checked against, for later analyses."""
        return self.keep and self.library_id is not None

    def delete_with_files(self) -> None:
        self.delete()
        shutil.rmtree(Path(settings.MEDIA_ROOT) / self.folder, ignore_errors=True)

    def library_key(self, number: int) -> str:
        """The library key of this run's item `number`: the same on every attempt, so keeping again replaces."""
        return f"{self.code.hex}{number:06d}"


class Upload(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="uploads")
    file = models.FileField(upload_to=upload_path, max_length=300)
    name = models.CharField(max_length=1024, help_text="the path as uploaded, folders kept")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="upload_name_unique_in_run")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def store(cls, run: Run, file, name: str) -> "Upload":
        digest = hashlib.sha256()
        for chunk in file.chunks():
            digest.update(chunk)
        file.seek(0)
        return cls.objects.create(run=run, file=file, name=name, size=file.size, sha256=digest.hexdigest())


class Item(models.Model):
    """One picture the engine compared, or a file or page it skipped (with the reason)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="items")
    upload = models.ForeignKey(Upload, on_delete=models.SET_NULL, null=True, blank=True, related_name="items")
    number = models.PositiveIntegerField(null=True, blank=True)
    name = models.CharField(max_length=1100)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    keypoints = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="the file's SHA-256 and the item's place in it"
    )
    kind = models.CharField(max_length=16, blank=True, help_text="image, tiff_page, pdf_page or pdf_image")
    page = models.PositiveIntegerField(null=True, blank=True, help_text="1-based page of a PDF or TIFF")
    preview = models.FileField(max_length=300, blank=True)
    thumbnail = models.FileField(max_length=300, blank=True)
    skipped = models.TextField(blank=True)
    panels = models.JSONField(
        default=list, blank=True, help_text="a figure's picture panels, in reading order: x0, y0, x1, y1 in pixels"
    )
    chart = models.BooleanField(default=False, help_text="a chart or schematic, not a photograph or micrograph")
    placement = models.JSONField(
        null=True, blank=True, help_text="an embedded image's place on its PDF page: its fractions -> the page's"
    )
    library_entry = models.ForeignKey(
        "LibraryEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="for a picture kept from an earlier analysis: its library entry, while it is kept",
    )
    library_origin = models.CharField(
        max_length=400, blank=True, help_text="for a picture kept from an earlier analysis: where it came from"
    )

    class Meta:
        ordering = ["number", "name"]

    def __str__(self) -> str:
        return self.name

    def place_name(self, panel: int | None) -> str:
        name = library_name(self.name) if self.library_origin else self.name
        return name if panel is None else panel_name(name, panel)


class Pair(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="pairs")
    rank = models.PositiveIntegerField()
    first = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    clip_score = models.FloatField(null=True, blank=True)
    local_matches = models.PositiveIntegerField(default=0)
    verdict = models.CharField(max_length=16, blank=True)
    transform = models.CharField(max_length=120, blank=True)
    content = models.FloatField(null=True, blank=True)
    region1 = models.JSONField(null=True, blank=True)
    region2 = models.JSONField(null=True, blank=True)
    points1 = models.JSONField(default=list, blank=True)
    points2 = models.JSONField(default=list, blank=True)
    # the second item's (mirrored, if so) pixels -> the first item's pixels: 2 rows of 3
    matrix = models.JSONField(null=True, blank=True)
    mirrored = models.BooleanField(default=False)
    confidence = models.FloatField(null=True, blank=True, help_text="calibrated probability of a true duplicate")
    # the panels of the items that hold the shared region, when each lies in one
    first_panel = models.PositiveSmallIntegerField(null=True, blank=True)
    second_panel = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return f"{self.first_name} ~ {self.second_name}"

    @property
    def first_name(self) -> str:
        return self.first.place_name(self.first_panel)

    @property
    def second_name(self) -> str:
        return self.second.place_name(self.second_panel)

    @property
    def within(self) -> bool:
        """A copy inside one item: two panels of a figure, or a region cloned in a picture."""
        return self.first_id == self.second_id

    @property
    def inside(self) -> str:
        """What a copy inside one item is, in words; "" for a pair of two items."""
        if not self.within:
            return ""
        if self.row().kind == "two panels":
            return "two panels of one figure show the same picture"
        return "a region of the picture appears a second time in it"

    def row(self) -> PairRow:
        """What the CSV says of it."""
        return PairRow(
            self.rank,
            self.first_name,
            self.second_name,
            self.within,
            bool(self.second.library_origin),
            self.first_panel,
            self.second_panel,
            self.clip_score,
            self.local_matches,
            self.verdict,
            self.confidence,
            self.transform,
            self.content,
            self.region1,
            self.region2,
        )

    @property
    def confidence_band(self) -> str:
        return "" if self.confidence is None else band(self.confidence)


class Group(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="groups")
    number = models.PositiveIntegerField()

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"group {self.number}"


class GroupMember(models.Model):
    """An item, or one panel of it, in a duplicate group."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    panel = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["item__number", "panel"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.item.place_name(self.panel)


class Review(models.Model):
    """A person's verdict on a pair, kept with the earlier ones: the newest is the pair's verdict.

    It holds the content hashes of both images, so that the same two images in a later run of the same
    owner come back with it.
    """

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed duplicate"
        LEGITIMATE = "legitimate", "Legitimate reuse"
        FALSE_POSITIVE = "false_positive", "False positive"

    DISMISSED = (Decision.LEGITIMATE, Decision.FALSE_POSITIVE)

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="reviews")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", help_text="the run's owner"
    )
    images = models.CharField(max_length=129, db_index=True, help_text="both content hashes, sorted")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    comment = models.TextField(blank=True, max_length=4000)  # checked on the form, as every free text is
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.author} on {self.pair}"

    @property
    def dismissed(self) -> bool:
        return self.decision in self.DISMISSED

    @staticmethod
    def images_of(pair: Pair) -> str:
        return ":".join(sorted((pair.first.content_hash, pair.second.content_hash)))

    @classmethod
    def record(cls, pair: Pair, decision: str, comment: str, author) -> "Review":
        return cls.objects.create(
            pair=pair,
            owner=pair.run.owner,
            images=cls.images_of(pair),
            decision=decision,
            comment=comment,
            author=author,
        )

    @classmethod
    def latest_for(cls, pairs: list[Pair], owner) -> dict[int, "Review"]:
        """Each pair's newest verdict: its own, or else the newest its owner gave the same two images before."""
        own = {}
        for review in cls.objects.filter(pair__in=pairs).select_related("author"):
            own.setdefault(review.pair_id, review)
        # an item whose file is gone has no hash: it is remembered by nothing
        keys = {
            cls.images_of(pair)
            for pair in pairs
            if pair.pk not in own and pair.first.content_hash and pair.second.content_hash
        }
        earlier = {}
        for review in cls.objects.filter(owner=owner, images__in=keys).select_related("author", "pair__run"):
            earlier.setdefault(review.images, review)
        latest = {}
        for pair in pairs:
            review = own.get(pair.pk) or earlier.get(cls.images_of(pair))
            if review is not None:
                latest[pair.pk] = review
        return latest


class ApiToken(models.Model):
    """A key for the JSON API. Only its SHA-256 is kept: the key itself is shown once, when it is made."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="what uses it, e.g. the editorial system")
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.owner})"

    @staticmethod
    def _digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, owner, name: str) -> tuple["ApiToken", str]:
        key = f"dc_{secrets.token_urlsafe(32)}"
        return cls.objects.create(owner=owner, name=name, digest=cls._digest(key)), key

    @classmethod
    def owner_of(cls, key: str):
        """The user a key belongs to, or None; notes when it was used."""
        token = cls.objects.select_related("owner").filter(digest=cls._digest(key), owner__is_active=True).first()
        if token is None:
            return None
        cls.objects.filter(pk=token.pk).update(last_used=timezone.now())
        return token.owner


class LibraryQuerySet(models.QuerySet):
    def usable_by(self, user) -> "LibraryQuerySet":
        """A user's own library and the libraries of the groups they belong to."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(models.Q(owner=user) | models.Q(group__in=user.groups.all()))


class Library(models.Model):
    """Pictures kept from earlier analyses, which later ones are checked against: a person's or a group's.

    The rows list what is kept; the features and indexes lie in the library's folder (analysis.engine.library).
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="library"
    )
    group = models.OneToOneField(UserGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="library")
    created = models.DateTimeField(default=timezone.now)

    objects = LibraryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "libraries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False, group__isnull=True)
                | models.Q(owner__isnull=True, group__isnull=False),
                name="library_of_a_person_or_a_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner}'s library" if self.owner_id else f"the {self.group} library"

    def get_absolute_url(self) -> str:
        return reverse("library_detail", args=[self.code])

    @classmethod
    def usable(cls, user) -> list["Library"]:
        """The user's own library, then their groups', each made when first asked for."""
        own, _ = cls.objects.get_or_create(owner=user)
        return [own, *(cls.objects.get_or_create(group=group)[0] for group in user.groups.order_by("name"))]

    def label_for(self, user) -> str:
        return "Your library" if self.owner_id == user.pk else f"{self.group.name} (shared with the group)"

    @property
    def folder(self) -> str:
        """Where its features, indexes and pictures live, relative to MEDIA_ROOT."""
        return f"libraries/{self.code}"

    def picture(self, key: str, size: str = VIEW) -> str:
        """A kept picture's view or thumbnail, relative to MEDIA_ROOT."""
        return picture_file(self.folder, key, size)

    def indexes(self) -> "engine_library.Library":
        from analysis.engine.library import Library as Indexes  # FAISS: loaded where a library is used

        return Indexes(Path(settings.MEDIA_ROOT) / self.folder)

    def forget(self, keys: list[str]) -> None:
        """Removes entries: from the indexes first, so that no later analysis finds an entry without a row."""
        self.indexes().remove(keys)
        for key in keys:
            for size in PICTURE_SIZES:
                (Path(settings.MEDIA_ROOT) / self.picture(key, size)).unlink(missing_ok=True)
        self.entries.filter(key__in=keys).delete()

    def forget_run(self, run: Run) -> None:
        """What an earlier attempt of the run kept, before it is kept again."""
        self.forget([key for key in self.indexes().entry_keys() if key.startswith(run.code.hex)])


class LibraryEntry(models.Model):
    """A picture kept in a library; its features lie in the library's folder under `key`."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="entries")
    key = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=1100)
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=16, blank=True)
    page = models.PositiveIntegerField(null=True, blank=True)
    panels = models.JSONField(default=list, blank=True)
    chart = models.BooleanField(default=False)
    preview = models.FileField(max_length=300, blank=True)
    thumbnail = models.FileField(max_length=300, blank=True)
    run = models.ForeignKey(
        Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="kept", help_text="while it is kept"
    )
    kept_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded = models.DateTimeField(help_text="when the analysis it was kept from was made")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded", "name"]
        verbose_name_plural = "library entries"

    def __str__(self) -> str:
        return self.name

    @property
    def origin(self) -> str:
        return f"{self.library}, from the analysis of {self.uploaded:%Y-%m-%d} by {self.kept_by or 'a former user'}"

    def removable_by(self, user) -> bool:
        return user.is_staff or user.pk in (self.kept_by_id, self.library.owner_id)
