import logging

from channels.consumer import AsyncConsumer
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from analysis.fragments import live_html
from analysis.models import Run
from analysis.worker import wake_runner

log = logging.getLogger(__name__)


class RunWorker(AsyncConsumer):
    """Hears that runs were queued and wakes this process's runner, which takes them from the database."""

    async def run_queued(self, message: dict) -> None:
        wake_runner()


class RunConsumer(AsyncWebsocketConsumer):
    """Live updates of one run's page, for its owner (and staff): HTML fragments that htmx swaps by id."""

    async def connect(self) -> None:
        self.run = await self._visible_run()
        if self.run is None:
            await self.close()
            return
        try:
            await self.channel_layer.group_add(self.run.group_name, self.channel_name)
        except Exception as exc:  # the channel layer is restarting: refuse, and the page's socket tries again
            log.warning("live updates of %s refused for now: %s", self.run.code, exc)
            await self.close()
            return
        await self.accept()
        # whatever happened before this socket opened (a reload, a reconnect) comes from the database
        await self.run_changed({})

    async def disconnect(self, code: int) -> None:
        if getattr(self, "run", None) is not None:
            await self.channel_layer.group_discard(self.run.group_name, self.channel_name)

    async def run_changed(self, event: dict) -> None:
        run, html = await self._render()
        await self.send(text_data=html)
        if run.is_over:
            await self.close(code=1000)  # a normal close: the ws extension does not reconnect

    @database_sync_to_async
    def _visible_run(self) -> Run | None:
        visible = Run.objects.visible_to(self.scope["user"])
        return visible.filter(code=self.scope["url_route"]["kwargs"]["code"]).first()

    @database_sync_to_async
    def _render(self) -> tuple[Run, str]:
        run = Run.objects.get(pk=self.run.pk)
        return run, live_html(run)
