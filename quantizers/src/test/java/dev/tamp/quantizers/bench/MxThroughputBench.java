package dev.tamp.quantizers.bench;

import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.formats.codec.ScaleRule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * scripts/bench.sh mx: MX conversion throughput in MB/s of FP32 weight input (direct quantization and
 * Slice-and-Scale from an MXINT8/MXFP8 anchor) on a 4096×4096 matrix, best of 5; one JSON line per case.
 */
public final class MxThroughputBench {
    public static void main(String[] args) {
        int n = 4096, k = 4096;
        SplittableRandom r = new SplittableRandom(1);
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.02);
        Tensor t = Tensor.ofFloats(w, n, k);
        double mb = n * (double) k * 4 / 1e6;
        for (MxFormat f : new MxFormat[] {MxFormat.MXINT8, MxFormat.MXFP8_E4M3, MxFormat.MXFP6_E2M3, MxFormat.MXFP4_E2M1, MxFormat.MXINT4}) {
            double best = Double.MAX_VALUE;
            for (int rep = 0; rep < 5; rep++) {
                long s = System.nanoTime();
                MxMatrix.quantize(t, 1, f, 32, ScaleRule.FLOOR);
                best = Math.min(best, (System.nanoTime() - s) / 1e9);
            }
            print("direct", f.cliName(), mb / best);
        }
        for (MxFormat[] p : new MxFormat[][] {{MxFormat.MXINT8, MxFormat.MXINT4}, {MxFormat.MXFP8_E4M3, MxFormat.MXFP4_E2M1}}) {
            MxWeight anchor = MxMatrix.quantize(t, 1, p[0], 32, ScaleRule.FLOOR);
            double best = Double.MAX_VALUE;
            for (int rep = 0; rep < 5; rep++) {
                long s = System.nanoTime();
                MxMatrix.slice(anchor, p[1]);
                best = Math.min(best, (System.nanoTime() - s) / 1e9);
            }
            print("slice<" + p[0].cliName(), p[1].cliName(), mb / best);
        }
    }

    static void print(String route, String format, double mbPerS) {
        System.out.printf(Locale.ROOT, "{\"bench\":\"mx-throughput\",\"route\":\"%s\",\"format\":\"%s\",\"fp32_mb_per_s\":%.0f,\"threads\":%d,\"peak_rss_mb\":%d}%n",
                route, format, mbPerS, Runtime.getRuntime().availableProcessors(), dev.tamp.core.progress.ProcessStats.peakRssMb());
    }
}
