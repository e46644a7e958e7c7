"""Nest's security stage: runs every scanner offline, applies the triage file and the baseline, writes
the report (target/security/report.{md,html,sarif}) and decides the gate.

Run through `scripts/security` (which sets the tool paths); see the README's "Security" section.

Gate: the stage fails when a tool could not run, or when a finding of medium or higher severity is
neither fixed nor triaged in security/triage.toml (or, for secrets, audited in
security/secrets.baseline). Low and informational findings are reported and tracked against the
baseline (security/baseline.json) but do not fail.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402

SEVERITIES = ["critical", "high", "medium", "low", "info"]
GATING = {"critical", "high", "medium"}


@dataclasses.dataclass
class Finding:
    tool: str
    rule: str
    severity: str
    title: str
    path: str
    line: int
    message: str
    remediation: str
    key: str  # what identifies the finding across line moves (fingerprinted with tool/rule/path)
    gating: bool = True
    triage: dict | None = None
    new: bool = False

    @property
    def fingerprint(self) -> str:
        text = "|".join([self.tool, self.rule, self.path, " ".join(self.key.split())])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def blocks(self) -> bool:
        return self.gating and self.severity in GATING and self.triage is None


@dataclasses.dataclass
class ToolRun:
    name: str
    version: str = "?"
    status: str = "ok"  # ok | error | skipped
    detail: str = ""
    seconds: float = 0.0
    findings: list[Finding] = dataclasses.field(default_factory=list)
    data: dict = dataclasses.field(default_factory=dict)


class Context:
    def __init__(self, root: Path, out: Path, env: dict[str, str]):
        self.root = root
        self.out = out
        self.raw = out / "raw"
        self.raw.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.tools = Path(env["NEST_SECURITY_TOOLS"])
        self.venv_bin = Path(sys.executable).parent

    def run(self, cmd: list[str], cwd: Path | None = None, env: dict | None = None,
            timeout: int = 1800) -> subprocess.CompletedProcess:
        merged = dict(self.env)
        merged.update(env or {})
        return subprocess.run(cmd, cwd=cwd or self.root, env=merged, capture_output=True, text=True,
                              timeout=timeout)

    def line_text(self, path: str, line: int) -> str:
        try:
            lines = (self.root / path).read_text(errors="replace").splitlines()
            return lines[line - 1].strip() if 0 < line <= len(lines) else ""
        except OSError:
            return ""


def timed(fn):
    def wrapper(ctx: Context, *args) -> ToolRun:
        start = time.monotonic()
        try:
            result = fn(ctx, *args)
        except Exception as e:  # a scanner that crashes fails the stage, it is never skipped
            result = ToolRun(fn.__name__.removeprefix("run_").replace("_", "-"), status="error",
                             detail=f"{type(e).__name__}: {e}")
        result.seconds = time.monotonic() - start
        return result
    return wrapper


def first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


# ---------------------------------------------------------------------------------------------
# License policy (deny.toml's [licenses].allow is the one list, for crates and npm packages alike)

def allowed_licenses(root: Path) -> set[str]:
    with open(root / "deny.toml", "rb") as f:
        return set(tomllib.load(f)["licenses"]["allow"])


def license_ok(expression: str, allowed: set[str]) -> bool:
    """An SPDX expression is acceptable when some OR-alternative has all its AND-terms allowed."""
    expression = expression.strip().strip("()")
    for alternative in re.split(r"\s+OR\s+|/", expression):
        terms = [t.strip().strip("()") for t in re.split(r"\s+AND\s+", alternative)]
        if all(t in allowed for t in terms if t):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Rust dependencies: cargo-deny (advisories, licenses, bans, sources) + the crate inventory

DENY_SEVERITY = {
    "vulnerability": "high", "unsound": "high", "yanked": "medium", "unmaintained": "medium",
    "notice": "low", "rejected": "medium", "unlicensed": "medium", "banned": "medium",
    "source-not-allowed": "medium", "git-source-underspecified": "medium", "wildcard": "medium",
}


@timed
def run_cargo_deny(ctx: Context) -> ToolRun:
    deny = ctx.tools / "cargo-deny-0.20.2" / "bin" / "cargo-deny"
    db_root = ctx.tools / "advisory-db"
    db = next(db_root.glob("advisory-db-*"), None)
    run = ToolRun("cargo-deny", version=ctx.run([str(deny), "--version"]).stdout.strip().split()[-1])
    if db is None:
        run.status, run.detail = "error", f"no advisory database under {db_root} (scripts/setup-security)"
        return run
    log = ctx.run(["git", "-C", str(db), "log", "-1", "--format=%cI%n%s"]).stdout.splitlines()
    run.data["advisory_db"] = {"date": log[0] if log else "?", "subject": log[1] if len(log) > 1 else ""}
    proc = ctx.run([str(deny), "--offline", "--format", "json", "--color", "never",
                    "--manifest-path", str(ctx.root / "Cargo.toml"), "check", "--hide-inclusion-graph"],
                   env={"NEST_ADVISORY_DB_ROOT": str(db_root)})
    (ctx.raw / "cargo-deny.jsonl").write_text(proc.stderr)
    summary = None
    for line in proc.stderr.splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if item.get("type") == "summary":
            summary = item["fields"]
            continue
        if item.get("type") != "diagnostic":
            continue
        f = item["fields"]
        if f.get("severity") not in ("error", "warning"):
            continue
        code = f.get("code") or "?"
        advisory = f.get("advisory") or {}
        krates = [g.get("Krate", {}) for g in f.get("graphs", []) if g.get("Krate")]
        krate = ", ".join(f"{k.get('name')}@{k.get('version')}" for k in krates) or "?"
        severity = DENY_SEVERITY.get(code, "medium") if f["severity"] == "error" else "low"
        title = advisory.get("title") or f.get("message", "")
        rule = advisory.get("id") or code
        remediation = {
            "duplicate": "Unify the versions where the dependents allow it (cargo update -p).",
        }.get(code, "")
        if advisory:
            patched = ", ".join(advisory.get("patched_versions") or []) or "none"
            remediation = f"Upgrade to a patched version ({patched}) or replace the crate; see {advisory.get('url') or 'https://rustsec.org/advisories/' + rule}."
        elif code in ("rejected", "unlicensed"):
            remediation = "Replace the crate, or record a reviewed exception in deny.toml's [licenses]."
        elif code in ("banned", "source-not-allowed", "wildcard"):
            remediation = "Use a crates.io release pinned in Cargo.toml, or change the policy in deny.toml with the reason."
        run.findings.append(Finding("cargo-deny", rule, severity, title, "Cargo.lock", 0,
                                    f"{f.get('message', '')} ({krate})", remediation,
                                    key=f"{code}|{krate}", gating=severity != "low"))
    if summary is None:
        run.status, run.detail = "error", first_line(proc.stderr) or f"exit {proc.returncode}"
    run.data["summary"] = summary
    # The inventory: every crate in the graph with its declared license.
    meta = ctx.run(["cargo", "metadata", "--format-version", "1", "--offline", "--locked",
                    "--all-features"])
    if meta.returncode == 0:
        allowed = allowed_licenses(ctx.root)
        packages = json.loads(meta.stdout)["packages"]
        run.data["inventory"] = sorted(
            ({"name": p["name"], "version": p["version"], "license": p.get("license") or "?",
              "source": "workspace" if p.get("source") is None else "crates.io",
              "ok": p.get("source") is None or license_ok(p.get("license") or "", allowed)}
             for p in packages), key=lambda p: (p["name"], p["version"]))
    else:
        run.status, run.detail = "error", "cargo metadata: " + first_line(meta.stderr)
    return run


# ---------------------------------------------------------------------------------------------
# npm dependencies: inventory and licenses from the lock files (no offline advisory source): the
# tools' (package-lock.json) and the dApp's (web/package-lock.json)

NPM_LOCKS = ("package-lock.json", "web/package-lock.json")


@timed
def run_npm_inventory(ctx: Context) -> ToolRun:
    run = ToolRun("npm-licenses", version="package-lock v" + str(
        json.loads((ctx.root / "package-lock.json").read_text()).get("lockfileVersion")))
    allowed = allowed_licenses(ctx.root)
    inventory = []
    for lock_path in NPM_LOCKS:
        if (ctx.root / lock_path).exists():
            inventory += npm_lock_inventory(ctx, lock_path, allowed, run)
    run.data["inventory"] = sorted(inventory, key=lambda p: p["name"])
    run.detail = "advisories not checked offline (the reachable npm registry has no audit endpoint)"
    return run


def npm_lock_inventory(ctx: Context, lock_path: str, allowed, run: ToolRun) -> list[dict]:
    lock = json.loads((ctx.root / lock_path).read_text())
    base = ctx.root / Path(lock_path).parent
    inventory = []
    for key, pkg in lock.get("packages", {}).items():
        if not key:
            continue
        name = key.split("node_modules/")[-1]
        license_ = pkg.get("license")
        if not license_:
            # Old packages declare `licenses: [{type}]`, which the lock file does not copy.
            manifest = base / key / "package.json"
            if manifest.exists():
                data = json.loads(manifest.read_text())
                lic = data.get("license") or data.get("licenses")
                if isinstance(lic, list):
                    license_ = " OR ".join(x.get("type", "?") if isinstance(x, dict) else str(x) for x in lic)
                elif isinstance(lic, dict):
                    license_ = lic.get("type")
                else:
                    license_ = lic
        license_ = license_ or "?"
        ok = license_ok(license_, allowed)
        inventory.append({"name": name, "version": pkg.get("version", "?"), "license": license_,
                          "dev": bool(pkg.get("dev")), "ok": ok, "advisories": "not checked offline"})
        if not ok:
            run.findings.append(Finding(
                "npm-licenses", "license-not-allowed", "medium",
                f"{name}@{pkg.get('version')}: license {license_} is not in the policy",
                lock_path, 0, f"{name} {pkg.get('version')} is licensed {license_}",
                "Replace the package, or extend the policy in deny.toml with the reason.",
                key=f"{name}@{pkg.get('version')}"))
    return inventory


# ---------------------------------------------------------------------------------------------
# Secrets: detect-secrets over every tracked or new (not ignored) file

SECRETS_EXCLUDE_FILES = r"^(package-lock\.json|web/package-lock\.json|Cargo\.lock|security/npm/package-lock\.json|security/constraints\.txt|security/secrets\.baseline|security/baseline\.json|security/secrets/anvil-dev-keys\.txt|abis/artifacts/.*\.json)$"


def anvil_key_regex(root: Path) -> str:
    keys = [line.strip().removeprefix("0x").lower()
            for line in (root / "security/secrets/anvil-dev-keys.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    return r"^(?i:(0x)?(" + "|".join(keys) + r"))$"


def secret_scan_args(root: Path) -> list[str]:
    return ["--plugin", str(root / "security/secrets/ethereum_key.py"),
            "--exclude-files", SECRETS_EXCLUDE_FILES,
            "--exclude-secrets", anvil_key_regex(root)]


@timed
def run_detect_secrets(ctx: Context) -> ToolRun:
    exe = str(ctx.venv_bin / "detect-secrets")
    run = ToolRun("detect-secrets", version=ctx.run([exe, "--version"]).stdout.strip())
    files = ctx.run(["git", "ls-files", "-co", "--exclude-standard"]).stdout.splitlines()
    files = [f for f in files if (ctx.root / f).is_file()]
    proc = ctx.run([exe, "scan", *secret_scan_args(ctx.root), *files])
    if proc.returncode != 0:
        run.status, run.detail = "error", first_line(proc.stderr)
        return run
    (ctx.raw / "detect-secrets.json").write_text(proc.stdout)
    results = json.loads(proc.stdout)["results"]
    baseline = json.loads((ctx.root / "security/secrets.baseline").read_text())["results"]
    known = {(path, s["hashed_secret"]): s for path, items in baseline.items() for s in items}
    run.data["files"] = len(files)
    for path, items in results.items():
        for s in items:
            audited = known.get((path, s["hashed_secret"]))
            f = Finding("detect-secrets", s["type"], "high", f"{s['type']} in {path}", path,
                        s["line_number"], f"possible secret ({s['type']}), hash {s['hashed_secret'][:12]}",
                        "Remove the secret from the tree and rotate it; load it from the environment, a "
                        "keystore or the KMS/HSM signer. A false positive is audited in "
                        "security/secrets.baseline (is_secret: false) with a triage entry.",
                        key=s["hashed_secret"])
            if audited is not None and audited.get("is_secret") is False:
                f.triage = {"id": "secrets.baseline", "justification": "audited false positive in security/secrets.baseline"}
            run.findings.append(f)
    return run


# ---------------------------------------------------------------------------------------------
# Rust SAST: semgrep with the project's rules

SEMGREP_SEVERITY = {"ERROR": "high", "WARNING": "medium", "INFO": "low"}
SAST_EXCLUDES = ["security", "target", "node_modules", "tests", "benches", "testing.rs", "web"]


@timed
def run_semgrep(ctx: Context) -> ToolRun:
    exe = str(ctx.venv_bin / "semgrep")
    env = {"SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    run = ToolRun("semgrep", version=ctx.run([exe, "--version"], env=env).stdout.strip())
    args = [exe, "scan", "--metrics=off", "--disable-version-check", "--json", "--quiet",
            "--config", str(ctx.root / "security/semgrep/nest.yml")]
    for exclude in SAST_EXCLUDES:
        args += ["--exclude", exclude]
    proc = ctx.run(args + ["."], env=env)
    (ctx.raw / "semgrep.json").write_text(proc.stdout)
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        run.status, run.detail = "error", first_line(proc.stderr) or f"exit {proc.returncode}"
        return run
    if data.get("errors"):
        run.status, run.detail = "error", first_line(data["errors"][0].get("message", ""))
    run.data["files"] = len(data.get("paths", {}).get("scanned", []))
    for r in data.get("results", []):
        rule = r["check_id"].split(".")[-1]
        line = r["start"]["line"]
        text = ctx.line_text(r["path"], line)
        run.findings.append(Finding(
            "semgrep", rule, SEMGREP_SEVERITY.get(r["extra"]["severity"], "medium"),
            first_line(r["extra"]["message"]), r["path"], line, r["extra"]["message"].strip(),
            r["extra"].get("metadata", {}).get("remediation", ""), key=text))
    return run


# ---------------------------------------------------------------------------------------------
# Rust SAST: clippy's security-relevant lints

CLIPPY_LINTS = {
    # lint: (why, remediation)
    "arithmetic_side_effects": ("arithmetic that can overflow (money and block arithmetic)",
                                "Use checked_/saturating_ arithmetic or U256 where amounts can grow."),
    "cast_possible_truncation": ("`as` cast that can truncate", "Use try_from with an error."),
    "cast_possible_wrap": ("`as` cast that can wrap to negative", "Use try_from (or a documented clamp)."),
    "cast_sign_loss": ("`as` cast that drops the sign", "Use try_from with an error."),
    "indexing_slicing": ("indexing that can panic", "Use get()/get(..) and handle None."),
    "string_slice": ("string slicing that can panic on a char boundary", "Use get(..) or char_indices."),
    "unwrap_used": ("unwrap() outside tests", "Return an error, or expect() with the invariant."),
    "expect_used": ("expect() outside tests", "Return an error where the input comes from outside."),
    "panic": ("panic! outside tests", "Return an error."),
    "unchecked_time_subtraction": ("Instant/Duration subtraction that can panic", "Use checked_sub/saturating_sub."),
    "mem_forget": ("mem::forget (leaks, skips Drop of guards)", "Drop explicitly or use ManuallyDrop."),
    "undocumented_unsafe_blocks": ("unsafe block without a SAFETY comment", "Document the invariant."),
}
# Request paths: a panic there is a remote denial of service, so these lints count as medium.
REQUEST_PATHS = re.compile(r"^(api/src/|relayer/src/(http|intake|request|policy)\.rs)")
REQUEST_PATH_LINTS = {"indexing_slicing", "string_slice", "unwrap_used", "expect_used", "panic"}


def clippy_command() -> list[str]:
    # Same targets and features as scripts/test's clippy run, so dependencies are not checked again.
    cmd = ["cargo", "clippy", "--workspace", "--all-targets", "--locked",
           "--features", "nest-keys/aws-kms,nest-keys/gcp-kms", "--message-format=json", "--"]
    for lint in CLIPPY_LINTS:
        cmd += ["-W", f"clippy::{lint}"]
    return cmd


_TEST_MODULE_START: dict[Path, int] = {}


def test_module_start(path: Path) -> int:
    """The line of a file's first `#[cfg(test)]` (findings from there on are in test code)."""
    if path not in _TEST_MODULE_START:
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        _TEST_MODULE_START[path] = next(
            (i + 1 for i, l in enumerate(lines) if l.strip().startswith("#[cfg(test)]")), 10**9)
    return _TEST_MODULE_START[path]


@timed
def run_clippy(ctx: Context) -> ToolRun:
    run = ToolRun("clippy", version=ctx.run(["cargo", "clippy", "--version"]).stdout.strip().split(" (")[0])
    proc = ctx.run(clippy_command())
    (ctx.raw / "clippy.jsonl").write_text(proc.stdout)
    if proc.returncode != 0:
        run.status, run.detail = "error", "cargo clippy: " + (
            [l for l in proc.stderr.splitlines() if l.startswith("error")] or [f"exit {proc.returncode}"])[0]
    seen = set()
    for line in proc.stdout.splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if item.get("reason") != "compiler-message":
            continue
        if {"test", "bench", "example"} & set(item["target"]["kind"]):
            continue  # integration tests, benchmarks
        msg = item["message"]
        lint = ((msg.get("code") or {}).get("code") or "").removeprefix("clippy::")
        if lint not in CLIPPY_LINTS:
            continue
        spans = [s for s in msg["spans"] if s["is_primary"]]
        if not spans:
            continue
        path, line = spans[0]["file_name"], spans[0]["line_start"]
        if path.startswith("/") or (path, line, lint, spans[0]["column_start"]) in seen:
            continue
        if path.endswith("/testing.rs") or line >= test_module_start(ctx.root / path):
            continue  # test harnesses and `#[cfg(test)] mod tests` (last in a file by convention)
        seen.add((path, line, lint, spans[0]["column_start"]))
        why, fix = CLIPPY_LINTS[lint]
        severity = "medium" if lint in REQUEST_PATH_LINTS and REQUEST_PATHS.match(path) else "low"
        text = ctx.line_text(path, line)
        snippet = spans[0]["text"][0] if spans[0]["text"] else {}
        flagged = snippet.get("text", "")[snippet.get("highlight_start", 1) - 1:snippet.get("highlight_end", 1) - 1]
        run.findings.append(Finding("clippy", lint, severity, why, path, line, msg["message"], fix,
                                    key=f"{text}|{flagged}"))
    return run


# ---------------------------------------------------------------------------------------------
# Solidity: slither and solhint on contracts/src

SLITHER_SEVERITY = {"High": "high", "Medium": "medium", "Low": "low", "Informational": "info",
                    "Optimization": "info"}


@timed
def run_slither(ctx: Context) -> ToolRun:
    run = ToolRun("slither", version=ctx.run([str(ctx.venv_bin / "slither"), "--version"]).stdout.strip())
    out = ctx.raw / "slither.json"
    proc = ctx.run([sys.executable, str(ctx.root / "security/tools/slither_scan.py"),
                    str(ctx.root / "contracts"), str(out)])
    if proc.returncode != 0 or not out.exists():
        run.status = "error"
        run.detail = ([l for l in proc.stderr.splitlines() if "Error" in l] or [first_line(proc.stderr)])[-1]
        return run
    data = json.loads(out.read_text())
    run.data["detectors"] = data["detectors"]
    run.data["files"] = len(data["sources"])
    for r in data["results"]:
        element = next((e for e in r.get("elements", []) if e.get("source_mapping")), None)
        mapping = element["source_mapping"] if element else {}
        path = "contracts/" + mapping.get("filename_relative", "?").removeprefix("./")
        line = (mapping.get("lines") or [0])[0]
        description = r["description"].strip()
        run.findings.append(Finding(
            "slither", r["check"], SLITHER_SEVERITY.get(r["impact"], "medium"),
            first_line(description), path, line, description,
            data.get("recommendations", {}).get(r["check"], "") or f"See slither's documentation of `{r['check']}`.",
            key=re.sub(r"#\d+(-\d+)?", "", description)))
    return run


@timed
def run_solhint(ctx: Context) -> ToolRun:
    exe = next(ctx.tools.glob("security-npm-*/node_modules/.bin/solhint"), None)
    if exe is None:
        return ToolRun("solhint", status="error", detail="solhint is not installed (scripts/setup-security)")
    run = ToolRun("solhint", version=ctx.run([str(exe), "--version"]).stdout.strip())
    proc = ctx.run([str(exe), "-c", str(ctx.root / "security/solhint.json"), "-f", "json",
                    "src/**/*.sol"], cwd=ctx.root / "contracts")
    (ctx.raw / "solhint.json").write_text(proc.stdout)
    try:
        items = json.loads(proc.stdout)
    except json.JSONDecodeError:
        run.status, run.detail = "error", first_line(proc.stderr) or first_line(proc.stdout)
        return run
    for item in items:
        if "ruleId" not in item:
            continue
        path = "contracts/" + item["filePath"]
        severity = "medium" if item["severity"] == "Error" else "low"
        run.findings.append(Finding(
            "solhint", item["ruleId"], severity, item["message"], path, item["line"], item["message"],
            f"See solhint's rule `{item['ruleId']}`.", key=ctx.line_text(path, item["line"])))
    return run


# ---------------------------------------------------------------------------------------------
# Triage, baseline, gate

def load_triage(root: Path) -> tuple[list[dict], dict]:
    with open(root / "security/triage.toml", "rb") as f:
        data = tomllib.load(f)
    return data.get("triage", []), data.get("policy", {})


def apply_triage(findings: list[Finding], entries: list[dict]) -> list[dict]:
    used = set()
    for f in findings:
        if f.triage is not None:
            continue
        for i, e in enumerate(entries):
            if e.get("tool") != f.tool or e.get("rule") != f.rule:
                continue
            if "path" in e and not re.fullmatch(e["path"], f.path):
                continue
            if "match" in e and e["match"] not in f.message and e["match"] not in f.key:
                continue
            f.triage = e
            used.add(i)
            break
    return [e for i, e in enumerate(entries) if i not in used]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-baseline", action="store_true",
                        help="record the current findings as security/baseline.json")
    parser.add_argument("--only", help="comma-separated tools to run (default: all)")
    parser.add_argument("--no-dast", action="store_true", help="skip the DAST stage")
    parser.add_argument("--root", default=os.environ.get("NEST_ROOT", "."))
    args = parser.parse_args()
    root = Path(args.root).resolve()
    out = root / "target" / "security"
    ctx = Context(root, out, dict(os.environ))
    started = time.monotonic()

    runners = {
        "cargo-deny": run_cargo_deny, "npm-licenses": run_npm_inventory,
        "detect-secrets": run_detect_secrets, "semgrep": run_semgrep, "slither": run_slither,
        "solhint": run_solhint, "clippy": run_clippy,
    }
    if not args.no_dast and (Path(__file__).parent / "dast.py").exists():
        import dast
        runners["dast"] = dast.run
    only = set(args.only.split(",")) if args.only else None
    runs: list[ToolRun] = []
    for name, runner in runners.items():
        if only and name not in only:
            continue
        print(f"security: {name} ...", file=sys.stderr, flush=True)
        result = runner(ctx)
        print(f"security: {name}: {result.status}, {len(result.findings)} findings, "
              f"{result.seconds:.0f}s {result.detail}", file=sys.stderr, flush=True)
        runs.append(result)

    entries, policy = load_triage(root)
    findings = [f for r in runs for f in r.findings]
    if not policy.get("dast_conformance_gates", False):
        for f in findings:
            if f.tool == "dast" and f.rule.startswith("schemathesis:") and "server_error" not in f.rule:
                f.gating = False
    stale = apply_triage(findings, entries)
    stale = [e for e in stale if only is None or e.get("tool") in only]
    baseline_path = root / "security/baseline.json"
    baseline = json.loads(baseline_path.read_text()) if baseline_path.exists() else {"findings": {}}
    known = baseline.get("findings", {})
    for f in findings:
        f.new = f.fingerprint not in known
    blocking = [f for f in findings if f.blocks]
    failed_tools = [r for r in runs if r.status == "error"]
    elapsed = time.monotonic() - started
    report.write_all(out, root, runs, findings, stale, baseline, elapsed, blocking, failed_tools, policy)

    if args.update_baseline:
        data = {"comment": "Findings recorded by `scripts/security --update-baseline`; the report "
                           "counts findings whose fingerprint is not here as new.",
                "findings": {f.fingerprint: f"{f.tool} {f.rule} {f.severity} {f.path}:{f.line}"
                             for f in sorted(findings, key=lambda f: (f.tool, f.path, f.line))}}
        baseline_path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
        print(f"security: baseline updated ({len(findings)} findings)", file=sys.stderr)

    print(f"security: report {out / 'report.md'} ({elapsed:.0f}s)", file=sys.stderr)
    for r in failed_tools:
        print(f"security: FAILED to run {r.name}: {r.detail}", file=sys.stderr)
    for f in blocking:
        print(f"security: BLOCKING {f.severity} {f.tool}/{f.rule} {f.path}:{f.line}: {f.title}",
              file=sys.stderr)
    for e in stale:
        print(f"security: note: triage entry {e.get('id')} matched nothing (fixed? remove it)",
              file=sys.stderr)
    if failed_tools or blocking:
        print(f"security: stage FAILED ({len(blocking)} untriaged medium+ findings, "
              f"{len(failed_tools)} tools failed)", file=sys.stderr)
        return 1
    print("security: stage passed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
