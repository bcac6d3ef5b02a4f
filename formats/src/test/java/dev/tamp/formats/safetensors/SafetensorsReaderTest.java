package dev.tamp.formats.safetensors;

import static dev.tamp.formats.ReaderAssertions.assertBadInput;
import static dev.tamp.formats.ReaderAssertions.assertUnsupported;
import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.ReaderAssertions;
import dev.tamp.formats.TestModels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** safetensors: hand-built files as the oracle, writer round trips, sharded directories, and bad input. */
class SafetensorsReaderTest {
    @TempDir Path tmp;
    final SafetensorsReader reader = new SafetensorsReader();

    /** A file built byte by byte (no writer involved): u64 header length, header, data. */
    Path raw(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    Path raw(String name, String header, int dataBytes) throws IOException {
        return raw(name, header, new byte[dataBytes]);
    }

    static Tensor tensor(Model m, String name) {
        EncodedTensor t = m.weights().get(name);
        assertNotNull(t, name + " in " + m.weights().keySet());
        return ((DenseWeight) t).tensor();
    }

    @Test
    void handBuiltFileReadsExactValuesInDataOrder() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(4 * 3 + 2 * 2 + 2).order(ByteOrder.LITTLE_ENDIAN);
        d.putFloat(1.5f).putFloat(-2.25f).putFloat(1e-3f); // "a": F32 [3] at 0..12
        d.putShort((short) 0x3C00).putShort((short) 0xC000); // "b": F16 [2] = 1.0, -2.0 at 12..16
        d.putShort((short) 0x3FC0); // "c": BF16 [1,1] = 1.5 at 16..18
        // header lists c, b, a: the reader must return them in data order a, b, c
        String header = "{\"c\":{\"dtype\":\"BF16\",\"shape\":[1,1],\"data_offsets\":[16,18]},"
                + "\"__metadata__\":{\"format\":\"pt\",\"note\":\"x y\"},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[12,16]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}";
        Path p = raw("hand.safetensors", header, d.array());
        Model m = reader.read(p, Progress.NONE);
        assertEquals(List.of("a", "b", "c"), List.copyOf(m.weights().keySet()));
        assertArrayEquals(new float[] {1.5f, -2.25f, 1e-3f}, tensor(m, "a").toFloatArray());
        assertEquals(DType.F16, tensor(m, "b").dtype());
        assertArrayEquals(new float[] {1.0f, -2.0f}, tensor(m, "b").toFloatArray());
        assertArrayEquals(new long[] {1, 1}, tensor(m, "c").shape());
        assertEquals(1.5f, tensor(m, "c").getFloat(0));
        assertEquals("pt", m.config().get("metadata.format"));
        assertEquals("x y", m.config().get("metadata.note"));
        assertNull(m.graph());
        assertEquals("unknown", m.architecture());
    }

    @Test
    void writerRoundTripsEveryDtypeDeterministicallyWithAlignedSpacePaddedHeader() throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>();
        SplittableRandom r = new SplittableRandom(3);
        for (DType t : DType.values()) {
            byte[] b = new byte[6 * t.byteSize()];
            r.nextBytes(b);
            all.put("t." + t.displayName(), Tensor.ofBytes(t, b, 2, 3));
        }
        all.put("empty", Tensor.ofFloats(new float[0], 0, 4));
        all.put("scalar", Tensor.ofFloats(new float[] {7f}));
        Path one = tmp.resolve("all.safetensors"), two = tmp.resolve("again.safetensors");
        SafetensorsWriter.write(one, all, Map.of("k", "v"));
        SafetensorsWriter.write(two, all, Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(one);
        assertArrayEquals(bytes, Files.readAllBytes(two), "identical input gives identical bytes");
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.stripTrailing().endsWith("}") && header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '),
                "padding is spaces: [" + header + "]");
        Model m = reader.read(one, Progress.NONE);
        assertEquals(List.copyOf(all.keySet()), List.copyOf(m.weights().keySet()));
        for (var e : all.entrySet()) assertEquals(e.getValue(), tensor(m, e.getKey()), e.getKey());
        assertEquals("v", m.config().get("metadata.k"));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(tmp.resolve("x.safetensors"),
                Map.of("__metadata__", Tensor.ofFloats(new float[] {1f}, 1)), null));
    }

    @Test
    void shardedDirectoryWithConfigAndIndexReadsLikeTheOriginal() throws IOException {
        Model stories = ModelLoader.load(TestModels.stories(), Progress.NONE);
        Map<String, Tensor> first = new LinkedHashMap<>(), second = new LinkedHashMap<>();
        int i = 0;
        for (var e : stories.weights().entrySet()) (i++ % 2 == 0 ? first : second).put(e.getKey(), ((DenseWeight) e.getValue()).tensor());
        Path dir = Files.createDirectories(tmp.resolve("hf"));
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), first, Map.of("format", "pt"));
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), second, Map.of());
        writeIndex(dir, first.keySet(), second.keySet());
        Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"LlamaForCausalLM\"],\"model_type\":\"llama\",\"hidden_size\":64,\"rms_norm_eps\":1e-5}");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{}}");
        assertTrue(reader.accepts(dir));
        Model back = ModelLoader.load(dir, Progress.NONE);
        assertEquals("llama", back.architecture());
        assertEquals(64L, back.config().get("hidden_size"));
        assertEquals(1e-5, back.config().get("rms_norm_eps"));
        assertEquals("{\"model\":{}}", new String(back.tokenizerJson(), StandardCharsets.UTF_8));
        assertEquals(stories.weights().keySet(), new HashSet<>(back.weights().keySet()));
        for (String k : stories.weights().keySet()) assertEquals(((DenseWeight) stories.weights().get(k)).tensor(), tensor(back, k), k);

        // the index promising a tensor its shard lacks, or omitting one a shard holds, is bad input
        writeIndex(dir, List.of("model.embed_tokens.weight", "no.such.weight"), second.keySet());
        assertBadInput(dir.resolve("model.safetensors.index.json"), () -> reader.read(dir, Progress.NONE), "no.such.weight");
        writeIndex(dir, List.of("model.embed_tokens.weight"), second.keySet());
        assertBadInput(dir.resolve("model.safetensors.index.json"), () -> reader.read(dir, Progress.NONE), "does not map");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"../outside.safetensors\"}}");
        assertBadInput(dir.resolve("model.safetensors.index.json"), () -> reader.read(dir, Progress.NONE), "outside");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"model-00003-of-00002.safetensors\"}}");
        assertBadInput(dir.resolve("model.safetensors.index.json"), () -> reader.read(dir, Progress.NONE), "missing shard");
    }

    static void writeIndex(Path dir, Iterable<String> first, Iterable<String> second) throws IOException {
        StringBuilder idx = new StringBuilder("{\"metadata\":{\"total_size\":0},\"weight_map\":{");
        first.forEach(k -> idx.append('"').append(k).append("\":\"model-00001-of-00002.safetensors\","));
        second.forEach(k -> idx.append('"').append(k).append("\":\"model-00002-of-00002.safetensors\","));
        idx.setLength(idx.length() - 1);
        idx.append("}}");
        Files.writeString(dir.resolve("model.safetensors.index.json"), idx);
    }

    @Test
    void directoryWithoutConfigJsonIsBadInputNamingTheDirectory() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("noconfig"));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("w", Tensor.ofFloats(new float[] {1f}, 1)), null);
        assertBadInput(dir, () -> reader.read(dir, Progress.NONE), "no config.json");
        assertBadInput(dir, () -> ModelLoader.load(dir, Progress.NONE), "no config.json");
    }

    @Test
    void lyingHeadersAreBadInput() throws IOException {
        String f32x2 = "\"dtype\":\"F32\",\"shape\":[2]";
        Path outside = raw("outside.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1000,1000],\"data_offsets\":[0,4000000]}}", 16);
        assertBadInput(outside, () -> reader.read(outside, Progress.NONE), "outside");
        Path overlap = raw("overlap.safetensors", "{\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]},\"b\":{" + f32x2 + ",\"data_offsets\":[4,12]}}", 12);
        assertBadInput(overlap, () -> reader.read(overlap, Progress.NONE), "overlapping");
        Path gap = raw("gap.safetensors", "{\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]},\"b\":{" + f32x2 + ",\"data_offsets\":[12,20]}}", 20);
        assertBadInput(gap, () -> reader.read(gap, Progress.NONE), "gapped");
        Path trailing = raw("trailing.safetensors", "{\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]}}", 12);
        assertBadInput(trailing, () -> reader.read(trailing, Progress.NONE), "trailing");
        Path sizeMismatch = raw("mismatch.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        assertBadInput(sizeMismatch, () -> reader.read(sizeMismatch, Progress.NONE), "needs 12");
        Path negative = raw("neg.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8);
        assertBadInput(negative, () -> reader.read(negative, Progress.NONE), "invalid dimension");
        Path fractional = raw("frac.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8);
        assertBadInput(fractional, () -> reader.read(fractional, Progress.NONE), "invalid dimension");
        Path overflow = raw("overflow.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8);
        assertBadInput(overflow, () -> reader.read(overflow, Progress.NONE), "impossible size");
        Path negOffset = raw("negoff.safetensors", "{\"a\":{" + f32x2 + ",\"data_offsets\":[-8,0]}}", 8);
        assertBadInput(negOffset, () -> reader.read(negOffset, Progress.NONE), "outside");
        Path dup = raw("dup.safetensors", "{\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]},\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]}}", 8);
        assertBadInput(dup, () -> reader.read(dup, Progress.NONE), "not valid JSON");
        Path notJson = raw("notjson.safetensors", "{\"a\":", 8);
        assertBadInput(notJson, () -> reader.read(notJson, Progress.NONE), "not valid JSON");
        Path array = raw("array.safetensors", "[1,2]", 0);
        assertBadInput(array, () -> reader.read(array, Progress.NONE), "not a JSON object");
        Path noDtype = raw("nodtype.safetensors", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
        assertBadInput(noDtype, () -> reader.read(noDtype, Progress.NONE), "no dtype");
        Path unknown = raw("unknown.safetensors", "{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
        assertBadInput(unknown, () -> reader.read(unknown, Progress.NONE), "unknown dtype Q7");
        Path meta = raw("meta.safetensors", "{\"__metadata__\":{\"n\":3}}", 0);
        assertBadInput(meta, () -> reader.read(meta, Progress.NONE), "not a string");

        Path hugeLen = tmp.resolve("huge.safetensors");
        Files.write(hugeLen, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE / 2).array());
        assertBadInput(hugeLen, () -> reader.read(hugeLen, Progress.NONE), "header length");
        Path over100mb = tmp.resolve("over.safetensors");
        Files.write(over100mb, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001L).array());
        assertBadInput(over100mb, () -> reader.read(over100mb, Progress.NONE), "header length");
        Path empty = tmp.resolve("empty.safetensors");
        Files.write(empty, new byte[0]);
        assertBadInput(empty, () -> reader.read(empty, Progress.NONE), "empty");
        Path tiny = tmp.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertBadInput(tiny, () -> reader.read(tiny, Progress.NONE), "truncated");
    }

    @Test
    void floatFormatsTampDoesNotReadAreUnsupportedNamingTheTensor() throws IOException {
        for (String dt : new String[] {"F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3"}) {
            Path p = raw(dt + ".safetensors", "{\"layer.w\":{\"dtype\":\"" + dt + "\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4);
            assertUnsupported(p, () -> reader.read(p, Progress.NONE), "layer.w", dt);
        }
    }

    @Test
    void corruptedFilesFailCleanly() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("a", Tensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        t.put("b", Tensor.ofBytes(DType.I64, new byte[16], 2));
        Path p = tmp.resolve("valid.safetensors");
        SafetensorsWriter.write(p, t, Map.of("format", "pt"));
        int rejected = ReaderAssertions.fuzz(p, tmp, reader, 400, 400, 17);
        assertTrue(rejected > 300, "most corruptions are detected: " + rejected + " of ~" + (Files.size(p) + 400));
    }
}
