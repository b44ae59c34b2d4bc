"""Write tests/netbox_models.json: every model NetBox 3.6 to 4.6 keeps in its database and
the fields ``manage.py dumpdata`` writes for it, replayed from NetBox's own migrations.

    python scripts/netbox_models.py /work/.mirror/netbox-community+netbox/repo > tests/netbox_models.json

The migrations are the one exact record of a release's models: each tag's migration files
are replayed in order (CreateModel, AddField, RemoveField, RenameField, RenameModel,
DeleteModel; a SeparateDatabaseAndState counts its state operations only; a squashed
migration is skipped where the migrations it replaces are still there). A many-to-many
field with its own ``through`` model is left out, as dumpdata leaves it out: its rows are
records of the through model (tags: ``extras.taggeditem``). Proxy and unmanaged models have
no table of their own and are never dumped: they are listed with ``"never_dumped": true``. NetBox's
models only: Django's own (``auth.permission``, ``contenttypes.contenttype``,
``sessions.session``…) are named in netbox_import/model_map.py without a replay.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from typing import Any

OPERATIONS = ("CreateModel", "DeleteModel", "RenameModel", "AddField", "AlterField", "RemoveField", "RenameField")


def releases(repo: str) -> list[str]:
    """The first and last tag of every minor release 3.6 to 4.6."""
    tags = subprocess.run(["git", "-C", repo, "tag"], capture_output=True, text=True, check=True).stdout.split()
    chosen = []
    for minor in ("3.6", "3.7", "4.0", "4.1", "4.2", "4.3", "4.4", "4.5", "4.6"):
        patches = sorted((t for t in tags if re.fullmatch(rf"v{re.escape(minor)}\.\d+", t)), key=lambda t: int(t.rsplit(".", 1)[1]))
        chosen += sorted({patches[0], patches[-1]}, key=patches.index)
    return chosen


class Replay:
    def __init__(self, repo: str, tag: str) -> None:
        self.repo, self.tag = repo, tag
        self.models: dict[str, dict[str, str]] = {}
        self.proxies: set[str] = set()
        self.unmanaged: set[str] = set()

    def show(self, path: str) -> str:
        return subprocess.run(["git", "-C", self.repo, "show", f"{self.tag}:{path}"], capture_output=True, text=True, check=True).stdout

    def files(self) -> list[tuple[str, ast.Module]]:
        listing = subprocess.run(["git", "-C", self.repo, "ls-tree", "-r", "--name-only", self.tag, "netbox/"], capture_output=True, text=True, check=True)
        paths = [p for p in listing.stdout.split() if re.fullmatch(r"netbox/[a-z_]+/migrations/\d{4}_\w+\.py", p)]
        by_app: dict[str, list[str]] = {}
        for path in paths:
            by_app.setdefault(path.split("/")[1], []).append(path)
        result = []
        for app, app_paths in sorted(by_app.items()):
            present = {p.rsplit("/", 1)[1].removesuffix(".py") for p in app_paths}
            for path in sorted(app_paths):
                tree = ast.parse(self.show(path))
                replaces = _assigned(tree, "replaces")
                if isinstance(replaces, ast.List) and all(_const(e.elts[1]) in present for e in replaces.elts if isinstance(e, ast.Tuple)):
                    continue  # the replaced migrations are still there: replay those
                result.append((app, tree))
        return result

    def run(self) -> Replay:
        for app, tree in self.files():
            operations = _assigned(tree, "operations")
            for op in _operations(operations):
                self.apply(app, op)
        return self

    def apply(self, app: str, op: ast.Call) -> None:
        kind = op.func.attr if isinstance(op.func, ast.Attribute) else ""
        if kind not in OPERATIONS:
            return
        if kind == "CreateModel":
            label = f"{app}.{_arg(op, 'name', 0).lower()}"
            fields_node = _kw(op, "fields", 1)
            fields = {}
            for item in fields_node.elts if isinstance(fields_node, ast.List) else []:
                assert isinstance(item, ast.Tuple)
                fields[_const(item.elts[0])] = _describe(item.elts[1])
            self.models[label] = fields
            self.proxies.discard(label)  # a model made again (a 3.x proxy that became a table)
            self.unmanaged.discard(label)
            options = _kw(op, "options", 2)
            flags = {_const(k): _const(v) for k, v in zip(options.keys, options.values, strict=True)} if isinstance(options, ast.Dict) else {}
            if flags.get("proxy"):
                self.proxies.add(label)
            if flags.get("managed") is False:
                self.unmanaged.add(label)
            return
        if kind == "DeleteModel":
            label = f"{app}.{_arg(op, 'name', 0).lower()}"
            self.models.pop(label, None)
            self.proxies.discard(label)
            self.unmanaged.discard(label)
            return
        if kind == "RenameModel":
            old, new = f"{app}.{_arg(op, 'old_name', 0).lower()}", f"{app}.{_arg(op, 'new_name', 1).lower()}"
            self.models[new] = self.models.pop(old)
            for flagged in (self.proxies, self.unmanaged):
                if old in flagged:
                    flagged.discard(old)
                    flagged.add(new)
            return
        fields = self.models[f"{app}.{_arg(op, 'model_name', 0).lower()}"]
        if kind in ("AddField", "AlterField"):
            fields[_arg(op, "name", 1)] = _describe(_kw(op, "field", 2))
            self.proxies.discard(f"{app}.{_arg(op, 'model_name', 0).lower()}")  # a proxy given a column has become a table
        elif kind == "RemoveField":
            fields.pop(_arg(op, "name", 1), None)
        elif kind == "RenameField":
            fields[_arg(op, "new_name", 2)] = fields.pop(_arg(op, "old_name", 1))


def _assigned(tree: ast.Module, name: str) -> ast.expr | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    return None


def _operations(node: ast.expr | None) -> list[ast.Call]:
    result: list[ast.Call] = []
    for element in node.elts if isinstance(node, (ast.List, ast.Tuple)) else []:
        if not isinstance(element, ast.Call):
            continue
        if isinstance(element.func, ast.Attribute) and element.func.attr == "SeparateDatabaseAndState":
            result += _operations(_kw(element, "state_operations", 1))
        else:
            result.append(element)
    return result


def _kw(call: ast.Call, name: str, position: int | None = None) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if position is not None and len(call.args) > position:
        return call.args[position]
    return None


def _const(node: ast.expr | None) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


def _arg(call: ast.Call, name: str, position: int) -> str:
    value = _const(_kw(call, name, position))
    assert isinstance(value, str), ast.unparse(call)
    return value


def _describe(field: ast.expr | None) -> str:
    """``ForeignKey dcim.site``; ``ManyToManyField extras.taggeditem through``; ``CharField``."""
    if not isinstance(field, ast.Call):
        return "?"
    kind = field.func.attr if isinstance(field.func, ast.Attribute) else getattr(field.func, "id", "?")
    to = _kw(field, "to", 0) if kind in ("ForeignKey", "OneToOneField", "ManyToManyField", "TaggableManager") else None
    target = _const(to) if isinstance(to, ast.Constant) else ("users.user" if to is not None and "AUTH_USER_MODEL" in ast.unparse(to) else None)
    through = _kw(field, "through")
    parts = [kind] + ([target.lower()] if isinstance(target, str) else []) + (["through"] if through is not None else [])
    return " ".join(parts)


def main() -> None:
    repo = sys.argv[1]
    tags = releases(repo)
    seen: dict[str, dict[str, Any]] = {}
    for tag in tags:
        replay = Replay(repo, tag).run()
        for label, fields in replay.models.items():
            entry = seen.setdefault(label, {"releases": [], "never_dumped": [], "fields": {}})
            entry["releases"].append(tag)
            if label in replay.proxies or label in replay.unmanaged:
                entry["never_dumped"].append(tag)
            for name, described in fields.items():
                if name == "id" or described.endswith(" through"):
                    continue  # the pk is the record's "pk"; a through model's rows are its own records
                field = entry["fields"].setdefault(name, {"releases": []})
                field["kind"] = described
                field["releases"].append(tag)
    models = {}
    for label, entry in sorted(seen.items()):
        # Releases as a span when they are consecutive (they are, but for models that
        # moved and came back), and a field's only where they differ from its model's.
        models[label] = {
            "releases": _span(tags, entry["releases"]),
            **({"never_dumped": True} if entry["never_dumped"] == entry["releases"] else {}),
            "fields": {
                name: {"kind": field["kind"], **({} if field["releases"] == entry["releases"] else {"releases": _span(tags, field["releases"])})}
                for name, field in sorted(entry["fields"].items())
            },
        }
    json.dump({"releases": tags, "models": models}, sys.stdout, indent=1)
    sys.stdout.write("\n")


def _span(tags: list[str], present: list[str]) -> str | list[str]:
    """``v3.7.0..v4.6.8`` for consecutive releases, else the list."""
    first, last = tags.index(present[0]), tags.index(present[-1])
    return f"{present[0]}..{present[-1]}" if tags[first : last + 1] == present else present


if __name__ == "__main__":
    main()
