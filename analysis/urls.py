from django.contrib.auth import views as auth_views
from django.urls import path

from analysis import api, views

urlpatterns = [
    path("", views.upload, name="upload"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<uuid:code>/", views.run_detail, name="run_detail"),
    path("runs/<uuid:code>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<uuid:code>/delete/", views.run_delete, name="run_delete"),
    path("runs/<uuid:code>/pairs.csv", views.run_csv, name="run_csv"),
    path("runs/<uuid:code>/report.html", views.run_report, name="run_report"),
    path("runs/<uuid:code>/report.pdf", views.run_report_pdf, name="run_report_pdf"),
    path("runs/<uuid:code>/pairs/<int:rank>/", views.pair_detail, name="pair_detail"),
    path("runs/<uuid:code>/pairs/<int:rank>/overlay.jpg", views.pair_overlay, name="pair_overlay"),
    path("runs/<uuid:code>/items/<int:number>/original", views.item_original, name="item_original"),
    path("runs/<uuid:code>/items/<int:number>/panels/<int:panel>.jpg", views.item_panel, name="item_panel"),
    path(
        "runs/<uuid:code>/items/<int:number>/<str:size>.jpg",
        views.item_picture,
        name="item_picture",
    ),
    path("library/", views.library_list, name="library_list"),
    path("library/<uuid:code>/", views.library_detail, name="library_detail"),
    path("library/<uuid:code>/<str:key>/remove/", views.library_entry_remove, name="library_entry_remove"),
    path("library/<uuid:code>/<str:key>.jpg", views.library_entry_picture, name="library_entry_picture"),
    path("accounts/api-keys/", views.api_keys, name="api_keys"),
    path("accounts/api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("help/api/", views.api_docs, name="api_docs"),
    path("api/runs/", api.runs, name="api_runs"),
    path("api/runs/<uuid:code>/", api.run, name="api_run"),
    path("api/runs/<uuid:code>/pairs/", api.pairs, name="api_pairs"),
    path("api/runs/<uuid:code>/pairs.csv", api.pairs_csv, name="api_csv"),
    path("api/libraries/", api.libraries, name="api_libraries"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", views.signup, name="signup"),
]
