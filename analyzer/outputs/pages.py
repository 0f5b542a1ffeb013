"""Render the batch pages (triage index, cluster report) as self-contained HTML.

Same discipline as report.html: no network (the Content-Security-Policy forbids every
request), autoescaped data. These pages also sort and filter, so they carry one inline script;
the policy allows exactly that script by its SHA-256 hash, never inline script in general, so
text from a log that slips into the page still cannot run.
"""

from __future__ import annotations

from typing import Any

from analyzer.detection.rule import SEVERITIES
from analyzer.outputs.report import inline_script, template_env

SCRIPT = "table.js"


def render_page(template: str, context: dict[str, Any]) -> str:
    """`template` rendered with `context` plus the shared script and its CSP hash."""
    script, digest = inline_script(SCRIPT)
    return template_env(autoescape=True).get_template(template).render(
        {**context, "script": script, "script_hash": f"sha256-{digest}", "severities": SEVERITIES}
    )
