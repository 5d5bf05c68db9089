"""What an import did to the database, counted once: the bulk writer keeps these counts and
the import's report carries them (both the CLI's JSON and the Import screen read them)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(kw_only=True)
class ImportCounts:
    """Rows by outcome: inserted, updated, unchanged (an --update that changed nothing),
    duplicates (skipped), rejected (with a reason), and follow-ups planned on the deals written."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    follow_ups: int = 0

    def add_counts(self, other: ImportCounts) -> None:
        """Add `other`'s counts to these."""
        for f in fields(ImportCounts):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
