package dev.tamp.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.codec.Sparse24Codec;
import dev.tamp.quantizers.LinearWeights;
import dev.tamp.runtime.kernels.WeightDecoders;
import dev.tamp.runtime.pipeline.Pooling;
import dev.tamp.runtime.tokenizer.Tokenizer;
import dev.tamp.runtime.tokenizer.Tokenizers;
import dev.tamp.runtime.torch.TrainableGraph;
import dev.tamp.runtime.value.Value;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Distillation on the real MiniLM: autograd vs finite differences, a falling loss, exact resume, MF-QAT anchors. */
class DistillerTest {
    static Model teacher;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        byte[] tj;
        try (InputStream in = DistillerTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            tj = in.readAllBytes();
        }
        teacher = ModelLoader.load(TestModels.miniLm(), Progress.NONE).withTokenizer(tj);
        tokenizer = Tokenizers.fromJson(tj);
    }

    /** Magnitude 2:4 of every linear weight (two largest |w| of each group of 4 along K kept). */
    static Model magnitude24(Model m) {
        Map<String, EncodedTensor> w = new LinkedHashMap<>(m.weights());
        for (LinearWeights.Target t : LinearWeights.select(m, List.of())) {
            EncodedTensor d = w.get(t.weight());
            long[] s = d.shape();
            int n = (int) EncodedTensor.rows(s, t.kAxis()), k = (int) EncodedTensor.cols(s, t.kAxis());
            float[] rows = StudentWeight.toRows(WeightDecoders.decodeAsStored(t.weight(), d), n, k, t.kAxis()).clone();
            boolean[] keep = new boolean[rows.length];
            for (int g = 0; g < rows.length; g += 4) {
                Integer[] idx = {0, 1, 2, 3};
                final int base = g;
                java.util.Arrays.sort(idx, (a, b) -> Float.compare(Math.abs(rows[base + b]), Math.abs(rows[base + a])));
                keep[g + idx[0]] = true;
                keep[g + idx[1]] = true;
            }
            w.put(t.weight(), Sparse24Codec.encode(rows, keep, n, k, s, t.kAxis()));
        }
        return m.withWeights(w);
    }

    static DistillOptions options(int steps, int every, Path ckpt, Path resume, List<MxFormat> mx) {
        return new DistillOptions(steps, 2e-4f, 4, 16, 2, 7, 0.01f, DistillOptions.Loss.MSE, 1f, 0f, mx, MxFormat.MXINT8, every, ckpt, resume);
    }

    @Test
    void autogradGradientMatchesFiniteDifferences() {
        String wname = LinearWeights.select(teacher, List.of()).get(3).weight();
        DenseWeight dw = (DenseWeight) teacher.weights().get(wname);
        float[] w0 = dw.tensor().toFloatArray();
        Map<String, Value> in = Distiller.inputs(teacher, tokenizer, List.of("The committee met on a Tuesday.", "Rain fell all night."), 16);
        float[] probe = new float[384];
        for (int i = 0; i < probe.length; i++) probe[i] = (float) Math.sin(i * 0.37);
        String out = Distiller.hiddenOutput(teacher);
        try (TrainableGraph g = new TrainableGraph(teacher, Set.of(wname))) {
            float[] grad;
            try (NDManager run = g.manager().newSubManager()) {
                NDArray w = run.create(w0, new Shape(dw.shape()));
                w.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    NDArray loss = probeLoss(g, run, w, wname, in, out, probe);
                    gc.backward(loss);
                }
                grad = w.getGradient().toFloatArray();
            }
            int[] picks = {5, 1000, 40_000, 77_777, 120_000, 147_000};
            int checked = 0;
            for (int p : picks) {
                float eps = 1e-2f;
                double plus = lossAt(g, w0, p, eps, dw.shape(), wname, in, out, probe);
                double minus = lossAt(g, w0, p, -eps, dw.shape(), wname, in, out, probe);
                double fd = (plus - minus) / (2 * eps);
                assertEquals(fd, grad[p], 2e-3 + 0.05 * Math.abs(fd), "d loss / d " + wname + "[" + p + "]");
                if (Math.abs(fd) > 1e-3) checked++;
            }
            assertTrue(checked >= 3, "most probed gradients are non-trivial");
        }
    }

    private static NDArray probeLoss(TrainableGraph g, NDManager run, NDArray w, String wname, Map<String, Value> in, String out, float[] probe) {
        NDArray h = g.forward(run, Map.of(wname, w), in, List.of(out)).get(out);
        NDArray e = Distiller.pool(h, in.get("attention_mask").longs, Pooling.MEAN, run);
        NDArray pr = run.create(probe, new Shape(1, probe.length));
        NDArray s = e.mul(pr).sum();
        return s.mul(s);
    }

    private static double lossAt(TrainableGraph g, float[] w0, int p, float d, long[] shape, String wname, Map<String, Value> in, String out, float[] probe) {
        float[] w = w0.clone();
        w[p] += d;
        try (NDManager run = g.manager().newSubManager()) {
            return probeLoss(g, run, run.create(w, new Shape(shape)), wname, in, out, probe).toFloatArray()[0];
        }
    }

    @Test
    void lossFallsAndTheMaskStays() {
        Model student = magnitude24(teacher);
        Distiller.Result r = Distiller.distill(teacher, student, tokenizer,
                new DistillOptions(16, 3e-4f, 4, 16, 2, 3, 0.01f, DistillOptions.Loss.MSE, 1f, 0f, List.of(), MxFormat.MXINT8, 0, null, null), Progress.NONE);
        double first = (r.losses()[0] + r.losses()[1] + r.losses()[2] + r.losses()[3]) / 4, last = 0;
        for (int i = 12; i < 16; i++) last += r.losses()[i] / 4;
        assertTrue(last < 0.9 * first, "loss fell: first 4 steps " + first + ", last 4 " + last);
        for (String name : r.trained()) {
            Sparse24Weight before = (Sparse24Weight) student.weights().get(name), after = (Sparse24Weight) r.student().weights().get(name);
            assertEquals(before.indices(), after.indices(), name + ": 2:4 pattern unchanged");
        }
    }

    @Test
    void featureLossMatchesEveryLayerAndIsZeroForTheTeacherItself() {
        String hidden = Distiller.hiddenOutput(teacher);
        List<String> f = Distiller.featureTargets(teacher, magnitude24(teacher), hidden);
        assertTrue(f.size() >= 6 * 4, "every layer's QKV, attention-output, FFN-up and FFN-down inputs: " + f.size());
        assertEquals(hidden, f.get(f.size() - 1));
        try (NDManager mgr = NDManager.newBaseManager(null, "PyTorch")) {
            float[] t = new float[2 * 3 * 2], s = new float[t.length];
            for (int i = 0; i < t.length; i++) {
                t[i] = i + 1;
                s[i] = 1.1f * t[i];
            }
            s[10] = s[11] = 1e6f; // the padded token (batch 1, position 2) must not count
            long[] mask = {1, 1, 1, 1, 1, 0};
            NDArray e = Distiller.relativeError(mgr.create(s, new Shape(2, 3, 2)), mgr.create(t, new Shape(2, 3, 2)), mask, mgr);
            assertEquals(0.01, e.toFloatArray()[0], 1e-5, "‖0.1·t‖²/‖t‖² over unpadded tokens");
        }
        Distiller.Result self = Distiller.distill(teacher, teacher, tokenizer,
                new DistillOptions(1, 1e-6f, 4, 16, 0, 3, 0f, DistillOptions.Loss.MSE, 1f, 1f, List.of(), MxFormat.MXINT8, 0, null, null), Progress.NONE);
        assertEquals(0, self.firstLoss(), 1e-6, "the teacher as its own student matches every feature");
        Distiller.Result r = Distiller.distill(teacher, magnitude24(teacher), tokenizer,
                new DistillOptions(12, 3e-4f, 4, 16, 2, 3, 0.01f, DistillOptions.Loss.MSE, 1f, 1f, List.of(), MxFormat.MXINT8, 0, null, null), Progress.NONE);
        double first = (r.losses()[0] + r.losses()[1] + r.losses()[2]) / 3, last = (r.losses()[9] + r.losses()[10] + r.losses()[11]) / 3;
        assertTrue(last < 0.9 * first, "loss with the feature term fell: " + first + " -> " + last);
    }

    @Test
    void resumeEqualsUninterruptedAndRunsRepeat(@TempDir Path dir) {
        Model student = magnitude24(teacher);
        Path ck = dir.resolve("ck");
        Distiller.Result full = Distiller.distill(teacher, student, tokenizer, options(4, 2, ck, null, List.of()), Progress.NONE);
        Distiller.Result again = Distiller.distill(teacher, student, tokenizer, options(4, 0, null, null, List.of()), Progress.NONE);
        Distiller.Result resumed = Distiller.distill(teacher, student, tokenizer, options(4, 0, null, ck, List.of()), Progress.NONE);
        assertEquals(2, resumed.startStep());
        for (String name : full.trained()) {
            float[] a = values(full.student(), name);
            assertArrayEquals(a, values(again.student(), name), name + ": identical runs");
            assertArrayEquals(a, values(resumed.student(), name), name + ": resumed run");
        }
        assertArrayEquals(full.losses(), resumed.losses());
    }

    @Test
    @Tag("slow")
    void mfQatSamplesFormatsAndSavesTheAnchor() {
        List<MxFormat> fs = List.of(MxFormat.MXINT8, MxFormat.MXFP8_E4M3, MxFormat.MXFP6_E3M2, MxFormat.MXFP4_E2M1);
        Distiller.Result r = Distiller.distill(teacher, teacher, tokenizer, options(6, 0, null, null, fs), Progress.NONE);
        assertEquals(6, r.formatCounts().values().stream().mapToInt(Integer::intValue).sum());
        assertTrue(r.formatCounts().size() >= 2, "several formats sampled: " + r.formatCounts());
        for (String name : r.trained()) {
            MxWeight w = assertInstanceOf(MxWeight.class, r.student().weights().get(name));
            assertEquals(MxFormat.MXINT8, w.format());
        }
    }

    @Test
    @Tag("slow")
    void studentFromTeacherLayers() {
        Model all = LayerSelection.select(teacher, new int[] {0, 1, 2, 3, 4, 5});
        assertEquals(teacher.graph().nodes(), all.graph().nodes(), "keeping every layer gives the teacher's graph");
        Model three = LayerSelection.select(teacher, new int[] {0, 2, 4});
        assertTrue(three.weights().size() < teacher.weights().size() * 0.6, "half the layers' weights are gone");
        Distiller.Result r = Distiller.distill(teacher, three, tokenizer,
                new DistillOptions(10, 3e-4f, 4, 16, 1, 5, 0.01f, DistillOptions.Loss.MSE, 1f, 0f, List.of(), MxFormat.MXINT8, 0, null, null), Progress.NONE);
        assertEquals(19, r.trained().size(), "3 layers × 6 linear weights + the pooler");
        double first = (r.losses()[0] + r.losses()[1] + r.losses()[2]) / 3, last = (r.losses()[7] + r.losses()[8] + r.losses()[9]) / 3;
        assertTrue(last < 0.9 * first, "3-layer student's loss fell: " + first + " -> " + last);
    }

    private static float[] values(Model m, String name) {
        return WeightDecoders.decodeAsStored(name, m.weights().get(name));
    }
}
