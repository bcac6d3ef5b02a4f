package dev.tamp.runtime.pipeline;

import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ProvenanceStep;
import java.util.Locale;

/**
 * How token states become a sentence embedding, as the model's sentence-transformers configuration says:
 * all-MiniLM-L6-v2 averages the unmasked tokens; bge-small-en-v1.5 takes the [CLS] state. Both L2-normalise.
 */
public enum Pooling {
    MEAN, CLS;

    /**
     * config "pooling" when recorded (a sentence-transformers {@code 1_Pooling/config.json}, or a pack that
     * recorded it); else CLS for BGE models and MEAN otherwise, judged by the name of the <em>original</em>
     * checkpoint — a pack's "source" provenance step, not the pack's own file name. Judging by the pack's name
     * gave every BGE pack mean pooling while its reference used CLS: a 0.934 cosine that looked like a W8A8
     * collapse (issue 17) and was a pooling mismatch.
     */
    public static Pooling forModel(Model m) {
        Object p = m.config().get("pooling");
        if (p != null) {
            for (Pooling v : values()) if (v.name().equalsIgnoreCase(p.toString())) return v;
            throw new UnsupportedModelException(m.source() + ": pooling '" + p + "' is not supported (tamp pools by mean or [CLS])");
        }
        return byName(originalName(m));
    }

    /** CLS for BGE-named checkpoints (BAAI's models pool the [CLS] state), MEAN otherwise. */
    private static Pooling byName(String name) {
        return name.toLowerCase(Locale.ROOT).contains("bge") ? CLS : MEAN;
    }

    private static String originalName(Model m) {
        for (ProvenanceStep s : m.provenance()) {
            if (s.step().equals("source") && s.options().containsKey("file")) return s.options().get("file");
        }
        return m.source() == null ? "" : m.source();
    }
}
