package dev.tamp.quantizers.mx;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.formats.codec.ScaleRule;
import dev.tamp.formats.onnx.proto.OnnxProto;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.rtn.RtnOptions;
import dev.tamp.quantizers.rtn.RtnQuantizer;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MX and RTN on a weight-only model built by hand from MiniLM's ONNX initializers (parsed with the generated
 * protobuf classes, no reader involved): the 2-D float initializers become PyTorch-style Linear weights.
 * Weight error ordered by precision, 64 MB throughput, --ignore, bad weights, slicing errors.
 */
class MxWeightOnlyTest {
    static Map<String, EncodedTensor> linears = new LinkedHashMap<>();

    @BeforeAll
    static void readInitializers() throws Exception {
        OnnxProto.ModelProto m;
        try (InputStream in = MxWeightOnlyTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            m = OnnxProto.ModelProto.parseFrom(in);
        }
        int i = 0;
        for (OnnxProto.TensorProto t : m.getGraph().getInitializerList()) {
            if (t.getDataType() != 1 || t.getDimsCount() != 2 || t.getDims(0) < 384 || t.getDims(1) < 384) continue; // FLOAT matrices
            float[] v = new float[(int) (t.getDims(0) * t.getDims(1))];
            if (!t.getRawData().isEmpty()) {
                t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            } else {
                for (int j = 0; j < v.length; j++) v[j] = t.getFloatData(j);
            }
            // the word embedding table is the one matrix with 30522 rows: keep it, named as an embedding
            String name = t.getDims(0) > 4096 ? "embeddings.word_embeddings.weight" : "layer" + (i++) + ".linear.weight";
            linears.put(name, new DenseWeight(Tensor.ofFloats(v, t.getDims(0), t.getDims(1))));
        }
        assertTrue(i >= 36, "MiniLM has 36 encoder matrices and a pooler, found " + i);
    }

    static Model model(Map<String, EncodedTensor> w) {
        return new Model(ModelFormat.SAFETENSORS, "minilm-initializers", null, null, w, Map.of(), Map.of(), null, List.of());
    }

    static double meanError(QuantReport r) {
        return r.rows().stream().mapToDouble(QuantReport.Row::relativeWeightError).average().orElseThrow();
    }

    @Test
    void weightErrorIsOrderedMxint8BelowMxfp6BelowMxfp4() {
        Map<MxFormat, Double> err = new EnumMap<>(MxFormat.class);
        for (MxFormat f : new MxFormat[] {MxFormat.MXINT8, MxFormat.MXFP6_E2M3, MxFormat.MXFP4_E2M1}) {
            QuantReport r = MxQuantizer.quantize(model(linears), new MxOptions(f, 32, ScaleRule.FLOOR, List.of()), Progress.NONE);
            assertEquals(linears.size() - 1, r.rows().size(), "every Linear weight, not the embedding");
            assertTrue(r.model().weights().get("embeddings.word_embeddings.weight") instanceof DenseWeight);
            err.put(f, meanError(r));
        }
        System.err.printf(Locale.ROOT, "MiniLM initializers, mean relative weight error: MXINT8 %.5f < MXFP6_E2M3 %.5f < MXFP4 %.5f%n",
                err.get(MxFormat.MXINT8), err.get(MxFormat.MXFP6_E2M3), err.get(MxFormat.MXFP4_E2M1));
        assertTrue(err.get(MxFormat.MXINT8) < err.get(MxFormat.MXFP6_E2M3), err.toString());
        assertTrue(err.get(MxFormat.MXFP6_E2M3) < err.get(MxFormat.MXFP4_E2M1), err.toString());
        // formats.md §2.5 SQNR on Gaussian blocks: MXINT8 41.7 dB (0.8 %), E2M3 30.9 dB (2.9 %), E2M1 18.8 dB (11.5 %)
        assertEquals(0.008, err.get(MxFormat.MXINT8), 0.004);
        assertEquals(0.029, err.get(MxFormat.MXFP6_E2M3), 0.012);
        assertEquals(0.115, err.get(MxFormat.MXFP4_E2M1), 0.04);
    }

    @Test
    void sixtyFourMegabytesOfWeightsQuantize() {
        Map<String, EncodedTensor> big = new LinkedHashMap<>();
        long bytes = 0;
        for (int copy = 0; bytes < 64L << 20; copy++) {
            for (Map.Entry<String, EncodedTensor> e : linears.entrySet()) {
                if (e.getKey().startsWith("embeddings") || bytes >= 64L << 20) continue;
                big.put("copy" + copy + "." + e.getKey(), e.getValue());
                bytes += e.getValue().storageBytes();
            }
        }
        for (MxFormat f : new MxFormat[] {MxFormat.MXINT8, MxFormat.MXFP4_E2M1}) {
            long t0 = System.nanoTime();
            QuantReport r = MxQuantizer.quantize(model(big), new MxOptions(f, 32, ScaleRule.FLOOR, List.of()), Progress.NONE);
            double s = (System.nanoTime() - t0) / 1e9;
            assertEquals(big.size(), r.rows().size());
            long after = r.rows().stream().mapToLong(QuantReport.Row::bytesAfter).sum();
            assertEquals(bytes * (f.bits() * 32 + 8) / (32 * 32), after, "packed bytes");
            double best = Double.MAX_VALUE; // the codec alone, best of 3
            for (int rep = 0; rep < 3; rep++) {
                long t1 = System.nanoTime();
                for (EncodedTensor w : big.values()) MxMatrix.quantize(((DenseWeight) w).tensor(), 1, f, 32, ScaleRule.FLOOR);
                best = Math.min(best, (System.nanoTime() - t1) / 1e9);
            }
            System.err.printf(Locale.ROOT, "%s: %.1f MB of FP32 weights: MxQuantizer (with error report) %.0f MB/s, MxMatrix.quantize %.0f MB/s (%d cores)%n",
                    f, bytes / 1e6, bytes / 1e6 / s, bytes / 1e6 / best, Runtime.getRuntime().availableProcessors());
        }
    }

    @Test
    void ignorePatternsNonFiniteWeightsAndNonAnchors() {
        QuantReport r = MxQuantizer.quantize(model(linears), new MxOptions(MxFormat.MXINT8, 32, ScaleRule.FLOOR, List.of("layer1*", "/^layer2\\d\\./")),
                Progress.NONE);
        assertTrue(r.rows().stream().noneMatch(x -> x.weight().startsWith("layer1") || x.weight().matches("layer2\\d\\..*")));
        assertTrue(r.rows().stream().anyMatch(x -> x.weight().equals("layer2.linear.weight")));

        Map<String, EncodedTensor> bad = new LinkedHashMap<>(linears);
        float[] v = ((DenseWeight) linears.get("layer3.linear.weight")).tensor().toFloatArray();
        long[] shape = linears.get("layer3.linear.weight").shape();
        v[7 * (int) shape[1] + 100] = Float.NaN;
        bad.put("layer3.linear.weight", new DenseWeight(Tensor.ofFloats(v, shape)));
        BadInputException e = assertThrows(BadInputException.class,
                () -> MxQuantizer.quantize(model(bad), new MxOptions(MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR, List.of()), Progress.NONE));
        assertEquals("minilm-initializers: weight layer3.linear.weight: row 7: non-finite value NaN at index 100", e.getMessage());
        BadInputException e2 = assertThrows(BadInputException.class,
                () -> RtnQuantizer.quantize(model(bad), new RtnOptions(4, true, 128, List.of()), Progress.NONE));
        assertEquals("minilm-initializers: weight layer3.linear.weight: row 7: non-finite value NaN at index 100", e2.getMessage());

        Model fp4 = MxQuantizer.quantize(model(linears), new MxOptions(MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR, List.of()), Progress.NONE).model();
        assertThrows(BadInputException.class, () -> MxSlicer.slice(fp4, MxFormat.MXINT4, Progress.NONE));
        assertThrows(BadInputException.class, () -> MxSlicer.slice(model(linears), MxFormat.MXINT4, Progress.NONE));
        Model fp8 = MxQuantizer.quantize(model(linears), new MxOptions(MxFormat.MXFP8_E4M3, 32, ScaleRule.FLOOR, List.of()), Progress.NONE).model();
        Model sliced = MxSlicer.slice(fp8, MxFormat.MXFP4_E2M1, Progress.NONE).model();
        MxWeight s = (MxWeight) sliced.weights().get("layer0.linear.weight");
        assertEquals(MxFormat.MXFP8_E4M3, s.anchor());
        assertEquals(MxFormat.MXFP4_E2M1, s.format());
    }

    @Test
    void rtnErrorsFollowBitsAndGroups() {
        Map<String, Double> err = new LinkedHashMap<>();
        for (Object[] o : new Object[][] {{8, true, 0}, {8, false, 128}, {4, true, 0}, {4, true, 128}, {4, false, 128}, {4, false, 32}, {4, true, 100}}) {
            RtnOptions opt = new RtnOptions((int) o[0], (boolean) o[1], (int) o[2], List.of());
            QuantReport r = RtnQuantizer.quantize(model(linears), opt, Progress.NONE);
            assertEquals(linears.size() - 1, r.rows().size());
            err.put("int" + o[0] + (((boolean) o[1]) ? "-sym" : "-asym") + "-g" + o[2], meanError(r));
        }
        System.err.println("MiniLM initializers, RTN mean relative weight error: " + err);
        assertTrue(err.get("int8-sym-g0") < 0.02 && err.get("int8-asym-g128") < err.get("int8-sym-g0"), err.toString());
        assertTrue(err.get("int4-sym-g128") < err.get("int4-sym-g0"), "groups beat per-channel: " + err);
        assertTrue(err.get("int4-asym-g32") < err.get("int4-asym-g128"), "smaller groups beat larger: " + err);
        assertTrue(err.get("int8-sym-g0") < err.get("int4-asym-g32"), err.toString());
    }
}
