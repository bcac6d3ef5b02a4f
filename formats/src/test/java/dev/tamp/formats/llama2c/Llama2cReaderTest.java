package dev.tamp.formats.llama2c;

import static dev.tamp.formats.ReaderAssertions.assertBadInput;
import static dev.tamp.formats.ReaderAssertions.assertUnsupported;
import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.ReaderAssertions;
import dev.tamp.formats.TestModels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** llama2.c: the real stories260K checkpoint, a synthetic file that pins every tensor's position, bad input. */
class Llama2cReaderTest {
    @TempDir Path tmp;
    final Llama2cReader reader = new Llama2cReader();

    static float[] floats(Model m, String name) {
        EncodedTensor t = m.weights().get(name);
        assertNotNull(t, name + " in " + m.weights().keySet());
        return ((DenseWeight) t).tensor().toFloatArray();
    }

    @Test
    void stories260kShapesConfigAndParameterCountFromTheHeader() throws IOException {
        Path file = TestModels.stories();
        ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int dim = all.getInt(0), hidden = all.getInt(4), layers = all.getInt(8), heads = all.getInt(12), kv = all.getInt(16);
        int vocab = all.getInt(20), seq = all.getInt(24);
        assertArrayEquals(new int[] {64, 172, 5, 8, 4, 512, 512}, new int[] {dim, hidden, layers, heads, kv, vocab, seq});
        Model m = ModelLoader.load(file, Progress.NONE);
        assertEquals("llama", m.architecture());
        assertNull(m.graph());
        assertEquals(64L, m.config().get("hidden_size"));
        assertEquals(172L, m.config().get("intermediate_size"));
        assertEquals(5L, m.config().get("num_hidden_layers"));
        assertEquals(8L, m.config().get("num_attention_heads"));
        assertEquals(4L, m.config().get("num_key_value_heads"));
        assertEquals(512L, m.config().get("vocab_size"));
        assertEquals(512L, m.config().get("max_position_embeddings"));
        assertEquals(1e-5, m.config().get("rms_norm_eps"));
        assertEquals(true, m.config().get("tie_word_embeddings"));
        assertFalse(m.weights().containsKey("lm_head.weight"), "vocab > 0 means a shared classifier");
        // 1 embedding + 9 per layer + final norm, all [out][in]
        assertEquals(1 + 9 * 5 + 1, m.weights().size());
        int headSize = dim / heads, kvDim = kv * headSize;
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            assertArrayEquals(new long[] {dim}, m.weights().get(p + "input_layernorm.weight").shape());
            assertArrayEquals(new long[] {dim, dim}, m.weights().get(p + "self_attn.q_proj.weight").shape());
            assertArrayEquals(new long[] {kvDim, dim}, m.weights().get(p + "self_attn.k_proj.weight").shape());
            assertArrayEquals(new long[] {kvDim, dim}, m.weights().get(p + "self_attn.v_proj.weight").shape());
            assertArrayEquals(new long[] {dim, dim}, m.weights().get(p + "self_attn.o_proj.weight").shape());
            assertArrayEquals(new long[] {dim}, m.weights().get(p + "post_attention_layernorm.weight").shape());
            assertArrayEquals(new long[] {hidden, dim}, m.weights().get(p + "mlp.gate_proj.weight").shape());
            assertArrayEquals(new long[] {dim, hidden}, m.weights().get(p + "mlp.down_proj.weight").shape());
            assertArrayEquals(new long[] {hidden, dim}, m.weights().get(p + "mlp.up_proj.weight").shape());
        }
        long expected = (long) vocab * dim + (long) layers * (2L * dim + 2L * dim * dim + 2L * dim * kvDim + 3L * dim * hidden) + dim;
        assertEquals(expected, m.parameterCount());
        assertEquals(28 + 4 * (expected + (long) seq * headSize), Files.size(file), "header + weights + legacy freq_cis block");
        // the second layer's wq starts after the embedding, all rms_att and layer 0's wq (independent offset arithmetic)
        long wq1 = 28 + 4L * ((long) vocab * dim + (long) layers * dim + (long) dim * dim);
        float[] q1 = floats(m, "model.layers.1.self_attn.q_proj.weight");
        for (int i = 0; i < 8; i++) assertEquals(all.getFloat((int) (wq1 + 4L * i)), q1[i], 0f, "wq[1][" + i + "]");
        // RMSNorm gains are finite, mostly positive and of order one; projections are finite and not all zero
        for (String n : m.weights().keySet()) {
            float[] v = floats(m, n);
            int positive = 0;
            double sumSq = 0;
            for (float x : v) {
                assertTrue(Float.isFinite(x), n + " holds " + x);
                if (x > 0) positive++;
                sumSq += x * x;
            }
            double rms = Math.sqrt(sumSq / v.length);
            if (n.endsWith("layernorm.weight") || n.equals("model.norm.weight")) {
                assertTrue(positive >= 0.9 * v.length, n + ": " + positive + " of " + v.length + " gains positive");
                assertTrue(rms > 0.05 && rms < 20, n + " rms " + rms);
            } else {
                assertTrue(rms > 1e-3 && rms < 5, n + " rms " + rms);
            }
        }
        float last = all.getFloat(all.capacity() - 4);
        assertEquals(Math.sin(511 * Math.pow(10000, -6.0 / 8)), last, 1e-3, "the file ends with freq_cis_imag");
    }

    /** A tiny checkpoint whose k-th float block is filled with k + i/10000, so every tensor's origin is visible. */
    Path synthetic(String name, int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int seq,
                   boolean shared, boolean withFreq) throws IOException {
        int hs = dim / heads, kvDim = hs * kvHeads;
        List<int[]> blocks = new ArrayList<>(); // {count}
        blocks.add(new int[] {vocab * dim});
        for (int[] per : new int[][] {{dim}, {dim * dim}, {kvDim * dim}, {kvDim * dim}, {dim * dim}, {dim}, {hidden * dim}, {dim * hidden}, {hidden * dim}}) {
            for (int l = 0; l < layers; l++) blocks.add(per);
        }
        blocks.add(new int[] {dim});
        if (withFreq) { blocks.add(new int[] {seq * hs / 2}); blocks.add(new int[] {seq * hs / 2}); }
        if (!shared) blocks.add(new int[] {vocab * dim});
        int total = blocks.stream().mapToInt(b -> b[0]).sum();
        ByteBuffer b = ByteBuffer.allocate(28 + 4 * total).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(dim).putInt(hidden).putInt(layers).putInt(heads).putInt(kvHeads).putInt(shared ? vocab : -vocab).putInt(seq);
        for (int k = 0; k < blocks.size(); k++) for (int i = 0; i < blocks.get(k)[0]; i++) b.putFloat(k + i / 10000f);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    @Test
    void everyTensorComesFromItsPlaceInTheLlama2cOrder() throws IOException {
        for (boolean withFreq : new boolean[] {false, true}) {
            Path p = synthetic("syn" + withFreq + ".bin", 8, 12, 2, 2, 1, 10, 6, false, withFreq);
            Model m = reader.read(p, Progress.NONE);
            String[] kinds = {"input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "post_attention_layernorm", "mlp.gate_proj", "mlp.down_proj", "mlp.up_proj"};
            assertEquals(0f, floats(m, "model.embed_tokens.weight")[0]);
            for (int kind = 0; kind < kinds.length; kind++) {
                for (int l = 0; l < 2; l++) {
                    float[] v = floats(m, "model.layers." + l + "." + kinds[kind] + ".weight");
                    assertEquals(1 + kind * 2 + l, v[0], 0f, kinds[kind] + " layer " + l);
                    assertEquals(1 + kind * 2 + l + (v.length - 1) / 10000f, v[v.length - 1], 1e-6f, kinds[kind] + " layer " + l + " last");
                }
            }
            assertEquals(19f, floats(m, "model.norm.weight")[0], 0f);
            assertEquals(withFreq ? 22f : 20f, floats(m, "lm_head.weight")[0], 0f, "wcls follows the freq_cis block when present");
            assertArrayEquals(new long[] {10, 8}, m.weights().get("lm_head.weight").shape());
            assertEquals(false, m.config().get("tie_word_embeddings"));
            assertArrayEquals(new long[] {4, 8}, m.weights().get("model.layers.1.self_attn.v_proj.weight").shape());
            assertArrayEquals(new long[] {8, 12}, m.weights().get("model.layers.0.mlp.down_proj.weight").shape());
        }
    }

    Path header(String name, int... h) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + 64).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : h) b.putInt(v);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    @Test
    void badHeadersAndSizesAreBadInput() throws IOException {
        Path empty = tmp.resolve("empty.bin");
        Files.write(empty, new byte[0]);
        assertBadInput(empty, () -> reader.read(empty, Progress.NONE), "empty");
        Path shortHeader = tmp.resolve("short.bin");
        Files.write(shortHeader, new byte[20]);
        assertBadInput(shortHeader, () -> reader.read(shortHeader, Progress.NONE), "truncated");
        Path cut = tmp.resolve("cut.bin");
        Files.write(cut, Arrays.copyOf(Files.readAllBytes(TestModels.stories()), 100_000));
        assertBadInput(cut, () -> ModelLoader.load(cut, Progress.NONE), "truncated");
        Path longer = tmp.resolve("longer.bin");
        byte[] s = Files.readAllBytes(TestModels.stories());
        Files.write(longer, Arrays.copyOf(s, s.length + 4));
        assertBadInput(longer, () -> reader.read(longer, Progress.NONE), "implies");
        assertBadInput(header("neg.bin", 64, -5, 5, 8, 4, 512, 512), () -> reader.read(tmp.resolve("neg.bin"), Progress.NONE), "implausible");
        assertBadInput(header("zero.bin", 0, 172, 5, 8, 4, 512, 512), () -> reader.read(tmp.resolve("zero.bin"), Progress.NONE), "implausible");
        assertBadInput(header("heads.bin", 64, 172, 5, 7, 7, 512, 512), () -> reader.read(tmp.resolve("heads.bin"), Progress.NONE), "implausible");
        assertBadInput(header("kv.bin", 64, 172, 5, 8, 3, 512, 512), () -> reader.read(tmp.resolve("kv.bin"), Progress.NONE), "implausible");
        assertBadInput(header("minvocab.bin", 64, 172, 5, 8, 4, Integer.MIN_VALUE, 512), () -> reader.read(tmp.resolve("minvocab.bin"), Progress.NONE));
        // sizes that overflow 64-bit arithmetic if multiplied naively
        Path huge = header("huge.bin", 1 << 30, Integer.MAX_VALUE, Integer.MAX_VALUE, 2, 1, Integer.MAX_VALUE, Integer.MAX_VALUE);
        assertBadInput(huge, () -> reader.read(huge, Progress.NONE));
        Path big = header("big.bin", 4096, 11008, 32, 32, 32, 32000, 2048);
        assertBadInput(big, () -> reader.read(big, Progress.NONE), "truncated");
        ByteBuffer v1 = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN).putInt(0x616b3432).putInt(1);
        Path versioned = tmp.resolve("v1.bin");
        Files.write(versioned, v1.array());
        assertUnsupported(versioned, () -> reader.read(versioned, Progress.NONE), "version 1");
    }

    @Test
    void corruptedFilesFailCleanly() throws IOException {
        Path p = synthetic("fuzz.bin", 8, 12, 2, 2, 1, 10, 6, false, true);
        int rejected = ReaderAssertions.fuzz(p, tmp, reader, 150, 150, 5);
        assertTrue(rejected >= 150, "every truncation is rejected: " + rejected);
    }
}
