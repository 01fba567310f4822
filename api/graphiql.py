"""GraphiQL served from assets shipped with the package, so the IDE works without a CDN."""

import pathlib
import re

from strawberry.http.ides import get_graphql_ide_html

ASSETS_PATH = "/graphiql-assets"
ASSETS_DIR = pathlib.Path(__file__).parent / "static" / "graphiql"

_LOCAL = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": (
        "react-dom.production.min.js"
    ),
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": (
        "plugin-explorer.umd.js"
    ),
}


def graphiql_html() -> str:
    html = get_graphql_ide_html("graphiql")
    for remote, local in _LOCAL.items():
        html = html.replace(remote, f"{ASSETS_PATH}/{local}")
    # Every asset is now same-origin; a leftover CDN address would break offline use.
    if re.search(r"https://unpkg\.com", html):
        raise RuntimeError("GraphiQL page still refers to a CDN asset")
    return html
