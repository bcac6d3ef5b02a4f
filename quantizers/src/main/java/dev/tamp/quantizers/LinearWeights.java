package dev.tamp.quantizers;

import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.calib.LinearLayers;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which weights a quantizer touches: the right operands of the graph's linear layers (MatMul/Gemm: ONNX
 * [K][N] initializers have kAxis 0, Gemm with transB kAxis 1), minus weights that some other op also reads
 * (a tied embedding feeding Gather) and minus the user's --ignore patterns (globs with * and ?, or regexes
 * when written /like this/), matched against the weight name and the node name. A weight-only model
 * (no graph) gets the graph of its architecture; when there is no builder for it, every 2-D float
 * {@code *.weight} tensor is taken as a PyTorch Linear weight [N][K] (kAxis 1), except embeddings and norms.
 */
public final class LinearWeights {
    /** A selected weight and the orientation of its reduction axis. */
    public record Target(String weight, String node, int kAxis) {}

    private LinearWeights() {}

    /** Names that mark a 2-D {@code .weight} tensor as something other than a Linear weight. */
    private static final Pattern NOT_LINEAR = Pattern.compile("(?i)(embed|norm|wte|wpe|(^|[._])ln[._0-9f])");

    /**
     * What the block-wise LLM methods (AWQ, GPTQ) leave float unless asked: the output head, whose 4-bit error lands
     * straight on the logits (AutoAWQ, llm-compressor and GPTQ's reference skip it too). A head tied to the
     * embeddings is never selected anyway (it is also read by a Gather).
     */
    public static final List<String> HEAD = List.of("*lm_head*");

    /** {@link #HEAD} followed by the user's patterns. */
    public static List<String> withHead(List<String> ignore) {
        List<String> all = new ArrayList<>(HEAD);
        all.addAll(ignore);
        return all;
    }

    /**
     * The linear layers of {@code m} (which has its graph) a calibrated method rewrites: selected as {@link #select}
     * does, one per weight, in graph order; a weight that is not float fails naming the method.
     */
    public static List<dev.tamp.runtime.calib.LinearLayers.Linear> floatLinears(Model m, List<String> ignore, String method) {
        Set<String> selected = new HashSet<>();
        for (Target t : select(m, ignore)) selected.add(t.weight());
        List<dev.tamp.runtime.calib.LinearLayers.Linear> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (dev.tamp.runtime.calib.LinearLayers.Linear l : dev.tamp.runtime.calib.LinearLayers.of(m)) {
            if (!selected.contains(l.weight()) || !seen.add(l.weight())) continue;
            dev.tamp.core.encoding.EncodedTensor w = m.weights().get(l.weight());
            if (!(w instanceof dev.tamp.core.encoding.DenseWeight d) || !d.tensor().dtype().isFloatingPoint()) {
                throw new UnsupportedModelException("weight " + l.weight() + " is " + w.describe() + "; " + method + " needs a float weight");
            }
            out.add(l);
        }
        return out;
    }

    public static List<Target> select(Model model, List<String> ignore) {
        List<Pattern> patterns = new ArrayList<>();
        for (String p : ignore) patterns.add(compile(p));
        Model m;
        try {
            m = ArchitectureBuilders.ensureGraph(model);
        } catch (UnsupportedModelException noBuilder) {
            return byName(model, patterns);
        }
        Set<String> otherUses = new HashSet<>();
        for (Node n : m.graph().nodes()) {
            for (int i = 0; i < n.inputs().size(); i++) {
                boolean linearOperand = i == 1 && (n.opType().equals("MatMul") || n.opType().equals("Gemm"));
                if (!linearOperand) otherUses.add(n.inputs().get(i));
            }
        }
        Map<String, Target> out = new LinkedHashMap<>();
        for (LinearLayers.Linear l : LinearLayers.of(m)) {
            if (otherUses.contains(l.weight())) continue;
            if (matches(patterns, l.weight()) || matches(patterns, l.name())) continue;
            out.putIfAbsent(l.weight(), new Target(l.weight(), l.name(), l.kAxis()));
        }
        return new ArrayList<>(out.values());
    }

    private static List<Target> byName(Model model, List<Pattern> patterns) {
        List<Target> out = new ArrayList<>();
        model.weights().forEach((name, w) -> {
            if (!name.endsWith(".weight") || w.shape().length != 2 || NOT_LINEAR.matcher(name).find()) return;
            if (!(w instanceof dev.tamp.core.encoding.DenseWeight d) || !d.tensor().dtype().isFloatingPoint()) return;
            if (matches(patterns, name)) return;
            out.add(new Target(name, name, 1));
        });
        return out;
    }

    static boolean matches(List<Pattern> ps, String s) {
        for (Pattern p : ps) if (p.matcher(s).find()) return true;
        return false;
    }

    static Pattern compile(String p) {
        if (p.length() > 1 && p.startsWith("/") && p.endsWith("/")) return Pattern.compile(p.substring(1, p.length() - 1));
        StringBuilder re = new StringBuilder("^");
        for (char c : p.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.append('$').toString());
    }
}
