package dev.tamp.runtime.eval;

import dev.tamp.core.ir.Model;
import dev.tamp.runtime.calib.LinearLayers;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.value.Value;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-layer relative error ‖y_cand − y_ref‖ / ‖y_ref‖ of every linear layer's output, accumulated over the
 * same inputs run through the reference and then the candidate, batch by batch: the reference's outputs of
 * one batch are kept, the candidate's are compared as they appear. It shows where in the network a
 * compressed model's error comes from and how it grows.
 */
public final class LayerErrors {
    private final Map<String, double[]> sums = new LinkedHashMap<>();
    private final Map<String, float[]> reference = new HashMap<>();

    /** Tracks the linear layers of the reference model, in graph order. */
    public LayerErrors(Model reference) {
        for (LinearLayers.Linear l : LinearLayers.of(reference)) sums.put(l.node().label(), new double[2]);
    }

    /** Listener for the reference run of a batch: keeps each linear layer's output. */
    public ExecutionListener reference() {
        reference.clear();
        return (node, in, out) -> {
            Value y = out.length == 0 ? null : out[0];
            if (y != null && y.isFloat() && sums.containsKey(node.label())) reference.put(node.label(), y.floats.clone());
        };
    }

    /** Listener for the candidate run of the same batch: adds its differences to the sums. */
    public ExecutionListener candidate() {
        return (node, in, out) -> {
            float[] r = reference.get(node.label());
            Value y = out.length == 0 ? null : out[0];
            if (r == null || y == null || !y.isFloat() || y.floats.length != r.length) return;
            double[] s = sums.get(node.label());
            for (int i = 0; i < r.length; i++) {
                double d = (double) y.floats[i] - r[i];
                s[0] += d * d;
                s[1] += (double) r[i] * r[i];
            }
        };
    }

    /** Layer → relative error, in graph order; layers the candidate never produced are left out. */
    public Map<String, Double> result() {
        Map<String, Double> out = new LinkedHashMap<>();
        sums.forEach((k, s) -> {
            if (s[1] > 0) out.put(k, Math.sqrt(s[0] / s[1]));
        });
        return out;
    }
}
