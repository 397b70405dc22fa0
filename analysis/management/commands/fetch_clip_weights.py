from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analysis.engine.embed import PRETRAINED_TAGS, ClipUnavailable, download_weights


class Command(BaseCommand):
    help = "Download CLIP weights into the cache, for machines that will run offline."

    def add_arguments(self, parser):
        parser.add_argument(
            "models",
            nargs="*",
            help=f"models to fetch (default: {settings.CLIP_MODEL}); any of {', '.join(PRETRAINED_TAGS)}",
        )
        parser.add_argument("--all", action="store_true", help="fetch every supported model")

    def handle(self, *args, **options):
        models = list(PRETRAINED_TAGS) if options["all"] else options["models"] or [settings.CLIP_MODEL]
        for model in models:
            if model not in PRETRAINED_TAGS:
                raise CommandError(f"unknown model '{model}'; choose from {', '.join(PRETRAINED_TAGS)}")
            try:
                path = download_weights(model, settings.CLIP_CACHE_DIR)
            except ClipUnavailable as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{model} ({PRETRAINED_TAGS[model]}): {path}")
        return f"fetched {len(models)} model(s) into {settings.CLIP_CACHE_DIR}"
