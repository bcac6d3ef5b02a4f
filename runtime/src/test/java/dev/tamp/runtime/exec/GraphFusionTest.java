package dev.tamp.runtime.exec;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.ir.Model;
import dev.tamp.runtime.RuntimeTestModels;
import org.junit.jupiter.api.Test;

/** The spelled-out LayerNorms, GELUs and bias adds of the MiniLM and BGE exports are fused (numerics: OrtAgreementTest). */
class GraphFusionTest {
    @Test
    void everyDecomposedLayerNormIsFused() {
        for (Model m : new Model[] {RuntimeTestModels.miniLm(), RuntimeTestModels.bge()}) {
            int layers = ((Number) m.config().get("num_hidden_layers")).intValue();
            try (GraphExecutor g = new GraphExecutor(m, dev.tamp.runtime.kernels.Parallel.shared())) {
                long fused = g.nodes().stream().filter(n -> n.opType().equals("LayerNormalization")).count();
                long sqrt = g.nodes().stream().filter(n -> n.opType().equals("Sqrt")).count();
                assertEquals(2L * layers + 1, fused, "embedding LN + two per layer");
                assertEquals(0, sqrt, "no Sqrt left from decomposed LayerNorms");
                long gelu = g.nodes().stream().filter(n -> n.opType().equals("Gelu")).count();
                long bias = g.nodes().stream().filter(n -> n.opType().equals("MatMulBias")).count();
                assertEquals(layers, gelu, "one GELU per layer");
                assertEquals(6L * layers, bias, "q, k, v, attention output, intermediate, output");
                assertEquals(m.graph().nodes().size() - 8 * fused - 4 * gelu - bias, g.nodes().size());
            }
        }
    }
}
