package dev.tamp.runtime.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.ir.ProvenanceStep;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A pack pools as the checkpoint it was made from, whatever the pack's own file is called. */
class PoolingTest {
    static Model model(ModelFormat f, String source, Map<String, Object> config, List<ProvenanceStep> steps) {
        return new Model(f, source, "bert", null, Map.of(), config, Map.of(), null, steps);
    }

    @Test
    void aPackOfBgePoolsClsEvenWhenItsFileNameDoesNotSayBge() {
        List<ProvenanceStep> steps = List.of(new ProvenanceStep("source", Map.of("file", "bge-small-en-v1.5.onnx", "format", "onnx"), "t"),
                new ProvenanceStep("quantize", Map.of("method", "smoothquant"), "t"));
        // the old rule judged by "sq.tpk" and gave MEAN: BGE packs were compared to their CLS reference by mean pooling
        assertEquals(Pooling.CLS, Pooling.forModel(model(ModelFormat.TPK, "/tmp/sq.tpk", Map.of(), steps)));
        List<ProvenanceStep> minilm = List.of(new ProvenanceStep("source", Map.of("file", "all-minilm-l6-v2.onnx"), "t"));
        assertEquals(Pooling.MEAN, Pooling.forModel(model(ModelFormat.TPK, "/tmp/bge-named-pack.tpk", Map.of(), minilm)));
    }

    @Test
    void recordedPoolingWinsAndAnUnsupportedModeIsRefusedInOneLine() {
        assertEquals(Pooling.CLS, Pooling.forModel(model(ModelFormat.ONNX, "m.onnx", Map.of("pooling", "cls"), List.of())));
        assertEquals(Pooling.MEAN, Pooling.forModel(model(ModelFormat.ONNX, "bge.onnx", Map.of("pooling", "mean"), List.of())));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> Pooling.forModel(model(ModelFormat.ONNX, "m.onnx", Map.of("pooling", "max"), List.of())));
        assertTrue(e.getMessage().contains("max"), e.getMessage());
    }
}
