import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deepchecker_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (needs Django set up first)
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

# One server on one port serves the pages and their static files, with no collectstatic step.
application = ProtocolTypeRouter({"http": ASGIStaticFilesHandler(django_asgi_app)})
