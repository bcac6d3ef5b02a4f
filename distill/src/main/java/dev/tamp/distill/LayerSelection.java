package dev.tamp.distill;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ValueInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A shallower student made of some of the teacher's transformer layers (nodes named {@code …/layer.I/…}, as BERT-style
 * ONNX exports name them): the other layers' nodes are removed and each kept layer reads the hidden state the previous
 * kept layer writes. Each layer must have exactly one hidden-state output that leaves it.
 */
public final class LayerSelection {
    private static final Pattern LAYER = Pattern.compile("/layers?\\.(\\d+)/");

    private LayerSelection() {}

    public static Model select(Model teacher, int[] keep) {
        Graph g = teacher.graph();
        Map<Node, Integer> layerOf = new HashMap<>();
        int layers = 0;
        for (Node n : g.nodes()) {
            Matcher m = LAYER.matcher(n.name() == null ? "" : n.name());
            if (m.find()) {
                int l = Integer.parseInt(m.group(1));
                layerOf.put(n, l);
                layers = Math.max(layers, l + 1);
            }
        }
        if (layers == 0) throw new UnsupportedModelException(teacher.source() + ": no nodes named …/layer.N/…; --student-layers needs a BERT-style graph");
        Set<Integer> kept = new HashSet<>();
        int prev = -1;
        for (int k : keep) {
            if (k < 0 || k >= layers) throw new BadInputException("--student-layers: layer " + k + " does not exist (the teacher has " + layers + ")");
            if (k <= prev) throw new BadInputException("--student-layers must be increasing");
            prev = k;
            kept.add(k);
        }
        // per layer: the value it hands on (produced inside, read outside) and the hidden state it reads (the previous layer's)
        String[] out = new String[layers];
        Set<String> graphOutputs = new HashSet<>();
        for (ValueInfo v : g.outputs()) graphOutputs.add(v.name());
        Map<String, List<Node>> consumers = g.consumers();
        for (Node n : g.nodes()) {
            Integer l = layerOf.get(n);
            if (l == null) continue;
            for (String o : n.outputs()) {
                boolean leaves = graphOutputs.contains(o) || consumers.getOrDefault(o, List.of()).stream().anyMatch(c -> !l.equals(layerOf.get(c)));
                if (!leaves) continue;
                if (out[l] != null && !out[l].equals(o)) throw new UnsupportedModelException("layer " + l + " hands on more than one value (" + out[l] + ", " + o + ")");
                out[l] = o;
            }
        }
        Set<String> inLayer0 = new HashSet<>(), inLayer1 = new HashSet<>();
        for (Node n : g.nodes()) {
            Integer l = layerOf.get(n);
            if (l != null && l == 0) inLayer0.addAll(n.inputs());
            if (l != null && l == 1) inLayer1.addAll(n.inputs());
        }
        Set<String> producedIn0 = new HashSet<>();
        for (Node n : g.nodes()) if (Integer.valueOf(0).equals(layerOf.get(n))) producedIn0.addAll(n.outputs());
        String in0 = null;
        Map<String, Node> producers = g.producers();
        List<String> candidates = new ArrayList<>();
        for (String i : new java.util.TreeSet<>(inLayer0)) {
            Node p = producers.get(i);
            if (producedIn0.contains(i) || teacher.weights().containsKey(i) || (layers > 1 && inLayer1.contains(i)) || p == null
                    || p.opType().equals("Constant")) continue;
            candidates.add(i);
        }
        if (candidates.size() > 1) candidates.removeIf(i -> !producers.get(i).label().contains("embeddings"));
        if (candidates.size() != 1) throw new UnsupportedModelException("cannot tell layer 0's hidden input among " + candidates);
        in0 = candidates.get(0);
        if (in0 == null) throw new UnsupportedModelException("cannot find layer 0's hidden input");
        if (keep.length == 0) throw new BadInputException("--student-layers names no layer");
        // rename: layer l's reading of its predecessor's value becomes the last kept layer's value
        Map<String, String> rename = new HashMap<>();
        String current = in0;
        for (int l = 0; l < layers; l++) {
            String readName = l == 0 ? in0 : out[l - 1];
            if (kept.contains(l)) {
                rename.put(readName, current);
                current = out[l];
            }
        }
        String lastOut = out[layers - 1];
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            Integer l = layerOf.get(n);
            if (l != null && !kept.contains(l)) continue;
            List<String> ins = new ArrayList<>();
            for (String i : n.inputs()) {
                String r = i;
                if (l != null && i.equals(l == 0 ? in0 : out[l - 1])) r = rename.get(i);
                ins.add(r);
            }
            // the last kept layer's hand-on value takes the name the teacher's last layer gave it (often a graph output)
            List<String> outsOfNode = new ArrayList<>(n.outputs());
            if (l != null && l == keep[keep.length - 1]) outsOfNode.replaceAll(o -> o.equals(out[l]) ? lastOut : o);
            nodes.add(new Node(n.name(), n.opType(), n.domain(), ins, outsOfNode, n.attributes()));
        }
        List<ValueInfo> outs = new ArrayList<>(g.outputs());
        Set<String> used = new HashSet<>();
        for (Node n : nodes) used.addAll(n.inputs());
        Map<String, EncodedTensor> w = new LinkedHashMap<>();
        teacher.weights().forEach((k, v) -> {
            if (used.contains(k)) w.put(k, v);
        });
        return teacher.withGraph(new Graph(g.name(), nodes, g.inputs(), outs)).withWeights(w);
    }
}
