package dev.tamp.quantizers;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TestModels;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.calib.LinearLayers;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.value.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * W·diag(s) with 1/s applied to the input leaves the FP32 function unchanged, whether 1/s is folded into an
 * RMSNorm γ (stories260K) or inserted as an explicit Mul (MiniLM's post-LN blocks and GELU outputs).
 */
class InputScalingTest {
    @Test
    void foldedAndExplicitScalesLeaveTheDecoderUnchanged() {
        Model m = ArchitectureBuilders.ensureGraph(ModelLoader.load(TestModels.stories(), Progress.NONE));
        long[] ids = {1, 403, 261, 115, 290, 352, 402, 267};
        InputScaling.Result r = scaleEveryGroup(m);
        assertEquals("folded into model.layers.0.input_layernorm", r.routes().get(inputOf(m, "model.layers.0.self_attn.q_proj")));
        assertEquals("explicit Mul", r.routes().get(inputOf(m, "model.layers.0.mlp.down_proj")));
        double rel = relativeChange(m, r.model(), Map.of("input_ids", Value.longs(ids, 1, ids.length)));
        System.err.printf("stories260K with random input scales: relative change of the logits %.2e%n", rel);
        assertTrue(rel < 1e-5, "relative change " + rel);
    }

    @Test
    void explicitScalesLeaveMiniLmUnchanged() {
        Model m = ModelLoader.load(TestModels.miniLm(), Progress.NONE);
        InputScaling.Result r = scaleEveryGroup(m);
        assertTrue(r.routes().values().stream().allMatch(v -> v.equals("explicit Mul")), "post-LN BERT has no foldable producer: " + r.routes());
        long[] ids = {101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102};
        Map<String, Value> in = new HashMap<>();
        in.put("input_ids", Value.longs(ids, 1, 9));
        in.put("attention_mask", Value.longs(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 9));
        in.put("token_type_ids", Value.longs(new long[9], 1, 9));
        double rel = relativeChange(m, r.model(), in);
        System.err.printf("MiniLM with random input scales: relative change of the last hidden state %.2e%n", rel);
        assertTrue(rel < 1e-5, "relative change " + rel);
    }

    static String inputOf(Model m, String nodeName) {
        return LinearLayers.of(m).stream().filter(l -> l.name().equals(nodeName)).findFirst().orElseThrow().input();
    }

    /** Every group of linears sharing an input gets W·diag(s), s random in [0.5, 2], and 1/s on its input. */
    static InputScaling.Result scaleEveryGroup(Model m) {
        Random rnd = new Random(3);
        Map<String, List<LinearLayers.Linear>> groups = new LinkedHashMap<>();
        for (LinearWeights.Target t : LinearWeights.select(m, List.of())) {
            LinearLayers.Linear l = LinearLayers.of(m).stream().filter(x -> x.weight().equals(t.weight())).findFirst().orElseThrow();
            groups.computeIfAbsent(l.input(), k -> new ArrayList<>()).add(l);
        }
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(m.weights());
        List<InputScaling.Group> scalings = new ArrayList<>();
        for (var e : groups.entrySet()) {
            int k = e.getValue().get(0).inFeatures();
            float[] s = new float[k], inv = new float[k];
            for (int j = 0; j < k; j++) {
                s[j] = (float) Math.pow(2, rnd.nextDouble() * 2 - 1);
                inv[j] = 1f / s[j];
            }
            List<Node> nodes = new ArrayList<>();
            for (LinearLayers.Linear l : e.getValue()) {
                float[] rows = LinearWeightRewriter.rowsOf((DenseWeight) weights.get(l.weight()), l.kAxis());
                int n = l.outFeatures();
                for (int o = 0; o < n; o++) for (int j = 0; j < k; j++) rows[o * k + j] *= s[j];
                weights.put(l.weight(), new DenseWeight(LinearWeightRewriter.fromRows(rows, n, k, l.kAxis())));
                nodes.add(l.node());
            }
            scalings.add(new InputScaling.Group(e.getKey(), inv, nodes));
        }
        return InputScaling.apply(m.withWeights(weights), scalings);
    }

    static double relativeChange(Model a, Model b, Map<String, Value> in) {
        String out = a.graph().outputs().get(0).name();
        Value x, y;
        try (Session s1 = new JavaBackend().open(a); Session s2 = new JavaBackend().open(b)) {
            x = s1.run(in, List.of(out), ExecutionListener.NONE).get(out);
            y = s2.run(in, List.of(out), ExecutionListener.NONE).get(out);
        }
        double num = 0, den = 0;
        for (int i = 0; i < x.size(); i++) {
            num += Math.pow(x.floats[i] - y.floats[i], 2);
            den += Math.pow(x.floats[i], 2);
        }
        return Math.sqrt(num / den);
    }
}
