"""Readiness follows the database: without it the API cannot serve anything."""

import pathlib

import httpx

from api.app import create_app
from domain.db import close_db, init_db
from domain.settings import Settings


async def test_readyz_is_503_when_the_database_does_not_answer(tmp_path: pathlib.Path) -> None:
    # A database that does not answer queries: the file is not a database.
    path = tmp_path / "goals.db"
    path.write_bytes(b"not a database " * 100)
    await init_db(f"sqlite://{path}")
    try:
        app = create_app(Settings(database_url="unused", redis_url=None), manage_db=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://goals.test") as http:
            response = await http.get("/readyz")
    finally:
        await close_db()
    assert response.status_code == 503
    assert response.json() == {"database": "error: DatabaseError", "redis": "not configured"}
