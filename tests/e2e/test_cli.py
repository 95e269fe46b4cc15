"""The `wonder` command as a user runs it: demo, help, bulk upsert with resume and shards."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from wonder_sync import WonderClient

WONDER = [sys.executable, "-m", "wonder_async.cli"]


def _env(emu: Any, tmp_path: Path) -> dict[str, str]:
    key = tmp_path / "key.pem"
    key.write_text(emu.private_key_pem)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WONDER_")}
    env.update(
        WONDER_APP_ID=emu.app_id,
        WONDER_PRIVATE_KEY_FILE=str(key),
        WONDER_BASE_URL=emu.base_url,
    )
    return env


def _run(args: list[str], env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    return subprocess.run(
        [*WONDER, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def _write_csv(path: Path, count: int, bad_every: int = 0) -> set[int]:
    """Write `count` rows; every `bad_every`-th row is bad. Return the bad line numbers."""
    bad: set[int] = set()
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["reference_number", "name", "phone", "email"])
        for i in range(count):
            line = i + 2
            if bad_every and i % bad_every == bad_every - 1:
                bad.add(line)
                kind = i % 3
                row = [f"c-{i}", "N", "1", "not-an-email"] if kind == 0 else (
                    [f"c-{i}", "", "1", ""] if kind == 1 else [f"c-{i}", "x" * 300, "1", ""]
                )  # fmt: skip
            else:
                row = [f"c-{i}", f"Name {i}", "12345678", f"c{i}@example.com"]
            writer.writerow(row)
    return bad


def _results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _customer_refs(emu: Any) -> list[str]:
    with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as wonder:
        return [c.reference_number or "" for c in wonder.customers.list(page_size=1000)]


def test_help_everywhere() -> None:
    """--help works for the command and every subcommand."""
    for args in (
        [],
        ["demo"],
        ["emulator"],
        ["echo"],
        ["customers", "upsert"],
        ["customers", "get"],
        ["customers", "list"],
        ["tokens", "list"],
        ["tokens", "check"],
        ["tokens", "delete"],
        ["tokens", "export"],
        ["payments", "charge"],
        ["payments", "create"],
        ["orders", "get"],
        ["orders", "list"],
        ["orders", "void"],
        ["orders", "refund"],
    ):
        result = _run([*args, "--help"])
        assert result.returncode == 0, (args, result.stderr)
        assert "usage: wonder" in result.stdout


def test_demo_walks_the_whole_flow() -> None:
    """`wonder demo` runs the flow on the embedded emulator and says the uuid was stable."""
    result = _run(["demo"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "(same: True)" in out
    assert "state                  success" in out
    assert "4000000000003220" not in out
    assert "payment link" in out
    assert "tokens left            0" in out
    assert "order                  completed / paid" in out  # charged the saved card
    assert "recovered=True, no second charge" in out
    assert "in_completed / partial_paid" in out  # after the partial refund
    assert "CardDeclinedError      51: Insufficient funds" in out  # payment_data.resp_code
    assert "dashboard at http://127.0.0.1:8080/" in out  # where to watch it next time


def test_bulk_upsert_reports_bad_rows_and_upserts_the_rest(
    wonder_emulator_thread: Any, tmp_path: Path
) -> None:
    """Good rows land exactly once; bad rows are reported with line and field; exit is 1."""
    emu = wonder_emulator_thread
    rows = tmp_path / "rows.csv"
    bad = _write_csv(rows, 300, bad_every=20)
    out = tmp_path / "out.jsonl"
    result = _run(
        ["customers", "upsert", "--file", str(rows), "--out", str(out), "--concurrency", "16"],
        env=_env(emu, tmp_path),
    )
    assert result.returncode == 1, result.stderr
    records = _results(out)
    assert sorted(r["line"] for r in records) == list(range(2, 302))
    failed = {r["line"]: r for r in records if not r["ok"]}
    assert set(failed) == bad
    assert all(r.get("field", "").startswith("customer.") for r in failed.values())
    refs = _customer_refs(emu)
    assert len(refs) == len(set(refs)) == 300 - len(bad)
    assert "upserted 285, failed 15" in result.stdout


def test_resume_after_kill_finishes_without_duplicates(
    wonder_emulator_thread: Any, tmp_path: Path
) -> None:
    """A run killed with SIGKILL, then resumed, ends with every row done exactly once."""
    emu = wonder_emulator_thread
    rows = tmp_path / "rows.csv"
    _write_csv(rows, 3000)
    out = tmp_path / "out.jsonl"
    env = _env(emu, tmp_path)
    args = ["customers", "upsert", "--file", str(rows), "--out", str(out), "--concurrency", "8"]
    proc = subprocess.Popen([*WONDER, *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 20_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    partial = len(out.read_text().splitlines())
    assert 0 < partial < 3000
    result = _run([*args, "--resume"], env=env)
    assert result.returncode == 0, result.stderr
    lines = [r["line"] for r in _results(out)]
    assert sorted(lines) == list(range(2, 3002))
    refs = _customer_refs(emu)
    assert len(refs) == len(set(refs)) == 3000


def test_shards_split_the_rows_with_no_overlap(wonder_emulator_thread: Any, tmp_path: Path) -> None:
    """--shard 0/3, 1/3, 2/3 together cover every row exactly once."""
    emu = wonder_emulator_thread
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        "".join(
            json.dumps({"reference_number": f"j-{i}", "name": "N", "phone": "1"}) + "\n"
            for i in range(120)
        )
    )
    env = _env(emu, tmp_path)
    seen: list[int] = []
    for shard in range(3):
        out = tmp_path / f"out{shard}.jsonl"
        result = _run(
            [
                "customers",
                "upsert",
                "--file",
                str(rows),
                "--out",
                str(out),
                "--shard",
                f"{shard}/3",
            ],
            env=env,
        )
        assert result.returncode == 0, result.stderr
        part = [r["line"] for r in _results(out)]
        assert 0 < len(part) < 120
        seen += part
    assert sorted(seen) == list(range(1, 121))


def test_one_off_commands_print_json(wonder_emulator_thread: Any, tmp_path: Path) -> None:
    """echo, customers get/list and tokens list/check/delete print one JSON object per line."""
    emu = wonder_emulator_thread
    env = _env(emu, tmp_path)
    assert json.loads(_run(["echo", "--json"], env=env).stdout) == {"message": "Hello,Wonder!"}
    with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as wonder:
        from tests.e2e.test_async_flows import THREE_DS, card

        c = wonder.customers.upsert(reference_number="cli-1", name="N", phone="1")
        t = wonder.payment_tokens.create(c.uuid or "", card=card(), three_ds=THREE_DS)
        t2 = wonder.payment_tokens.create(c.uuid or "", card=card(), three_ds=THREE_DS)
    got = _run(["customers", "get", "--reference-number", "cli-1", "--json"], env=env)
    got = json.loads(got.stdout)
    assert got["uuid"] == c.uuid
    listed = _run(["customers", "list", "--json"], env=env).stdout.splitlines()
    assert [json.loads(x)["reference_number"] for x in listed] == ["cli-1"]
    listed_tokens = _run(["tokens", "list", c.uuid or "", "--json"], env=env).stdout.splitlines()
    assert [json.loads(x)["token"] for x in listed_tokens] == [t.token, t2.token]
    assert "one object per line" in _run(["tokens", "list", "--help"]).stdout
    check = json.loads(
        _run(["tokens", "check", c.uuid or "", t.token or "", "--json"], env=env).stdout
    )
    assert check["state"] == "success"
    assert _run(["tokens", "delete", c.uuid or "", t.token or ""], env=env).returncode == 0
    missing = _run(["tokens", "check", c.uuid or "", t.token or ""], env=env)
    assert missing.returncode == 1
    assert "NotFoundError" in missing.stderr


def test_exit_status_follows_the_results_file_across_resumes(
    wonder_emulator_thread: Any, tmp_path: Path
) -> None:
    """--resume keeps exiting 1 while failed rows stand; fixing them and resuming exits 0."""
    emu = wonder_emulator_thread
    env = _env(emu, tmp_path)
    rows = tmp_path / "rows.csv"
    bad = _write_csv(rows, 60, bad_every=10)
    out = tmp_path / "out.jsonl"
    args = ["customers", "upsert", "--file", str(rows), "--out", str(out), "--json"]
    first = _run(args, env=env)
    assert first.returncode == 1, first.stderr
    assert json.loads(first.stdout)["failed"] == len(bad)
    again = _run([*args, "--resume"], env=env)
    assert again.returncode == 1, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["upserted"], summary["failed"], summary["failed_before"]) == (0, 6, 6)
    assert summary["skipped"] == 60
    assert len(_results(out)) == 60  # nothing was sent again
    fixed = [
        line if i + 1 not in bad else f"c-{i - 1},Fixed,12345678,fixed{i}@example.com"
        for i, line in enumerate(rows.read_text().splitlines())
    ]
    rows.write_text("\n".join(fixed) + "\n")
    final = _run([*args, "--resume"], env=env)
    assert final.returncode == 0, final.stdout
    assert json.loads(final.stdout)["upserted"] == len(bad)
    last: dict[int, bool] = {}
    for record in _results(out):
        last[record["line"]] = record["ok"]
    assert len(last) == 60
    assert all(last.values())
    assert len(_customer_refs(emu)) == 60


def test_version_is_the_packages() -> None:
    """`wonder --version` names the installed version, the one both packages report."""
    import wonder_async
    import wonder_sync

    result = _run(["--version"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wonder {wonder_async.__version__}"
    assert wonder_sync.__version__ == wonder_async.__version__
    assert wonder_async.__version__.count(".") == 2


def test_unknown_option_prints_the_subcommands_usage() -> None:
    """A mistyped option is reported with the usage of the subcommand it was given to."""
    result = _run(["orders", "list", "--customer-id", "x"])
    assert result.returncode == 2
    assert "usage: wonder orders list" in result.stderr
    assert "--customer-uuid" in result.stderr  # the option the user meant is in that usage
    assert "unrecognized arguments: --customer-id x" in result.stderr


def test_missing_configuration_is_said_in_command_line_words(tmp_path: Path) -> None:
    """Without an AppID the error names --app-id and WONDER_APP_ID, not a Python argument."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WONDER_")}
    result = _run(["echo"], env=env)
    assert result.returncode == 1
    assert "pass --app-id or set WONDER_APP_ID" in result.stderr
    assert "app_id=" not in result.stderr


def test_charge_refund_and_orders_print_readable_lines(
    wonder_emulator_thread: Any, tmp_path: Path
) -> None:
    """payments create, orders refund/get/list print lines a person reads (no tuple or dict
    reprs, no line of JSON); --json gives one object per line; one option name per concept."""
    emu = wonder_emulator_thread
    env = _env(emu, tmp_path)
    with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as wonder:
        from tests.e2e.test_async_flows import THREE_DS, card

        c = wonder.customers.upsert(reference_number="cli-h", name="N", phone="1")
        t = wonder.payment_tokens.create(c.uuid or "", card=card(), three_ds=THREE_DS)
    token, customer = t.token or "", c.uuid or ""
    create = _run(
        [
            *("payments", "create", "--token", token, "--amount", "21.00", "--currency", "HKD"),
            *("--reference-number", "inv-h", "--customer-uuid", customer),
        ],
        env=env,
    )
    assert create.returncode == 0, create.stderr
    lines = create.stdout.splitlines()
    assert lines[0].startswith("charged HKD 21.00 on order ")
    assert lines[0].endswith("(reference inv-h)")
    assert any("completed / paid" in line for line in lines)
    (txn_line,) = [line for line in lines if line.strip().startswith("transaction")]
    (sale,) = re.findall(r"[0-9a-f]{8}-[0-9a-f-]{27}", txn_line)
    assert "{" not in create.stdout  # no dict reprs
    assert "'" not in create.stdout  # no tuple reprs
    refund = _run(
        [
            *("orders", "refund", "--reference-number", "inv-h", "--transaction-uuid", sale),
            *("--amount", "5.00"),
        ],
        env=env,
    )
    assert refund.returncode == 0, refund.stderr
    assert refund.stdout.startswith(f"refunded HKD 5.00 of sale {sale}\n")
    assert "partial_paid" in refund.stdout
    listed = _run(["orders", "list", "--customer-uuid", customer], env=env)
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert rows[0].startswith("order ")
    assert "reference inv-h" in rows[0]
    assert "2 transactions" in rows[0]
    assert [r.split()[0] for r in rows[1:]] == ["Sales", "Refund"]
    assert "{" not in listed.stdout
    assert "'" not in listed.stdout
    got = _run(["orders", "get", "--reference-number", "inv-h", "--json"], env=env)
    (order,) = [json.loads(line) for line in got.stdout.splitlines()]
    assert [x["type"] for x in order["transactions"]] == ["Sales", "Refund"]
    as_json = _run(
        [
            "payments",
            "create",
            "--token",
            token,
            "--amount",
            "1.00",
            "--json",
            "--reference-number",
            "inv-h",
        ],
        env=env,
    )
    (payment,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert payment["transaction"]["amount"] == "1.00"
    assert "extra" not in payment["order"]


def test_customers_get_with_a_reference_hints_at_reference_number(
    wonder_emulator_thread: Any, tmp_path: Path
) -> None:
    """`customers get u-1` (a reference where a uuid goes) says how to look it up instead."""
    emu = wonder_emulator_thread
    env = _env(emu, tmp_path)
    with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as wonder:
        wonder.customers.upsert(reference_number="u-1", name="N", phone="1")
    wrong = _run(["customers", "get", "u-1"], env=env)
    assert wrong.returncode == 1
    assert "wonder customers get --reference-number u-1" in wrong.stderr
    right = _run(["customers", "get", "--reference-number", "u-1"], env=env)
    assert right.returncode == 0, right.stderr
    assert "reference u-1" in right.stdout


def test_export_summary_counts_in_words(wonder_emulator_thread: Any, tmp_path: Path) -> None:
    """One token of one customer is "1 token of 1 customer", not "1 tokens of 1 customers"."""
    emu = wonder_emulator_thread
    env = _env(emu, tmp_path)
    with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as wonder:
        from tests.e2e.test_async_flows import THREE_DS, card

        c = wonder.customers.upsert(reference_number="one", name="N", phone="1")
        wonder.payment_tokens.create(c.uuid or "", card=card(), three_ds=THREE_DS)
    out = tmp_path / "tokens.jsonl"
    result = _run(["tokens", "export", "--out", str(out)], env=env)
    assert result.returncode == 0, result.stderr
    assert f"exported 1 token of 1 customer to {out}" in result.stdout
    assert "1 row " in result.stderr  # the progress line
