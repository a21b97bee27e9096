"""Every route the web application serves, read from the application itself."""

from collections.abc import Iterator

from fastapi import FastAPI
from starlette.routing import BaseRoute, Mount, Route


def every_route(web: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every endpoint, including routers' (HEAD left out: it is GET's)."""
    yield from _walk(web.routes)


def _walk(routes: list[BaseRoute]) -> Iterator[tuple[str, str]]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:  # FastAPI's wrapper of an included router
            yield from _walk(included.routes)
        elif isinstance(route, Mount):
            yield ("GET", f"{route.path}/{{path}}")
        elif isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield (method, route.path)
