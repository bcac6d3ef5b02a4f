package dev.tamp.formats.gguf;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every block type tamp reads, filled with random bytes, decoded by tamp's reader and by ggml's own to_float
 * (llama.cpp oracle): bit-identical. Random bytes reach what quantizer output rarely does — every 6-bit scale and
 * min, subnormal, huge, infinite and NaN fp16 scales, sign bits on int8 scales.
 */
class GgmlDequantOracleTest {
    @TempDir Path tmp;

    /** Raw bits equal; NaNs need only both be NaN, since Java leaves NaN bit patterns to the platform. */
    static boolean sameBits(float a, float b) {
        return Float.floatToRawIntBits(a) == Float.floatToRawIntBits(b) || Float.isNaN(a) && Float.isNaN(b);
    }

    @Test
    void randomBlocksDecodeBitForBitAsGgml() {
        LlamaCppOracle oracle = LlamaCppOracle.require();
        SplittableRandom r = new SplittableRandom(2024);
        List<GgufWriter.TensorData> tensors = new ArrayList<>();
        long[] shape = {3, 512}; // two super-blocks (or sixteen 32-blocks) per row
        for (GgmlType t : GgmlType.values()) {
            if (!t.isBlockQuantized()) continue;
            byte[] raw = new byte[(int) t.bytes(shape[0] * shape[1])];
            r.nextBytes(raw);
            tensors.add(new GgufWriter.TensorData("t." + t, t, shape, raw));
        }
        Path file = tmp.resolve("random-blocks.gguf");
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("general.architecture", "test");
        GgufWriter.write(file, meta, tensors);
        Model m = new GgufReader().read(file, Progress.NONE);
        List<String> failures = new ArrayList<>();
        for (GgufWriter.TensorData td : tensors) {
            float[] want = oracle.dequantize(file, td.name());
            float[] got = ((DenseWeight) m.weights().get(td.name())).tensor().toFloatArray();
            assertEquals(want.length, got.length, td.name());
            int bad = 0, first = -1;
            for (int i = 0; i < want.length; i++) {
                if (!sameBits(want[i], got[i])) {
                    bad++;
                    if (first < 0) first = i;
                }
            }
            System.err.printf("ggml random blocks %-7s %5d values  %s%n", td.type(), want.length, bad == 0 ? "bit-exact" : bad + " differ");
            if (bad > 0) failures.add(td.type() + ": " + bad + " values differ, first at " + first + " (ggml " + want[first] + ", tamp " + got[first] + ")");
        }
        assertTrue(failures.isEmpty(), String.join("; ", failures));
    }
}
