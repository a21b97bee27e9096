"""One check of every text a request brings (path, query, form, JSON): none holds a NUL.

PostgreSQL's text cannot hold U+0000 (psycopg refuses the statement), so such a text failed
on PostgreSQL with a 500 and was stored on SQLite. Refused here before any route runs, naming
the field, on both stores alike.
"""

import json
from collections.abc import Iterator

from fastapi import Request
from fastapi.exceptions import RequestValidationError

Located = tuple[tuple[str | int, ...], str]
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_nul(request: Request) -> None:
    """Refuse (422, like any invalid field) a request with a NUL in any of its texts."""
    found = [
        {"loc": where, "msg": problem, "type": "nul_character", "input": None,
         "ctx": {"at": text.find("\x00") + 1}}
        for where, text in await _texts(request)
        if (problem := nul_problem(text))
    ]  # fmt: skip
    if found:
        raise RequestValidationError(found)


def nul_problem(text: str) -> str:
    """What is wrong with a text holding a NUL (empty when it holds none)."""
    at = text.find("\x00")
    if at < 0:
        return ""
    return f"holds a NUL character (U+0000) at character {at + 1}: text may hold none"


async def _texts(request: Request) -> list[Located]:
    """Every text of the request with where it is (field names too)."""
    texts: list[Located] = []
    for name, value in request.path_params.items():
        texts.append((("path", name), str(value)))
    for name, value in request.query_params.multi_items():
        texts += [(("query", _shown(name)), name), (("query", _shown(name)), value)]
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in FORMS:
        for name, value in (await request.form()).multi_items():
            texts.append((("body", _shown(name)), name))
            if isinstance(value, str):
                texts.append((("body", _shown(name)), value))
    elif kind.endswith("json"):
        try:
            document = json.loads(await request.body())
        except ValueError:
            return texts  # not JSON: the route refuses the body itself
        texts += list(_walk(("body",), document))
    return texts


def _walk(where: tuple[str | int, ...], value: object) -> Iterator[Located]:
    """The texts of a JSON document, keys included, each with its path."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield (*where, _shown(key)), key
            yield from _walk((*where, _shown(key)), inner)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _walk((*where, index), inner)


def _shown(name: str) -> str:
    """A field's name as an answer can name it (its own NUL written out)."""
    return name.replace("\x00", "\\x00")
