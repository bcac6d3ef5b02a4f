package dev.tamp.runtime.calib;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What calibration produced: channel statistics per linear input value, which input each linear layer's
 * weight reads, and a description (sample count, tokens, seed, calibration-set hash).
 */
public record CalibrationStats(Map<String, ChannelStats> byInput, Map<String, String> inputOfWeight, Map<String, String> info) {
    public CalibrationStats {
        byInput = new LinkedHashMap<>(byInput);
        inputOfWeight = new LinkedHashMap<>(inputOfWeight);
        info = new LinkedHashMap<>(info);
    }

    /** Statistics of the input the given weight multiplies, or null. */
    public ChannelStats forWeight(String weight) {
        String in = inputOfWeight.get(weight);
        return in == null ? null : byInput.get(in);
    }
}
