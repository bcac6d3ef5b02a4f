package dev.tamp.quantizers;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies X ← X·diag(1/s) to the input X of a group of linear layers whose weights were multiplied by diag(s)
 * (SmoothQuant, AWQ), so the FP32 function is unchanged. Where X's producer is channel-wise linear and X feeds
 * only the group (algorithms.md §0.4), 1/s is folded into the producer's per-channel constants:
 * <ul>
 *   <li>{@code Mul(z, γ)} — an RMSNorm's last step (Llama input_layernorm and post_attention_layernorm): γ ← γ/s;</li>
 *   <li>{@code Add(Mul(z, γ), β)} — a decomposed LayerNorm: γ ← γ/s, β ← β/s;</li>
 *   <li>{@code LayerNormalization(z, γ, β)}: the same.</li>
 * </ul>
 * Otherwise (post-LN encoders such as MiniLM and BGE, whose LayerNorm output also feeds the residual; GELU
 * outputs) a per-channel {@code Mul} by 1/s is inserted right before the group's first layer. The constants
 * folded into must be used by that one node, so nothing else changes.
 */
public final class InputScaling {
    /** One group: the value its layers read, 1/s per input channel, and the layers (nodes) that read it. */
    public record Group(String input, float[] inverse, List<Node> layers) {}

    /** The rewritten model and, per group input, how the scale was applied ("folded into NODE" or "explicit Mul"). */
    public record Result(Model model, Map<String, String> routes) {}

    private InputScaling() {}

    public static Result apply(Model model, List<Group> groups) {
        Graph graph = model.graph();
        Map<String, Node> producer = new HashMap<>();
        Map<String, List<Node>> consumers = new HashMap<>();
        Map<String, Integer> uses = new HashMap<>();
        for (Node n : graph.nodes()) {
            for (String o : n.outputs()) producer.put(o, n);
            for (String i : n.inputs()) {
                consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
                uses.merge(i, 1, Integer::sum);
            }
        }
        for (var v : graph.outputs()) uses.merge(v.name(), 1, Integer::sum);
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(model.weights());
        Map<String, String> routes = new LinkedHashMap<>();
        Map<Node, Node> mulBefore = new HashMap<>();
        Map<Node, String> rewire = new HashMap<>();
        for (Group g : groups) {
            Set<Node> members = new HashSet<>(g.layers());
            List<Node> readers = consumers.getOrDefault(g.input(), List.of());
            boolean onlyGroup = members.containsAll(readers) && uses.getOrDefault(g.input(), 0) == readers.size();
            List<String> targets = onlyGroup ? foldTargets(producer.get(g.input()), weights, uses, producer, g.inverse().length) : null;
            if (targets != null) {
                for (String t : targets) weights.put(t, new DenseWeight(times(((DenseWeight) weights.get(t)).tensor(), g.inverse())));
                routes.put(g.input(), "folded into " + producer.get(g.input()).label());
                continue;
            }
            String scaleName = g.input() + "/input_scale", scaled = g.input() + "/scaled";
            weights.put(scaleName, new DenseWeight(Tensor.ofFloats(g.inverse().clone(), g.inverse().length)));
            Node first = null;
            for (Node n : graph.nodes()) {
                if (members.contains(n)) {
                    first = n;
                    break;
                }
            }
            mulBefore.put(first, new Node(g.input() + "/input_scale_mul", "Mul", "", List.of(g.input(), scaleName), List.of(scaled), Map.of()));
            for (Node n : g.layers()) rewire.put(n, scaled);
            routes.put(g.input(), "explicit Mul");
        }
        List<Node> nodes = new ArrayList<>();
        for (Node n : graph.nodes()) {
            Node mul = mulBefore.get(n);
            if (mul != null) nodes.add(mul);
            String target = rewire.get(n);
            if (target == null) {
                nodes.add(n);
            } else {
                List<String> in = new ArrayList<>(n.inputs());
                in.set(0, target);
                nodes.add(new Node(n.name(), n.opType(), n.domain(), in, n.outputs(), n.attributes()));
            }
        }
        return new Result(model.withGraph(graph.withNodes(nodes)).withWeights(weights), routes);
    }

    /** The per-channel constants of a foldable producer, or null when the producer cannot absorb the scale. */
    private static List<String> foldTargets(Node p, Map<String, EncodedTensor> weights, Map<String, Integer> uses,
                                            Map<String, Node> producer, int k) {
        if (p == null) return null;
        switch (p.opType()) {
            case "Mul" -> {
                String c = channelConstant(p, weights, uses, k);
                return c == null ? null : List.of(c);
            }
            case "Add" -> {
                String beta = channelConstant(p, weights, uses, k);
                if (beta == null) return null;
                String y = p.inputs().get(p.inputs().get(0).equals(beta) ? 1 : 0);
                if (uses.getOrDefault(y, 0) != 1) return null;
                Node q = producer.get(y);
                if (q == null || !q.opType().equals("Mul")) return null;
                String gamma = channelConstant(q, weights, uses, k);
                return gamma == null ? null : List.of(gamma, beta);
            }
            case "LayerNormalization" -> {
                List<String> out = new ArrayList<>();
                for (int i = 1; i < Math.min(3, p.inputs().size()); i++) {
                    String w = p.inputs().get(i);
                    if (w.isEmpty()) continue;
                    if (!isChannelVector(weights.get(w), k) || uses.getOrDefault(w, 0) != 1) return null;
                    out.add(w);
                }
                return out.isEmpty() ? null : out;
            }
            default -> {
                return null;
            }
        }
    }

    /** The one input of a binary node that is a float weight of shape [K] used only there, or null. */
    private static String channelConstant(Node n, Map<String, EncodedTensor> weights, Map<String, Integer> uses, int k) {
        if (n.inputs().size() != 2) return null;
        String a = n.inputs().get(0), b = n.inputs().get(1);
        boolean aw = weights.containsKey(a), bw = weights.containsKey(b);
        if (aw == bw) return null;
        String w = aw ? a : b;
        return isChannelVector(weights.get(w), k) && uses.getOrDefault(w, 0) == 1 ? w : null;
    }

    private static boolean isChannelVector(EncodedTensor e, int k) {
        return e instanceof DenseWeight d && d.tensor().dtype().isFloatingPoint() && d.tensor().rank() == 1 && d.tensor().dim(0) == k;
    }

    private static Tensor times(Tensor t, float[] f) {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) v[i] *= f[i];
        return Tensor.ofFloats(v, t.shape());
    }
}
