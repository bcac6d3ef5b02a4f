package dev.tamp.core.progress;

import java.nio.file.Files;
import java.nio.file.Path;

/** Figures about this process that reports and benchmarks print. */
public final class ProcessStats {
    private ProcessStats() {}

    /** Peak resident set size in MB (Linux VmHWM), or -1 where /proc is not available. */
    public static long peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D+", "")) / 1024;
            }
        } catch (Exception e) {
            // not Linux: no figure
        }
        return -1;
    }
}
