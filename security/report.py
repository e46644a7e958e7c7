"""Writes the security stage's report: report.md (for people), report.html (the same, as a page) and
report.sarif (SARIF 2.1.0 for code-scanning tools)."""

from __future__ import annotations

import datetime
import html
import json
from pathlib import Path

SEVERITIES = ["critical", "high", "medium", "low", "info"]
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def _loc(f) -> str:
    return f"{f.path}:{f.line}" if f.line else f.path


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def markdown(root: Path, runs, findings, stale, baseline, elapsed, blocking, failed, policy) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    verdict = "FAILED" if blocking or failed else "passed"
    out = [f"# Nest security report", "",
           f"Generated {now} by `scripts/security` in {elapsed:.0f} s. Stage **{verdict}**: "
           f"{len(blocking)} untriaged finding(s) of medium or higher severity, {len(failed)} tool(s) "
           f"that could not run.", ""]
    deny = next((r for r in runs if r.name == "cargo-deny"), None)
    if deny and deny.data.get("advisory_db"):
        db = deny.data["advisory_db"]
        out += [f"**RustSec advisory database: offline snapshot of {db['date'][:10]}** ({db['subject']}). "
                "Advisories published after that date cannot appear here.", ""]
    out += ["How to read it: every finding has a severity (critical, high, medium, low, info). A "
            "finding of medium or higher fails CI unless it is fixed or triaged in "
            "`security/triage.toml` (secrets: audited in `security/secrets.baseline`). *New* means "
            "not in `security/baseline.json` (updated only by `scripts/security --update-baseline`).",
            "", "## Summary", "",
            "| tool | version | status | time | critical | high | medium | low | info | triaged | new |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        counts = {s: sum(1 for f in r.findings if f.severity == s) for s in SEVERITIES}
        triaged = sum(1 for f in r.findings if f.triage is not None)
        new = sum(1 for f in r.findings if f.new)
        status = r.status + (f" ({_cell(r.detail, 80)})" if r.detail else "")
        out.append(f"| {r.name} | {_cell(r.version, 40)} | {status} | {r.seconds:.0f} s | "
                   + " | ".join(str(counts[s]) for s in SEVERITIES) + f" | {triaged} | {new} |")
    out.append("")
    if blocking:
        out += ["## Blocking findings", ""]
        out += [f"- **{f.severity}** {f.tool} `{f.rule}` at `{_loc(f)}`: {_cell(f.title, 200)}" for f in blocking]
        out.append("")
    out += ["## Findings", "", "Medium and higher first. Remediation is the tool's or the rule's advice; "
            "the triage column names the entry in `security/triage.toml`.", "",
            "| severity | tool | rule | location | finding | remediation | triage | new |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    order = {s: i for i, s in enumerate(SEVERITIES)}
    for f in sorted(findings, key=lambda f: (order[f.severity], f.tool, f.path, f.line)):
        tri = "" if f.triage is None else f"{f.triage.get('id', '')}: {_cell(f.triage.get('justification', ''), 140)}"
        gate = "" if f.gating else " (reported, not gating)"
        out.append(f"| {f.severity}{gate} | {f.tool} | `{f.rule}` | `{_loc(f)}` | {_cell(f.title)} | "
                   f"{_cell(f.remediation, 140)} | {tri} | {'new' if f.new else ''} |")
    out.append("")
    if stale:
        out += ["Triage entries that matched nothing this run (fixed findings; remove the entries): "
                + ", ".join(e.get("id", "?") for e in stale), ""]
    dast = next((r for r in runs if r.name == "dast"), None)
    out += ["## DAST coverage", ""]
    if dast is None:
        out += ["Not run: the DAST stage (`nest dev` on free ports, schemathesis against /openapi.json and "
                "the attack suite) is not implemented yet (issue 13), or `--no-dast` was given.", ""]
    else:
        d = dast.data
        strict = policy.get("dast_conformance_gates", False)
        out += [f"Stack: `nest dev` on free ports ({d.get('base_url', '?')}), started in "
                f"{d.get('startup_seconds', 0):.0f} s.", "",
                f"- schemathesis {d.get('schemathesis_version', '?')}: {d.get('operations', '?')} operations, "
                f"{d.get('requests', '?')} requests, checks: {d.get('checks', '?')}; "
                f"{d.get('schemathesis_failures', '?')} failure(s). Server errors (5xx) always fail the stage; "
                f"conformance failures (status codes, content types, response schemas) "
                + ("also fail it." if strict else "are reported but do not fail it yet: the OpenAPI document "
                   "is being corrected (api hardening work); set `dast_conformance_gates = true` in "
                   "`security/triage.toml` once it validates."),
                f"- attack suite: {d.get('attacks_passed', 0)} passed, {d.get('attacks_failed', 0)} failed, "
                f"{d.get('attack_requests', 0)} requests.", ""]
        if d.get("attacks"):
            out += ["| attack | result | detail |", "| --- | --- | --- |"]
            out += [f"| {a['name']} | {'pass' if a['ok'] else 'FAIL'} | {_cell(a['detail'], 200)} |"
                    for a in d["attacks"]]
            out.append("")
        if d.get("operations_list"):
            out += ["Operations exercised: " + ", ".join(f"`{o}`" for o in d["operations_list"]), ""]
    out += ["## Dependency inventory", ""]
    if deny and deny.data.get("inventory"):
        inv = deny.data["inventory"]
        out += [f"### Rust crates ({len(inv)})", "",
                "License policy (deny.toml): permissive and weak-copyleft licenses only in Nest binaries; "
                "strong copyleft only for separate processes (SecantusDB, GPL-2.0-only, is built by "
                "scripts/setup and run as its own process, never linked).", "",
                "| crate | version | license | source | policy |", "| --- | --- | --- | --- | --- |"]
        out += [f"| {p['name']} | {p['version']} | {_cell(p['license'], 80)} | {p['source']} | "
                f"{'ok' if p['ok'] else 'NOT ALLOWED'} |" for p in inv]
        out.append("")
    npm = next((r for r in runs if r.name == "npm-licenses"), None)
    if npm and npm.data.get("inventory"):
        inv = npm.data["inventory"]
        out += [f"### npm packages ({len(inv)}, from package-lock.json and web/package-lock.json)", "",
                "Advisories: **not checked offline** (the npm registry reachable from CI has no audit "
                "endpoint).", "", "| package | version | license | policy | advisories |",
                "| --- | --- | --- | --- | --- |"]
        out += [f"| {p['name']} | {p['version']} | {p['license']} | {'ok' if p['ok'] else 'NOT ALLOWED'} | "
                f"{p['advisories']} |" for p in inv]
        out.append("")
    out += ["## Tool notes", ""]
    for r in runs:
        extra = ", ".join(f"{k}: {v}" for k, v in r.data.items()
                          if k in ("files", "detectors", "summary") and v is not None)
        out.append(f"- {r.name} {r.version}: {r.status}, {r.seconds:.1f} s. {r.detail} {extra}".rstrip())
    out.append("")
    return "\n".join(out)


def to_html(md: str) -> str:
    """A plain page from the Markdown above: headings, paragraphs, lists and tables."""
    body, table = [], False
    for line in md.splitlines():
        esc = html.escape(line)
        for tag, mark in (("code", "`"),):
            parts = esc.split(mark)
            esc = "".join(p if i % 2 == 0 else f"<{tag}>{p}</{tag}>" for i, p in enumerate(parts))
        parts = esc.split("**")
        esc = "".join(p if i % 2 == 0 else f"<strong>{p}</strong>" for i, p in enumerate(parts))
        if line.startswith("|"):
            cells = [c.strip() for c in esc.strip("|").split(" | ")]
            if set(line.replace("|", "").split()) == {"---"}:
                continue
            if not table:
                body.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in cells) + "</tr>")
                table = True
            else:
                body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            continue
        if table:
            body.append("</table>")
            table = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            text = esc[level:].strip()
            anchor = "-".join(line[level:].strip().lower().split())
            body.append(f'<h{level} id="{html.escape(anchor)}">{text}</h{level}>')
        elif line.startswith("- "):
            body.append(f"<li>{esc[2:]}</li>")
        elif line.strip():
            body.append(f"<p>{esc}</p>")
    if table:
        body.append("</table>")
    style = ("body{font-family:sans-serif;margin:2em;max-width:110em}table{border-collapse:collapse;"
             "margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;font-size:90%;vertical-align:top}"
             "th{background:#eee}code{background:#f4f4f4}")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Nest security report"
            f"</title><style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def sarif(runs, findings) -> dict:
    out_runs = []
    for r in runs:
        rules, results = {}, []
        for f in r.findings:
            rules.setdefault(f.rule, {"id": f.rule, "shortDescription": {"text": f.title[:200]},
                                      "help": {"text": f.remediation or f.title}})
            location = {"physicalLocation": {"artifactLocation": {"uri": f.path}}}
            if f.line:
                location["physicalLocation"]["region"] = {"startLine": f.line}
            result = {"ruleId": f.rule, "level": SARIF_LEVEL[f.severity], "message": {"text": f.message[:2000]},
                      "locations": [location], "partialFingerprints": {"nestFingerprint/v1": f.fingerprint},
                      "properties": {"severity": f.severity, "new": f.new, "gating": f.gating}}
            if f.triage is not None:
                result["suppressions"] = [{"kind": "external", "status": "accepted",
                                           "justification": f.triage.get("justification", "")}]
            results.append(result)
        out_runs.append({"tool": {"driver": {"name": r.name, "version": r.version, "rules": list(rules.values())}},
                         "results": results,
                         "invocations": [{"executionSuccessful": r.status == "ok",
                                          "toolExecutionNotifications": [{"message": {"text": r.detail}}] if r.detail else []}]})
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": out_runs}


def write_all(out: Path, root: Path, runs, findings, stale, baseline, elapsed, blocking, failed, policy) -> None:
    out.mkdir(parents=True, exist_ok=True)
    md = markdown(root, runs, findings, stale, baseline, elapsed, blocking, failed, policy)
    (out / "report.md").write_text(md)
    (out / "report.html").write_text(to_html(md))
    (out / "report.sarif").write_text(json.dumps(sarif(runs, findings), indent=1) + "\n")
