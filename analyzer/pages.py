"""Render the batch pages (triage index, cluster report) as self-contained HTML.

Same discipline as report.html: no network (the Content-Security-Policy forbids every
request), autoescaped data. These pages also sort and filter, so they carry one inline script;
the policy allows exactly that script by its SHA-256 hash, never inline script in general, so
text from a log that slips into the page still cannot run.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from analyzer.resources import shipped_dir
from analyzer.rules import SEVERITIES

SCRIPT = "table.js"


def render_page(template: str, context: dict[str, Any], target: Path) -> Path:
    """Render `template` with `context` plus the shared script and its CSP hash into `target`."""
    script = (shipped_dir("report_templates") / SCRIPT).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(shipped_dir("report_templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    html = env.get_template(template).render(
        {**context, "script": Markup(script), "script_hash": f"sha256-{digest}",
         "severities": SEVERITIES}
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target
