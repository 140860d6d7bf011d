"""Multi-head linear attention with a per-head gate (for Taylor head importance and pruning).

Softmax-free kernel attention: out = phi(Q) (phi(K)^T V) / (phi(Q) (phi(K)^T 1) + eps), so the cost is
linear in the number of tokens L. Only reshape/permute/matmul/sum/elementwise ops are used, which the
ONNX, TFLite, CoreML and OpenVINO converters all handle (no fused SDPA, no einsum, no custom ops).

qkv weight layout (what a head-pruning step slices): ``qkv`` is one Linear(dim, 3 * H * D) whose
output rows are grouped **per head**, then q/k/v inside the head::

    rows [h*3D      , h*3D +  D)  -> q of head h
    rows [h*3D +  D , h*3D + 2D)  -> k of head h
    rows [h*3D + 2D , h*3D + 3D)  -> v of head h

so removing head h removes one contiguous block of 3D rows of ``qkv.weight``/``qkv.bias`` and the
columns [h*D, (h+1)*D) of ``proj.weight`` (see ``head_slices``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from edgekp.errors import ConfigError


class KernelFeatureMap(nn.Module):
    """phi(x): elu(x) + 1 (smooth, strictly positive) or relu(x) (cheaper; zero rows rely on eps)."""

    def __init__(self, kind: str = "elu") -> None:
        super().__init__()
        if kind not in ("elu", "relu"):
            raise ConfigError(f"attention kernel must be 'elu' or 'relu' (got {kind!r})")
        self.kind = kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.elu(x) + 1.0 if self.kind == "elu" else F.relu(x)

    def extra_repr(self) -> str:
        return self.kind


class AttentionNormalizer(nn.Module):
    """The linear-attention normalizer: divides each query's output by phi(q) . sum_j phi(k_j) + eps.

    Kept as its own module so quantization-aware training can leave this division in float.
    """

    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, numerator: torch.Tensor, q: torch.Tensor, k_mean: torch.Tensor) -> torch.Tensor:
        # q: N,H,L,D ; k_mean: N,H,1,D -> denominator N,H,L,1 via a matmul (no einsum).
        denominator = torch.matmul(q, k_mean.transpose(-2, -1)) + self.eps
        return numerator / denominator

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


class FusedAttentionNormalizer(nn.Module):
    """numerator / (denominator + eps), both read from one matmul ``phi(Q) [phi(K)^T V | mean phi(K)^T]``.

    Input N,H,L,D+1: the first D columns are the numerator, the last the denominator. Both come from
    the *same* phi(Q) tensor, so when quantization-aware training quantizes the matmul's input, the
    numerator and the denominator see the same int8 phi(Q) and the ratio stays a weighted mean of V.
    In the two-matmul layout (``AttentionNormalizer``) only the numerator's phi(Q) is quantized: a
    query whose phi(Q) entries fall below one quantization step gets an int8 numerator over a float
    denominator, a ratio without bound. Same function in float, same parameters (none).
    """

    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, fused: torch.Tensor) -> torch.Tensor:
        d = fused.shape[-1] - 1
        return fused[..., :d] / (fused[..., d:] + self.eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


class LinearAttention(nn.Module):
    """Multi-head linear attention over tokens N x L x dim, with ``num_heads`` heads of ``head_dim``."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        head_dim: int,
        *,
        kernel: str = "elu",
        eps: float = 1e-6,
        qkv_bias: bool = True,
        fused_denominator: bool = False,
    ) -> None:
        super().__init__()
        if num_heads < 1 or head_dim < 1:
            raise ConfigError(f"attention needs num_heads >= 1 and head_dim >= 1 (got {num_heads}, {head_dim})")
        self.dim = dim
        self.num_heads = num_heads
        self.head_dim = head_dim
        inner = num_heads * head_dim
        self.qkv = nn.Linear(dim, 3 * inner, bias=qkv_bias)  # rows grouped per head: [q_h; k_h; v_h]
        self.feature_map = KernelFeatureMap(kernel)
        # Both are named `normalizer`, so the QAT recipes' ignored scope keeps either division in float.
        self.fused_denominator = fused_denominator
        self.normalizer = FusedAttentionNormalizer(eps) if fused_denominator else AttentionNormalizer(eps)
        # Multiplied into each head's output before proj; ones = no effect. A Parameter (frozen by
        # default) so that enabling its grad gives dLoss/dgate for Taylor importance.
        self.head_gate = nn.Parameter(torch.ones(num_heads), requires_grad=False)
        self.proj = nn.Linear(inner, dim)

    def enable_gate_grad(self, enabled: bool = True) -> None:
        self.head_gate.requires_grad_(enabled)

    def head_slices(self, head: int) -> tuple[slice, slice]:
        """(rows of qkv, columns of proj) that belong to ``head`` in this module's layout."""
        d = self.head_dim
        return slice(head * 3 * d, (head + 1) * 3 * d), slice(head * d, (head + 1) * d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, _ = x.shape
        h, d = self.num_heads, self.head_dim
        # N,L,H*3*D -> N,L,H,3D -> N,H,L,3D, then q/k/v by slicing: 4-D tensors only, because
        # onnx2tf mis-transposes the 5-D permute of the obvious layout (the TF route lost parity).
        qkv = self.qkv(x).reshape(n, length, h, 3 * d).permute(0, 2, 1, 3)
        q = self.feature_map(qkv[..., :d])
        k = self.feature_map(qkv[..., d : 2 * d])
        v = qkv[..., 2 * d :]
        # Averages over tokens instead of sums: the ratio is identical, and fp16 exports stay in range.
        inv_len = 1.0 / length
        kv = torch.matmul(k.transpose(-2, -1), v) * inv_len  # N,H,D,D: linear in L
        k_mean = k.mean(dim=2, keepdim=True)  # N,H,1,D
        if self.fused_denominator:  # one matmul: numerator and denominator from the same phi(Q)
            out = self.normalizer(torch.matmul(q, torch.cat([kv, k_mean.transpose(-2, -1)], dim=-1)))
        else:
            out = self.normalizer(torch.matmul(q, kv), q, k_mean)  # N,H,L,D
        out = out * self.head_gate.reshape(1, h, 1, 1)
        out = out.permute(0, 2, 1, 3).reshape(n, length, h * d)
        return self.proj(out)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_heads={self.num_heads}, head_dim={self.head_dim}"


@contextmanager
def gate_gradients(model: nn.Module) -> Iterator[list[tuple[str, nn.Parameter]]]:
    """Within the block, every attention gate requires grad; yields (module name, gate) pairs.

    After ``loss.backward()`` inside the block, ``gate.grad`` is dLoss/dgate per head (Taylor
    importance = |gate * grad|). Gates are restored to frozen on exit; their grads are left for reading.
    """
    gates = [(name, m.head_gate) for name, m in model.named_modules() if isinstance(m, LinearAttention)]
    previous = [g.requires_grad for _, g in gates]
    for _, gate in gates:
        gate.requires_grad_(True)
    try:
        yield gates
    finally:
        for (_, gate), was in zip(gates, previous, strict=True):
            gate.requires_grad_(was)
