package dev.tamp.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.cli.CliTest.Run;
import dev.tamp.core.json.Json;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.gguf.LlamaCppOracle;
import dev.tamp.runtime.eval.DecoderMetrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tamp's GGUF exports of stories260k (a real llama2.c model) run in llama.cpp itself and give the logits tamp gives
 * on the same file. Per type, three comparisons on one sampled 48-token sequence:
 * <ul>
 *   <li><b>same weights</b>: tamp on the file vs llama.cpp on the file re-exported as F32 by tamp (what tamp read):
 *       the two runtimes' float arithmetic only, KL ≤ 1e-6 — so both read the codes and scales the same way;</li>
 *   <li><b>same file</b>: tamp vs llama.cpp on the quantized file. llama.cpp's CPU matmul for Q8_0/Q4_0/MXFP4
 *       quantizes each activation row to Q8_0 blocks of 32 before its integer dot product, which tamp (W-only
 *       quantization, float activations) does not; on a 64-wide model that rounding is worth ~0.01 nats, so the
 *       bound is set from measurement (mean KL 0.006–0.011, top-1 ≥ 0.94 measured) with headroom;</li>
 *   <li><b>pack vs export</b>: tamp on its own pack vs tamp on the GGUF written from it: codes kept, only the scales'
 *       fp16 rounding differs.</li>
 * </ul>
 * The agreement table goes to stderr.
 */
class LlamaCppAgreementTest {
    @TempDir static Path tmp;
    static LlamaCppOracle llama;
    static long[] tokens;

    @BeforeAll
    static void setUp() throws IOException {
        System.setProperty("ai.djl.offline", "true");
        if (System.getProperty("tamp.cache.dir") == null) System.setProperty("tamp.cache.dir", tmp.resolve("cache").toString());
        llama = LlamaCppOracle.require();
        Run gen = CliTest.tamp("run", TestModels.stories().toString(), "--max-new-tokens", "47", "--temperature", "0.8", "--seed", "3", "--json");
        assertEquals(0, gen.code(), gen.err());
        JsonNode row = Json.parse(gen.out()).get("tokens").get(0);
        tokens = new long[row.size()];
        for (int i = 0; i < tokens.length; i++) tokens[i] = row.get(i).asLong();
    }

    record Agreement(double meanKl, double maxAbs, double top1) {
        static Agreement of(float[][] ref, float[][] cand) {
            DecoderMetrics m = new DecoderMetrics();
            double maxAbs = 0;
            for (int t = 0; t < ref.length; t++) {
                m.add(ref[t], cand[t], -1);
                for (int i = 0; i < ref[t].length; i++) maxAbs = Math.max(maxAbs, Math.abs(ref[t][i] - cand[t][i]));
            }
            return new Agreement(m.meanKl(), maxAbs, m.top1Agreement());
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "KL %.2e  max|Δ| %.2e  top-1 %.3f", meanKl, maxAbs, top1);
        }
    }

    @Test
    void exportsAgreeWithLlamaCpp() throws IOException {
        Path stories = TestModels.stories();
        Path f32 = tmp.resolve("stories-f32.gguf");
        ok(CliTest.tamp("export", stories.toString(), "--to", "gguf", "-o", f32.toString()));
        float[][] reference = tampLogits(stories);
        List<String> table = new ArrayList<>();
        table.add("llama.cpp agreement on stories260k (48 tokens):");
        Agreement plain = Agreement.of(tampLogits(f32), llama.logits(f32, tokens));
        table.add(String.format(Locale.ROOT, "  %-6s same file: %s", "F32", plain));
        assertTrue(plain.meanKl() <= 1e-6 && plain.maxAbs() < 1e-3, "F32: " + plain);
        assertEquals(0, Agreement.of(reference, tampLogits(f32)).maxAbs(), 1e-6, "tamp reads its F32 export back as the model");

        String[][] types = {
                {"Q8_0", "quantize", "--method", "rtn", "--bits", "8"},
                {"Q4_0", "quantize", "--method", "rtn", "--bits", "4", "--group", "32", "--no-asym"},
                {"MXFP4", "mx", "--format", "mxfp4"}};
        for (String[] t : types) {
            String type = t[0];
            Path pack = tmp.resolve(type + ".tpk"), gguf = tmp.resolve(type + ".gguf"), decoded = tmp.resolve(type + "-as-f32.gguf");
            List<String> args = new ArrayList<>(List.of(t).subList(1, t.length));
            args.add(1, stories.toString());
            args.addAll(List.of("-o", pack.toString()));
            ok(CliTest.tamp(args.toArray(String[]::new)));
            Run export = CliTest.tamp("export", pack.toString(), "--to", "gguf", "-o", gguf.toString());
            ok(export);
            assertTrue(export.out().contains(" " + type + " ") && export.out().contains("codes kept") || type.equals("MXFP4") && export.out().contains("MXFP4"),
                    type + " codes are written as " + type + ": " + export.out());
            ok(CliTest.tamp("export", gguf.toString(), "--to", "gguf", "-o", decoded.toString()));
            float[][] tampOnFile = tampLogits(gguf);
            Agreement sameWeights = Agreement.of(tampOnFile, llama.logits(decoded, tokens));
            Agreement sameFile = Agreement.of(tampOnFile, llama.logits(gguf, tokens));
            // the pack's weights against its GGUF's (read here as float-activation weights): float activations on both sides
            Agreement packVsFile = Agreement.of(tampLogits(pack, "--kernel-activations", "float"), tampOnFile);
            Agreement packDefault = Agreement.of(tampLogits(pack), llama.logits(gguf, tokens));
            table.add(String.format(Locale.ROOT, "  %-6s same weights: %s | same file: %s | tamp pack vs its GGUF: %s | pack (default kernels) vs llama.cpp: %s",
                    type, sameWeights, sameFile, packVsFile, packDefault));
            assertTrue(sameWeights.meanKl() <= 1e-6, type + " same weights: " + sameWeights);
            assertTrue(sameFile.meanKl() <= 0.04 && sameFile.top1() >= 0.85, type + " same file: " + sameFile);
            assertTrue(packVsFile.meanKl() <= 1e-3, type + " pack vs export: " + packVsFile);
        }
        System.err.println(String.join("\n", table));
    }

    /**
     * Each family tamp exports to GGUF, as a small generated HF checkpoint (random weights: only the arithmetic is
     * compared), keeps its own GGUF architecture and runs in llama.cpp to the logits tamp computes from the HF
     * checkpoint and from the file. SmolLM2: Llama with the head tied to the embeddings (no output.weight). Llama: Q/K rows permuted to llama.cpp's interleaved RoPE; Qwen2: q/k/v biases,
     * rotate-half kept, head tied to the embeddings; Qwen3: per-head q/k RMSNorm, head_dim 64 ≠ hidden/heads; Phi-3: fused qkv / gate_up projections, split on read
     * and stacked again in the GGUF (attn_qkv, ffn_up) and in a safetensors export; Gemma 2 / 3: sandwich norms held
     * as (1 + w), √d embedding scale, GELU-tanh, soft caps (2), q/k norms and a local RoPE base (3), a sliding window of
     * 16 that the 48 tokens cross; Llama 3: the same weights as "llama" with rope_scaling, which must
     * move the logits (else the scaling was dropped) and move them in llama.cpp the same way (rope_freqs.weight).
     */
    @Test
    void familiesAgreeWithLlamaCpp() throws IOException {
        List<String> table = new ArrayList<>();
        table.add("llama.cpp agreement per family (F32 GGUF, 48 tokens):");
        // Llama 3.1/3.2's rope_scaling with a short original context, so that most rotation pairs are scaled within 48 tokens
        String llama3 = "\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
                + "\"original_max_position_embeddings\":64},";
        java.util.Map<String, float[][]> byVariant = new java.util.HashMap<>();
        for (String variant : List.of("llama", "llama3", "smollm2", "qwen2", "qwen3", "phi3", "gemma2", "gemma3")) {
            String family = variant.equals("llama3") || variant.equals("smollm2") ? "llama" : variant.equals("gemma3") ? "gemma3_text" : variant;
            Path hf = tmp.resolve(variant + "-hf"), gguf = tmp.resolve(variant + ".gguf");
            dev.tamp.cli.bench.LlamaCheckpointGenerator.write(hf,
                    new dev.tamp.cli.bench.LlamaCheckpointGenerator.Shape(128, 256, 2, 4, 2, 512, variant.equals("llama3") ? "llama" : variant,
                            family.equals("qwen3") || variant.startsWith("gemma") ? 64 : 0), 5,
                    variant.equals("llama3") ? llama3 : "");
            ok(CliTest.tamp("export", hf.toString(), "--to", "gguf", "-o", gguf.toString()));
            assertEquals(dev.tamp.formats.family.ModelFamily.of(family).ggufArch, dev.tamp.formats.gguf.GgufReader.readHeader(gguf).metadata().get("general.architecture"));
            Run inspect = CliTest.tamp("inspect", gguf.toString(), "--json");
            ok(inspect);
            assertEquals(family, Json.parse(inspect.out()).get("architecture").asText(), "a " + family + " GGUF stays " + family);
            float[][] fromHf = tampLogits(hf), fromFile = tampLogits(gguf);
            byVariant.put(variant, fromHf);
            if (variant.equals("phi3")) {
                Path st = tmp.resolve("phi3-st").resolve("model.safetensors");
                Files.createDirectories(st.getParent());
                ok(CliTest.tamp("export", hf.toString(), "--to", "safetensors", "-o", st.toString()));
                String header = new String(Files.readAllBytes(st), 0, 4096, java.nio.charset.StandardCharsets.ISO_8859_1);
                assertTrue(header.contains("self_attn.qkv_proj.weight") && header.contains("mlp.gate_up_proj.weight") && !header.contains("q_proj.weight\""),
                        "Phi-3 safetensors keep the fused names");
                assertEquals(0, Agreement.of(fromHf, tampLogits(st.getParent())).maxAbs(), 1e-6, "Phi-3 safetensors export reads back as the model");
                // quantized parts stack into one Q8_0 attn_qkv / ffn_up: llama.cpp reads the codes as tamp does
                Path q8 = tmp.resolve("phi3-q8.tpk"), q8gguf = tmp.resolve("phi3-q8.gguf");
                ok(CliTest.tamp("quantize", hf.toString(), "--method", "rtn", "--bits", "8", "--group", "32", "-o", q8.toString()));
                ok(CliTest.tamp("export", q8.toString(), "--to", "gguf", "-o", q8gguf.toString()));
                assertEquals(4, dev.tamp.formats.gguf.GgufReader.readHeader(q8gguf).tensors().stream()
                        .filter(t -> t.name().endsWith("attn_qkv.weight") || t.name().endsWith("ffn_up.weight")).filter(t -> t.type() == 8).count(),
                        "two layers × (attn_qkv, ffn_up) in Q8_0");
                Agreement quantized = Agreement.of(tampLogits(q8gguf), llama.logits(q8gguf, tokens));
                table.add("  phi3 Q8_0 (stacked codes) llama.cpp vs tamp on the file: " + quantized);
                assertTrue(quantized.meanKl() <= 1e-3, "phi3 Q8_0: " + quantized);
            }
            Agreement a = Agreement.of(fromFile, llama.logits(gguf, tokens)), roundTrip = Agreement.of(fromHf, fromFile);
            table.add(String.format(Locale.ROOT, "  %-6s llama.cpp vs tamp on the file: %s | tamp HF vs tamp GGUF: %s", variant, a, roundTrip));
            // llama.cpp's CPU GELU looks its result up in an fp16 table (ggml-cpu vec.h, GGML_GELU_FP16): input and output
            // rounded to fp16, which on Gemma's GELU gate moves logits by ~1e-3 (measured 1.5e-3 of a ±30 soft-capped range)
            double maxAbs = variant.startsWith("gemma") ? 1e-2 : 1e-3;
            assertTrue(a.meanKl() <= 1e-6 && a.maxAbs() < maxAbs, variant + ": " + a);
            assertTrue(roundTrip.maxAbs() < 1e-4, family + " HF vs GGUF in tamp: " + roundTrip);
        }
        Agreement scaling = Agreement.of(byVariant.get("llama"), byVariant.get("llama3"));
        table.add("  rope_scaling llama3 vs none, same weights: " + scaling);
        assertTrue(scaling.maxAbs() > 1e-2, "Llama 3 RoPE scaling changes the logits: " + scaling);
        System.err.println(String.join("\n", table));
    }

    /**
     * --gguf-embeddings q8_0 / q4_0 quantizes the float token embedding byte for byte as llama.cpp's quantize does the
     * same floats (stories260k's F32 export requantized with llama_model_quantize, pure, so token_embd gets the type).
     */
    @Test
    void embeddingQuantizedAtExportIsLlamaCppsBytes() throws IOException {
        Path stories = TestModels.stories(), f32 = tmp.resolve("e-f32.gguf");
        ok(CliTest.tamp("export", stories.toString(), "--to", "gguf", "-o", f32.toString()));
        for (String[] t : new String[][] {{"q8_0", "7"}, {"q4_0", "2"}}) {
            Path ours = tmp.resolve("e-" + t[0] + ".gguf"), theirs = tmp.resolve("e-llama-" + t[0] + ".gguf");
            Run r = CliTest.tamp("export", stories.toString(), "--to", "gguf", "--gguf-embeddings", t[0], "-o", ours.toString());
            ok(r);
            assertTrue(r.out().contains("token_embd.weight " + t[0].toUpperCase(Locale.ROOT)), r.out());
            llama.quantize(f32, theirs, Integer.parseInt(t[1]), true);
            assertArrayEquals(tensorBytes(theirs, "token_embd.weight"), tensorBytes(ours, "token_embd.weight"), t[0] + " token_embd bytes");
        }
    }

    static byte[] tensorBytes(Path gguf, String name) throws IOException {
        dev.tamp.formats.gguf.GgufReader.Header h = dev.tamp.formats.gguf.GgufReader.readHeader(gguf);
        dev.tamp.formats.gguf.GgufReader.TensorInfo info = h.tensors().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
        dev.tamp.formats.gguf.GgmlType type = dev.tamp.formats.gguf.GgmlType.of(info.type());
        long n = 1;
        for (long d : info.shape()) n *= d;
        byte[] all = Files.readAllBytes(gguf);
        int from = Math.toIntExact(h.dataStart() + info.offset());
        return java.util.Arrays.copyOfRange(all, from, from + Math.toIntExact(type.bytes(n)));
    }

    /**
     * `tamp verify` of a tamp W4 pack and, in the same command, llama.cpp's Q4_K_M of the same checkpoint (written by
     * llama_model_quantize from tamp's F32 export, read by tamp's K-quant decoders) against the F32 original.
     */
    @Test
    void verifyComparesATampPackWithLlamaCppQ4KM() throws IOException {
        Path hf = tmp.resolve("k-hf"), f32 = tmp.resolve("k-f32.gguf"), q4km = tmp.resolve("k-Q4_K_M.gguf"), w4 = tmp.resolve("k-w4.tpk");
        dev.tamp.cli.bench.LlamaCheckpointGenerator.write(hf, new dev.tamp.cli.bench.LlamaCheckpointGenerator.Shape(256, 512, 2, 4, 2, 512), 9);
        ok(CliTest.tamp("export", hf.toString(), "--to", "gguf", "-o", f32.toString()));
        llama.quantize(f32, q4km, 15, false);
        ok(CliTest.tamp("quantize", hf.toString(), "--method", "rtn", "--bits", "4", "--group", "32", "-o", w4.toString()));
        Run v = CliTest.tamp("verify", w4.toString(), "--reference", hf.toString(), "--compare", q4km.toString(), "--sequences", "4",
                "--seq-len", "32", "--max-kl", "1", "--json");
        ok(v);
        JsonNode j = Json.parse(v.out());
        double ours = j.get("metrics").get("kl").asDouble(), theirs = j.get("compared").get(q4km.toString()).get("kl").asDouble();
        System.err.printf(Locale.ROOT, "verify vs F32: tamp W4 g32 KL %.3g | llama.cpp Q4_K_M KL %.3g%n", ours, theirs);
        assertTrue(ours > 0 && theirs > 0 && ours < 1 && theirs < 1 && ours != theirs, v.out());
        assertTrue(j.get("passed").asBoolean());
    }

    /** Next-token logits from `tamp run MODEL --tokens … --logits -o FILE`. */
    static float[][] tampLogits(Path model, String... options) throws IOException {
        Path out = Files.createTempFile(tmp, "logits", ".f32");
        StringJoiner ids = new StringJoiner(",");
        for (long t : tokens) ids.add(Long.toString(t));
        List<String> args = new ArrayList<>(List.of("run", model.toString(), "--tokens", ids.toString(), "--logits", "-o", out.toString()));
        args.addAll(List.of(options));
        ok(CliTest.tamp(args.toArray(String[]::new)));
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        int vocab = b.remaining() / 4 / tokens.length;
        float[][] rows = new float[tokens.length][vocab];
        for (int t = 0; t < rows.length; t++) for (int i = 0; i < vocab; i++) rows[t][i] = b.getFloat((t * vocab + i) * 4);
        return rows;
    }

    static void ok(Run r) {
        assertEquals(0, r.code(), r.err());
    }
}
