package dev.tamp.runtime.exec;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Attribute;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.value.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The executor's plan on hand-built graphs: ordering, folding, observers, output selection, refusals. */
class GraphExecutorTest {
    static Node node(String name, String op, List<String> in, List<String> out, Map<String, Attribute> attrs) {
        return new Node(name, op, "", in, out, attrs);
    }

    static Model model(List<Node> nodes, Map<String, EncodedTensor> weights, String... outputs) {
        List<ValueInfo> outs = new ArrayList<>();
        for (String o : outputs) outs.add(new ValueInfo(o, DType.F32, null));
        return new Model(ModelFormat.ONNX, "hand-built", "unknown",
                new Graph("g", nodes, List.of(new ValueInfo("x", DType.F32, null)), outs), weights, Map.of(), Map.of("", 17L), null, List.of());
    }

    /**
     * y = Relu(x·W + b) · 2, with the scale coming from Constant → Add (foldable), nodes listed in reverse.
     * x [2,3], W [3,2] weight (ONNX [K][N]), b [2] weight.
     */
    static Model smallMlp() {
        Map<String, EncodedTensor> w = new LinkedHashMap<>();
        w.put("W", new DenseWeight(Tensor.ofFloats(new float[] {1, -1, 2, 0, 0, 1}, 3, 2)));
        w.put("b", new DenseWeight(Tensor.ofFloats(new float[] {0.5f, -10f}, 2)));
        List<Node> nodes = List.of(
                node("scale", "Mul", List.of("r", "two"), List.of("y"), Map.of()),
                node("relu", "Relu", List.of("h"), List.of("r"), Map.of()),
                node("bias", "Add", List.of("mm", "b"), List.of("h"), Map.of()),
                node("mm", "MatMul", List.of("x", "W"), List.of("mm"), Map.of()),
                node("two", "Add", List.of("one", "one"), List.of("two"), Map.of()),
                node("one", "Constant", List.of(), List.of("one"),
                        Map.of("value", new Attribute.TensorValue(Tensor.ofFloats(new float[] {1f})))));
        return model(nodes, w, "y");
    }

    static Map<String, Value> x() {
        return Map.of("x", Value.floats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
    }

    // x·W = [[1+4, -1+3], [4+10, -4+6]] = [[5, 2], [14, 2]]; + b = [[5.5, -8], [14.5, -8]]; relu·2 = [[11, 0], [29, 0]]
    static final float[] WANT = {11, 0, 29, 0};

    @Test
    void runsNodesListedOutOfOrderAndFusesMatMulWithBias() {
        try (GraphExecutor g = new GraphExecutor(smallMlp(), Parallel.shared())) {
            Value y = g.run(x()).get("y");
            assertArrayEquals(new int[] {2, 2}, y.shape);
            assertArrayEquals(WANT, y.floats);
            assertTrue(g.nodes().stream().anyMatch(n -> n.opType().equals("MatMulBias") && n.label().equals("mm")),
                    "bias add fused into the weight MatMul, keeping its name: " + g.nodes());
            assertNotNull(g.kernel("W"), "W became a prepared linear kernel");
        }
    }

    @Test
    void listenerSeesEveryNodeIncludingFoldedOnes() {
        List<String> seen = new ArrayList<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try (GraphExecutor g = new GraphExecutor(smallMlp(), Parallel.shared())) {
            g.run(x(), List.of(), (n, in, out) -> {
                seen.add(n.label());
                shapes.put(n.label(), out[0].shape);
            });
            assertEquals(g.nodes().size(), seen.size());
            for (String[] edge : new String[][] {{"one", "two"}, {"two", "scale"}, {"mm", "relu"}, {"relu", "scale"}}) {
                assertTrue(seen.indexOf(edge[0]) < seen.indexOf(edge[1]), edge[0] + " runs before " + edge[1] + ": " + seen);
            }
            assertArrayEquals(new int[] {2, 2}, shapes.get("mm"));
            assertArrayEquals(new int[0], shapes.get("two"), "scalar constant folded to a scalar");
        }
    }

    @Test
    void intermediateValuesCanBeRequestedAsOutputs() {
        try (GraphExecutor g = new GraphExecutor(smallMlp(), Parallel.shared())) {
            Map<String, Value> got = g.run(x(), List.of("h", "y"), ExecutionListener.NONE);
            assertEquals(List.of("h", "y"), new ArrayList<>(got.keySet()));
            assertArrayEquals(new float[] {5.5f, -8, 14.5f, -8}, got.get("h").floats);
            assertArrayEquals(WANT, got.get("y").floats);
            assertThrows(BadInputException.class, () -> g.run(x(), List.of("nope"), ExecutionListener.NONE));
        }
    }

    @Test
    void repeatedRunsGiveIdenticalOutputs() {
        try (GraphExecutor g = new GraphExecutor(smallMlp(), Parallel.shared())) {
            float[] a = g.run(x()).get("y").floats, b = g.run(x()).get("y").floats;
            assertArrayEquals(a, b);
        }
    }

    @Test
    void missingOrMistypedInputIsBadInput() {
        try (GraphExecutor g = new GraphExecutor(smallMlp(), Parallel.shared())) {
            BadInputException e = assertThrows(BadInputException.class, () -> g.run(Map.of()));
            assertTrue(e.getMessage().contains("x"), e.getMessage());
            assertThrows(BadInputException.class, () -> g.run(Map.of("x", Value.longs(new long[6], 2, 3))));
        }
    }

    @Test
    void wrongInputShapeNamesTheNode() {
        try (GraphExecutor g = new GraphExecutor(smallMlp(), Parallel.shared())) {
            UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                    () -> g.run(Map.of("x", Value.floats(new float[8], 2, 4))));
            assertTrue(e.getMessage().startsWith("node mm"), e.getMessage());
        }
    }

    @Test
    void cyclesAndDanglingInputsAreRefused() {
        List<Node> cycle = List.of(node("a", "Relu", List.of("b"), List.of("a"), Map.of()),
                node("b", "Relu", List.of("a"), List.of("b"), Map.of()));
        assertThrows(UnsupportedModelException.class, () -> new GraphExecutor(model(cycle, Map.of(), "a"), Parallel.shared()));
        List<Node> dangling = List.of(node("a", "Relu", List.of("ghost"), List.of("a"), Map.of()));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> new GraphExecutor(model(dangling, Map.of(), "a"), Parallel.shared()));
        assertTrue(e.getMessage().contains("ghost"), e.getMessage());
    }

    @Test
    void noFusionGivesTheSameNumbers() {
        // the fused MatMulBias and the plain MatMul + Add agree exactly here (small exact integers)
        Model m = smallMlp();
        Model unfused = m.withGraph(m.graph().withNodes(List.of(
                node("scale", "Mul", List.of("r", "two"), List.of("y"), Map.of()),
                node("relu", "Relu", List.of("h"), List.of("r"), Map.of()),
                node("bias", "Add", List.of("b", "mm"), List.of("h"), Map.of()), // b first: the other operand order
                node("mm", "MatMul", List.of("x", "W"), List.of("mm"), Map.of()),
                node("mm_reader", "Identity", List.of("mm"), List.of("mm2"), Map.of()), // a 2nd reader blocks fusion
                node("two", "Add", List.of("one", "one"), List.of("two"), Map.of()),
                node("one", "Constant", List.of(), List.of("one"),
                        Map.of("value", new Attribute.TensorValue(Tensor.ofFloats(new float[] {1f})))))));
        try (GraphExecutor g = new GraphExecutor(unfused, Parallel.shared())) {
            assertTrue(g.nodes().stream().noneMatch(n -> n.opType().equals("MatMulBias")));
            assertArrayEquals(WANT, g.run(x()).get("y").floats);
        }
    }
}
