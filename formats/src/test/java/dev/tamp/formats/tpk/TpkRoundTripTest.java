package dev.tamp.formats.tpk;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.encoding.*;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.json.Json;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.onnx.OnnxReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TpkRoundTripTest {
    @TempDir Path tmp;
    SplittableRandom rnd = new SplittableRandom(42);

    ByteBuffer bytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return ByteBuffer.wrap(b);
    }

    Tensor floats(long... shape) {
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        return Tensor.ofFloats(v, shape);
    }

    /** One of every encoding, with shapes whose K is not a multiple of the block or group size. */
    Map<String, EncodedTensor> everyVariant() {
        rnd = new SplittableRandom(42);
        Map<String, EncodedTensor> m = new LinkedHashMap<>();
        m.put("dense.f32", new DenseWeight(floats(7, 13)));
        for (DType t : DType.values()) m.put("dense." + t.displayName(), new DenseWeight(Tensor.of(t, new long[] {3, 5}, bytes(15 * t.byteSize()))));
        m.put("dense.rank6", new DenseWeight(floats(2, 1, 3, 1, 2, 2)));
        m.put("dense.scalar", new DenseWeight(Tensor.ofLongs(new long[] {9})));
        long n = 5, k = 200; // K = 200: group 128 leaves a 72-wide last group
        int groups = 2;
        m.put("int4.asym", new IntGroupedWeight(new long[] {k, n}, 0, 4, false, 128, bytes((int) (n * k / 2)),
                floats(n, groups), Tensor.of(DType.U8, new long[] {n, groups}, bytes((int) n * groups)), null, 0, 0f, Layout.GENERIC));
        m.put("int8.w8a8", new IntGroupedWeight(new long[] {n, k}, 1, 8, true, (int) k, bytes((int) (n * k)),
                floats(n, 1), null, floats(k), 8, 0.125f, Layout.GENERIC));
        for (MxFormat f : MxFormat.values()) {
            long padded = 224; // 200 → 7 blocks of 32
            m.put("mx." + f.cliName(), new MxWeight(new long[] {n, k}, 1, f, 32, bytes((int) (n * f.packedBytes(padded))),
                    bytes((int) (n * padded / 32)), f == MxFormat.MXFP4_E2M1 ? MxFormat.MXFP8_E4M3 : null, Layout.GENERIC));
        }
        m.put("sparse.f32", new Sparse24Weight(new long[] {4, 16}, 1, new DenseWeight(floats(4, 8)), bytes(4 * 2), Layout.GENERIC));
        m.put("sparse.int4", new Sparse24Weight(new long[] {4, 64}, 1, new IntGroupedWeight(new long[] {4, 32}, 1, 4, true, 32,
                bytes(4 * 32), floats(4, 1), null, null, 0, 0f, Layout.SPLIT32), bytes(4 * 8), Layout.GENERIC));
        m.put("lowrank", new LowRankWeight(new long[] {6, 10}, 1, new DenseWeight(floats(6, 3)), new DenseWeight(floats(3, 10))));
        m.put("dict", new DictionaryWeight(new long[] {6, 10}, 1, new DenseWeight(floats(4, 10)), new DenseWeight(floats(6, 2)),
                Tensor.of(DType.U8, new long[] {6, 1}, bytes(6)), 2));
        return m;
    }

    static void assertSame(String name, EncodedTensor a, EncodedTensor b) {
        assertEquals(a.getClass(), b.getClass(), name);
        assertArrayEquals(a.shape(), b.shape(), name);
        if (a instanceof DenseWeight x) {
            assertEquals(x.tensor(), ((DenseWeight) b).tensor(), name);
        } else if (a instanceof IntGroupedWeight x) {
            IntGroupedWeight y = (IntGroupedWeight) b;
            assertEquals(x.kAxis(), y.kAxis(), name);
            assertEquals(x.bits(), y.bits(), name);
            assertEquals(x.symmetric(), y.symmetric(), name);
            assertEquals(x.groupSize(), y.groupSize(), name);
            assertEquals(x.codes().duplicate().rewind(), y.codes().duplicate().rewind(), name);
            assertEquals(x.scales(), y.scales(), name);
            assertEquals(x.zeroPoints(), y.zeroPoints(), name);
            assertEquals(x.inputScale(), y.inputScale(), name);
            assertEquals(x.activationBits(), y.activationBits(), name);
            assertEquals(x.activationScale(), y.activationScale(), name);
            assertEquals(x.layout(), y.layout(), name);
        } else if (a instanceof MxWeight x) {
            MxWeight y = (MxWeight) b;
            assertEquals(x.format(), y.format(), name);
            assertEquals(x.blockSize(), y.blockSize(), name);
            assertEquals(x.kAxis(), y.kAxis(), name);
            assertEquals(x.anchor(), y.anchor(), name);
            assertEquals(x.codes().duplicate().rewind(), y.codes().duplicate().rewind(), name);
            assertEquals(x.scales().duplicate().rewind(), y.scales().duplicate().rewind(), name);
        } else if (a instanceof Sparse24Weight x) {
            Sparse24Weight y = (Sparse24Weight) b;
            assertEquals(x.indices().duplicate().rewind(), y.indices().duplicate().rewind(), name);
            assertEquals(x.layout(), y.layout(), name);
            assertSame(name + "#values", x.values(), y.values());
        } else if (a instanceof LowRankWeight x) {
            assertSame(name + "#left", x.left(), ((LowRankWeight) b).left());
            assertSame(name + "#right", x.right(), ((LowRankWeight) b).right());
        } else if (a instanceof DictionaryWeight x) {
            DictionaryWeight y = (DictionaryWeight) b;
            assertEquals(x.sparsity(), y.sparsity(), name);
            assertEquals(x.codeMask(), y.codeMask(), name);
            assertSame(name + "#dictionary", x.dictionary(), y.dictionary());
            assertSame(name + "#code_values", x.codeValues(), y.codeValues());
        }
    }

    TpkContents contents() {
        ObjectNode meta = Json.object();
        meta.put("producer", "test");
        meta.putObject("model").put("architecture", "bert");
        return new TpkContents(everyVariant(), Map.of("graph.onnx", new byte[] {1, 2, 3}, "tokenizer.json", "{}".getBytes()), meta);
    }

    @Test
    void everyEncodingRoundTripsAndBytesAreDeterministic() throws IOException {
        TpkContents c = contents();
        Path a = tmp.resolve("a.tpk"), b = tmp.resolve("b.tpk");
        TpkWriter.write(a, c);
        TpkWriter.write(b, contents());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "identical contents, identical bytes");
        TpkContents back = TpkReader.open(a).contents();
        assertEquals(c.tensors().keySet(), back.tensors().keySet());
        for (String k : c.tensors().keySet()) assertSame(k, c.tensors().get(k), back.tensors().get(k));
        assertArrayEquals(new byte[] {1, 2, 3}, back.blobs().get("graph.onnx"));
        assertEquals("bert", back.metadata().path("model").path("architecture").asText());
        assertFalse(back.metadata().has(TpkWriter.ENCODINGS_KEY));
        assertEquals(0, Files.size(a) % 64 == 0 ? 0 : (Files.size(a) - 40) % 64, "footer starts aligned");
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(2, s.count(), "no temporary files left");
        }
    }

    @Test
    void realMiniLmWeightsRoundTripBitIdentical() {
        var model = new OnnxReader().read(TestModels.miniLm(), dev.tamp.core.progress.Progress.NONE);
        Path out = tmp.resolve("minilm.tpk");
        TpkWriter.write(out, new TpkContents(model.weights(), Map.of(), Json.object()));
        TpkContents back = TpkReader.open(out).contents();
        for (var e : model.weights().entrySet()) assertSame(e.getKey(), e.getValue(), back.tensors().get(e.getKey()));
    }

    @Test
    void anyFlippedByteIsDetectedAndNamed() throws IOException {
        Path good = tmp.resolve("good.tpk");
        TpkWriter.write(good, contents());
        byte[] bytes = Files.readAllBytes(good);
        int step = Math.max(1, bytes.length / 97);
        int planeHits = 0;
        for (int at = 0; at < bytes.length; at += step) {
            byte[] bad = Arrays.copyOf(bytes, bytes.length);
            bad[at] ^= 0x01;
            Path f = tmp.resolve("bad.tpk");
            Files.write(f, bad);
            final int where = at;
            BadInputException e = assertThrows(BadInputException.class, () -> TpkReader.open(f).contents(), "flip at " + at);
            assertTrue(e.getMessage().contains("bad.tpk"), e.getMessage());
            if (e.getMessage().contains("tensor ")) planeHits++;
            assertFalse(e.getMessage().contains("\n"), "one line at " + where);
        }
        assertTrue(planeHits > 10, "plane corruption names the tensor (" + planeHits + ")");
    }

    @Test
    void truncatedEmptyWrongMagicAndNewerVersion() throws IOException {
        Path good = tmp.resolve("good.tpk");
        TpkWriter.write(good, contents());
        byte[] bytes = Files.readAllBytes(good);
        Path trunc = tmp.resolve("trunc.tpk");
        Files.write(trunc, Arrays.copyOf(bytes, bytes.length - 100));
        Path empty = tmp.resolve("empty.tpk");
        Files.write(empty, new byte[0]);
        Path magic = tmp.resolve("magic.tpk");
        byte[] m = bytes.clone();
        m[0] = 'X';
        Files.write(magic, m);
        for (Path p : new Path[] {trunc, empty, magic}) {
            BadInputException e = assertThrows(BadInputException.class, () -> TpkReader.open(p));
            assertTrue(e.getMessage().contains(p.getFileName().toString()), e.getMessage());
        }
        // a newer major version with a consistent header CRC
        byte[] v = bytes.clone();
        ByteBuffer h = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort(8, (short) 2);
        h.putInt(124, TpkWriter.crc(ByteBuffer.wrap(v, 0, 124)));
        Path newer = tmp.resolve("newer.tpk");
        Files.write(newer, v);
        BadInputException e = assertThrows(BadInputException.class, () -> TpkReader.open(newer));
        assertTrue(e.getMessage().contains("newer"), e.getMessage());
    }

    @Test
    void failedWriteLeavesTargetAndNoTemporaryFile() throws IOException {
        Path target = tmp.resolve("keep.tpk");
        Files.writeString(target, "previous");
        Map<String, EncodedTensor> bad = new LinkedHashMap<>(everyVariant());
        bad.put("bad#name", new DenseWeight(floats(2)));
        assertThrows(IllegalArgumentException.class, () -> TpkWriter.write(target, new TpkContents(bad, Map.of(), Json.object())));
        assertEquals("previous", Files.readString(target));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(1, s.count());
        }
    }
}
