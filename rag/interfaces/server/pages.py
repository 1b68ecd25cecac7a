"""The browser assets in `ui/`: the widget script, the panel it opens, the source
viewer and the demo intranet page. Only the files named here are served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from rag.settings import PROJECT_ROOT, Settings

UI_DIR = PROJECT_ROOT / "ui"
STATIC_FILES = {
    "panel.js": "application/javascript",
    "panel.css": "text/css",
    "source.js": "application/javascript",
    "source.css": "text/css",
}
DEMO_SERVER = "http://127.0.0.1:7860"  # what ui/demo/index.html names; replaced when served


def _asset(name: str, media_type: str) -> Response:
    path = UI_DIR / name
    if not path.is_file():
        return JSONResponse({"error": f"{path} is missing; restore it from git"}, status_code=500)
    # no-cache: an updated server must not be paired with an old widget
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})


def build_pages(settings: Settings) -> APIRouter:
    router = APIRouter()

    @router.get("/widget.js")
    def widget_js() -> Response:
        return _asset("widget.js", "application/javascript")

    @router.get("/widget/config")
    def widget_config() -> dict[str, Any]:
        return {
            "title": settings.widget_title,
            "color": settings.widget_color,
            "lang": settings.ui_language,
            "token_required": bool(settings.access_token),
        }

    @router.get("/widget/panel")
    def widget_panel() -> Response:
        return _asset("panel.html", "text/html")

    @router.get("/widget/static/{name}")
    def widget_static(name: str) -> Response:
        if name not in STATIC_FILES:
            return JSONResponse({"error": f"no such asset: {name}"}, status_code=404)
        return _asset(name, STATIC_FILES[name])

    @router.get("/source")
    def source_page() -> Response:
        return _asset("source.html", "text/html")

    @router.get("/demo")
    def demo(request: Request) -> Response:
        """The demo intranet page, pointing at this server however it is reached."""
        path: Path = UI_DIR / "demo" / "index.html"
        page = path.read_text(encoding="utf-8")
        here = str(request.base_url).rstrip("/")
        return HTMLResponse(page.replace(DEMO_SERVER, here))

    return router
