"""The layers import one way: ``api`` → ``domain`` ← ``workers``, and only ``api.cli`` (the
composition root) imports all three. Imports inside functions count as well."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

COMPOSITION_ROOT = "api.cli"
FORBIDDEN = {
    "api": {"workers", COMPOSITION_ROOT},
    "workers": {"api"},
    "domain": {"api", "workers", "strawberry", "graphql", "starlette", "arq", "uvicorn"},
}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, a module of ``package``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                module = ".".join([*base, *([module] if module else [])])
            found.append((node.lineno, module))
    return found


def test_imports_are_read_from_function_bodies_and_resolved_when_relative() -> None:
    source = "from . import ids\nfrom ..workers import dispatch\ndef f():\n    import arq.jobs\n"
    assert imported_modules(source, "api.goals") == [
        (1, "api.goals"),
        (2, "api.workers"),
        (4, "arq.jobs"),
    ]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_only_what_it_may(layer: str) -> None:
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files, f"no Python files under {layer}/"
    wrong = []
    for path in files:
        package = ".".join(path.relative_to(ROOT).parent.parts)
        if _within(package, COMPOSITION_ROOT):
            continue
        wrong.extend(
            f"{path.relative_to(ROOT)}:{line} imports {module}"
            for line, module in imported_modules(path.read_text(), package)
            if any(_within(module, forbidden) for forbidden in FORBIDDEN[layer])
        )
    assert wrong == []


def test_the_composition_root_is_where_the_layers_meet() -> None:
    imported = {
        module.split(".")[0]
        for path in (ROOT / "api" / "cli").rglob("*.py")
        for _, module in imported_modules(path.read_text(), COMPOSITION_ROOT)
    }
    assert {"api", "domain", "workers"} <= imported
