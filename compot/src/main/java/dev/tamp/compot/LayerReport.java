package dev.tamp.compot;

/**
 * One row of the compression report. {@code atoms}/{@code sparsity} are set for COMPOT, {@code rank} for
 * the SVD baselines, all 0 for a layer kept dense. {@code whitenedRelativeError} is
 * {@code ‖X(W − Ŵ)ᵀ‖ / ‖X Wᵀ‖} from the undamped Gram, with Ŵ decoded from the stored encoding;
 * {@code damping} is the relative ε the whitening needed (NaN when no whitening was used).
 */
public record LayerReport(String name, String encoding, int atoms, int sparsity, int rank, long storageBytes,
                          long denseBytes, double whitenedRelativeError, double damping, int iterations) {
    public double storageRatio() { return (double) storageBytes / denseBytes; }
}
