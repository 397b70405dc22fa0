"""The adapter between the engine and the database: what a run is set up with, what it found, and what a
library keeps of it. The engine knows nothing of models; the models nothing of the engine's results."""

import hashlib
import platform
import shutil
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from analysis.engine.previews import PICTURE_SIZES, THUMBNAIL, VIEW, picture_file
from analysis.engine.stages import DUPLICATE
from analysis.models import Group, GroupMember, Item, LibraryEntry, Pair, Run, Upload

if TYPE_CHECKING:  # the engine's pipeline imports torch: only where a run is analysed
    from analysis.engine import library as engine_library
    from analysis.engine.pipeline import Options, Result

SOFTWARE = [
    "deepchecker",
    "django",
    "channels",
    "torch",
    "torchvision",
    "open-clip-torch",
    "opencv-python-headless",
    "numpy",
    "pillow",
    "pypdfium2",
    "faiss-cpu",
]


def engine_options(model: str | None = None, **changes) -> "Options":
    """The engine's options as this site is set up (its CLIP model and weights, their cache, the reading
    processes), with `changes`; the weights file is for the site's own model only."""
    from analysis.engine.pipeline import Options

    model = model or settings.CLIP_MODEL
    site = {
        "model": model,
        "clip_weights": settings.CLIP_WEIGHTS if model == settings.CLIP_MODEL else None,
        "clip_cache_dir": settings.CLIP_CACHE_DIR,
        "workers": settings.ENGINE_WORKERS,
    }
    return Options(**(site | changes))


def software_versions() -> dict[str, str]:
    """What a report must name so that the same inputs give the same findings again."""

    def installed(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "not installed"

    return {"python": platform.python_version(), **{package: installed(package) for package in SOFTWARE}}


def prepare(run: Run) -> tuple["Options", "engine_library.Library | None"]:
    """The engine's options for the run and the library indexes it is checked against, recorded with the
    software's versions; what an earlier attempt kept is taken out, not to be found as copies of itself."""
    options = engine_options(run.clip_model, preview_dir=str(Path(settings.MEDIA_ROOT) / run.preview_folder))
    indexes = run.library.indexes() if run.library else None
    if run.keeps_pictures and run.library.entries.filter(run=run).exists():
        run.library.forget_run(run)
    library = None if indexes is None else {"name": str(run.library), "entries": indexes.size, "keep": run.keep}
    run.record_setup(asdict(options) | {"library": library}, software_versions())
    return options, indexes


def keep_in_library(run: Run, result: "Result") -> None:
    """Puts a run's own items in its library's indexes, with copies of their pictures; their rows come with the
    run's results (store_result), so an attempt cut off before storing leaves no row without features."""
    library = run.library
    for number, (entry, item) in enumerate(zip(result.kept, result.own_items, strict=True)):
        entry.key = run.library_key(number)
        if item.preview:
            for size in PICTURE_SIZES:
                _copy(picture_file(run.preview_folder, item.preview, size), library.picture(entry.key, size))
    library.indexes().add(result.kept)


def store_result(run: Run, result: "Result") -> None:
    """Replaces whatever an earlier attempt stored, so that re-running gives no duplicate rows.

    Library entries that were compared are stored as items too, with copies of their pictures, so that the
    run shows its evidence whatever later becomes of the library; an entry removed meanwhile is left out.
    """
    uploads = {upload.name: upload for upload in run.uploads.all()}
    entries = LibraryEntry.objects.select_related("library").in_bulk(
        [item.library for item in result.items if item.library], field_name="key"
    )
    stored = [number for number, item in enumerate(result.items) if not item.library or item.library in entries]
    with transaction.atomic():
        run.groups.all().delete()
        run.items.all().delete()  # and their pairs
        rows = []
        for number in stored:
            item = result.items[number]
            upload = uploads.get(item.name.split("#", 1)[0])
            row = Item(
                run=run,
                number=number,
                name=item.name,
                upload=upload,
                width=item.original_size[0],
                height=item.original_size[1],
                keypoints=item.keypoints,
                content_hash=_content_hash(upload, item.name),
                kind=item.kind,
                page=None if item.page is None else item.page + 1,
                preview=picture_file(run.preview_folder, item.preview, VIEW) if item.preview else "",
                thumbnail=picture_file(run.preview_folder, item.preview, THUMBNAIL) if item.preview else "",
                panels=[list(box) for box in item.panels],
                chart=item.chart,
                placement=[list(row) for row in item.placement] if item.placement else None,
            )
            if item.library:
                _as_entry(row, entries[item.library], run.preview_folder)
            rows.append(row)
        items = dict(zip(stored, Item.objects.bulk_create(rows), strict=True))
        Item.objects.bulk_create(
            Item(run=run, name=lost.name, upload=uploads.get(lost.name.split("#", 1)[0]), skipped=lost.reason)
            for lost in result.skipped
        )
        pairs = [pair for pair in result.pairs if pair.first in items and pair.second in items]
        Pair.objects.bulk_create(
            Pair(
                run=run,
                rank=rank,
                first=items[pair.first],
                second=items[pair.second],
                clip_score=pair.clip_score,
                local_matches=pair.local_matches,
                verdict=pair.verdict,
                transform=pair.transform,
                content=pair.alignment.content if pair.alignment else None,
                region1=list(pair.alignment.region1) if pair.alignment else None,
                region2=list(pair.alignment.region2) if pair.alignment else None,
                points1=pair.alignment.points1.round(4).tolist() if pair.alignment else [],
                points2=pair.alignment.points2.round(4).tolist() if pair.alignment else [],
                matrix=pair.alignment.matrix.round(6).tolist() if pair.alignment else None,
                mirrored=pair.alignment.mirrored if pair.alignment else False,
                confidence=round(pair.confidence, 4),
                first_panel=pair.first_panel,
                second_panel=pair.second_panel,
            )
            for rank, pair in enumerate(pairs, start=1)
        )
        groups = [[place for place in group if place[0] in items] for group in result.groups]
        groups = [group for group in groups if len(group) > 1]
        for number, places in enumerate(groups, start=1):
            group = Group.objects.create(run=run, number=number)
            GroupMember.objects.bulk_create(
                GroupMember(group=group, item=items[index], panel=panel) for index, panel in places
            )
        if run.keeps_pictures:
            _record_in_library(run, [items[number] for number in range(len(result.own_items))])
        run.item_count = len(result.own_items)
        run.skipped_count = len(result.skipped)
        run.pairs_verified = len(pairs)
        run.duplicate_count = sum(pair.verdict == DUPLICATE for pair in pairs)
        run.group_count = len(groups)
        run.clip_notice = result.clip_notice or ""
        run.timings = {stage: round(seconds, 2) for stage, seconds in result.timings.items()}
        run.save(
            update_fields=[
                "item_count",
                "skipped_count",
                "pairs_verified",
                "duplicate_count",
                "group_count",
                "clip_notice",
                "timings",
            ]
        )


def _record_in_library(run: Run, items: list[Item]) -> None:
    """The library rows of the items keep_in_library put in the indexes."""
    library = run.library
    entries = []
    for item in items:
        key = run.library_key(item.number)
        entries.append(
            LibraryEntry(
                library=library,
                key=key,
                name=item.name,
                content_hash=item.content_hash,
                width=item.width,
                height=item.height,
                kind=item.kind,
                page=item.page,
                panels=item.panels,
                chart=item.chart,
                preview=library.picture(key, VIEW) if item.preview else "",
                thumbnail=library.picture(key, THUMBNAIL) if item.preview else "",
                run=run,
                kept_by=run.owner,
                uploaded=run.created,
            )
        )
    LibraryEntry.objects.bulk_create(entries)


def _as_entry(item: Item, entry: LibraryEntry, preview_folder: str) -> None:
    """Makes `item` of a later run the library entry, with copies of its pictures in that run's folder."""
    item.library_entry, item.library_origin, item.content_hash = entry, entry.origin, entry.content_hash
    item.kind, item.page = entry.kind, entry.page
    if entry.preview:
        item.preview = picture_file(preview_folder, f"library-{entry.key}", VIEW)
        item.thumbnail = picture_file(preview_folder, f"library-{entry.key}", THUMBNAIL)
        _copy(entry.preview.name, item.preview.name)
        _copy(entry.thumbnail.name, item.thumbnail.name)


def _content_hash(upload: Upload | None, name: str) -> str:
    """Same file content and same place in it (page, embedded image): the same item, whatever the run."""
    if upload is None:
        return ""
    return hashlib.sha256(f"{upload.sha256}{name[len(upload.name) :]}".encode()).hexdigest()


def _copy(source: str, target: str) -> None:
    """A copy of a file under MEDIA_ROOT (names relative to it)."""
    root = Path(settings.MEDIA_ROOT)
    (root / target).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / source, root / target)
