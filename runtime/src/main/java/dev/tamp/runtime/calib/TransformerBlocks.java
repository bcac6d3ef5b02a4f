package dev.tamp.runtime.calib;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which transformer block a layer belongs to, read from its name: the number after {@code layer}/{@code layers}/
 * {@code h}/{@code blocks} ("/encoder/layer.3/attention/…", "model.layers.3.mlp.up_proj", "transformer.h.3.…").
 * Block-sequential methods process blocks in this order; layers outside any block (a pooler, a head) come last.
 */
public final class TransformerBlocks {
    /** The block index of layers that are not inside a numbered block. */
    public static final int OUTSIDE = Integer.MAX_VALUE;

    private static final Pattern INDEX = Pattern.compile("(?:^|[./_])(?:layers?|h|blocks?)[./_](\\d+)(?=[./_]|$)");

    private TransformerBlocks() {}

    /** The block index in the first of the names that has one, else {@link #OUTSIDE}. */
    public static int indexOf(String... names) {
        for (String name : names) {
            if (name == null) continue;
            Matcher m = INDEX.matcher(name);
            if (m.find()) return Integer.parseInt(m.group(1));
        }
        return OUTSIDE;
    }
}
