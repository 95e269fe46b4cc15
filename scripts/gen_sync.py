"""Generate ``wonder_sync/resources/*.py`` from the async resources (unasync-style).

Every public resource class of ``wonder_async.resources`` is copied with ``async def`` ->
``def``, ``await`` dropped, ``async for`` -> ``for`` and ``AsyncIterator`` -> ``Iterator``;
docstrings and signatures stay byte-for-byte the same. Module-level helpers are imported from
where they are defined, so the blocking twin has no logic of its own.

Usage: ``python scripts/gen_sync.py`` writes the files; ``--check`` fails if any would change.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "wonder_async" / "resources"
DST = ROOT / "wonder_sync" / "resources"
MODULES = ("customers", "payment_tokens", "orders", "payments")
#: Methods whose blocking form cannot be a mechanical copy; wonder_sync defines them by hand
#: in ``wonder_sync/resources/_manual.py`` and the generated class inherits them.
MANUAL: dict[str, tuple[str, ...]] = {
    "Customers": ("upsert_many",),
    "PaymentTokens": ("check_many", "export"),
    "Payments": ("create_many",),
}

_NOTICE = "Blocking twin generated from wonder_async by scripts/gen_sync.py; do not edit."
_REWRITES = [
    (re.compile(r"\basync def\b"), "def"),
    (re.compile(r"\bawait\s+"), ""),
    (re.compile(r"\basync for\b"), "for"),
    (re.compile(r"\bAsyncIterator\b"), "Iterator"),
    (re.compile(r"\bAsyncIterable\b"), "Iterable"),
    (re.compile(r"\bAsyncResource\b"), "SyncResource"),
]


def _unasync(text: str) -> str:
    for pattern, repl in _REWRITES:
        text = pattern.sub(repl, text)
    return text


def _absolute(module: str | None, level: int, package: str) -> str:
    if level == 0:
        return module or ""
    parts = package.split(".")
    base = parts[: len(parts) - level]
    return ".".join([*base, module] if module else base)


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.value.id
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
    }


def generate(name: str) -> str:
    """Return the formatted source of ``wonder_sync/resources/<name>.py``."""
    path = SRC / f"{name}.py"
    source = path.read_text()
    tree = ast.parse(source)
    package = f"wonder_async.resources.{name}"
    classes = [
        n
        for n in tree.body
        if isinstance(n, ast.ClassDef)
        and any(isinstance(b, ast.Name) and b.id == "AsyncResource" for b in n.bases)
    ]
    body_parts: list[str] = []
    used: set[str] = set()
    for cls in classes:
        skip = MANUAL.get(cls.name, ())
        lines = source.splitlines()
        start = (cls.decorator_list[0].lineno if cls.decorator_list else cls.lineno) - 1
        chunks = []
        cursor = start
        for item in cls.body:
            if isinstance(item, ast.AsyncFunctionDef | ast.FunctionDef) and item.name in skip:
                first = (item.decorator_list[0].lineno if item.decorator_list else item.lineno) - 1
                chunks.append("\n".join(lines[cursor:first]))
                cursor = item.end_lineno or first
        chunks.append("\n".join(lines[cursor : cls.end_lineno]))
        text = _unasync("\n".join(c for c in chunks if c.strip()))
        if skip:
            text = text.replace(f"class {cls.name}(", f"class {cls.name}(_Manual{cls.name}, ", 1)
        body_parts.append(text)
        used |= _used_names(ast.parse(text))

    imports: list[str] = []
    local_defs: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            module = _absolute(node.module, node.level, package)
            if module == "__future__":
                continue
            names = []
            for alias in node.names:
                new = _unasync(alias.name)
                if new in used and new != "SyncResource":
                    names.append(new)
            if names:
                imports.append(f"from {module} import {', '.join(sorted(names))}")
        elif isinstance(node, ast.Import):
            imports.extend(f"import {a.name}" for a in node.names if a.name in used)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Assign | ast.AnnAssign):
            target = (
                node.name
                if isinstance(node, ast.FunctionDef | ast.ClassDef)
                else getattr(getattr(node, "target", None) or node.targets[0], "id", "")  # type: ignore[attr-defined]
            )
            if target in used and node not in classes:
                local_defs.append(target)
    if local_defs:
        imports.append(f"from {package} import {', '.join(sorted(local_defs))}")
    imports.append("from wonder_sync.resources._base import SyncResource")
    for cls_name in MANUAL:
        if any(c.name == cls_name for c in classes):
            imports.append(
                f"from wonder_sync.resources._manual import Manual{cls_name} as _Manual{cls_name}"
            )
    exported = ", ".join(f'"{c.name}"' for c in classes)
    doc = (ast.get_docstring(tree) or name).splitlines()[0]
    text = (
        f'"""{doc}\n\n{_NOTICE}\n"""\n\n'
        "from __future__ import annotations\n\n"
        + "\n".join(imports)
        + f"\n\n__all__ = [{exported}]\n\n\n"
        + "\n\n\n".join(body_parts)
        + "\n"
    )
    return _format(text, DST / f"{name}.py")


def _format(text: str, path: Path) -> str:
    for args in (
        ["check", "--fix", "--select", "I", "--stdin-filename"],
        ["format", "--stdin-filename"],
    ):
        text = subprocess.run(  # noqa: S603 - runs ruff from this interpreter on our own text
            [sys.executable, "-m", "ruff", *args, str(path), "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if any file would change")
    args = parser.parse_args()
    stale = []
    for name in MODULES:
        target = DST / f"{name}.py"
        text = generate(name)
        current = target.read_text() if target.exists() else None
        if current != text:
            stale.append(target.relative_to(ROOT))
            if not args.check:
                target.write_text(text)
    if args.check and stale:
        print(f"out of date (run scripts/gen_sync.py): {', '.join(map(str, stale))}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
