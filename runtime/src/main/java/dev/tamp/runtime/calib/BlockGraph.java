package dev.tamp.runtime.calib;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.runtime.exec.GraphExecutor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A model's graph cut into the pieces a block-sequential pass runs one after another: the prefix (embeddings, masks,
 * position tables), one segment per transformer block, and the suffix (final norm, head, pooler). Each segment is a
 * small model of its own — its nodes, only the weights those nodes read, and as graph inputs the values earlier
 * segments produced — so running block k materialises block k's weights and nothing else.
 *
 * <p>A node's block is read from its name ({@link TransformerBlocks}). Unnamed helper nodes before the first block go to
 * the prefix, after the last one to the suffix, and in between to the latest segment among their producers (the
 * earliest place they can run). The cut is refused (empty) when the graph has no numbered blocks or when some node
 * would read a value from a later segment — an interleaving a sequential pass cannot honour.
 */
public final class BlockGraph {
    /** Segment key of the nodes before the first block. */
    public static final int PREFIX = -1;
    /** Segment key of the nodes after the last block (same as {@link TransformerBlocks#OUTSIDE}). */
    public static final int SUFFIX = TransformerBlocks.OUTSIDE;

    /**
     * One piece of the graph.
     *
     * @param block    {@link #PREFIX}, a block index, or {@link #SUFFIX}
     * @param model    the segment as a runnable model: inputs are the values it reads from earlier segments (or the
     *                 model's own inputs), outputs the values it produces that later segments (or the model's outputs)
     *                 read
     * @param dropAfter values of the running state that no segment after this one reads (free them once it has run)
     */
    public record Segment(int block, Model model, List<String> inputs, List<String> outputs, Set<String> dropAfter) {}

    private final List<Segment> segments;

    private BlockGraph(List<Segment> segments) {
        this.segments = List.copyOf(segments);
    }

    public List<Segment> segments() {
        return segments;
    }

    /** Cuts {@code model} (which must have a graph) into prefix, blocks and suffix; empty when it has no block structure. */
    public static Optional<BlockGraph> cut(Model model) {
        Graph g = model.graph();
        if (g == null) return Optional.empty();
        Set<String> weights = model.weights().keySet();
        List<Node> order = GraphExecutor.topologicalOrder(g, weights);
        int n = order.size();
        int[] named = new int[n];
        int first = -1, last = -1;
        for (int i = 0; i < n; i++) {
            named[i] = TransformerBlocks.indexOf(order.get(i).name());
            if (named[i] != TransformerBlocks.OUTSIDE) {
                if (first < 0) first = i;
                last = i;
            }
        }
        if (first < 0) return Optional.empty();
        Map<String, Integer> producedIn = new HashMap<>();
        int[] seg = new int[n];
        for (int i = 0; i < n; i++) {
            Node node = order.get(i);
            int latestProducer = PREFIX;
            for (String in : node.inputs()) {
                Integer s = producedIn.get(in);
                if (s != null && s > latestProducer) latestProducer = s;
            }
            if (named[i] != TransformerBlocks.OUTSIDE) seg[i] = named[i];
            else if (i < first) seg[i] = PREFIX;
            else if (i > last) seg[i] = SUFFIX;
            else seg[i] = latestProducer;
            if (latestProducer > seg[i]) return Optional.empty(); // reads a value computed in a later segment
            for (String out : node.outputs()) producedIn.put(out, seg[i]);
        }
        TreeMap<Integer, List<Node>> bySegment = new TreeMap<>();
        for (int i = 0; i < n; i++) bySegment.computeIfAbsent(seg[i], k -> new ArrayList<>()).add(order.get(i));
        // The last segment (in order) that reads each value; the model's outputs count as read after every segment.
        Map<String, Integer> lastReader = new HashMap<>();
        for (int i = 0; i < n; i++) for (String in : order.get(i).inputs()) lastReader.merge(in, seg[i], Math::max);
        Set<String> graphOutputs = new HashSet<>();
        for (ValueInfo v : g.outputs()) graphOutputs.add(v.name());
        List<Segment> out = new ArrayList<>();
        for (Map.Entry<Integer, List<Node>> e : bySegment.entrySet()) {
            int key = e.getKey();
            List<Node> nodes = e.getValue();
            Set<String> produced = new HashSet<>();
            for (Node node : nodes) produced.addAll(node.outputs());
            Set<String> inputs = new LinkedHashSet<>();
            Map<String, EncodedTensor> segWeights = new LinkedHashMap<>();
            for (Node node : nodes) {
                for (String in : node.inputs()) {
                    if (in.isEmpty() || produced.contains(in)) continue;
                    EncodedTensor w = model.weights().get(in);
                    if (w != null) segWeights.put(in, w);
                    else inputs.add(in);
                }
            }
            List<String> outputs = new ArrayList<>();
            for (Node node : nodes) {
                for (String o : node.outputs()) {
                    if (o.isEmpty()) continue;
                    if (graphOutputs.contains(o) || lastReader.getOrDefault(o, Integer.MIN_VALUE) > key) outputs.add(o);
                }
            }
            Set<String> drop = new HashSet<>();
            for (String in : inputs) if (!graphOutputs.contains(in) && lastReader.getOrDefault(in, Integer.MIN_VALUE) <= key) drop.add(in);
            List<ValueInfo> ins = new ArrayList<>();
            for (String in : inputs) ins.add(new ValueInfo(in, null, null));
            List<ValueInfo> outs = new ArrayList<>();
            for (String o : outputs) outs.add(new ValueInfo(o, null, null));
            Graph sub = new Graph(g.name() + "/" + label(key), nodes, ins, outs);
            out.add(new Segment(key, model.withGraph(sub).withWeights(segWeights), List.copyOf(inputs), List.copyOf(outputs), drop));
        }
        return Optional.of(new BlockGraph(out));
    }

    /** "prefix", "block 3" or "suffix". */
    public static String label(int block) {
        return block == PREFIX ? "prefix" : block == SUFFIX ? "suffix" : "block " + block;
    }
}
