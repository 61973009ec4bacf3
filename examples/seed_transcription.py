"""The handwritten derivation's final formulas (../shared/seed/handwritten-derivation.md), transcribed literally.

Readings chosen where the OCR'd page is ambiguous:
- ψ is the softmax over the K classes. The page's denominator sums over
  j = 1..N, but the same page uses j for classes (Δ = 1 when y_i = j), so N
  is read as a slip for K.
- The formulas are per example and drop transposes ("· a²", "w² Φ(z²)").
  They are read as the only products whose shapes fit, summed over the batch
  as the mean in J requires: a2ᵀ δ3, δ3 W2ᵀ, Xᵀ δ2, Σ_i.
- ∂J/∂b2 writes φ(z³) for ψ(z³): read as ψ, the page's own result two lines up.
- ∂J/∂W1's last line writes ψ(z²) − Δ: read as ψ(z³), as in every earlier
  line of that derivation (ψ(z²) − Δ does not even have Δ's shape when H ≠ K),
  and φ^i(z²) as φ'(z²), the OCR of a prime.
- ∂J/∂b1 ends with Φ(z²): kept as written. The line above it differentiates
  Φ(z²) by z², so Φ' belongs there; this is the derivation's real mistake.
- The regulariser λ(‖w⁰‖² + ‖w⁰‖²) is read as λ(‖W1‖² + ‖W2‖²), whose
  gradient 2λW the page gets right.
"""

from learner import PHI, PHI_PRIME, forward, one_hot


def grad(params, X, y, lam, activation):
    N, K = X.shape[0], params["W2"].shape[1]
    z2, a2, a3 = forward(params, X, activation)
    dJ_dz3 = (1 / N) * (a3 - one_hot(y, K, X.dtype))  # (1/N)(ψ(z³) − Δ)
    W2, phi, phi_prime = params["W2"], PHI[activation], PHI_PRIME[activation]
    return {
        "W2": a2.T @ dJ_dz3 + 2 * lam * W2,  # (1/N)(ψ(z³) − Δ) · a² + 2λw²
        "b2": dJ_dz3.sum(axis=0),  # (1/N)(φ(z³) − Δ)
        "b1": ((dJ_dz3 @ W2.T) * phi(z2)).sum(axis=0),  # (1/N)(Ψ(z³) − Δ) · (w²) · Φ(z²)
        "W1": X.T @ ((dJ_dz3 @ W2.T) * phi_prime(z2)) + 2 * lam * params["W1"],  # … w² φ'(z²) · a¹ + 2λw¹
    }
