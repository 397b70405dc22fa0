import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


async def _drain(channel: str) -> list[dict]:
    layer = get_channel_layer()
    messages = []
    while True:
        try:
            messages.append(await asyncio.wait_for(layer.receive(channel), 0.2))
        except TimeoutError:
            return messages


def received(channel: str) -> list[dict]:
    """Every message waiting on a channel of the in-process layer."""
    return async_to_sync(_drain)(channel)
