package dev.tamp.runtime.exec;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.ir.Model;
import dev.tamp.runtime.RuntimeTestModels;
import org.junit.jupiter.api.Test;

/** The spelled-out LayerNorms of the MiniLM and BGE exports are fused into single nodes (numerics: OrtAgreementTest). */
class LayerNormFusionTest {
    @Test
    void everyDecomposedLayerNormIsFused() {
        for (Model m : new Model[] {RuntimeTestModels.miniLm(), RuntimeTestModels.bge()}) {
            int layers = ((Number) m.config().get("num_hidden_layers")).intValue();
            try (GraphExecutor g = new GraphExecutor(m, dev.tamp.runtime.kernels.Parallel.shared())) {
                long fused = g.nodes().stream().filter(n -> n.opType().equals("LayerNormalization")).count();
                long sqrt = g.nodes().stream().filter(n -> n.opType().equals("Sqrt")).count();
                assertEquals(2L * layers + 1, fused, "embedding LN + two per layer");
                assertEquals(0, sqrt, "no Sqrt left from decomposed LayerNorms");
                assertEquals(m.graph().nodes().size() - 8 * fused, g.nodes().size());
            }
        }
    }
}
