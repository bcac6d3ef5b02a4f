package dev.tamp.quantizers.rtn;

import java.util.List;

/** Round-to-nearest options: bits (4 or 8), symmetric or with zero points, group size along K (0 = per channel). */
public record RtnOptions(int bits, boolean symmetric, int groupSize, List<String> ignore) {
    public RtnOptions {
        if (bits != 4 && bits != 8) throw new IllegalArgumentException("--bits must be 4 or 8, not " + bits);
        if (groupSize < 0) throw new IllegalArgumentException("--group must be ≥ 0 (0 = per output channel)");
        ignore = List.copyOf(ignore);
    }
}
