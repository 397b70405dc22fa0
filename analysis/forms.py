from functools import partial

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.db.models import Sum

from analysis.engine.sources import is_image_or_pdf
from analysis.models import Library, Review, Run, Upload
from analysis.wakeups import announce_queued

TOO_MANY_FILES = "At most {limit} files in one analysis."


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented pattern for `<input multiple>`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,.pdf,.tif,.tiff"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        files = [file for file in (data if isinstance(data, list | tuple) else [data]) if file]
        if not files:
            return [clean_one(None, initial)]  # raises the field's "required" message
        return [clean_one(file, initial) for file in files]


class UploadForm(forms.Form):
    files = MultipleFileField(label="Images and PDFs")
    name = forms.CharField(
        label="Name",
        max_length=200,
        required=False,
        help_text="what this analysis is of, e.g. Smith et al., figures 1-4",
    )
    case = forms.CharField(
        label="Manuscript or case ID", max_length=100, required=False, help_text="e.g. JCB-2026-0412"
    )
    clip_model = forms.ChoiceField(
        label="CLIP model",
        choices=[(name, name) for name in settings.CLIP_MODELS],
        initial=settings.CLIP_MODEL,
        required=False,  # the configured model when none is asked for (API clients)
        help_text="ViT-B-32 is the fastest; ViT-L-14 ranks look-alikes best but is slow without a GPU.",
    )

    library = forms.ChoiceField(
        label="Check against",
        required=False,  # none when none is asked for (API clients)
        help_text="pictures kept from earlier analyses: a copy of one of them is found as well",
    )
    keep = forms.BooleanField(
        label="Keep these pictures in the library, for later analyses to be checked against",
        required=False,
    )

    def __init__(self, *args, owner, only_pictures: bool = False, **kwargs):
        """only_pictures: refuse files that are neither images nor PDFs (a program's submission) instead of
        queueing the run and skipping them with their reason (what the page does, which shows the reason)."""
        super().__init__(*args, **kwargs)
        self.owner, self.only_pictures = owner, only_pictures
        self.libraries = {str(library.code): library for library in Library.usable(owner)}
        # "none" says so; an API client that names no library gets none as well
        self.fields["library"].choices = [("none", "None: these files only")] + [
            (code, f"{library.label_for(owner)}: {library.entries.count()} pictures")
            for code, library in self.libraries.items()
        ]
        self.fields["library"].initial = next(iter(self.libraries))

    def clean_clip_model(self) -> str:
        return self.cleaned_data["clip_model"] or settings.CLIP_MODEL

    def clean_library(self) -> Library | None:
        return self.libraries.get(self.cleaned_data["library"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("keep") and cleaned.get("library") is None and "library" not in self.errors:
            self.add_error("keep", "Choose the library to keep the pictures in.")
        return cleaned

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > settings.UPLOAD_MAX_FILES:
            raise forms.ValidationError(TOO_MANY_FILES.format(limit=settings.UPLOAD_MAX_FILES))
        if self.only_pictures:
            names = upload_names(files, self.data.getlist("paths"))
            others = [name for file, name in zip(files, names, strict=True) if not is_image_or_pdf(file)]
            if others:
                raise forms.ValidationError(
                    f"Neither an image nor a PDF: {', '.join(others)}. "
                    "Send JPEG, PNG, TIFF, BMP, WebP, GIF or PDF files.",
                    code="unsupported",
                )
        total = sum(file.size for file in files)
        if total > settings.UPLOAD_MAX_BYTES:
            limit = settings.UPLOAD_MAX_BYTES // 1024**2
            raise forms.ValidationError(f"At most {limit} MB in one analysis; these files hold {total // 1024**2} MB.")
        refusal = self.quota_refusal(total)
        if refusal:
            raise forms.ValidationError(refusal)
        return files

    def quota_refusal(self, total: int) -> str | None:
        """Why the owner may not start one more analysis of `total` bytes now, if they may not."""
        runs = self.owner.runs
        active = runs.filter(status__in=[Run.Status.QUEUED, Run.Status.RUNNING]).count()
        if active >= settings.USER_MAX_ACTIVE_RUNS:
            return f"You have {active} analyses waiting or running, the most at once; let one finish or cancel one."
        if runs.count() >= settings.USER_MAX_RUNS:
            return f"You keep {settings.USER_MAX_RUNS} analyses, the most allowed; delete old ones to start another."
        stored = Upload.objects.filter(run__owner=self.owner).aggregate(total=Sum("size"))["total"] or 0
        if stored + total > settings.USER_QUOTA_BYTES:
            return (
                f"Your analyses keep {stored / 1024**3:.1f} GB of your {settings.USER_QUOTA_BYTES / 1024**3:.1f} GB"
                f" and these files hold {total / 1024**3:.1f} GB; delete old analyses to make room."
            )
        return None

    def save(self, paths: list[str]) -> Run | None:
        """The queued run with its files, a worker woken once it is committed; or None, the refusal added to the
        form's errors, when the owner's quota ran out since the form was checked (submissions at the same time)."""
        files = self.cleaned_data["files"]
        with transaction.atomic():
            # one submission of an owner at a time counts their analyses and adds one: the quotas cannot be raced
            get_user_model().objects.select_for_update().only("pk").get(pk=self.owner.pk)
            refusal = self.quota_refusal(sum(file.size for file in files))
            if refusal:
                self.add_error("files", refusal)
                return None
            run = Run.objects.create(
                owner=self.owner,
                name=self.cleaned_data["name"],
                case=self.cleaned_data["case"],
                clip_model=self.cleaned_data["clip_model"],
                library=self.cleaned_data["library"],
                keep=self.cleaned_data["keep"],
            )
            for file, name in zip(files, upload_names(files, paths), strict=True):
                Upload.store(run, file, name)
            transaction.on_commit(partial(announce_queued, run.pk))
        return run


def upload_names(files: list, paths: list[str]) -> list[str]:
    """Each file's name as the user sees it: its folder path when the browser sent one, unique in the run."""
    if len(paths) != len(files):
        paths = [file.name for file in files]  # no script, or a client that sent no paths
    names, taken = [], set()
    for file, path in zip(files, paths, strict=True):
        name = safe_name(path) or safe_name(file.name) or "unnamed"
        unique, suffix = name, 2
        while unique in taken:
            unique, suffix = f"{name}~{suffix}", suffix + 1
        taken.add(unique)
        names.append(unique)
    return names


def safe_name(path: str) -> str:
    """A relative path without empty, '.' or '..' parts or unprintable characters, of bounded length."""
    parts = ("".join(char for char in part if char.isprintable())[:200] for part in path.replace("\\", "/").split("/"))
    return "/".join(part for part in parts if part not in ("", ".", ".."))[-1000:]


class SignUpForm(UserCreationForm):
    def validate_password_for_user(self, user, **kwargs):
        # a password too short or too common is said under the password, not under its confirmation
        super().validate_password_for_user(user, password_field_name="password1")


class ReviewForm(forms.ModelForm):
    decision = forms.ChoiceField(label="Your verdict", choices=Review.Decision.choices, widget=forms.RadioSelect)

    class Meta:
        model = Review
        fields = ["decision", "comment"]
        widgets = {"comment": forms.Textarea(attrs={"rows": 3})}
        labels = {"comment": "Comment (optional)"}


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="What will use it", max_length=100, help_text="for example: the editorial system")
