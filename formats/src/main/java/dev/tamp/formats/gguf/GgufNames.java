package dev.tamp.formats.gguf;

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
