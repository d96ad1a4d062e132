"""Console pages for the API: API keys (create, shown once; revoke) and the browsable reference,
rendered from the same OpenAPI document programs read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from console.api.models import AccessKey, ApiKey
from console.dialects import keys as access_keys

METHODS = ("get", "post", "put", "patch", "delete")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=64, label=gettext_lazy("Name"), help_text=gettext_lazy("Who or what uses it, e.g. “CMS importer”."))

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


def _keys_page(request: HttpRequest, form: ApiKeyForm, access_form: ApiKeyForm, **shown: Any) -> HttpResponse:
    failed = request.method == "POST" and (form.errors or access_form.errors)
    response = render(request, "api/keys.html", {
        "form": form, "access_form": access_form, "keys": ApiKey.objects.select_related("created_by"),
        "access_keys": AccessKey.objects.select_related("created_by"),
        # Always present: a failed lookup is logged with the whole context, a new secret included.
        "token": None, "access_pair": None, **shown,
    }, status=400 if failed else 200)
    # The page that shows a new key once must not be kept by the browser or a proxy.
    patch_cache_control(response, no_store=True)
    return response


@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    """List keys and create one. The new token is in this response only, never stored in clear."""
    token = None
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        key, token = ApiKey.issue(form.cleaned_data["name"], request.user)
        form = ApiKeyForm()
    return _keys_page(request, form, ApiKeyForm(prefix="access"), token=token)


@login_required
@require_POST
def create_access_key(request: HttpRequest) -> HttpResponse:
    """A SecretId/SecretKey pair for the Tencent and Alibaba SDKs; the secret is in this response only."""
    access_form = ApiKeyForm(request.POST, prefix="access")
    pair = None
    if access_form.is_valid():
        key, secret = access_keys.create_access_key(access_form.cleaned_data["name"], request.user)
        pair = {"id": key.key_id, "secret": secret}
        access_form = ApiKeyForm(prefix="access")
    return _keys_page(request, ApiKeyForm(), access_form, access_pair=pair)


@login_required
@require_POST
def revoke_access_key(request: HttpRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(AccessKey, pk=key_id)
    key.revoke()
    messages.success(request, _("Revoked the access key “%(name)s” (%(id)s). SDK calls signed with it are now refused.")
                     % {"name": key.name, "id": key.key_id})
    return redirect("console-api-keys")


@login_required
@require_POST
def revoke_key(request: HttpRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=key_id)
    key.revoke()
    messages.success(request, _("Revoked the API key “%(name)s” (%(id)s…). Requests with it now get 401.")
                     % {"name": key.name, "id": key.prefix})
    return redirect("console-api-keys")


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref") or next((s.get("$ref") for s in schema.get("anyOf", []) if "$ref" in s), None)
    return ref.rsplit("/", 1)[-1] if ref else None


def type_label(schema: dict[str, Any]) -> str:
    """A short human type for a JSON schema: `integer`, `string (uuid) or null`, `list of Step`."""
    name = _ref_name(schema)
    if name and "anyOf" not in schema:
        return name
    if "anyOf" in schema:
        return " or ".join(type_label(s) for s in schema["anyOf"])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"list of {type_label(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [{"name": name, "type": type_label(prop), "required": name in required,
             "description": prop.get("description", "")}
            for name, prop in schema.get("properties", {}).items()]


def build_reference(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document arranged for a page: operations by tag, then the schemas."""
    schemas = document.get("components", {}).get("schemas", {})
    groups: dict[str, list[dict[str, Any]]] = {}
    for route, item in document.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {})
            media, content = next(iter(body.items()), (None, {}))
            body_schema = content.get("schema", {}) if content else {}
            body_name = _ref_name(body_schema)
            groups.setdefault((op.get("tags") or ["Other"])[0], []).append({
                "method": method.upper(), "path": route, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "anchor": op.get("operationId", ""),
                "parameters": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                                "type": type_label(p.get("schema", {})),
                                "description": p.get("description") or p.get("schema", {}).get("description", "")}
                               for p in op.get("parameters", [])],
                "body_type": media, "body_name": body_name,
                "body_fields": _fields(schemas[body_name]) if body_name in schemas else _fields(body_schema),
                "responses": [{"status": code, "description": r.get("description", ""),
                               "type": type_label(next(iter(r.get("content", {}).values()), {}).get("schema", {}))
                               if r.get("content") else ""}
                              for code, r in op.get("responses", {}).items()],
            })
    return {
        "info": document.get("info", {}),
        "groups": sorted(groups.items()),
        "schemas": [{"name": name, "fields": _fields(schema), "description": schema.get("description", "")}
                    for name, schema in sorted(schemas.items())],
    }


@login_required
def reference(request: HttpRequest) -> HttpResponse:
    from console.api.app import api

    document = api.get_openapi_schema(path_prefix="/api/v1")
    return render(request, "api/reference.html", {"ref": build_reference(document)})
