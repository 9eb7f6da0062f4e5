import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_every_entrypoint_imports_and_names_a_flow():
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    names = {d["name"] for d in config["deployments"]}
    assert {"weekly", "daily-ingest"} <= names
    for deployment in config["deployments"]:
        file, func = deployment["entrypoint"].split(":")
        spec = importlib.util.spec_from_file_location(f"ep_{func}", ROOT / file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        flow = getattr(module, func)
        assert hasattr(flow, "fn"), f"{deployment['entrypoint']} is not a Prefect flow"
        params = set(deployment.get("parameters", {}))
        assert params <= set(flow.parameters.properties), deployment["name"]


def test_weekly_schedule_is_monday_six_copenhagen():
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    weekly = next(d for d in config["deployments"] if d["name"] == "weekly")
    assert weekly["schedules"] == [{"cron": "0 6 * * 1", "timezone": "Europe/Copenhagen"}]
