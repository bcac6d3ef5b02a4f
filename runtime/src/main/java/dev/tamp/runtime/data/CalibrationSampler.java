package dev.tamp.runtime.data;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws calibration samples: a pure function of (documents, mode, count, seed), so a calibration set is
 * reproducible and can be identified by {@link #hash(List)} in pack metadata.
 */
public final class CalibrationSampler {
    public enum Mode {
        /** Whole sentences (encoders). */
        SENTENCE,
        /** Windows of running text (decoders). */
        WINDOW
    }

    private CalibrationSampler() {}

    /**
     * Samples {@code count} texts (fewer if the documents hold fewer) by a seeded shuffle of all candidates.
     * Sentences keep 6–64 words; windows are about {@code windowChars} characters.
     */
    public static List<String> sample(List<TextCorpus.Document> docs, Mode mode, int count, long seed, int windowChars) {
        List<String> all = new ArrayList<>();
        for (TextCorpus.Document d : docs) {
            all.addAll(mode == Mode.SENTENCE ? Sentences.split(d.text(), 6, 64) : Sentences.windows(d.text(), windowChars));
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        // Partial Fisher–Yates: the first `count` slots are a uniform sample, in a seed-determined order.
        int n = Math.min(count, all.size());
        for (int i = 0; i < n; i++) {
            int j = i + rnd.nextInt(all.size() - i);
            String t = all.get(i);
            all.set(i, all.get(j));
            all.set(j, t);
        }
        return new ArrayList<>(all.subList(0, n));
    }

    /** SHA-256 over the samples (length-prefixed), hex. */
    public static String hash(List<String> samples) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String s : samples) {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                md.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8), (byte) b.length});
                md.update(b);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
