"""The project's URLs: the HTML console, the JSON API, the admin and (locally) media files."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from console.web.views import media

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("console.api.urls")),
    # console.js's strings in the page's language.
    path("jsi18n/", JavaScriptCatalog.as_view(domain="djangojs"), name="console-js-catalog"),
    path("", include("console.web.urls")),
]

if settings.SERVE_MEDIA:
    # Local default: the web process serves media itself. Behind a proxy or with object storage,
    # set SERVE_MEDIA=false and let them serve it.
    prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns += [re_path(rf"^{prefix}(?P<path>.*)$", media.serve_media, name="console-media")]
