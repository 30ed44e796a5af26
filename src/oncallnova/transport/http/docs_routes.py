"""The API docs, Swagger UI at `/docs` and ReDoc at `/redoc`, served whole by OnCallNova.

FastAPI's stock pages load Swagger UI and ReDoc from a CDN (a blank page offline) and
start them with an inline script. Here the bundles come from the installed
fastapi-offline package (a packaged copy, nothing downloaded at run time) and each page
starts them with a small script file of ours, so the docs work offline and under the
same Content-Security-Policy as every other page: no inline script, no foreign origin.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS = "/docs"
REDOC = "/redoc"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
ASSETS = "/docs/assets"
# Swagger UI and ReDoc from fastapi-offline, then our start scripts and style.
_PACKAGES: list[str | tuple[str, str]] = [
    ("fastapi_offline", "static"),
    ("oncallnova.transport.http", "docs_assets"),
]


def install(app: FastAPI) -> None:
    """Adds the two docs pages, Swagger UI's OAuth2 redirect page and their assets.
    The app must be created with `docs_url=None, redoc_url=None` (no CDN pages)."""
    app.mount(ASSETS, StaticFiles(packages=_PACKAGES), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return HTMLResponse(
            _page(
                f"{app.title} - Swagger UI",
                root,
                head=f'<link rel="stylesheet" href="{root}{ASSETS}/swagger-ui.css">',
                body=(
                    '<div id="swagger-ui"></div>\n'
                    f'<script src="{root}{ASSETS}/swagger-ui-bundle.js"></script>\n'
                    f'<script src="{root}{ASSETS}/swagger-init.js"'
                    f' data-openapi-url="{root}{escape(openapi_url)}"'
                    f' data-oauth2-redirect-url="{root}{OAUTH2_REDIRECT}"></script>'
                ),
            )
        )

    @app.get(REDOC, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return HTMLResponse(
            _page(
                f"{app.title} - ReDoc",
                root,
                head=f'<link rel="stylesheet" href="{root}{ASSETS}/docs.css">',
                body=(
                    '<div id="redoc"></div>\n'
                    f'<script src="{root}{ASSETS}/redoc.standalone.js"></script>\n'
                    f'<script src="{root}{ASSETS}/redoc-init.js"'
                    f' data-openapi-url="{root}{escape(openapi_url)}"></script>'
                ),
                body_class="redoc-page",
            )
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def oauth2_redirect(request: Request) -> HTMLResponse:
        root = _root(request)
        return HTMLResponse(
            _page(
                "Swagger UI: OAuth2 Redirect",
                root,
                body=f'<script src="{root}{ASSETS}/oauth2-redirect.js"></script>',
            )
        )


def _root(request: Request) -> str:
    """The app's root path (behind a proxy serving it under a prefix), for attributes."""
    return escape(str(request.scope.get("root_path", "")).rstrip("/"))


def _page(title: str, root: str, *, body: str, head: str = "", body_class: str = "") -> str:
    classes = f' class="{body_class}"' if body_class else ""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f'<link rel="icon" type="image/png" href="{root}{ASSETS}/favicon.png">\n'
        f"{head}\n</head>\n<body{classes}>\n{body}\n</body>\n</html>\n"
    )
