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
    /** One smoothed group: its input, member weights and the range of the chosen scales. */
    public record Group(String input, List<String> weights, String route, double minScale, double maxScale) {}

    public record Result(Model model, List<Group> groups) {}

    private SmoothQuant() {}

    public static Result smooth(Model model, CalibrationStats stats, double alpha, List<String> ignore) {
        if (alpha < 0 || alpha > 1) throw new BadInputException("--alpha must be in [0, 1], not " + alpha);
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
            int k = cs.k;
            double[] wmax = new double[k];
            for (LinearLayers.Linear l : e.getValue()) columnAbsMax(((DenseWeight) weights.get(l.weight())).tensor(), l.kAxis(), wmax);
            float[] s = new float[k], inv = new float[k];
            double lo = Double.MAX_VALUE, hi = 0;
            for (int j = 0; j < k; j++) {
                double x = cs.absMax[j];
                double v = x == 0 ? 1.0 : Math.max(Math.pow(Math.max(x, 1e-5), alpha) / Math.pow(Math.max(wmax[j], 1e-5), 1 - alpha), 1e-5);
                s[j] = (float) v;
                inv[j] = (float) (1.0 / v);
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            List<String> names = new ArrayList<>();
            List<Node> nodes = new ArrayList<>();
            for (LinearLayers.Linear l : e.getValue()) {
                weights.put(l.weight(), new DenseWeight(scaleColumns(((DenseWeight) weights.get(l.weight())).tensor(), l.kAxis(), s)));
                names.add(l.weight());
                nodes.add(l.node());
            }
            scalings.add(new InputScaling.Group(e.getKey(), inv, nodes));
            groups.add(new Group(e.getKey(), names, "", lo, hi));
        }
        InputScaling.Result applied = InputScaling.apply(m.withWeights(weights), scalings);
        List<Group> routed = new ArrayList<>();
        for (Group g : groups) routed.add(new Group(g.input(), g.weights(), applied.routes().get(g.input()), g.minScale(), g.maxScale()));
        return new Result(applied.model(), routed);
    }

    /** Running max of |W[:, j]| over output rows into wmax (j along the K axis). */
    static void columnAbsMax(Tensor w, int kAxis, double[] wmax) {
        long[] s = w.shape();
        int rows = (int) s[0], cols = (int) s[1];
        float[] v = w.toFloatArray();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int j = kAxis == 0 ? r : c;
                wmax[j] = Math.max(wmax[j], Math.abs(v[r * cols + c]));
            }
        }
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
