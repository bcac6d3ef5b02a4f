package dev.tamp.pruning;

/** How the kept weights of each N:M group are chosen (algorithms.md §4.2–4.4). */
public enum PruneMethod {
    /** |W_ij|; no calibration data needed for the mask. */
    MAGNITUDE,
    /** |W_ij|·‖X_j‖₂ (Sun et al. 2023); no weight update. */
    WANDA,
    /** Optimal Brain Surgeon updates through the inverse Hessian (Frantar and Alistarh 2023). */
    SPARSEGPT;

    public String cliName() { return name().toLowerCase(java.util.Locale.ROOT); }
}
