"""What an import did, per NetBox model: on screen and as JSON (``--summary FILE``)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModelCount:
    """One NetBox model's records and what became of them."""

    label: str
    disposition: str
    target: str | None = None  # the Danbyte model, or where the records went
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    copies: int = 0  # extra rows: the object in another tenant that references it
    dropped: Counter[str] = field(default_factory=Counter)  # reason → records
    left_out: Counter[str] = field(default_factory=Counter)  # field: reason → records

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "disposition": self.disposition,
            "target": self.target,
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "copies": self.copies,
            "dropped": dict(self.dropped),
            "fields_left_out": dict(self.left_out),
        }


@dataclass
class Summary:
    source: str
    dry_run: bool = False
    models: dict[str, ModelCount] = field(default_factory=dict)
    tenants: dict[str, str] = field(default_factory=dict)  # tenant slug → "created" / "existing"
    copies: list[dict[str, Any]] = field(default_factory=list)  # every object copied into another tenant
    secrets: list[str] = field(default_factory=list)  # what needs a secret entered again
    seconds: float = 0.0
    objects: int = 0  # records read

    def model(self, label: str, disposition: str, target: str | None = None) -> ModelCount:
        found = self.models.get(label)
        if found is None:
            found = self.models[label] = ModelCount(label, disposition, target)
        return found

    @property
    def dropped(self) -> int:
        return sum(sum(count.dropped.values()) for count in self.models.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "objects_read": self.objects,
            "objects_per_second": round(self.objects / self.seconds) if self.seconds else None,
            "tenants": self.tenants,
            "models": [count.as_json() for _, count in sorted(self.models.items())],
            "copies": self.copies,
            "secrets_to_enter_again": self.secrets,
            "dropped": self.dropped,
        }

    def write_json(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(self.as_json(), out, indent=2, sort_keys=False)
            out.write("\n")

    def text(self) -> str:
        head = f"{'NetBox model':<34} {'read':>7} {'created':>8} {'updated':>8} {'unchanged':>9} {'copies':>7}  what became of it"
        lines = [("dry run: nothing was written\n" if self.dry_run else "") + head]
        for label, count in sorted(self.models.items()):
            became = count.target or count.disposition
            if count.disposition not in ("model", "history"):
                became = f"{count.disposition}" + (f" ({count.target})" if count.target else "")
            lines.append(f"{label:<34} {count.read:>7} {count.created:>8} {count.updated:>8} {count.unchanged:>9} {count.copies:>7}  {became}")
            for reason, n in sorted(count.dropped.items()):
                lines.append(f"    dropped {n}: {reason}")
            for reason, n in sorted(count.left_out.items()):
                lines.append(f"    left out of {n}: {reason}")
        lines.append("tenants: " + ", ".join(f"{slug} ({how})" for slug, how in sorted(self.tenants.items())))
        if self.copies:
            lines.append(f"{len(self.copies)} objects copied into the tenant that references them:")
            lines.extend(f"  {c['label']} {c['pk']} ({c['display']}) from tenant {c['from']} into {c['into']}" for c in self.copies[:50])
            if len(self.copies) > 50:
                lines.append(f"  … and {len(self.copies) - 50} more (all in --summary)")
        if self.secrets:
            lines.append("secrets an export cannot carry, to enter again:")
            lines.extend(f"  {item}" for item in self.secrets)
        rate = f", {self.objects / self.seconds:,.0f} objects/s" if self.seconds else ""
        lines.append(f"{self.objects} objects read in {self.seconds:.1f} s{rate}; {self.dropped} dropped")
        return "\n".join(lines)
