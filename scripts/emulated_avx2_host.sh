#!/usr/bin/env bash
# Run a command as if on an AVX2-only x86-64 host (no AVX-512, no VNNI, no AMX), to check numerics
# whose kernels depend on the CPU (issue 14: int8 results that differed between AVX2 and VNNI hosts).
#
#   bash scripts/emulated_avx2_host.sh python -m pytest tests/compress/test_qat.py -k round_trip
#
# Needs root (a private mount namespace and a bind mount) and qemu-user.
#
# Two things make the host look AVX2-only, and both are needed:
# - qemu-x86_64 (Debian package qemu-user, 7.2 or newer: TCG runs AVX2) with -cpu Haswell-noTSX, so
#   CPUID, which onnxruntime's MLAS, oneDNN (OpenVINO, PyTorch) and XNNPACK read to pick their
#   kernels, reports Haswell's ISA: the AVX2 kernels run, emulated;
# - a copy of /proc/cpuinfo without the AVX-512/VNNI/AMX flags bind-mounted over it in a private
#   mount namespace (unshare -m), because qemu-user passes the real file through and edgekp reads its
#   ISA (overflow fix, the ISA recorded with every figure) from it.
# - PyTorch's and NumPy's own kernels are held at their SSE level (ATEN_CPU_CAPABILITY=default,
#   NPY_DISABLE_CPU_FEATURES): PyTorch's AVX2 grid_sample and NumPy's AVX2 np.maximum segfault under
#   QEMU 7.2's TCG. Their fp32 results do not depend on the ISA beyond rounding; the kernels under
#   test (int8 in onnxruntime, OpenVINO, XNNPACK) keep Haswell's AVX2.
# Timings under emulation mean nothing (TCG is 10-30x slower); only verdicts and numerics do.
set -euo pipefail
command -v qemu-x86_64 >/dev/null || { echo "qemu-x86_64 not found (apt-get install qemu-user)" >&2; exit 2; }
[ "$#" -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
python_bin=$(python3 -c 'import sys; print(sys.executable)')
fake=$(mktemp /tmp/cpuinfo_avx2.XXXXXX)
trap 'rm -f "$fake"' EXIT
sed -E '/^flags/ s/ (avx512[a-z0-9_]*|avx_vnni[a-z0-9_]*|amx[a-z0-9_]*)//g' /proc/cpuinfo > "$fake"
cmd=("$@")
[ "${cmd[0]}" = python ] || [ "${cmd[0]}" = python3 ] && cmd[0]=$python_bin  # not a pyenv shell shim
export ATEN_CPU_CAPABILITY=default NPY_DISABLE_CPU_FEATURES="AVX2 FMA3 F16C AVX"
unshare -m bash -c 'mount --bind "$0" /proc/cpuinfo && exec qemu-x86_64 -cpu Haswell-noTSX "${@}"' "$fake" "${cmd[@]}" \
    2> >(grep -v "TCG doesn't support requested feature" >&2)
