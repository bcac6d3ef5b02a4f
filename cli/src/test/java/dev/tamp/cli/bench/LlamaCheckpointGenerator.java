package dev.tamp.cli.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a Hugging Face Llama checkpoint directory (config.json + model.safetensors, F32) of any size with
 * seeded uniform weights (±1/√fan-in), streaming so that a checkpoint far larger than the heap can be made.
 * For scale tests of the streamed conversions only: no accuracy claim rests on these weights.
 *
 * <p>{@code main(DIR, hidden, intermediate, layers, heads, kvHeads, vocab)}; prints the file size.
 */
public final class LlamaCheckpointGenerator {
    /** @param qwen2 Qwen2-style: q/k/v biases and the head tied to the embeddings */
    /**
     * @param family  "llama", "smollm2" (Llama with the head tied to the embeddings), "qwen2" (q/k/v biases, tied head)
     *                , "qwen3" (per-head q/k RMSNorm, tied head, no biases), "phi3" (fused qkv_proj and gate_up_proj),
     *                "gemma2" (sandwich norms, soft caps, sliding window 16 on even layers) or "gemma3" (q/k norms,
     *                sliding window 16 with a local RoPE base; pattern 2 so that two layers hold both kinds)
     * @param headDim per-head width; 0 = hidden / heads (Qwen3 sets it apart)
     */
    public record Shape(int hidden, int intermediate, int layers, int heads, int kvHeads, int vocab, String family, int headDim) {
        public Shape(int hidden, int intermediate, int layers, int heads, int kvHeads, int vocab) {
            this(hidden, intermediate, layers, heads, kvHeads, vocab, false);
        }

        public Shape(int hidden, int intermediate, int layers, int heads, int kvHeads, int vocab, boolean qwen2) {
            this(hidden, intermediate, layers, heads, kvHeads, vocab, qwen2 ? "qwen2" : "llama", 0);
        }

        public boolean qwen2() { return family.equals("qwen2"); }

        boolean tied() { return !family.equals("llama") && !family.equals("phi3"); }

        int hd() { return headDim > 0 ? headDim : hidden / heads; }
    }

    public static void main(String[] a) throws IOException {
        Path dir = Path.of(a[0]);
        Shape s = new Shape(Integer.parseInt(a[1]), Integer.parseInt(a[2]), Integer.parseInt(a[3]), Integer.parseInt(a[4]),
                Integer.parseInt(a[5]), Integer.parseInt(a[6]));
        long bytes = write(dir, s, 42);
        System.out.println("{\"checkpoint\": \"" + dir + "\", \"bytes\": " + bytes + ", \"largest_tensor_bytes\": " + largestTensorBytes(s) + "}");
    }

    public static long largestTensorBytes(Shape s) {
        long v = (long) s.vocab() * s.hidden();
        long m = (long) s.intermediate() * s.hidden();
        return 4 * Math.max(v, Math.max(m, (long) s.hidden() * s.hidden()));
    }

    /** Writes the checkpoint; returns the safetensors file's size. */
    public static long write(Path dir, Shape s, long seed) throws IOException {
        return write(dir, s, seed, "");
    }

    /** @param extraConfig JSON members added to config.json, e.g. {@code "rope_scaling": {...},} (with the trailing comma) */
    public static long write(Path dir, Shape s, long seed, String extraConfig) throws IOException {
        Files.createDirectories(dir);
        int kv = s.hd() * s.kvHeads(), q = s.hd() * s.heads();
        Map<String, long[]> tensors = new LinkedHashMap<>();
        tensors.put("model.embed_tokens.weight", new long[] {s.vocab(), s.hidden()});
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            tensors.put(p + "input_layernorm.weight", new long[] {s.hidden()});
            if (s.family().equals("phi3")) {
                tensors.put(p + "self_attn.qkv_proj.weight", new long[] {q + 2L * kv, s.hidden()});
            } else {
                tensors.put(p + "self_attn.q_proj.weight", new long[] {q, s.hidden()});
                tensors.put(p + "self_attn.k_proj.weight", new long[] {kv, s.hidden()});
                tensors.put(p + "self_attn.v_proj.weight", new long[] {kv, s.hidden()});
            }
            if (s.qwen2()) {
                tensors.put(p + "self_attn.q_proj.bias", new long[] {q});
                tensors.put(p + "self_attn.k_proj.bias", new long[] {kv});
                tensors.put(p + "self_attn.v_proj.bias", new long[] {kv});
            }
            if (s.family().startsWith("gemma")) {
                tensors.put(p + "pre_feedforward_layernorm.weight", new long[] {s.hidden()});
                tensors.put(p + "post_feedforward_layernorm.weight", new long[] {s.hidden()});
            }
            if (s.family().equals("qwen3") || s.family().equals("gemma3")) {
                tensors.put(p + "self_attn.q_norm.weight", new long[] {s.hd()});
                tensors.put(p + "self_attn.k_norm.weight", new long[] {s.hd()});
            }
            tensors.put(p + "self_attn.o_proj.weight", new long[] {s.hidden(), q});
            tensors.put(p + "post_attention_layernorm.weight", new long[] {s.hidden()});
            if (s.family().equals("phi3")) {
                tensors.put(p + "mlp.gate_up_proj.weight", new long[] {2L * s.intermediate(), s.hidden()});
            } else {
                tensors.put(p + "mlp.gate_proj.weight", new long[] {s.intermediate(), s.hidden()});
                tensors.put(p + "mlp.up_proj.weight", new long[] {s.intermediate(), s.hidden()});
            }
            tensors.put(p + "mlp.down_proj.weight", new long[] {s.hidden(), s.intermediate()});
        }
        tensors.put("model.norm.weight", new long[] {s.hidden()});
        if (!s.tied()) tensors.put("lm_head.weight", new long[] {s.vocab(), s.hidden()});

        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long off = 0;
        List<String> names = new ArrayList<>(tensors.keySet());
        for (String n : names) {
            long[] shape = tensors.get(n);
            long len = 4L * (shape.length == 1 ? shape[0] : shape[0] * shape[1]);
            h.append(",\"").append(n).append("\":{\"dtype\":\"F32\",\"shape\":[").append(shape[0]);
            if (shape.length == 2) h.append(',').append(shape[1]);
            h.append("],\"data_offsets\":[").append(off).append(',').append(off + len).append("]}");
            off += len;
        }
        h.append('}');
        while ((h.length() + 8) % 8 != 0) h.append(' ');
        byte[] header = h.toString().getBytes(StandardCharsets.US_ASCII);
        Path file = dir.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            ch.write(len);
            ch.write(ByteBuffer.wrap(header));
            ByteBuffer buf = ByteBuffer.allocate(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
            for (String n : names) {
                long[] shape = tensors.get(n);
                SplittableRandom r = new SplittableRandom(seed ^ n.hashCode());
                long count = shape.length == 1 ? shape[0] : shape[0] * shape[1];
                float bound = shape.length == 1 ? 0f : (float) (1 / Math.sqrt(shape[1]));
                for (long i = 0; i < count; i++) {
                    float v = shape.length == 2 ? bound * (float) (2 * r.nextDouble() - 1)
                        : n.endsWith(".bias") ? 0.02f * (float) (r.nextDouble() - 0.5) : 1f + 0.1f * (float) (r.nextDouble() - 0.5);
                    buf.putFloat(v);
                    if (!buf.hasRemaining()) {
                        buf.flip();
                        while (buf.hasRemaining()) ch.write(buf);
                        buf.clear();
                    }
                }
            }
            buf.flip();
            while (buf.hasRemaining()) ch.write(buf);
        }
        String cls = switch (s.family()) {
            case "qwen2" -> "Qwen2"; case "qwen3" -> "Qwen3"; case "phi3" -> "Phi3"; case "gemma2" -> "Gemma2"; case "gemma3" -> "Gemma3";
            default -> "Llama";
        };
        String familyConfig = switch (s.family()) {
            case "gemma2" -> "\"hidden_activation\":\"gelu_pytorch_tanh\",\"query_pre_attn_scalar\":" + s.hd()
                    + ",\"attn_logit_softcapping\":50.0,\"final_logit_softcapping\":30.0,\"sliding_window\":16,";
            case "gemma3" -> "\"hidden_activation\":\"gelu_pytorch_tanh\",\"query_pre_attn_scalar\":" + s.hd()
                    + ",\"sliding_window\":16,\"sliding_window_pattern\":2,\"rope_local_base_freq\":10000.0,";
            default -> "";
        };
        String config = "{\"architectures\":[\"" + cls + "ForCausalLM\"],\"model_type\":\""
                + (s.family().equals("smollm2") ? "llama" : s.family().equals("gemma3") ? "gemma3_text" : s.family()) + "\"," + familyConfig + "\"hidden_size\":" + s.hidden() + (s.headDim() > 0 ? ",\"head_dim\":" + s.headDim() : "")
                + ",\"intermediate_size\":" + s.intermediate() + ",\"num_hidden_layers\":" + s.layers() + ",\"num_attention_heads\":" + s.heads()
                + ",\"num_key_value_heads\":" + s.kvHeads() + ",\"vocab_size\":" + s.vocab() + ",\"rms_norm_eps\":1e-5,"
                + "\"max_position_embeddings\":2048,\"rope_theta\":" + (s.family().equals("gemma3") ? "1000000.0" : "10000.0") + ",\"hidden_act\":\"silu\",\"tie_word_embeddings\":" + s.tied() + ","
                + extraConfig + "\"torch_dtype\":\"float32\"}";
        Files.writeString(dir.resolve("config.json"), config);
        return Files.size(file);
    }
}
