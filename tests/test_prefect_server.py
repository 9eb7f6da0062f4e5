"""The real scheduling path: a Prefect server, `prefect deploy --all`, and a process worker.

Everything runs through the `prefect` command line against a `prefect server start` on a free
loopback port, as an operator would (see the README's "Scheduling" section and `make serve`):
server, work pool, every deployment of prefect.yaml, one manual run of the weekly deployment, and
one `prefect worker start --run-once` that executes it in a subprocess.

The deployments' pull step changes directory to `$CONTACT_REASONS_HOME`, and the worker resolves
the entrypoint `flows/weekly.py` and the relative paths in the deployment parameters (`data/...`,
`models/...`) there. The test builds that project folder in a temporary directory: a slice of the
small sample in `data/incoming`, a few pages of the sample FAQ in `data/faq`, and symlinks to the
repository's `flows/` and to the converted e5 model under a real `models/` folder (so fitted
reason models are written into the temporary folder, not the repository).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from contact_reasons.storage import Database
from tests.conftest import FAQ, ROOT, SMALL

pytestmark = pytest.mark.slow

#: Artifact keys the weekly flow run must publish (the server's artifact list is checked).
EXPECTED_ARTIFACT_KEYS = {"weekly-top-reasons", "top-reasons", "alerts", "faq-recommendations"}
#: Calls copied from the small sample into the temporary project's `data/incoming`.
N_CALLS = 60
#: FAQ pages copied per language folder of the sample FAQ (embedding all 30 costs ~20 s here).
FAQ_PAGES_PER_LANGUAGE = 4
WORK_POOL = "contact-reasons"
#: The fields of a prefect.yaml schedule that define when it fires (compared with the server's).
SCHEDULE_FIELDS = {"cron", "timezone", "day_or", "interval", "anchor_date", "rrule"}
PREFECT = str(Path(sys.executable).with_name("prefect"))
#: Lines in the server log that mean a service (scheduler, ...) failed.
SERVER_LOG_ERRORS = re.compile(r"Traceback|InvalidRequestError|\|\s*ERROR\s*\|")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a command in its own process group; kill the whole group if it overruns."""
    proc = subprocess.Popen(
        args,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"{' '.join(args[1:])} ran past {timeout} s:\n{out[-4000:]}")
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(args[1:])} exited {proc.returncode}:\n{out[-4000:]}")
    return subprocess.CompletedProcess(args, proc.returncode, out, "")


def _stop(proc: subprocess.Popen[Any]) -> None:
    """Stop a process started with start_new_session, and everything it started."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _project_home(home: Path, model_dir: Path) -> int:
    """Lay out a project folder as a deployment's working directory; return the calls written."""
    incoming = home / "data" / "incoming"
    incoming.mkdir(parents=True)
    with SMALL.open(encoding="utf-8", newline="") as src:
        reader = csv.DictReader(src)
        assert reader.fieldnames is not None
        rows = [row for _, row in zip(range(N_CALLS), reader, strict=False)]
    with (incoming / "calls.csv").open("w", encoding="utf-8", newline="") as dst:
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    for folder in sorted(p for p in FAQ.iterdir() if p.is_dir()):
        (home / "data" / "faq" / folder.name).mkdir(parents=True)
        for page in sorted(folder.iterdir())[:FAQ_PAGES_PER_LANGUAGE]:
            shutil.copy2(page, home / "data" / "faq" / folder.name / page.name)
    (home / "flows").symlink_to(ROOT / "flows", target_is_directory=True)
    (home / "models").mkdir()
    (home / "models" / model_dir.name).symlink_to(model_dir, target_is_directory=True)
    return len(rows)


@pytest.fixture(scope="module")
def served(real_model_dir, tmp_path_factory):
    """Server up, pool created, prefect.yaml deployed, weekly run executed by a worker."""
    tmp = tmp_path_factory.mktemp("served")
    home = tmp / "project"
    n_calls = _project_home(home, real_model_dir)
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_API_REQUEST_TIMEOUT": "120",
        "PREFECT_SERVER_DATABASE_TIMEOUT": "60",
        "PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT": "60",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "CONTACT_REASONS_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    server_log = tmp / "server.log"
    started = time.perf_counter()
    with server_log.open("w") as log:
        server = subprocess.Popen(
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None:
                pytest.fail(f"prefect server exited {server.returncode}:\n{server_log.read_text()}")
            try:
                if httpx.get(f"{api}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prefect server not up after 180 s:\n{server_log.read_text()}")
            time.sleep(1)
        steps = {"server": time.perf_counter() - started}
        outputs: dict[str, str] = {}
        for name, args, cwd, timeout in (
            ("work-pool", ["work-pool", "create", WORK_POOL, "--type", "process"], tmp, 120),
            ("deploy", ["--no-prompt", "deploy", "--all"], ROOT, 600),
            ("run", ["deployment", "run", "weekly-contact-reasons/weekly"], tmp, 120),
            ("worker", ["worker", "start", "--pool", WORK_POOL, "--run-once"], tmp, 900),
        ):
            step_start = time.perf_counter()
            outputs[name] = _run([PREFECT, *args], env, cwd, timeout).stdout
            steps[name] = time.perf_counter() - step_start
        with httpx.Client(base_url=api, timeout=60) as client:
            yield {
                "client": client,
                "home": home,
                "n_calls": n_calls,
                "server": server,
                "server_log": server_log,
                "worker_output": outputs["worker"],
                "steps": {name: round(seconds, 1) for name, seconds in steps.items()},
            }
    finally:
        _stop(server)


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    response = client.post(path, json=body)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def _deployments(client: httpx.Client) -> dict[tuple[str, str], dict[str, Any]]:
    """Server deployments keyed by (flow name, deployment name)."""
    flows = {f["id"]: f["name"] for f in _post(client, "/flows/filter", {})}
    return {(flows[d["flow_id"]], d["name"]): d for d in _post(client, "/deployments/filter", {})}


def _weekly_manual_run(client: httpx.Client) -> dict[str, Any]:
    weekly = _deployments(client)[("weekly-contact-reasons", "weekly")]
    runs = _post(
        client,
        "/flow_runs/filter",
        {"flow_runs": {"deployment_id": {"any_": [weekly["id"]]}}},
    )
    manual = [r for r in runs if not r["auto_scheduled"]]
    assert len(manual) == 1, [(r["name"], r["state_type"]) for r in runs]
    return manual[0]


def _on_cron(local: datetime, cron: str) -> bool:
    """Whether a local time matches a cron's fields that are plain numbers or lists of them.

    Fields with `*`, ranges or steps are not checked; cron's weekday 0 and 7 are both Sunday.
    """
    fields = cron.split()
    values = (local.minute, local.hour, local.day, local.month, local.isoweekday() % 7)
    for position, (field, value) in enumerate(zip(fields, values, strict=True)):
        items = field.split(",")
        if not all(item.isdigit() for item in items):
            continue
        allowed = {int(item) % 7 if position == 4 else int(item) for item in items}
        if value not in allowed:
            return False
    return True


def test_weekly_run_triggered_through_the_server_completes(served):
    print("seconds per step:", served["steps"])
    run = _weekly_manual_run(served["client"])
    assert run["state_type"] == "COMPLETED", (run["state"], served["worker_output"][-4000:])


def test_weekly_run_writes_calls_reasons_and_weekly_table(served):
    db_path = served["home"] / "data" / "contact_reasons.duckdb"
    with Database(db_path, read_only=True) as db:
        runs = db.table("runs")
        calls = db.table("calls")
        reasons = db.table("reasons")
        week_table = db.table("weekly_reason_stats")
    assert runs["status"].to_list() == ["completed"]
    assert runs["rows_read"][0] == served["n_calls"]
    assert 0 < calls.height <= served["n_calls"]
    assert reasons.height > 0
    assert week_table.height > 0
    # Fitted reason models go to the deployment's working directory, not the repository.
    assert any((served["home"] / "models" / "reasons").iterdir())


def test_run_artifacts_are_in_the_servers_artifact_list(served):
    run = _weekly_manual_run(served["client"])
    artifacts = _post(
        served["client"], "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}
    )
    keys = {a["key"] for a in artifacts}
    assert keys >= EXPECTED_ARTIFACT_KEYS, keys
    for artifact in artifacts:
        if artifact["key"] in EXPECTED_ARTIFACT_KEYS:
            assert artifact["data"], artifact["key"]


def _active_schedules(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    """A prefect.yaml deployment's active schedules, as only their schedule fields."""
    return [
        {k: v for k, v in s.items() if k in SCHEDULE_FIELDS}
        for s in deployment.get("schedules") or []
        if s.get("active", True)
    ]


def test_every_deployment_in_prefect_yaml_is_on_the_server_with_its_schedules(served):
    client = served["client"]
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    on_server = {name: d for (_, name), d in _deployments(client).items()}
    assert set(on_server) == {d["name"] for d in config["deployments"]}
    for wanted in config["deployments"]:
        got = on_server[wanted["name"]]
        assert got["entrypoint"] == wanted["entrypoint"]
        assert got["work_pool_name"] == wanted["work_pool"]["name"]
        assert got["parameters"] == wanted.get("parameters", {}), wanted["name"]
        accepted = set(got["parameter_openapi_schema"]["properties"])
        assert set(wanted.get("parameters", {})) <= accepted, wanted["name"]
        # Each prefect.yaml schedule matches its own active schedule on the server, field by field.
        unmatched = [s["schedule"] for s in got["schedules"] if s["active"]]
        for expected in _active_schedules(wanted):
            match = next(
                (s for s in unmatched if all(s.get(k) == v for k, v in expected.items())), None
            )
            assert match is not None, (wanted["name"], expected, unmatched)
            unmatched.remove(match)
        assert not unmatched, (wanted["name"], "schedules not in prefect.yaml", unmatched)


def test_scheduler_creates_runs_on_each_schedule(served):
    """The server's scheduler service fills in upcoming runs that fall on each cron."""
    client = served["client"]
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    on_server = {name: d for (_, name), d in _deployments(client).items()}
    deadline = time.monotonic() + 60
    scheduled = [d for d in config["deployments"] if _active_schedules(d)]
    assert scheduled
    for wanted in scheduled:
        deployment = on_server[wanted["name"]]
        while True:
            runs = _post(
                client,
                "/flow_runs/filter",
                {
                    "flow_runs": {
                        "deployment_id": {"any_": [deployment["id"]]},
                        "state": {"type": {"any_": ["SCHEDULED"]}},
                    }
                },
            )
            runs = [r for r in runs if r["auto_scheduled"]]
            if runs or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert runs, f"the scheduler made no runs for {wanted['name']}"
        crons = [s for s in _active_schedules(wanted) if "cron" in s]
        for run in runs if crons else []:
            start = datetime.fromisoformat(run["expected_start_time"])
            assert any(
                _on_cron(start.astimezone(ZoneInfo(s.get("timezone") or "UTC")), s["cron"])
                for s in crons
            ), (wanted["name"], run["expected_start_time"])


def test_server_log_has_no_service_errors(served):
    # Let the scheduler's loops run at least once more after the deployments and the run.
    time.sleep(6)
    assert served["server"].poll() is None, "the server stopped"
    log = served["server_log"].read_text()
    errors = [line for line in log.splitlines() if SERVER_LOG_ERRORS.search(line)]
    assert not errors, "\n".join(errors[:20])
