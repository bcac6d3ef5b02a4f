package dev.tamp.formats.family;

import java.util.Locale;

/**
 * The model families tamp knows, with what each is called in every format it crosses: the one list that readers
 * (Hugging Face config, GGUF), graph builders and exporters ask, so a family never turns into another on the way
 * (a Qwen2 read from GGUF was reported, and exported, as Llama while three lists disagreed).
 */
public enum ModelFamily {
    LLAMA("llama", "LlamaForCausalLM", "llama", true, true),
    /** Mistral 7B: Llama's graph (sliding window unused at these lengths); llama.cpp's converter writes it as "llama". */
    MISTRAL("mistral", "MistralForCausalLM", "llama", true, true),
    /** Qwen2 / Qwen2.5: q/k/v biases, rotate-half RoPE kept in GGUF (llama.cpp runs it NEOX-style). */
    QWEN2("qwen2", "Qwen2ForCausalLM", "qwen2", true, false),
    /** Qwen3: Qwen2 without biases, RMSNorm of each query and key head before RoPE, head_dim set apart from hidden/heads. */
    QWEN3("qwen3", "Qwen3ForCausalLM", "qwen3", true, false),
    /** Phi-3 (mini/medium, short-context RoPE): Llama's math with fused qkv and gate_up projections ({@link FusedProjections}). */
    PHI3("phi3", "Phi3ForCausalLM", "phi3", true, false),
    /** Gemma 2: sandwich norms, √d embedding scale, GELU-tanh, soft-capped scores and logits, sliding window on even layers. */
    GEMMA2("gemma2", "Gemma2ForCausalLM", "gemma2", true, false),
    /** Gemma 3 (text, 1B style): Gemma 2 without soft-capping, with q/k norms, 5:1 sliding:global layers and a local RoPE base. */
    GEMMA3("gemma3_text", "Gemma3ForCausalLM", "gemma3", true, false),
    BERT("bert", "BertModel", "bert", false, false);

    /** tamp's name: the model's {@code architecture()}, HF's {@code model_type}. */
    public final String id;
    /** HF config {@code architectures[0]}. */
    public final String hfClass;
    /** GGUF {@code general.architecture}, also the prefix of its hyper-parameter keys. */
    public final String ggufArch;
    /** Built by the Llama-family decoder graph (and KV-cache decoder). */
    public final boolean llamaGraph;
    /** llama.cpp stores this family's Q/K rows permuted into Meta's interleaved RoPE pairs. */
    public final boolean ggufInterleavedRope;

    ModelFamily(String id, String hfClass, String ggufArch, boolean llamaGraph, boolean ggufInterleavedRope) {
        this.id = id;
        this.hfClass = hfClass;
        this.ggufArch = ggufArch;
        this.llamaGraph = llamaGraph;
        this.ggufInterleavedRope = ggufInterleavedRope;
    }

    /** The family called {@code name} by tamp or HF ({@code model_type}); SmolLM's "smollm" is Llama; null if unknown. */
    public static ModelFamily of(String name) {
        if (name == null) return null;
        String n = name.toLowerCase(Locale.ROOT);
        if (n.equals("smollm")) return LLAMA;
        for (ModelFamily f : values()) if (f.id.equals(n)) return f;
        return null;
    }

    /** Whether the family stores RMSNorm weights as w with the multiplier 1 + w (Gemma); GGUF holds 1 + w. */
    public boolean offsetNorms() {
        return this == GEMMA2 || this == GEMMA3;
    }

    /** The family of a GGUF {@code general.architecture}; null if tamp has none for it. */
    public static ModelFamily ofGguf(String arch) {
        for (ModelFamily f : values()) if (f.ggufArch.equals(arch) && f != MISTRAL) return f;
        return "mistral".equals(arch) ? MISTRAL : null;
    }

    /** The family whose HF class name ({@code architectures}) is contained in {@code classes}; null if none. */
    public static ModelFamily ofHfClasses(String classes) {
        String s = classes.toLowerCase(Locale.ROOT);
        for (ModelFamily f : values()) if (s.contains(f.hfClass.toLowerCase(Locale.ROOT)) || s.contains(f.id)) return f;
        return null;
    }

    /** "llama, mistral, qwen2, qwen3, phi3, gemma2, gemma3_text, bert": for messages. */
    public static String names() {
        StringBuilder sb = new StringBuilder();
        for (ModelFamily f : values()) sb.append(sb.length() == 0 ? "" : ", ").append(f.id);
        return sb.toString();
    }
}
