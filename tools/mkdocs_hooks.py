"""MkDocs hooks of mkdocs.yml.

``pages_from_other_branches`` (``extra``): nav entries for pages another branch adds. Until that branch is
merged the page does not exist, and ``mkdocs build --strict`` would fail on the nav; the entry is dropped with
one INFO line instead. Any other missing page still fails the strict build.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.connectors")


def _prune(items: list[Any], missing: set[str]) -> list[Any]:
    kept: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            title, value = next(iter(item.items()))
            if isinstance(value, list):
                kept.append({title: _prune(value, missing)})
                continue
            if isinstance(value, str) and value in missing:
                continue
        elif isinstance(item, str) and item in missing:
            continue
        kept.append(item)
    return kept


def on_config(config: Any) -> Any:
    pending = (config.get("extra") or {}).get("pages_from_other_branches") or []
    docs = Path(config["docs_dir"])
    missing = {page for page in pending if not (docs / page).is_file()}
    if missing and config.get("nav"):
        config["nav"] = _prune(config["nav"], missing)
        log.info("Not yet merged, left out of the nav: %s", ", ".join(sorted(missing)))
    return config
