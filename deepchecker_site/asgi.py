import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deepchecker_site.settings")
django_asgi_app = get_asgi_application()

# these need Django set up first
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from analysis import consumers, routing  # noqa: E402
from analysis.middleware import RequestSizeLimit  # noqa: E402
from analysis.wakeups import ANALYSIS_CHANNEL  # noqa: E402

# One server on one port serves the pages, their static files and the websockets, with no collectstatic step.
application = ProtocolTypeRouter(
    {
        "http": RequestSizeLimit(ASGIStaticFilesHandler(django_asgi_app)),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(routing.websocket_urlpatterns))),
        "channel": ChannelNameRouter({ANALYSIS_CHANNEL: consumers.RunWorker.as_asgi()}),
    }
)
