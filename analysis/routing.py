from django.urls import path

from analysis import consumers

websocket_urlpatterns = [
    path("ws/runs/<uuid:code>/", consumers.RunConsumer.as_asgi()),
]
