package dev.tamp.formats.onnx;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.io.FileRegions;
import dev.tamp.formats.onnx.proto.OnnxProto.ModelProto;
import dev.tamp.formats.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxWriterTest {
    @TempDir Path tmp;

    static Model read(Path p) {
        return OnnxReaderTest.read(p);
    }

    /** Same names in the same order, every tensor bit-identical, same graph and opsets. */
    static void assertSameModel(Model want, Model got) {
        assertEquals(want.weights().keySet().stream().toList(), got.weights().keySet().stream().toList(), "weight names in order");
        for (String k : want.weights().keySet()) {
            Tensor a = ((DenseWeight) want.weights().get(k)).tensor(), b = ((DenseWeight) got.weights().get(k)).tensor();
            assertTrue(a.contentEquals(b), "tensor " + k + " differs: " + a + " vs " + b);
        }
        assertEquals(want.graph().nodes().size(), got.graph().nodes().size(), "node count");
        for (int i = 0; i < want.graph().nodes().size(); i++) {
            assertEquals(want.graph().nodes().get(i), got.graph().nodes().get(i), "node " + i);
        }
        assertEquals(want.graph().inputs(), got.graph().inputs());
        assertEquals(want.graph().outputs(), got.graph().outputs());
        assertEquals(want.graph().name(), got.graph().name());
        assertEquals(want.opsets(), got.opsets());
    }

    @Test
    void miniLmRoundTripIsBitIdenticalAndDeterministic() throws IOException {
        Model m = read(TestModels.miniLm());
        Path a = tmp.resolve("a.onnx"), b = tmp.resolve("b.onnx"), c = tmp.resolve("c.onnx");
        OnnxWriter.write(m, a);
        OnnxWriter.write(m, b);
        byte[] bytesA = Files.readAllBytes(a);
        assertArrayEquals(bytesA, Files.readAllBytes(b), "same model, same bytes");
        assertFalse(Files.exists(tmp.resolve("a.onnx.data")), "small model written inline");
        Model back = read(a);
        assertSameModel(m, back);
        OnnxWriter.write(back, c);
        assertArrayEquals(bytesA, Files.readAllBytes(c), "writing what was read back gives the same bytes");
        try (var files = Files.list(tmp)) {
            assertEquals(3, files.count(), "no temporary files left behind");
        }

        ModelProto mp = ModelProto.parseFrom(bytesA);
        assertEquals("tamp", mp.getProducerName());
        assertEquals(7, mp.getIrVersion(), "IR version of opset 14");
        assertEquals(104, mp.getGraph().getInitializerCount());
        assertEquals("tamp", back.config().get("producer_name"));
    }

    @Test
    void quantizedRoundTripMovesTypedFieldsToRawData() throws IOException {
        Model q = read(TestModels.extract("/all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q.onnx"));
        Path out = tmp.resolve("q.onnx");
        OnnxWriter.write(q, out);
        assertSameModel(q, read(out));
        ModelProto mp = ModelProto.parseFrom(Files.readAllBytes(out));
        for (TensorProto t : mp.getGraph().getInitializerList()) {
            assertTrue(t.hasRawData() && t.getInt32DataCount() == 0 && t.getFloatDataCount() == 0, t.getName() + " written as raw_data");
        }
    }

    @Test
    void externalDataRoundTrip() throws IOException {
        Model m = read(TestModels.miniLm());
        Path out = tmp.resolve("ext.onnx");
        OnnxWriter.write(m, out, 1 << 16);
        Path data = tmp.resolve("ext.onnx.data");
        long modelBytes = Files.size(out), dataBytes = Files.size(data);
        System.err.printf("external: %d B model + %d B data%n", modelBytes, dataBytes);
        assertTrue(modelBytes < 1_000_000, "graph and small tensors only: " + modelBytes);
        assertTrue(dataBytes > 90_000_000, "weights outside: " + dataBytes);

        ModelProto mp = ModelProto.parseFrom(Files.readAllBytes(out));
        int external = 0;
        for (TensorProto t : mp.getGraph().getInitializerList()) {
            if (t.getDataLocation() != TensorProto.DataLocation.EXTERNAL) {
                assertTrue(t.getRawData().size() < (1 << 16), t.getName());
                continue;
            }
            external++;
            Map<String, String> kv = new LinkedHashMap<>();
            for (StringStringEntryProto e : t.getExternalDataList()) kv.put(e.getKey(), e.getValue());
            assertEquals("ext.onnx.data", kv.get("location"));
            assertEquals(0, Long.parseLong(kv.get("offset")) % 4096, t.getName() + " offset aligned");
            assertTrue(Long.parseLong(kv.get("length")) >= (1 << 16), t.getName());
        }
        // ≥ 64 KiB: 36 MatMul weights, the word and position embeddings and the pooler weight.
        assertEquals(39, external, "tensors moved out");

        Model back = read(out);
        assertSameModel(m, back);
        assertTrue(((DenseWeight) back.weights().get("embeddings.word_embeddings.weight")).tensor().data().isDirect(),
                "external weights stay memory-mapped");

        byte[] first = Files.readAllBytes(out), firstData = Files.readAllBytes(data);
        OnnxWriter.write(m, out, 1 << 16);
        assertArrayEquals(first, Files.readAllBytes(out), "deterministic model file");
        assertArrayEquals(firstData, Files.readAllBytes(data), "deterministic data file");
    }

    @Test
    void automaticExternalDataAbove2GiB() throws IOException {
        Model small = read(TestModels.miniLm());
        assertEquals(OnnxWriter.NO_EXTERNAL, OnnxWriter.externalThresholdFor(small));
        // Two 1.1 GiB weights mapped from a sparse file: no memory or disk is used for the bytes.
        Path sparse = tmp.resolve("sparse.bin");
        long n = 1100L << 20;
        try (RandomAccessFile f = new RandomAccessFile(sparse.toFile(), "rw")) {
            f.setLength(2 * n);
        }
        Map<String, EncodedTensor> w = new LinkedHashMap<>();
        w.put("a", new DenseWeight(Tensor.of(dev.tamp.core.tensor.DType.U8, new long[] {n}, FileRegions.map(sparse, 0, n))));
        w.put("b", new DenseWeight(Tensor.of(dev.tamp.core.tensor.DType.U8, new long[] {n}, FileRegions.map(sparse, n, n))));
        assertEquals(OnnxWriter.AUTO_THRESHOLD, OnnxWriter.externalThresholdFor(small.withWeights(w)),
                "2.2 GiB of weights cannot be one protobuf message");
    }

    @Test
    void irVersionFollowsOpset() {
        assertEquals(4, OnnxWriter.irVersionFor(9));
        assertEquals(6, OnnxWriter.irVersionFor(11));
        assertEquals(7, OnnxWriter.irVersionFor(14));
        assertEquals(8, OnnxWriter.irVersionFor(17));
        assertEquals(9, OnnxWriter.irVersionFor(20));
        assertEquals(10, OnnxWriter.irVersionFor(21));
    }

    @Test
    void nonDenseWeightsAreRefused() {
        Model m = read(TestModels.miniLm());
        Map<String, EncodedTensor> w = new LinkedHashMap<>(m.weights());
        EncodedTensor left = new DenseWeight(Tensor.ofFloats(new float[384 * 8], 384, 8));
        EncodedTensor right = new DenseWeight(Tensor.ofFloats(new float[8 * 384], 8, 384));
        w.put("onnx::MatMul_885", new LowRankWeight(new long[] {384, 384}, 0, left, right));
        Path out = tmp.resolve("lr.onnx");
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> OnnxWriter.write(m.withWeights(w), out));
        assertTrue(e.getMessage().contains("onnx::MatMul_885"), e.getMessage());
        assertFalse(Files.exists(out), "nothing written");
    }
}
