package dev.tamp.formats.onnx;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Attribute;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.onnx.proto.OnnxProto.ModelProto;
import dev.tamp.formats.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxGraphCodecTest {
    @TempDir Path tmp;

    /** A graph using every attribute kind the IR has, a subgraph, tensor attributes of odd dtypes and symbolic dims. */
    static Graph everyAttributeKind() {
        Tensor f16 = Tensor.ofBytes(DType.F16, new byte[] {0x00, 0x3c, 0x00, (byte) 0xc0}, 2); // 1.0, -2.0
        Tensor bools = Tensor.ofBytes(DType.BOOL, new byte[] {1, 0, 1}, 3);
        Tensor scalar = Tensor.ofLongs(new long[] {42});
        Graph thenBranch = new Graph("then", List.of(new Node("c1", "Constant", "", List.of(), List.of("t_out"),
                Map.of("value", new Attribute.TensorValue(Tensor.ofFloats(new float[] {1.5f}, 1))))),
                List.of(), List.of(new ValueInfo("t_out", DType.F32, List.of(ValueInfo.Dim.fixed(1)))));
        Graph elseBranch = new Graph("else", List.of(new Node("i1", "Identity", "", List.of("x"), List.of("e_out"), Map.of())),
                List.of(), List.of(new ValueInfo("e_out", DType.F32, null)));
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("alpha", new Attribute.Float(0.125f));
        attrs.put("axis", new Attribute.Int(-1));
        attrs.put("mode", new Attribute.Str("nearest ünïcode"));
        attrs.put("scales", new Attribute.Floats(new float[] {1f, Float.NaN, -0f}));
        attrs.put("perm", new Attribute.Ints(new long[] {0, 2, 1, Long.MAX_VALUE}));
        attrs.put("names", new Attribute.Strs(List.of("a", "", "c")));
        attrs.put("half", new Attribute.TensorValue(f16));
        attrs.put("mask", new Attribute.TensorValue(bools));
        attrs.put("scalar", new Attribute.TensorValue(scalar));
        List<Node> nodes = List.of(
                new Node("odd", "CustomOp", "com.example", List.of("x", "", "w"), List.of("y"), attrs),
                new Node("", "If", "", List.of("cond"), List.of("z"),
                        Map.of("then_branch", new Attribute.GraphValue(thenBranch), "else_branch", new Attribute.GraphValue(elseBranch))));
        List<ValueInfo> inputs = List.of(
                new ValueInfo("x", DType.F32, List.of(ValueInfo.Dim.symbolic("batch"), ValueInfo.Dim.symbolic(null), ValueInfo.Dim.fixed(8))),
                new ValueInfo("cond", DType.BOOL, List.of()));
        List<ValueInfo> outputs = List.of(new ValueInfo("y", DType.BF16, null), new ValueInfo("z", DType.F32, List.of(ValueInfo.Dim.fixed(1))));
        return new Graph("synthetic", nodes, inputs, outputs);
    }

    @Test
    void syntheticGraphRoundTripsExactly() {
        Graph g = everyAttributeKind();
        Map<String, Long> opsets = new LinkedHashMap<>();
        opsets.put("", 17L);
        opsets.put("com.example", 1L);
        byte[] bytes = OnnxGraphCodec.toBytes(g, opsets);
        OnnxGraphCodec.Decoded d = OnnxGraphCodec.decode(bytes);
        assertEquals(g, d.graph());
        assertEquals(opsets, d.opsets());
        assertEquals(List.of("", "com.example"), List.copyOf(d.opsets().keySet()), "opset order kept");
        assertArrayEquals(bytes, OnnxGraphCodec.toBytes(d.graph(), d.opsets()), "stable bytes");
    }

    @Test
    void syntheticGraphRoundTripsThroughOnnxFiles() {
        Graph g = everyAttributeKind();
        Model m = new Model(ModelFormat.ONNX, "synthetic", "unknown", g,
                Map.of("w", new DenseWeight(Tensor.ofInts(new int[] {1, -2, 3}, 3))), Map.of("metadata.note", "kept"),
                Map.of("", 17L, "com.example", 1L), null, List.of());
        Path out = tmp.resolve("synthetic.onnx");
        OnnxWriter.write(m, out);
        Model back = OnnxReaderTest.read(out);
        assertEquals(g, back.graph());
        assertTrue(((DenseWeight) back.weights().get("w")).tensor().contentEquals(Tensor.ofInts(new int[] {1, -2, 3}, 3)));
        assertEquals("kept", back.config().get("metadata.note"), "metadata_props round trip");
    }

    @Test
    void miniLmGraphRoundTrip() throws IOException {
        Model m = OnnxReaderTest.read(TestModels.miniLm());
        byte[] bytes = OnnxGraphCodec.toBytes(m.graph(), m.opsets());
        System.err.println("MiniLM graph blob: " + bytes.length + " bytes");
        OnnxGraphCodec.Decoded d = OnnxGraphCodec.decode(bytes);
        assertEquals(m.graph(), d.graph());
        assertEquals(m.opsets(), d.opsets());
        assertArrayEquals(bytes, OnnxGraphCodec.toBytes(d.graph(), d.opsets()));

        // The documented message: a ModelProto with ir_version, opset_import and a graph without initializers.
        ModelProto mp = ModelProto.parseFrom(bytes);
        assertEquals(7, mp.getIrVersion());
        assertEquals(1, mp.getOpsetImportCount());
        assertEquals(0, mp.getGraph().getInitializerCount());
        assertFalse(mp.hasProducerName());
        assertEquals(ModelProto.newBuilder().setIrVersion(mp.getIrVersion()).addAllOpsetImport(mp.getOpsetImportList())
                .setGraph(mp.getGraph()).build(), mp, "no other fields");
    }

    @Test
    void badBlobsAreBadInput() {
        byte[] garbage = new byte[2048];
        new SplittableRandom(3).nextBytes(garbage);
        byte[] good = OnnxGraphCodec.toBytes(everyAttributeKind(), Map.of("", 17L));
        byte[] truncated = java.util.Arrays.copyOf(good, good.length / 2);
        byte[] noGraph = ModelProto.newBuilder().setIrVersion(8).build().toByteArray();
        for (byte[] b : List.of(garbage, truncated, noGraph, new byte[0])) {
            assertThrows(BadInputException.class, () -> OnnxGraphCodec.decode(b));
        }
    }

    /** A graph blob must not make tamp read files: tensor attributes with external data are refused. */
    @Test
    void externalDataInABlobIsRefused() {
        ModelProto mp;
        try {
            mp = ModelProto.parseFrom(OnnxGraphCodec.toBytes(everyAttributeKind(), Map.of("", 17L)));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        TensorProto ext = TensorProto.newBuilder().setName("t").setDataType(1).addDims(4)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("/etc/passwd")).build();
        ModelProto.Builder b = mp.toBuilder();
        b.getGraphBuilder().getNodeBuilder(0).getAttributeBuilder(6).setT(ext);
        BadInputException e = assertThrows(BadInputException.class, () -> OnnxGraphCodec.decode(b.build().toByteArray()));
        assertTrue(e.getMessage().contains("external data"), e.getMessage());
    }
}
