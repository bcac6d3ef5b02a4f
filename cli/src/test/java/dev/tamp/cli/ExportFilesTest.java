package dev.tamp.cli;

import static dev.tamp.cli.CliTest.tamp;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.gguf.GgufReader;
import dev.tamp.formats.safetensors.SafetensorsReader;
import dev.tamp.runtime.kernels.WeightDecoders;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GGUF and safetensors exports re-read by our own readers: the values equal the pack's decoded weights
 * (exactly where the mapping is exact), the metadata says what llama.cpp / compressed-tensors loaders need,
 * and identical inputs give identical bytes.
 */
class ExportFilesTest {
    @TempDir static Path tmp;

    @BeforeAll
    static void offline() {
        System.setProperty("ai.djl.offline", "true");
        if (System.getProperty("tamp.cache.dir") == null) System.setProperty("tamp.cache.dir", tmp.resolve("cache").toString());
    }

    static Model load(Path p) {
        return ModelLoader.load(p, Progress.NONE);
    }

    static JsonNode export(Path pack, String to, Path out) throws Exception {
        CliTest.Run r = tamp("export", pack.toString(), "--to", to, "-o", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        return Json.parse(r.out());
    }

    static Path pack(String name, String... args) {
        Path p = tmp.resolve(name);
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "-o";
        all[args.length + 1] = p.toString();
        CliTest.Run r = tamp(all);
        assertEquals(0, r.code(), r.err());
        return p;
    }

    /** Every tensor of the pack, decoded, against the GGUF's tensor of the same (HF) name; returns the worst relative error. */
    static double compareGguf(Path pack, Path gguf, boolean exact) {
        Model src = load(pack), back = new GgufReader().read(gguf, Progress.NONE);
        assertEquals(src.weights().keySet(), back.weights().keySet());
        double worst = 0;
        for (Map.Entry<String, EncodedTensor> e : src.weights().entrySet()) {
            float[] want = WeightDecoders.decodeAsStored(e.getKey(), e.getValue());
            float[] got = WeightDecoders.decode(e.getKey(), back.weights().get(e.getKey()));
            assertArrayEquals(e.getValue().shape(), back.weights().get(e.getKey()).shape(), e.getKey());
            if (exact) {
                assertArrayEquals(want, got, 0f, e.getKey());
                continue;
            }
            for (int i = 0; i < want.length; i++) {
                if (want[i] != got[i]) worst = Math.max(worst, Math.abs(want[i] - got[i]) / Math.abs(want[i]));
            }
        }
        return worst;
    }

    @Test
    void ggufQ8AndMxfp4KeepTheCodesAndLlamaMetadata() throws Exception {
        Path q8 = pack("s8.tpk", "quantize", "stories260k", "--method", "rtn", "--bits", "8");
        Path out = tmp.resolve("s8.gguf"), again = tmp.resolve("s8-again.gguf");
        JsonNode rep = export(q8, "gguf", out);
        assertEquals(35, rep.get("tensors").size());
        assertBlockTypeOrF32ForOddK(rep, " Q8_0");
        assertEquals("blk.0.attn_q.weight Q8_0", rep.get("tensors").get(0).get("exported_as").asText());
        // Codes are kept; the only change is the per-channel float32 scale rounded to Q8_0's fp16 d (≤ 2^-11 relative).
        double worst = compareGguf(q8, out, false);
        System.out.println("export gguf Q8_0 (int8 per-channel): worst relative error vs the pack " + worst);
        assertTrue(worst > 0 && worst <= 0x1p-11 * 1.0001, "worst " + worst);
        var h = GgufReader.readHeader(out);
        assertEquals("llama", h.metadata().get("general.architecture"));
        assertEquals(5L, ((Number) h.metadata().get("llama.block_count")).longValue());
        assertEquals(64L, ((Number) h.metadata().get("llama.embedding_length")).longValue());
        assertTrue(h.tensors().stream().anyMatch(t -> t.name().equals("blk.4.ffn_up.weight") && t.type() == 8), "Q8_0 is type 8");
        assertTrue(h.tensors().stream().anyMatch(t -> t.name().equals("token_embd.weight") && t.type() == 0), "dense stays F32");
        export(q8, "gguf", again);
        assertArrayEquals(Files.readAllBytes(out), Files.readAllBytes(again), "identical inputs give identical bytes");

        Path mx = pack("smx.tpk", "mx", "stories260k", "--format", "mxfp4"), mxOut = tmp.resolve("smx.gguf");
        assertBlockTypeOrF32ForOddK(export(mx, "gguf", mxOut), " MXFP4");
        compareGguf(mx, mxOut, true);
        assertTrue(GgufReader.readHeader(mxOut).tensors().stream().anyMatch(t -> t.type() == 39), "MXFP4 is ggml type 39");
    }

    /** stories260k's ffn_down has K = 172, not a whole number of 32-blocks: F32 with a note; every other layer the block type. */
    static void assertBlockTypeOrF32ForOddK(JsonNode rep, String type) {
        int blocks = 0;
        for (JsonNode t : rep.get("tensors")) {
            String as = t.get("exported_as").asText();
            if (t.get("name").asText().contains("down_proj")) {
                assertTrue(as.endsWith(" F32") && t.get("note").asText().contains("K=172"), t.toString());
            } else {
                assertTrue(as.endsWith(type), t.toString());
                blocks++;
            }
        }
        assertEquals(30, blocks);
    }

    @Test
    void ggufInt4SymmetricIsQ4ZeroAndAsymmetricIsRequantized() throws Exception {
        Path sym = pack("s4.tpk", "quantize", "stories260k", "--method", "rtn", "--bits", "4", "--group", "32", "--no-asym");
        Path out = tmp.resolve("s4.gguf");
        assertBlockTypeOrF32ForOddK(export(sym, "gguf", out), " Q4_0");
        double worst = compareGguf(sym, out, false);
        System.out.println("export gguf Q4_0 (int4 sym g32): worst relative error vs the pack " + worst);
        assertTrue(worst <= 0x1p-11 * 1.0001, "worst " + worst);
        Path asym = pack("s4a.tpk", "quantize", "stories260k", "--method", "rtn", "--bits", "4", "--group", "32");
        JsonNode rep = export(asym, "gguf", tmp.resolve("s4a.gguf"));
        assertTrue(rep.get("tensors").get(0).get("note").asText().contains("re-quantized"), rep.toString());
        Model src = load(asym), back = new GgufReader().read(tmp.resolve("s4a.gguf"), Progress.NONE);
        String name = "model.layers.1.mlp.up_proj.weight";
        float[] want = WeightDecoders.decode(name, src.weights().get(name)), got = WeightDecoders.decode(name, back.weights().get(name));
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (want[i] - got[i]) * (want[i] - got[i]);
            den += want[i] * want[i];
        }
        double rel = Math.sqrt(num / den);
        System.out.println("export gguf Q4_0 re-quantized from int4 asym g32: relative RMS difference " + rel);
        assertTrue(rel > 0 && rel < 0.2, "re-quantized Q4_0 stays near the pack's values: " + rel);
    }

    /**
     * llama.cpp refuses a GGUF without tokenizer.ggml.model. stories260K has no tokenizer: no_vocab with the vocabulary
     * size (llama.cpp runs it on token ids). The same model as safetensors with a byte-level BPE tokenizer.json beside
     * it: llama.cpp's gpt2 vocabulary, every token at its id with its type, the merges in rank order.
     */
    @Test
    void ggufCarriesTheVocabularyLlamaCppNeeds() throws Exception {
        Path bare = tmp.resolve("vocab-none.gguf");
        JsonNode rep = export(Path.of("stories260k"), "gguf", bare);
        assertEquals("no_vocab", rep.get("gguf_vocab").get("model").asText(), rep.toString());
        Map<String, Object> meta = GgufReader.readHeader(bare).metadata();
        assertEquals("no_vocab", meta.get("tokenizer.ggml.model"));
        assertEquals(512L, ((Number) meta.get("llama.vocab_size")).longValue());

        Path dir = Files.createDirectories(tmp.resolve("st-vocab"));
        export(Path.of("stories260k"), "safetensors", dir.resolve("model.safetensors"));
        com.fasterxml.jackson.databind.node.ObjectNode tj = Json.object();
        com.fasterxml.jackson.databind.node.ObjectNode added = tj.putArray("added_tokens").addObject();
        added.put("id", 511).put("content", "<|endoftext|>").put("special", true);
        tj.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        tj.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
        com.fasterxml.jackson.databind.node.ObjectNode bpe = tj.putObject("model").put("type", "BPE");
        com.fasterxml.jackson.databind.node.ObjectNode vocab = bpe.putObject("vocab");
        String[] byId = new String[511];
        for (int b = 0, extra = 0; b < 256; b++) { // GPT-2's byte-to-character map: printable Latin-1 maps to itself
            boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE;
            byId[b] = String.valueOf((char) (printable ? b : 256 + extra++));
        }
        com.fasterxml.jackson.databind.node.ArrayNode merges = bpe.putArray("merges");
        for (int i = 0; i < 255; i++) { // "a a" -> "aa", "a b" -> "ab", ...: 255 merges of two letters
            char l = (char) ('a' + i / 26), r = (char) ('a' + i % 26);
            merges.add(l + " " + r);
            byId[256 + i] = "" + l + r;
        }
        for (int id = 0; id < byId.length; id++) vocab.put(byId[id], id);
        Files.write(dir.resolve("tokenizer.json"), Json.canonicalBytes(tj));
        Path withVocab = tmp.resolve("vocab-gpt2.gguf");
        JsonNode rep2 = export(dir, "gguf", withVocab);
        assertEquals("gpt2", rep2.get("gguf_vocab").get("model").asText(), rep2.toString());
        Map<String, Object> m2 = GgufReader.readHeader(withVocab).metadata();
        assertEquals("gpt2", m2.get("tokenizer.ggml.model"));
        java.util.List<?> tokens = (java.util.List<?>) m2.get("tokenizer.ggml.tokens"), types = (java.util.List<?>) m2.get("tokenizer.ggml.token_type");
        java.util.List<?> ranks = (java.util.List<?>) m2.get("tokenizer.ggml.merges");
        assertEquals(512, tokens.size());
        assertEquals(512, types.size());
        for (int id = 0; id < byId.length; id++) {
            assertEquals(byId[id], tokens.get(id), "token " + id);
            assertEquals(1, ((Number) types.get(id)).intValue(), "token " + id + " is normal");
        }
        assertEquals("<|endoftext|>", tokens.get(511));
        assertEquals(3, ((Number) types.get(511)).intValue(), "a special added token is a control token");
        assertEquals(255, ranks.size());
        assertEquals("a a", ranks.get(0));
        assertEquals("j u", ranks.get(254), "merges keep their rank order");

        // a tokenizer.json whose token id cannot index a vocabulary: one line naming the problem, exit 2, no file
        Path bad = Files.createDirectories(tmp.resolve("st-vocab-bad"));
        for (String f : new String[] {"model.safetensors", "config.json"}) Files.copy(dir.resolve(f), bad.resolve(f));
        added.put("id", -5);
        Files.write(bad.resolve("tokenizer.json"), Json.canonicalBytes(tj));
        Path badOut = tmp.resolve("vocab-bad.gguf");
        CliTest.Run r = tamp("export", bad.toString(), "--to", "gguf", "-o", badOut.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("token id -5") && r.err().strip().lines().count() == 1, r.err());
        assertFalse(Files.exists(badOut));
    }

    /**
     * A SentencePiece-style tokenizer.json ("▁" spaces, byte fallback, every split of every token listed as a merge, as
     * converters write them) becomes llama.cpp's llama vocabulary: score −(rank + 1) for the token a merge of that rank
     * produces, byte/unknown/control types, the space prefix. With one merge missing, llama.cpp would merge a pair the
     * tokenizer never merges: no_vocab, and the report names the pair.
     */
    @Test
    void ggufSentencePieceVocabularyHasScoresInMergeOrder() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("st-spm"));
        export(Path.of("stories260k"), "safetensors", dir.resolve("model.safetensors"));
        java.util.List<String> vocab = new java.util.ArrayList<>(java.util.List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) vocab.add(String.format("<0x%02X>", b));
        vocab.add("▁");
        for (char c = 'a'; c <= 'z'; c++) vocab.add(String.valueOf(c));
        java.util.List<String> merges = new java.util.ArrayList<>();
        for (int i = 0; vocab.size() < 512; i++) { // two-letter pieces; their only split is a merge, ranked by id
            String l = String.valueOf((char) ('a' + i / 26)), r = String.valueOf((char) ('a' + i % 26));
            vocab.add(l + r);
            merges.add(l + " " + r);
        }
        Path out = tmp.resolve("spm.gguf");
        JsonNode rep = export(spmTokenizer(dir, vocab, merges), "gguf", out);
        assertEquals("llama", rep.get("gguf_vocab").get("model").asText(), rep.toString());
        Map<String, Object> m = GgufReader.readHeader(out).metadata();
        assertEquals("llama", m.get("tokenizer.ggml.model"));
        assertEquals(Boolean.TRUE, m.get("tokenizer.ggml.add_space_prefix"));
        assertEquals(0L, ((Number) m.get("tokenizer.ggml.unknown_token_id")).longValue());
        java.util.List<?> tokens = (java.util.List<?>) m.get("tokenizer.ggml.tokens"), scores = (java.util.List<?>) m.get("tokenizer.ggml.scores");
        java.util.List<?> types = (java.util.List<?>) m.get("tokenizer.ggml.token_type");
        assertEquals(vocab, tokens);
        int[] expectType = new int[512];
        for (int id = 0; id < 512; id++) expectType[id] = id == 0 ? 2 : id < 3 ? 3 : id < 259 ? 6 : 1;
        for (int id = 0; id < 512; id++) {
            assertEquals(expectType[id], ((Number) types.get(id)).intValue(), "type of " + vocab.get(id));
            float want = id < 286 ? 0f : -(id - 286 + 1); // characters, bytes and specials score 0; piece of merge rank r: −(r+1)
            assertEquals(want, ((Number) scores.get(id)).floatValue(), "score of " + vocab.get(id));
        }

        merges.remove(5);
        Path gapOut = tmp.resolve("spm-gap.gguf");
        JsonNode gap = export(spmTokenizer(Files.createDirectories(tmp.resolve("st-spm-gap")), vocab, merges, dir), "gguf", gapOut);
        assertEquals("no_vocab", gap.get("gguf_vocab").get("model").asText());
        assertTrue(gap.get("gguf_vocab").get("note").asText().contains("\"a\" + \"f\""), gap.toString());
        assertEquals("no_vocab", GgufReader.readHeader(gapOut).metadata().get("tokenizer.ggml.model"));
    }

    /** Writes a Llama-2-style tokenizer.json (Prepend/Replace normalizers, byte fallback) into {@code dir}; returns dir. */
    private static Path spmTokenizer(Path dir, java.util.List<String> vocab, java.util.List<String> merges, Path... weightsFrom) throws Exception {
        for (Path from : weightsFrom) {
            for (String f : new String[] {"model.safetensors", "config.json"}) Files.copy(from.resolve(f), dir.resolve(f));
        }
        com.fasterxml.jackson.databind.node.ObjectNode tj = Json.object();
        com.fasterxml.jackson.databind.node.ArrayNode added = tj.putArray("added_tokens");
        for (int id = 0; id < 3; id++) added.addObject().put("id", id).put("content", vocab.get(id)).put("special", true);
        com.fasterxml.jackson.databind.node.ObjectNode norm = tj.putObject("normalizer").put("type", "Sequence");
        norm.putArray("normalizers").addObject().put("type", "Prepend").put("prepend", "▁");
        com.fasterxml.jackson.databind.node.ObjectNode rep = ((com.fasterxml.jackson.databind.node.ArrayNode) norm.get("normalizers")).addObject();
        rep.put("type", "Replace").putObject("pattern").put("String", " ");
        rep.put("content", "▁");
        tj.putNull("pre_tokenizer");
        com.fasterxml.jackson.databind.node.ObjectNode bpe = tj.putObject("model").put("type", "BPE").put("unk_token", "<unk>")
                .put("fuse_unk", true).put("byte_fallback", true);
        com.fasterxml.jackson.databind.node.ObjectNode v = bpe.putObject("vocab");
        for (int id = 0; id < vocab.size(); id++) v.put(vocab.get(id), id);
        com.fasterxml.jackson.databind.node.ArrayNode ms = bpe.putArray("merges");
        merges.forEach(ms::add);
        Files.write(dir.resolve("tokenizer.json"), Json.canonicalBytes(tj));
        return dir;
    }

    @Test
    void ggufOfAnEncoderIsRefusedInOneLine() {
        Path out = tmp.resolve("minilm.gguf");
        CliTest.Run r = tamp("export", "minilm", "--to", "gguf", "-o", out.toString());
        assertEquals(3, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().filter(l -> l.startsWith("tamp:")).count(), r.err());
        assertTrue(r.err().contains("Llama-family"), r.err());
        assertFalse(Files.exists(out));
    }

    static float[] floats(Tensor t) {
        return t.toFloatArray();
    }

    @Test
    void safetensorsPackQuantizedInt4RoundTripsWithCompressedTensorsConfig() throws Exception {
        Path w4 = pack("w4.tpk", "quantize", "stories260k", "--method", "rtn", "--bits", "4", "--group", "32");
        Path dir = Files.createDirectories(tmp.resolve("st4")), out = dir.resolve("model.safetensors");
        JsonNode rep = export(w4, "safetensors", out);
        for (JsonNode t : rep.get("tensors")) assertEquals("pack-quantized", t.get("exported_as").asText(), t.toString());
        Model src = load(w4), back = new SafetensorsReader().read(out, Progress.NONE);
        for (Map.Entry<String, EncodedTensor> e : src.weights().entrySet()) {
            String name = e.getKey();
            if (!(e.getValue() instanceof IntGroupedWeight q)) {
                assertArrayEquals(floats(((dev.tamp.core.encoding.DenseWeight) e.getValue()).tensor()),
                        floats(dense(back, name)), 0f, name);
                continue;
            }
            String base = name.substring(0, name.length() - ".weight".length());
            int n = (int) q.rows(), k = (int) q.cols(), g = q.groupsPerRow();
            Tensor packed = dense(back, base + ".weight_packed"), zp = dense(back, base + ".weight_zero_point");
            assertEquals(DType.I32, packed.dtype());
            assertArrayEquals(new long[] {n, (k + 7) / 8}, packed.shape());
            assertArrayEquals(new long[] {(n + 7) / 8, g}, zp.shape());
            assertArrayEquals(new long[] {n, k}, longs(dense(back, base + ".weight_shape")));
            ByteBuffer pw = packed.data().order(ByteOrder.LITTLE_ENDIAN), zw = zp.data().order(ByteOrder.LITTLE_ENDIAN);
            float[] s = floats(dense(back, base + ".weight_scale"));
            float[] want = WeightDecoders.decode(name, q), got = new float[n * k];
            int[] from = dev.tamp.cli.export.SafetensorsExport.ropePermutation(src, name, q);
            if (from != null) {   // llama2c's interleaved Q/K rows, reordered for Hugging Face's rotate-half RoPE
                float[] p = new float[want.length];
                for (int r = 0; r < n; r++) System.arraycopy(want, from[r] * k, p, r * k, k);
                want = p;
            }
            int words = (k + 7) / 8;
            for (int r = 0; r < n; r++) for (int c = 0; c < k; c++) {
                int code = (pw.getInt((r * words + c / 8) * 4) >>> (4 * (c % 8))) & 0xF;     // q + 8
                int z = (zw.getInt(((r / 8) * g + c / 32) * 4) >>> (4 * (r % 8))) & 0xF;      // zp + 8
                got[r * k + c] = ((code - 8) - (z - 8)) * s[r * g + c / 32];
            }
            assertArrayEquals(want, got, 0f, name);
        }
        JsonNode qc = Json.parse(Files.readAllBytes(dir.resolve("config.json"))).get("quantization_config");
        assertEquals("compressed-tensors", qc.get("quant_method").asText());
        assertEquals("pack-quantized", qc.get("format").asText());
        assertEquals("compressed", qc.get("quantization_status").asText());
        JsonNode wq = qc.get("config_groups").get("group_0").get("weights");
        assertEquals(4, wq.get("num_bits").asInt());
        assertEquals(32, wq.get("group_size").asInt());
        assertEquals("group", wq.get("strategy").asText());
        assertFalse(wq.get("symmetric").asBoolean());
        assertEquals(35, qc.get("config_groups").get("group_0").get("targets").size());
        byte[] first = Files.readAllBytes(out);
        export(w4, "safetensors", out);
        assertArrayEquals(first, Files.readAllBytes(out), "identical inputs give identical bytes");
    }

    @Test
    void safetensorsOfTheFloatDecoderRunsLikeThePack() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("stf")), out = dir.resolve("model.safetensors");
        export(ModelLoader.resolve("stories260k"), "safetensors", out);
        CliTest.Run a = tamp("run", "stories260k", "--max-new-tokens", "24", "--json");
        CliTest.Run b = tamp("run", dir.toString(), "--max-new-tokens", "24", "--json");
        assertEquals(0, b.code(), b.err());
        assertEquals(Json.parse(a.out()), Json.parse(b.out()), "the re-read export (Q/K reordered, rotate-half RoPE) generates the same tokens");
    }

    @Test
    void safetensorsInt8NaiveQuantizedAndTwoFourSparsity() throws Exception {
        Path w8 = pack("w8.tpk", "quantize", "stories260k", "--method", "rtn", "--bits", "8");
        Path dir = Files.createDirectories(tmp.resolve("st8")), out = dir.resolve("model.safetensors");
        export(w8, "safetensors", out);
        Model src = load(w8), back = new SafetensorsReader().read(out, Progress.NONE);
        String name = "model.layers.2.mlp.down_proj.weight";
        IntGroupedWeight q = (IntGroupedWeight) src.weights().get(name);
        Tensor codes = dense(back, name), s = dense(back, "model.layers.2.mlp.down_proj.weight_scale");
        assertEquals(DType.I8, codes.dtype());
        float[] sc = floats(s), want = WeightDecoders.decode(name, q), got = new float[want.length];
        int k = (int) q.cols();
        ByteBuffer cb = codes.data();
        for (int i = 0; i < got.length; i++) got[i] = cb.get(i) * sc[i / k];
        assertArrayEquals(want, got, 0f);
        JsonNode qc = Json.parse(Files.readAllBytes(dir.resolve("config.json"))).get("quantization_config");
        assertEquals("naive-quantized", qc.get("format").asText());
        assertEquals("channel", qc.get("config_groups").get("group_0").get("weights").get("strategy").asText());

        Path sparse = twoFour();
        Path dir24 = Files.createDirectories(tmp.resolve("st24")), out24 = dir24.resolve("model.safetensors");
        export(sparse, "safetensors", out24);
        JsonNode sc24 = Json.parse(Files.readAllBytes(dir24.resolve("config.json"))).get("quantization_config").get("sparsity_config");
        assertEquals("2:4", sc24.get("sparsity_structure").asText());
        assertEquals(35, sc24.get("targets").size());
        Model s24 = load(sparse), b24 = new SafetensorsReader().read(out24, Progress.NONE);
        String pn = "model.layers.0.mlp.up_proj.weight";
        float[] dv = floats(dense(b24, pn));
        assertArrayEquals(WeightDecoders.decodeAsStored(pn, s24.weights().get(pn)), dv, 0f);
        for (int i = 0; i < dv.length; i += 4) {
            int nz = 0;
            for (int j = 0; j < 4; j++) if (dv[i + j] != 0) nz++;
            assertTrue(nz <= 2, "2 of every 4 kept");
        }
    }

    /** stories260k with every projection pruned 2:4 by magnitude (the pruning library directly: no calibration run). */
    static Path twoFour() {
        Model m = load(ModelLoader.resolve("stories260k"));
        Map<String, EncodedTensor> w = new java.util.LinkedHashMap<>(m.weights());
        for (Map.Entry<String, EncodedTensor> e : m.weights().entrySet()) {
            if (!e.getKey().endsWith("proj.weight")) continue;
            long[] shape = e.getValue().shape();
            int n = (int) shape[0], k = (int) shape[1];
            float[] rows = WeightDecoders.decode(e.getKey(), e.getValue());
            boolean[] keep = dev.tamp.pruning.MaskSelection.magnitude(rows, n, k, dev.tamp.pruning.NmPattern.TWO_FOUR);
            w.put(e.getKey(), dev.tamp.formats.codec.Sparse24Codec.encode(rows, keep, n, k, shape, 1));
        }
        Path p = tmp.resolve("s24.tpk");
        dev.tamp.formats.TpkModelWriter.write(m.withWeights(w), p);
        return p;
    }

    static Tensor dense(Model m, String name) {
        EncodedTensor t = m.weights().get(name);
        assertNotNull(t, name + " in " + m.weights().keySet());
        return ((dev.tamp.core.encoding.DenseWeight) t).tensor();
    }

    static long[] longs(Tensor t) {
        long[] out = new long[(int) t.numel()];
        t.data().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }
}
