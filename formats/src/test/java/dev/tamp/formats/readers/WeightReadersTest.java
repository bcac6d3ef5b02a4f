package dev.tamp.formats.readers;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.TampException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Half;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.gguf.GgmlBlocks;
import dev.tamp.formats.gguf.GgmlType;
import dev.tamp.formats.gguf.GgufWriter;
import dev.tamp.formats.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** safetensors, llama2.c, GGUF and PyTorch readers: real files where they exist, exact values, bad input. */
class WeightReadersTest {
    @TempDir Path tmp;

    static Model load(Path p) {
        return ModelLoader.load(p, Progress.NONE);
    }

    static float[] floats(Model m, String name) {
        EncodedTensor t = m.weights().get(name);
        assertNotNull(t, name + " in " + m.weights().keySet());
        return ((DenseWeight) t).tensor().toFloatArray();
    }

    static void assertBad(Path file, Executable e, String... fragments) {
        TampException x = assertThrows(TampException.class, e);
        assertTrue(x instanceof BadInputException || x instanceof UnsupportedModelException, x.toString());
        assertTrue(x.getMessage().contains(file.getFileName().toString()), "names the file: " + x.getMessage());
        for (String f : fragments) assertTrue(x.getMessage().contains(f), "mentions " + f + ": " + x.getMessage());
        assertFalse(x.getMessage().contains("\n"));
    }

    Path resource(String name) throws IOException {
        Path p = tmp.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/pytorch/" + name)) {
            Files.write(p, in.readAllBytes());
        }
        return p;
    }

    // --- llama2.c --------------------------------------------------------------------------------------

    @Test
    void stories260kHeaderShapesAndParameters() throws IOException {
        Model m = load(TestModels.stories());
        assertEquals("llama", m.architecture());
        assertEquals(5L, m.config().get("num_hidden_layers"));
        assertEquals(64L, m.config().get("hidden_size"));
        assertEquals(4L, m.config().get("num_key_value_heads"));
        assertArrayEquals(new long[] {512, 64}, m.weights().get("model.embed_tokens.weight").shape());
        assertArrayEquals(new long[] {32, 64}, m.weights().get("model.layers.4.self_attn.k_proj.weight").shape());
        assertArrayEquals(new long[] {172, 64}, m.weights().get("model.layers.0.mlp.gate_proj.weight").shape());
        // parameters from the header alone: embed + 5·(2·64 + 2·64² + 2·64·32 + 3·64·172) + 64
        long expected = 512 * 64 + 5L * (2 * 64 + 2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 172) + 64;
        assertEquals(expected, m.parameterCount());
        // the file is exactly header + weights + the legacy freq_cis block
        assertEquals(28 + 4 * (expected + 512L * 8), Files.size(TestModels.stories()));
        for (float g : floats(m, "model.layers.0.input_layernorm.weight")) assertTrue(Float.isFinite(g) && Math.abs(g) < 50, "rms gain " + g);
        // the last float of the file is part of freq_cis_imag = sin(511 · 10000^(−6/8))
        ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(TestModels.stories())).order(ByteOrder.LITTLE_ENDIAN);
        float last = all.getFloat(all.capacity() - 4);
        assertEquals(Math.sin(511 * Math.pow(10000, -6.0 / 8)), last, 1e-3, "legacy freq_cis block layout");
    }

    @Test
    void truncatedLlama2c() throws IOException {
        Path f = tmp.resolve("cut.bin");
        Files.write(f, Arrays.copyOf(Files.readAllBytes(TestModels.stories()), 100_000));
        assertBad(f, () -> load(f), "truncated");
        Path hdr = tmp.resolve("neg.bin");
        ByteBuffer b = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(64).putInt(-5).putInt(5).putInt(8).putInt(4).putInt(512).putInt(512);
        Files.write(hdr, b.array());
        assertBad(hdr, () -> load(hdr));
    }

    // --- safetensors -----------------------------------------------------------------------------------

    @Test
    void safetensorsRoundTripAndShardedDirectory() throws IOException {
        Model stories = load(TestModels.stories());
        Map<String, Tensor> first = new LinkedHashMap<>(), second = new LinkedHashMap<>();
        int i = 0;
        for (var e : stories.weights().entrySet()) {
            (i++ % 2 == 0 ? first : second).put(e.getKey(), ((DenseWeight) e.getValue()).tensor());
        }
        Path dir = Files.createDirectories(tmp.resolve("hf"));
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), first, Map.of("format", "pt"));
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), second, Map.of());
        StringBuilder idx = new StringBuilder("{\"metadata\":{},\"weight_map\":{");
        first.keySet().forEach(k -> idx.append('"').append(k).append("\":\"model-00001-of-00002.safetensors\","));
        second.keySet().forEach(k -> idx.append('"').append(k).append("\":\"model-00002-of-00002.safetensors\","));
        idx.setLength(idx.length() - 1);
        idx.append("}}");
        Files.writeString(dir.resolve("model.safetensors.index.json"), idx);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"llama\",\"hidden_size\":64,\"architectures\":[\"LlamaForCausalLM\"]}");
        Model back = load(dir);
        assertEquals("llama", back.architecture());
        assertEquals(64L, back.config().get("hidden_size"));
        assertEquals(stories.weights().keySet(), new java.util.HashSet<>(back.weights().keySet()));
        for (String k : stories.weights().keySet()) {
            assertEquals(((DenseWeight) stories.weights().get(k)).tensor(), ((DenseWeight) back.weights().get(k)).tensor(), k);
        }
        // single file with every readable dtype
        Map<String, Tensor> all = new LinkedHashMap<>();
        SplittableRandom r = new SplittableRandom(3);
        for (DType t : DType.values()) {
            byte[] b = new byte[6 * t.byteSize()];
            r.nextBytes(b);
            all.put("t." + t.displayName(), Tensor.ofBytes(t, b, 2, 3));
        }
        Path one = tmp.resolve("all.safetensors");
        SafetensorsWriter.write(one, all, null);
        Model m = load(one);
        for (var e : all.entrySet()) assertEquals(e.getValue(), ((DenseWeight) m.weights().get(e.getKey())).tensor());
        assertEquals(0, (8 + ByteBuffer.wrap(Files.readAllBytes(one)).order(ByteOrder.LITTLE_ENDIAN).getLong(0)) % 8);
    }

    Path rawSafetensors(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    @Test
    void safetensorsLyingHeaders() throws IOException {
        Path lying = rawSafetensors("lying.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1000,1000],\"data_offsets\":[0,4000000]}}", 16);
        assertBad(lying, () -> load(lying), "outside");
        Path overlap = rawSafetensors("overlap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertBad(overlap, () -> load(overlap));
        Path negative = rawSafetensors("neg.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8);
        assertBad(negative, () -> load(negative));
        Path hugeLen = tmp.resolve("huge.safetensors");
        Files.write(hugeLen, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE / 2).array());
        assertBad(hugeLen, () -> load(hugeLen));
        Path fp8 = rawSafetensors("fp8.safetensors", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
        assertBad(fp8, () -> load(fp8), "F8_E4M3");
        Path dir = Files.createDirectories(tmp.resolve("noconfig"));
        Files.write(dir.resolve("model.safetensors"), new byte[] {1, 2, 3});
        assertBad(dir, () -> load(dir), "config.json");
    }

    // --- GGUF ------------------------------------------------------------------------------------------

    @Test
    void ggufQuantizedBlocksMatchIndependentDequantization() throws IOException {
        SplittableRandom r = new SplittableRandom(11);
        float[] x = new float[64 * 2];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 0.3);
        byte[] q8 = GgmlBlocks.quantizeQ8_0(x), q4 = GgmlBlocks.quantizeQ4_0(x);
        float[] f32 = Arrays.copyOf(x, 32);
        ByteBuffer fb = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : f32) fb.putFloat(v);
        Path p = tmp.resolve("m.gguf");
        GgufWriter.write(p, new LinkedHashMap<>(Map.of("general.architecture", "llama", "llama.block_count", 1L)),
                List.of(new GgufWriter.TensorData("blk.0.attn_q.weight", GgmlType.Q8_0, new long[] {2, 64}, q8),
                        new GgufWriter.TensorData("blk.0.ffn_up.weight", GgmlType.Q4_0, new long[] {2, 64}, q4),
                        new GgufWriter.TensorData("output_norm.weight", GgmlType.F32, new long[] {32}, fb.array())));
        Model m = load(p);
        assertEquals("llama", m.architecture());
        assertEquals(1L, m.config().get("num_hidden_layers"));
        float[] g8 = floats(m, "model.layers.0.self_attn.q_proj.weight");
        float[] g4 = floats(m, "model.layers.0.mlp.up_proj.weight");
        assertArrayEquals(new long[] {2, 64}, m.weights().get("model.layers.0.mlp.up_proj.weight").shape());
        ByteBuffer b8 = ByteBuffer.wrap(q8).order(ByteOrder.LITTLE_ENDIAN), b4 = ByteBuffer.wrap(q4).order(ByteOrder.LITTLE_ENDIAN);
        for (int blk = 0; blk < 4; blk++) {
            float d8 = Half.f16ToFloat(b8.getShort(blk * 34)), d4 = Half.f16ToFloat(b4.getShort(blk * 18));
            for (int i = 0; i < 32; i++) {
                assertEquals(b8.get(blk * 34 + 2 + i) * d8, g8[blk * 32 + i], 0f, "Q8_0 " + blk + ":" + i);
                int byteIdx = i % 16, nib = i < 16 ? b4.get(blk * 18 + 2 + byteIdx) & 0xF : (b4.get(blk * 18 + 2 + byteIdx) >> 4) & 0xF;
                assertEquals((nib - 8) * d4, g4[blk * 32 + i], 0f, "Q4_0 " + blk + ":" + i);
                assertEquals(x[blk * 32 + i], g8[blk * 32 + i], d8 * 0.5001 + 1e-3, "Q8_0 error within half a step");
                assertEquals(x[blk * 32 + i], g4[blk * 32 + i], Math.abs(d4) * 1.0001 + 1e-3, "Q4_0 error within a step");
            }
        }
        assertArrayEquals(f32, floats(m, "model.norm.weight"));
    }

    @Test
    void ggufLyingHeader() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46554747).putInt(3).putLong(1L << 40).putLong(0);
        Path p = tmp.resolve("huge.gguf");
        Files.write(p, b.array());
        assertBad(p, () -> load(p));
        Path t = tmp.resolve("trunc.gguf");
        Files.write(t, Arrays.copyOf(b.array(), 12));
        assertBad(t, () -> load(t));
    }

    // --- PyTorch ---------------------------------------------------------------------------------------

    @Test
    void pytorchStateDictValuesMatchTheWriter() throws IOException {
        JsonNode expected = Json.parse(getClass().getResourceAsStream("/pytorch/expected.json").readAllBytes());
        for (String fixture : new String[] {"small.pt", "nested.pt"}) {
            Model m = load(resource(fixture));
            for (var it = expected.fields(); it.hasNext(); ) {
                var e = it.next();
                EncodedTensor t = m.weights().get(e.getKey());
                assertNotNull(t, fixture + " " + e.getKey() + " in " + m.weights().keySet());
                long[] shape = new long[e.getValue().get("shape").size()];
                for (int i = 0; i < shape.length; i++) shape[i] = e.getValue().get("shape").get(i).asLong();
                assertArrayEquals(shape, t.shape(), e.getKey());
                Tensor x = ((DenseWeight) t).tensor();
                JsonNode vals = e.getValue().get("values");
                for (int i = 0; i < vals.size(); i++) {
                    if (x.dtype() == DType.I64) assertEquals(vals.get(i).asLong(), x.getLong(i), e.getKey());
                    else assertEquals(vals.get(i).asDouble(), x.getFloat(i), 0.0, e.getKey() + "[" + i + "]");
                }
            }
            assertEquals(DType.F16, ((DenseWeight) m.weights().get("layer.bias")).tensor().dtype());
        }
    }

    @Test
    void pickleNamingOsSystemIsRefused() throws IOException {
        Path evil = resource("evil.pt");
        assertBad(evil, () -> load(evil), "os.system");
        Path cut = tmp.resolve("cut.pt");
        Files.write(cut, Arrays.copyOf(Files.readAllBytes(resource("small.pt")), 700));
        assertBad(cut, () -> load(cut));
    }
}
