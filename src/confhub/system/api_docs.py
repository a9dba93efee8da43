"""`/schema`: the JSON API's documentation as a plain server-rendered page.

The interactive OpenAPI viewers (Swagger UI, Redoc, Scalar) load their scripts and styles from
a CDN and run inline scripts, which confhub's Content-Security-Policy forbids; third-party code
running in confhub's origin could also act as a signed-in user. This page lists every operation
of the OpenAPI document instead, with no script at all, and links to the document itself
(`/schema/openapi.json`) for tools.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

TEMPLATE = "system/api_docs.html"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def operations_by_tag(openapi_schema: dict[str, Any]) -> list[tuple[str, list[dict[str, str]]]]:
    """The document's operations grouped by their first tag, in the document's order."""
    groups: dict[str, list[dict[str, str]]] = {}
    for path, item in openapi_schema.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or [""])[0]
            groups.setdefault(tag, []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary") or "",
                }
            )
    return list(groups.items())


class ApiIndexRenderPlugin(OpenAPIRenderPlugin):
    """Serves the operation index at the OpenAPI root (`/schema`)."""

    def __init__(self, *, path: str = "/") -> None:
        super().__init__(path=path, favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The page, through the app's Jinja2 engine (so `_()` translates it)."""
        template = request.app.template_engine.get_template(TEMPLATE)  # type: ignore[union-attr]
        page: str = template.render(
            request=request,
            info=openapi_schema.get("info", {}),
            groups=operations_by_tag(openapi_schema),
            document_url=self.get_openapi_json_route(request),
        )
        return page.encode("utf-8")
