package dev.tamp.quantizers;

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
 * Which weights a quantizer touches: the right operands of the graph's linear layers (MatMul/Gemm), minus
 * weights that some other op also reads (a tied embedding feeding Gather) and minus the user's --ignore
 * patterns (globs with * and ?, or regexes when written /like this/), matched against the weight name and
 * the node name.
 */
public final class LinearWeights {
    /** A selected weight and the orientation of its reduction axis. */
    public record Target(String weight, String node, int kAxis) {}

    private LinearWeights() {}

    public static List<Target> select(Model model, List<String> ignore) {
        Model m = ArchitectureBuilders.ensureGraph(model);
        List<Pattern> patterns = new ArrayList<>();
        for (String p : ignore) patterns.add(compile(p));
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
