package dev.tamp.formats.gguf;

import dev.tamp.formats.family.ModelFamily;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** llama.cpp tensor names ↔ Hugging Face Llama names. */
public final class GgufNames {
    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(\\w+)\\.(weight|bias)");
    private static final String[][] BLOCK_NAMES = {
            {"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"}, {"attn_v", "self_attn.v_proj"},
            {"attn_output", "self_attn.o_proj"}, {"attn_norm", "input_layernorm"}, {"ffn_norm", "post_attention_layernorm"},
            {"ffn_gate", "mlp.gate_proj"}, {"ffn_up", "mlp.up_proj"}, {"ffn_down", "mlp.down_proj"},
            {"attn_q_norm", "self_attn.q_norm"}, {"attn_k_norm", "self_attn.k_norm"}};

    private GgufNames() {}

    /** Phi-3's fused tensors: attn_qkv, and ffn_up holding gate and up stacked (llama.cpp splits it in its SwiGLU). */
    private static final Pattern PHI3_FUSED = Pattern.compile("blk\\.(\\d+)\\.(attn_qkv|ffn_up)\\.weight");

    /** Gemma's four block norms: llama.cpp's ffn_norm is Gemma's pre-FFN norm, not Llama's post-attention one. */
    private static final String[][] GEMMA_NORMS = {
            {"post_attention_norm", "post_attention_layernorm"}, {"ffn_norm", "pre_feedforward_layernorm"},
            {"post_ffw_norm", "post_feedforward_layernorm"}};

    private static final Pattern HF_BLOCK_WEIGHT = Pattern.compile("model\\.layers\\.(\\d+)\\.(\\w+)\\.weight");

    /** {@link #fromHf(String)} with the family's own names (Gemma's norms) first. */
    public static String fromHf(ModelFamily family, String hf) {
        if (family != null && family.offsetNorms()) {
            Matcher m = HF_BLOCK_WEIGHT.matcher(hf);
            if (m.matches()) {
                for (String[] p : GEMMA_NORMS) if (p[1].equals(m.group(2))) return "blk." + m.group(1) + "." + p[0] + ".weight";
            }
        }
        return fromHf(hf);
    }

    /** {@link #toHf(String)} with the family's own names (Phi-3's fused projections, Gemma's norms) first. */
    public static String toHf(ModelFamily family, String gguf) {
        if (family != null && family.offsetNorms()) {
            Matcher m = BLOCK.matcher(gguf);
            if (m.matches()) {
                for (String[] p : GEMMA_NORMS) if (p[0].equals(m.group(2))) return "model.layers." + m.group(1) + "." + p[1] + "." + m.group(3);
            }
        }
        if (family == ModelFamily.PHI3) {
            Matcher m = PHI3_FUSED.matcher(gguf);
            if (m.matches()) return "model.layers." + m.group(1) + (m.group(2).equals("attn_qkv") ? ".self_attn.qkv_proj" : ".mlp.gate_up_proj") + ".weight";
        }
        return toHf(gguf);
    }

    /** The GGUF name of a fused Phi-3 projection ({@link dev.tamp.formats.family.FusedProjections}). */
    public static String fusedToGguf(String hfFused) {
        Matcher m = Pattern.compile("model\\.layers\\.(\\d+)\\.(self_attn\\.qkv_proj|mlp\\.gate_up_proj)\\.weight").matcher(hfFused);
        if (!m.matches()) throw new IllegalArgumentException(hfFused + " is not a fused projection");
        return "blk." + m.group(1) + (m.group(2).startsWith("self_attn") ? ".attn_qkv" : ".ffn_up") + ".weight";
    }

    public static String toHf(String gguf) {
        switch (gguf) {
            case "token_embd.weight": return "model.embed_tokens.weight";
            case "output_norm.weight": return "model.norm.weight";
            case "output.weight": return "lm_head.weight";
            default: break;
        }
        Matcher m = BLOCK.matcher(gguf);
        if (m.matches()) {
            for (String[] p : BLOCK_NAMES) {
                if (p[0].equals(m.group(2))) return "model.layers." + m.group(1) + "." + p[1] + "." + m.group(3);
            }
        }
        return gguf;
    }

    public static String fromHf(String hf) {
        switch (hf) {
            case "model.embed_tokens.weight": return "token_embd.weight";
            case "model.norm.weight": return "output_norm.weight";
            case "lm_head.weight": return "output.weight";
            default: break;
        }
        Matcher m = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)\\.(weight|bias)").matcher(hf);
        if (m.matches()) {
            for (String[] p : BLOCK_NAMES) {
                if (p[1].equals(m.group(2))) return "blk." + m.group(1) + "." + p[0] + "." + m.group(3);
            }
        }
        return hf;
    }
}
