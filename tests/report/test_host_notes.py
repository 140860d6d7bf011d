"""The report's int8 sentence describes the host that measured, read from the bench's host record."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekp.report.build import build_report
from edgekp.report.host_notes import has_int8_dot, int8_expectation

from .conftest import fixture_result, make_benched_run

VNNI_HOST = {"cpu": "Intel Xeon", "isa": ["avx2", "fma", "avx512f", "avx512_vnni"], "has_vnni": True, "cores": 2}
AVX2_HOST = {"cpu": "AMD EPYC", "isa": ["avx2", "fma", "f16c"], "has_vnni": False, "cores": 2}
ARM_DOT = {"cpu": "Cortex-A76", "isa": ["neon", "asimd", "asimddp"], "cores": 4}


@pytest.mark.parametrize(
    ("host", "expected"), [(VNNI_HOST, True), (AVX2_HOST, False), (ARM_DOT, True), ({"cpu": "x"}, None)]
)
def test_int8_dot_product_is_read_from_the_record(host, expected) -> None:
    assert has_int8_dot(host) is expected


def test_a_vnni_host_is_not_called_a_host_without_vnni() -> None:
    text = int8_expectation([VNNI_HOST])
    assert "avx512_vnni" in text and "can be faster" in text
    assert "not expected to be faster" not in text and "no VNNI" not in text


def test_a_host_without_vnni_expects_no_int8_speed_up() -> None:
    assert "not expected to be faster than fp32" in int8_expectation([AVX2_HOST])


def test_mixed_hosts_say_so() -> None:
    text = int8_expectation([VNNI_HOST, AVX2_HOST])
    assert "Hosts differ" in text and "Intel Xeon" in text and "AMD EPYC" in text


def test_rendered_report_follows_the_recorded_host(tmp_path: Path) -> None:
    for name, host, present, absent in (
        ("vnni", VNNI_HOST, "can be faster", "not expected to be faster"),
        ("avx2", AVX2_HOST, "not expected to be faster", "can be faster"),
    ):
        run = make_benched_run(tmp_path / name, fixture_result(host=host))
        out = build_report([run], tmp_path / f"report-{name}", command="edgekp report", plots=False)
        for doc in ((out.out / "report.md").read_text(), (out.out / "report.html").read_text()):
            assert present in doc and absent not in doc
