"""How the channel layer connects to Redis: for the settings, and for the load benchmark's own listener."""


def channel_layer_host(redis_url: str) -> dict:
    # no socket timeout, as channels_redis was written for: redis-py 8's 5 s default ended every idle 5 s wait for
    # a message in a read timeout, logged as a lost listener; and any timeout wraps each write in asyncio.wait_for,
    # which on Python 3.11 can swallow a cancellation (CPython gh-86296), leaving a closed websocket's receive
    # looping on Redis for ever and its server unable to shut down. Keep-alive notices a peer that vanished.
    return {"address": redis_url, "socket_timeout": None, "socket_keepalive": True}
