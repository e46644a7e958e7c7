"""The security stage's DAST: starts the stack (`nest dev` on free loopback ports, its own state
directory), runs schemathesis against /openapi.json with every check, then the project's attack
suite (security/attacks.py), and always stops the stack (its whole process group).

security/scan.py calls `run(ctx)` when this file exists (skipped with `--no-dast`). Findings:
- `schemathesis:<check>`: one per check, operation and failure kind. `not_a_server_error` (a 5xx)
  always gates; the conformance checks gate only with `dast_conformance_gates = true` in
  security/triage.toml (scan.py applies the policy).
- `attack:<name>`: an attack whose refusal was not the precise one (or a 5xx, or slow, or state
  changed). Always gating at its severity unless triaged.

Settings (environment): NEST_DAST_MAX_TIME (schemathesis' time budget, seconds, default 60),
NEST_DAST_SEED (default 1), NEST_DAST_RATE (schemathesis' request rate, default 900/m: the api
allows 1,200 requests a minute per client IP, and a 429 would leave operations untested).
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from scan import Context, Finding, ToolRun

START_TIMEOUT = 300  # nest dev: build-free start, deploy, seed and index (~30 s here)

SCHEMATHESIS_CHECK_FIX = {
    "not_a_server_error": "A request made the api answer 5xx: fix the handler so the input is refused with a 4xx problem (see the reproduction in target/security/raw/schemathesis.ndjson).",
    "status_code_conformance": "Document the status code in the operation's responses (utoipa `responses(...)`), or stop returning it.",
    "content_type_conformance": "Document the content type (application/problem+json for errors) in the OpenAPI document.",
    "response_schema_conformance": "Make the response match its documented schema, or correct the schema.",
    "response_headers_conformance": "Document the response headers the operation sends (or stop sending them).",
    "negative_data_rejection": "The api accepted input the schema forbids: validate it (4xx), or widen the schema to what is accepted.",
    "positive_data_acceptance": "The api refused input the schema allows: narrow the schema (pattern, format, bounds) to what the api accepts.",
    "ignored_auth": "The operation answered without valid credentials: require the session token.",
    "use_after_free": "A deleted resource is still served.",
    "ensure_resource_availability": "A created resource is not served afterwards.",
    "missing_required_header": "A required header's absence is not refused with 4xx.",
    "unsupported_method": "An undocumented method is not refused with 405.",
    "allow_header_conformance": "A 405 answer lacks a correct Allow header.",
    "object_level_authorization": "One user's object is served to another.",
    "max_response_time": "The operation answered too slowly.",
}


def _venv_bin() -> Path:
    return Path(sys.executable).parent


class DevStack:
    """`nest dev` in its own session (process group), on free loopback ports."""

    def __init__(self, ctx: Context, binary: Path):
        self.ctx = ctx
        self.state = Path(tempfile.mkdtemp(prefix="nest-dast-"))
        env = dict(ctx.env)
        # The local store and in-process limits/cache: never a store or Redis from the caller's
        # environment (nest dev would refuse to reuse an existing database anyway).
        for name in ("NEST_MONGODB_URI", "NEST_MONGODB_DATABASE", "NEST_REDIS_URL", "NEST_SESSION_KEY",
                     "NEST_SIGNER", "NEST_MANIFEST"):
            env.pop(name, None)
        env.update({"NEST_ROOT": str(ctx.root), "NEST_STATE_DIR": str(self.state), "NEST_LOG": "warn",
                    "NO_COLOR": "1"})
        self.log_path = ctx.raw / "nest-dev.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([str(binary), "dev", "--api-port", "0"], cwd=ctx.root, env=env,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     start_new_session=True)
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.strip().startswith("relayer"):
                self.ready.set()
        self.ready.set()

    def wait_started(self) -> dict:
        if not self.ready.wait(START_TIMEOUT) or self.proc.poll() is not None:
            raise RuntimeError(f"nest dev did not start (exit {self.proc.poll()}); see {self.log_path}")
        text = "\n".join(self.lines)
        api = re.search(r"^\s+api\s+(http://\S+)", text, re.M)
        rpc = re.search(r"^\s+RPC URL\s+(\S+)", text, re.M)
        manifest = re.search(r"^\s+manifest\s+(\S+)", text, re.M)
        if not (api and rpc and manifest):
            raise RuntimeError(f"cannot read the api URL from nest dev's output: {text[-500:]}")
        return {"api": api.group(1).rstrip("/"), "rpc": rpc.group(1), "manifest": manifest.group(1)}

    def wait_ready(self, api: str, timeout: float = 60) -> None:
        import httpx
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nest dev exited ({self.proc.returncode}); see {self.log_path}")
            try:
                if httpx.get(api + "/readyz", timeout=3).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{api}/readyz did not answer 200 within {timeout:.0f} s")

    def stop(self) -> None:
        """SIGTERM to the whole group (nest dev stops anvil and the store), SIGKILL after 15 s."""
        try:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    pass
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever is left of the group
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.log.close()
        subprocess.run(["rm", "-rf", str(self.state)], check=False)


def build_nest(ctx: Context) -> Path:
    proc = ctx.run(["cargo", "build", "--locked", "-p", "nest"], timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError("cargo build -p nest: " + next(
            (l for l in proc.stderr.splitlines() if l.startswith("error")), f"exit {proc.returncode}"))
    target = Path(ctx.env.get("CARGO_TARGET_DIR") or ctx.root / "target")
    return target / "debug" / "nest"


# ---------------------------------------------------------------------------------------------
# schemathesis

def schemathesis_config(path: Path, tokens: dict[str, str]) -> None:
    """A bearer token only for the operations that need one (other requests stay anonymous, so
    the per-account rate limit does not cap the run); each session-ending operation (refresh,
    logout) has its own session, so /v1/me keeps a live one."""
    lines = []
    for op_path, name in (("/v1/me", "default"), ("/v1/auth/refresh", "refresh"), ("/v1/auth/logout", "logout")):
        lines += ["[[operations]]", f'include-path = "{op_path}"',
                  f'headers = {{ Authorization = "Bearer {tokens[name]}" }}', ""]
    path.write_text("\n".join(lines))


def run_schemathesis(ctx: Context, api: str, tokens: dict[str, str], run: ToolRun) -> None:
    exe = _venv_bin() / "schemathesis"
    run.data["schemathesis_version"] = ctx.run([str(exe), "--version"]).stdout.strip().split()[-1]
    max_time = int(ctx.env.get("NEST_DAST_MAX_TIME", "60"))
    seed = ctx.env.get("NEST_DAST_SEED", "1")
    work = Path(tempfile.mkdtemp(prefix="nest-st-"))
    config = work / "schemathesis.toml"
    schemathesis_config(config, tokens)
    ndjson = ctx.raw / "schemathesis.ndjson"
    report_json = ctx.raw / "schemathesis.json"
    for f in (ndjson, report_json):
        f.unlink(missing_ok=True)
    cmd = [str(exe), "--config-file", str(config), "run", f"{api}/openapi.json", "--checks", "all",
           "--max-time", str(max_time), "--workers", "2", "--request-timeout", "5",
           "--rate-limit", ctx.env.get("NEST_DAST_RATE", "900/m"), "--seed", seed,
           "--report", "ndjson,json", "--report-ndjson-path", str(ndjson), "--report-json-path", str(report_json),
           "--no-color", "--output-truncate", "true"]
    run.data["schemathesis_command"] = " ".join(cmd[1:]).replace(str(work), "<tmp>")
    proc = ctx.run(cmd, cwd=work, timeout=max_time + 180, env={"SCHEMATHESIS_TELEMETRY": "false"})
    (ctx.raw / "schemathesis.log").write_text(proc.stdout + proc.stderr)
    subprocess.run(["rm", "-rf", str(work)], check=False)
    if not ndjson.exists():
        raise RuntimeError("schemathesis wrote no report: " + (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1])
    requests, operations = 0, set()
    outcomes: dict[tuple, dict] = {}
    checks_seen = set()
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        label = recorder["label"]
        interactions = recorder.get("interactions", {})
        requests += len(interactions)
        for case_id, checks in recorder.get("checks", {}).items():
            # The schema operation: the scenario's label, or for stateful scenarios the case's
            # method and path (unsupported_method cases send other methods to the same operation).
            case = recorder.get("cases", {}).get(case_id, {}).get("value", {})
            op = label if label != "Stateful tests" or not case else f"{case.get('method', '?')} {case.get('path', '?')}"
            if interactions and label != "Stateful tests":
                operations.add(op)
            for check in checks:
                checks_seen.add(check["name"])
                if check["status"] != "failure":
                    continue
                failure = (check.get("failure_info") or {}).get("failure", {})
                key = (check["name"], op, failure.get("code", ""), failure.get("title", ""))
                entry = outcomes.setdefault(key, {"count": 0, "message": failure.get("message", ""),
                                                  "status": None})
                entry["count"] += 1
                response = (interactions.get(case_id) or {}).get("response") or {}
                entry["status"] = response.get("status_code", entry["status"])
    summary = json.loads(report_json.read_text()) if report_json.exists() else {}
    run.data.update({
        "operations": len(operations), "operations_list": sorted(operations),
        "requests": requests, "checks": ", ".join(sorted(checks_seen)) or "none",
        "schemathesis_failures": sum(o["count"] for o in outcomes.values()),
        "schemathesis_seconds": round(summary.get("running_time", 0), 1),
        "schemathesis_by_check": dict(collections.Counter(k[0] for k in outcomes)),
        "schemathesis_warnings": {k: v for k, v in (summary.get("warnings") or {}).items() if v},
    })
    if summary.get("errors"):
        run.status, run.detail = "error", f"schemathesis errors: {json.dumps(summary['errors'])[:300]}"
    for (check, op, code, title), o in sorted(outcomes.items()):
        method, _, path = op.partition(" ")
        server_error = check == "not_a_server_error"
        message = " ".join(o["message"].split())[:600]
        run.findings.append(Finding(
            "dast", f"schemathesis:{check}", "high" if server_error else "medium",
            f"{op}: {code} {title}".strip(), path or op, 0,
            f"{o['count']} failing case(s), last status {o['status']}: {message}",
            SCHEMATHESIS_CHECK_FIX.get(check, ""), key=f"{method}|{code}|{title}"))


# ---------------------------------------------------------------------------------------------

def sign_in_tokens(stack_info: dict) -> dict[str, str]:
    """Three sessions of anvil account [6] (schemathesis' credentials)."""
    import attacks
    s = attacks.Stack(stack_info["api"], stack_info["rpc"], json.loads(Path(stack_info["manifest"]).read_text()))
    try:
        a = attacks.Attacks(s)
        a.alice = attacks.Account.from_key(attacks.ANVIL_KEYS[6])
        return {name: a.sign_in() for name in ("default", "refresh", "logout")}
    finally:
        s.close()


def run_attacks(stack_info: dict, run: ToolRun) -> None:
    import attacks
    s = attacks.Stack(stack_info["api"], stack_info["rpc"], json.loads(Path(stack_info["manifest"]).read_text()))
    try:
        results = attacks.run_all(s, log=lambda m: print(m, file=sys.stderr, flush=True))
    finally:
        s.close()
    run.data["attacks"] = [{"name": r.name, "ok": r.ok, "detail": r.detail, "requests": r.requests,
                            "seconds": round(r.seconds, 1)} for r in results]
    run.data["attacks_passed"] = sum(r.ok for r in results)
    run.data["attacks_failed"] = sum(not r.ok for r in results)
    run.data["attack_requests"] = s.requests
    for r in results:
        if not r.ok:
            run.findings.append(Finding(
                "dast", f"attack:{r.name}", r.severity, f"attack {r.name} was not refused as expected",
                r.endpoint, 0, r.detail,
                "Make the api refuse it with the precise problem (status and code) the attack expects; "
                "see security/attacks.py for the attack and its expectation.", key=r.name))


def _raise_on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run(ctx: Context) -> ToolRun:
    start = time.monotonic()
    try:
        result = _run(ctx)
    except Exception as e:  # the stage could not run: that fails it, it is never skipped
        result = ToolRun("dast", status="error", detail=f"{type(e).__name__}: {e}")
    result.seconds = time.monotonic() - start
    return result


def _run(ctx: Context) -> ToolRun:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    run = ToolRun("dast", version="schemathesis + attack suite")
    binary = build_nest(ctx)
    previous = signal.signal(signal.SIGTERM, _raise_on_signal)
    stack = None
    try:
        started = time.monotonic()
        stack = DevStack(ctx, binary)
        info = stack.wait_started()
        stack.wait_ready(info["api"])
        run.data["startup_seconds"] = time.monotonic() - started
        run.data["base_url"] = info["api"]
        tokens = sign_in_tokens(info)
        run_schemathesis(ctx, info["api"], tokens, run)
        run_attacks(info, run)
        if stack.proc.poll() is not None:
            run.status, run.detail = "error", f"nest dev died during the run; see {stack.log_path}"
    finally:
        if stack is not None:
            stack.stop()
        signal.signal(signal.SIGTERM, previous)
    run.version = f"schemathesis {run.data.get('schemathesis_version', '?')} + attack suite"
    return run
