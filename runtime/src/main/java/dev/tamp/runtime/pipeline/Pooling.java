package dev.tamp.runtime.pipeline;

import dev.tamp.core.ir.Model;
import java.util.Locale;

/**
 * How token states become a sentence embedding, as the model's sentence-transformers configuration says:
 * all-MiniLM-L6-v2 averages the unmasked tokens; bge-small-en-v1.5 takes the [CLS] state. Both L2-normalise.
 */
public enum Pooling {
    MEAN, CLS;

    /** config "pooling" when recorded; else CLS for BGE models (by file name), MEAN otherwise. */
    public static Pooling forModel(Model m) {
        Object p = m.config().get("pooling");
        if (p != null) return valueOf(p.toString().toUpperCase(Locale.ROOT));
        String src = m.source() == null ? "" : m.source().toLowerCase(Locale.ROOT);
        return src.contains("bge") ? CLS : MEAN;
    }
}
