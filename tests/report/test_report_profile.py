"""The report's "where the time goes" section, from a real ``edgekp bench --profile`` of real OpenVINO
exports (fp32 and int8 of a tiny model): present with the profile's own numbers in Markdown, HTML and
JSON; absent without a profile.json; a corrupt one is a one-line user error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from face_fixtures import run_cli, scaled_tiny_model

from edgekp.cli import main

from .conftest import fixture_result

SIZE = 64
TITLE = "## Where the time goes (per-operator profile, 1 thread)"


@pytest.fixture(scope="module")
def profiled_run(tmp_path_factory) -> Path:
    """A run with a real model, OpenVINO fp32 and int8 exports, and bench/profile.json from the CLI.
    Its bench.json is the report fixture's (the accuracy bench is not what this tests)."""
    from edgekp.artifacts import RunDir
    from edgekp.models.io import save_model

    path = tmp_path_factory.mktemp("profiled") / "train"
    run = RunDir.create(path, "train", recipe={"model": {"name": "kp_hvit_test", "input_size": SIZE, "num_points": 68}})
    save_model(path / "model.pt", scaled_tiny_model(SIZE), {"scheme": "ibug68", "crop_margin": 0.25})
    run.finish("ok")
    for precision in ("fp32", "int8"):  # int8 calibrates on the recipe's default synthetic set
        assert main(["export", "--from", str(path), "--target", "openvino", "--precision", precision, "-q"]) == 0
    assert main(["bench", "--from", str(path), "--profile", "--threads", "1", "-q"]) == 0
    data = fixture_result()
    data["run_name"] = path.name
    (path / "bench" / "bench.json").write_text(json.dumps(data))
    return path


def _profiles(run: Path) -> dict[str, dict]:
    entries = json.loads((run / "bench" / "profile.json").read_text())
    return {e["precision"]: e for e in entries}


def _kind_shares(entry: dict) -> dict[str, tuple[float, int]]:
    merged: dict[str, list] = {}
    for row in entry["by_kind"]:
        cell = merged.setdefault(row["kind"], [0.0, 0])
        cell[0] += row["share"]
        cell[1] += row["count"]
    return {k: (s, n) for k, (s, n) in merged.items()}


def _row(md: str, name: str) -> list[str]:
    line = next(x for x in md.splitlines() if x.startswith(f"| {name} |"))
    return [c.strip() for c in line.split("|")[1:-1]]


def test_report_shows_the_profile_fp32_beside_int8(profiled_run: Path, tmp_path: Path, capsys) -> None:
    prof = _profiles(profiled_run)
    fp32, int8 = prof["fp32"], prof["int8"]
    # (The static OpenVINO IR may fuse every FakeQuantize, so int8's Q/DQ count can be 0; its int8 ops cannot.)
    assert (
        fp32["threads"] == 1
        and "isa" in fp32["host"]
        and int8["int8_ops"] > 0
        and fp32["int8_ops"] == fp32["qdq_ops"] == 0
    )
    out = tmp_path / "rep"
    code, _, err = run_cli(capsys, "report", str(profiled_run), "--out", str(out), "--no-samples")
    assert code == 0, err
    md = (out / "report.md").read_text()
    assert TITLE in md and "### train: OpenVINO" in md
    section = md[md.index(TITLE) :]
    header = _row(section, "")
    assert header[1].startswith("fp32 (") and header[2].startswith("int8 (")  # fp32 beside int8
    ratio = int8["total_ms"] / fp32["total_ms"]
    assert _row(section, "total ms") == [
        "total ms",
        f"{fp32['total_ms']:.3f}",
        f"{int8['total_ms']:.3f} ({ratio:.2f}x fp32)",
    ]
    assert _row(section, "quantize/dequantize ops")[1:] == ["0", str(int8["qdq_ops"])]
    assert _row(section, "ops computing in int8")[1:] == ["0", str(int8["int8_ops"])]
    left = _row(section, "ops left in float (int8 graph)")
    assert left[1] == "- (float graph)" and left[2].split(":")[0] == str(int8["float_ops"])
    # The biggest op kind of the fp32 graph is listed with its own share and count; the rest sums to 100 %.
    shares = _kind_shares(fp32)
    top_kind, (top_share, top_count) = max(shares.items(), key=lambda kv: kv[1][0])
    assert _row(section, top_kind)[1] == f"{top_share:.1%} ({top_count})"
    table = section[section.index("| total ms |") :].split("\n\n")[0].splitlines()
    kind_rows = table[table.index(next(x for x in table if x.startswith("| quantize/dequantize ops |"))) + 1 :]
    assert kind_rows[-1].startswith("| other |")
    for column in (1, 2):  # fp32, int8: the kinds shown plus "other" cover all the op time
        cells = [_row(r, r.split("|")[1].strip())[column] for r in kind_rows]
        total = sum(float(c.split("%")[0]) for c in cells if c != "-")
        assert total == pytest.approx(100.0, abs=0.05 * len(cells) + 1e-9)
    isa = ", ".join(fp32["host"]["isa"]) or "?"
    assert f"ISA {isa} (" in section
    html = (out / "report.html").read_text()
    assert "<h2>Where the time goes (per-operator profile, 1 thread)</h2>" in html
    assert f"<td>quantize/dequantize ops</td><td>0</td><td>{int8['qdq_ops']}</td>" in html
    report = json.loads((out / "report.json").read_text())
    assert report["profiles"][0]["artifacts"] == json.loads((profiled_run / "bench" / "profile.json").read_text())


def test_profile_without_export_fields_is_paired_from_its_artifact_text(profiled_run: Path, tmp_path: Path) -> None:
    """A profile.json written before the target/precision/route fields existed still pairs fp32 with int8."""
    from edgekp.report.profile_tables import load_run_profiles, runtime_tables

    run = tmp_path / "old"
    (run / "bench").mkdir(parents=True)
    entries = json.loads((profiled_run / "bench" / "profile.json").read_text())
    for e in entries:
        for key in ("target", "precision", "route", "threads", "host"):
            e.pop(key)
    (run / "bench" / "profile.json").write_text(json.dumps(entries[::-1]))  # int8 first: order must not matter
    found = load_run_profiles(run, "old")
    assert found is not None
    [(heading, header, rows, _)] = runtime_tables(found)
    assert heading == "old: OpenVINO" and header[1].startswith("fp32 (") and header[2].startswith("int8 (")
    assert rows[0][2].endswith("x fp32)")


def test_no_profile_no_section(benched_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    assert main(["report", str(benched_run), "--out", str(out), "--no-samples"]) == 0
    assert "Where the time goes" not in (out / "report.md").read_text()
    assert "Where the time goes" not in (out / "report.html").read_text()
    assert json.loads((out / "report.json").read_text())["profiles"] == []


def test_corrupt_profile_is_a_user_error(benched_run: Path, tmp_path: Path, capsys) -> None:
    (benched_run / "bench" / "profile.json").write_text(json.dumps({"runtime": "openvino"}))
    code, _, err = run_cli(capsys, "report", str(benched_run), "--out", str(tmp_path / "rep"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "is not an edgekp profile" in err
    assert not (tmp_path / "rep" / "report.md").exists()


def test_reference_script_profiles_the_shipped_run(
    profiled_run: Path, shared_data: Path, tmp_path: Path, monkeypatch
) -> None:
    """The reference report (edgekp.report.reference) runs `edgekp bench --profile` on the shipped run (its
    exports already there), its face-set report shows the section and the index points at it; a second call
    reuses the profile."""
    import shutil

    from edgekp.report import reference as script

    run = tmp_path / "kp_tiny"
    shutil.copytree(profiled_run, run)
    shutil.rmtree(run / "bench")  # neither the fixture bench nor the profile: the script makes both
    out = tmp_path / "reference"
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    assert (
        script.main(
            [
                "--data-root",
                str(shared_data),
                "--train",
                str(run),
                "--sets",
                "merlrav_test",
                "--skip-export",
                "--no-peers",
                "--max-faces",
                "8",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    written = (run / "bench" / "profile.json").stat().st_mtime_ns
    assert {e["precision"] for e in json.loads((run / "bench" / "profile.json").read_text())} == {"fp32", "int8"}
    md = (out / "merlrav_test" / "report.md").read_text()
    assert TITLE in md and "### kp_tiny: OpenVINO" in md
    assert "merlrav_test/report.md#where-the-time-goes-per-operator-profile-1-thread" in (out / "README.md").read_text()
    assert script.profile(run) and (run / "bench" / "profile.json").stat().st_mtime_ns == written
