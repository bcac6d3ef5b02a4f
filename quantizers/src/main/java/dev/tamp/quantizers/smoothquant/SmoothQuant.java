package dev.tamp.quantizers.smoothquant;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.calib.CalibrationStats;
import dev.tamp.runtime.calib.ChannelStats;
import dev.tamp.runtime.calib.LinearLayers;
import dev.tamp.quantizers.InputScaling;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.LinearWeights;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SmoothQuant's migration step (Xiao et al.; algorithms.md §1): for each group of linear layers sharing an
 * input X, per input channel s_j = max|X_j|^α / max_i max|W_i[:, j]|^(1−α) (both clamped at 1e-5), then
 * X ← X·diag(s)^−1 and W_i ← W_i·diag(s), which leaves the FP32 model's function unchanged.
 *
 * <p>X·diag(s)^−1 goes where {@link InputScaling} can put it: folded into an RMSNorm/LayerNorm γ (and β) that
 * feeds only the group (Llama's input_layernorm and post_attention_layernorm), else an explicit per-channel Mul
 * before the group (the INC-style route for post-LN encoders such as MiniLM and BGE, whose LayerNorm output
 * also feeds the residual). Folding through v_proj → o_proj and up → down is not done: those are explicit.
 */
public final class SmoothQuant {
    /** One group: its input, member weights, the α used (negative: not smoothed), route and range of the scales. */
    public record Group(String input, List<String> weights, double alpha, String route, double minScale, double maxScale, float[] inverse) {}

    public record Result(Model model, List<Group> groups) {}

    /** Chooses α for one group of linears sharing an input; a negative value leaves the group unsmoothed. */
    @FunctionalInterface
    public interface AlphaChoice {
        double choose(ChannelStats input, List<float[]> weightRows, int[] outFeatures);
    }

    private SmoothQuant() {}

    public static Result smooth(Model model, CalibrationStats stats, double alpha, List<String> ignore) {
        if (alpha < 0 || alpha > 1) throw new BadInputException("--alpha must be in [0, 1] or auto, not " + alpha);
        return smooth(model, stats, (x, w, n) -> alpha, ignore);
    }

    public static Result smooth(Model model, CalibrationStats stats, AlphaChoice choice, List<String> ignore) {
        Model m = ArchitectureBuilders.ensureGraph(model);
        Map<String, LinearWeights.Target> selected = new LinkedHashMap<>();
        for (LinearWeights.Target t : LinearWeights.select(m, ignore)) selected.put(t.weight(), t);
        Map<String, List<LinearLayers.Linear>> byInput = new LinkedHashMap<>();
        for (LinearLayers.Linear l : LinearLayers.of(m)) {
            if (selected.containsKey(l.weight())) byInput.computeIfAbsent(l.input(), k -> new ArrayList<>()).add(l);
        }
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(m.weights());
        List<InputScaling.Group> scalings = new ArrayList<>();
        List<Group> groups = new ArrayList<>();
        for (Map.Entry<String, List<LinearLayers.Linear>> e : byInput.entrySet()) {
            ChannelStats cs = stats.byInput().get(e.getKey());
            if (cs == null) throw new BadInputException("calibration statistics have no entry for linear input " + e.getKey());
            List<float[]> rows = new ArrayList<>();
            int[] ns = new int[e.getValue().size()];
            List<String> names = new ArrayList<>();
            for (int i = 0; i < ns.length; i++) {
                LinearLayers.Linear l = e.getValue().get(i);
                rows.add(LinearWeightRewriter.rowsOf((DenseWeight) weights.get(l.weight()), l.kAxis()));
                ns[i] = l.outFeatures();
                names.add(l.weight());
            }
            double alpha = choice.choose(cs, rows, ns);
            if (alpha < 0) {
                groups.add(new Group(e.getKey(), names, alpha, "not smoothed", 1, 1, null));
                continue;
            }
            float[] s = scales(cs.absMax, weightAbsMax(rows, ns, cs.k), alpha);
            float[] inv = new float[s.length];
            double lo = Double.MAX_VALUE, hi = 0;
            for (int j = 0; j < s.length; j++) {
                inv[j] = (float) (1.0 / s[j]);
                lo = Math.min(lo, s[j]);
                hi = Math.max(hi, s[j]);
            }
            List<Node> nodes = new ArrayList<>();
            for (LinearLayers.Linear l : e.getValue()) {
                weights.put(l.weight(), new DenseWeight(scaleColumns(((DenseWeight) weights.get(l.weight())).tensor(), l.kAxis(), s)));
                nodes.add(l.node());
            }
            scalings.add(new InputScaling.Group(e.getKey(), inv, nodes));
            groups.add(new Group(e.getKey(), names, alpha, "", lo, hi, inv));
        }
        InputScaling.Result applied = InputScaling.apply(m.withWeights(weights), scalings);
        List<Group> routed = new ArrayList<>();
        for (Group g : groups) {
            String route = g.alpha() < 0 ? g.route() : applied.routes().get(g.input());
            routed.add(new Group(g.input(), g.weights(), g.alpha(), route, g.minScale(), g.maxScale(), g.inverse()));
        }
        return new Result(applied.model(), routed);
    }

    /**
     * s_j = max|X_j|^α / max|W_j|^(1−α), both clamped at 1e−5, the result at ≥ 1e−5; a channel never seen
     * non-zero in calibration gets s_j = 1 [OURS, algorithms.md §1.6: the reference's 1e−5 would blow up unseen data].
     */
    static float[] scales(float[] xAbsMax, double[] wAbsMax, double alpha) {
        float[] s = new float[xAbsMax.length];
        for (int j = 0; j < s.length; j++) {
            double x = xAbsMax[j];
            s[j] = (float) (x == 0 ? 1.0 : Math.max(Math.pow(Math.max(x, 1e-5), alpha) / Math.pow(Math.max(wAbsMax[j], 1e-5), 1 - alpha), 1e-5));
        }
        return s;
    }

    /** max over the group's output rows of |W[:, j]| per input channel j, from [n][k] rows. */
    static double[] weightAbsMax(List<float[]> rows, int[] ns, int k) {
        double[] wmax = new double[k];
        for (int i = 0; i < ns.length; i++) {
            float[] w = rows.get(i);
            for (int r = 0; r < ns[i]; r++) for (int j = 0; j < k; j++) wmax[j] = Math.max(wmax[j], Math.abs(w[r * k + j]));
        }
        return wmax;
    }

    /** W·diag(s) along the K axis. */
    static Tensor scaleColumns(Tensor w, int kAxis, float[] s) {
        long[] shape = w.shape();
        int rows = (int) shape[0], cols = (int) shape[1];
        float[] v = w.toFloatArray();
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) v[r * cols + c] *= s[kAxis == 0 ? r : c];
        return Tensor.ofFloats(v, shape);
    }
}
