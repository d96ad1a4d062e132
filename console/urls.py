from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path, re_path
from django.views.static import serve

from console import views

urlpatterns = [
    path("", views.home, name="console-home"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="console-login"),
    path("logout/", auth_views.LogoutView.as_view(), name="console-logout"),
    path("videos/upload/", views.upload, name="console-upload"),
    path("videos/<uuid:public_id>/", views.video_detail, name="console-video"),
    path("admin/", admin.site.urls),
]

if settings.SERVE_MEDIA:
    # Local default: the web process serves media itself. Behind a proxy or with object storage,
    # set SERVE_MEDIA=false and let them serve it.
    prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns += [re_path(rf"^{prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
