package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.UnsupportedModelException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The tokenizer.json's {@code decoder}: a chain of steps over the token strings whose results are joined. Without
 * a decoder, tokens are joined with spaces (what Hugging Face does).
 */
final class Decoders {
    /** One decoder step: token strings in, token strings out. */
    interface Step {
        List<String> apply(List<String> tokens);
    }

    private Decoders() {}

    static String decode(Step step, List<String> tokens) {
        if (step == null) return String.join(" ", tokens);
        return String.join("", step.apply(tokens));
    }

    static Step fromJson(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) return null;
        String type = n.path("type").asText("");
        return switch (type) {
            case "Sequence" -> {
                List<Step> steps = new ArrayList<>();
                for (JsonNode c : n.path("decoders")) steps.add(fromJson(c));
                yield tokens -> {
                    for (Step s : steps) tokens = s.apply(tokens);
                    return tokens;
                };
            }
            case "WordPiece" -> wordPiece(n.path("prefix").asText("##"), n.path("cleanup").asBoolean(true));
            case "Metaspace" -> metaspace(n);
            case "ByteLevel" -> Decoders::byteLevel;
            case "ByteFallback" -> Decoders::byteFallback;
            case "Fuse" -> tokens -> List.of(String.join("", tokens));
            case "Strip" -> {
                String content = n.path("content").asText(" ");
                int start = n.path("start").asInt(0), stop = n.path("stop").asInt(0);
                yield tokens -> tokens.stream().map(t -> strip(t, content.codePointAt(0), start, stop)).toList();
            }
            case "Replace" -> {
                TextPattern pattern = TextPattern.fromJson(n.path("pattern"), "Replace decoder");
                String content = n.path("content").asText();
                yield tokens -> tokens.stream().map(t -> pattern.replaceAll(t, content)).toList();
            }
            default -> throw new UnsupportedModelException("tokenizer.json decoder '" + type + "' is not supported"
                    + " (supported: Sequence, WordPiece, Metaspace, ByteLevel, ByteFallback, Fuse, Strip, Replace)");
        };
    }

    /** Continuation pieces lose their prefix, other pieces get a space before them; optional English clean-up. */
    private static Step wordPiece(String prefix, boolean cleanup) {
        return tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                if (i != 0) t = t.startsWith(prefix) ? t.substring(prefix.length()) : " " + t;
                out.add(cleanup ? cleanup(t) : t);
            }
            return out;
        };
    }

    /** Hugging Face's decoding clean-up: no space before . ? ! , and English contractions re-joined. */
    static String cleanup(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" do not", " don't").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    /** ▁ → space; in the first token every ▁ is dropped instead (it was the prepended one) unless nothing was prepended. */
    private static Step metaspace(JsonNode n) {
        int rep = n.path("replacement").asText("\u2581").codePointAt(0);
        String scheme = n.has("prepend_scheme") ? n.path("prepend_scheme").asText()
                : n.path("add_prefix_space").asBoolean(true) ? "always" : "never";
        boolean prepended = !scheme.equals("never");
        return tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                StringBuilder sb = new StringBuilder();
                boolean first = i == 0;
                tokens.get(i).codePoints().forEach(c -> {
                    if (c != rep) sb.appendCodePoint(c);
                    else if (!(first && prepended)) sb.append(' ');
                });
                out.add(sb.toString());
            }
            return out;
        };
    }

    /** Byte-level characters back to bytes, all tokens at once; a token with other characters keeps its UTF-8. */
    private static List<String> byteLevel(List<String> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String t : tokens) {
            byte[] mapped = new byte[t.length()];
            int n = 0;
            boolean all = true;
            for (int i = 0; i < t.length() && all; i++) {
                int b = ByteLevelAlphabet.byteOf(t.charAt(i));
                if (b < 0) all = false;
                else mapped[n++] = (byte) b;
            }
            if (all) bytes.write(mapped, 0, n);
            else bytes.writeBytes(t.getBytes(StandardCharsets.UTF_8));
        }
        return List.of(bytes.toString(StandardCharsets.UTF_8));
    }

    /** Runs of {@code <0xNN>} tokens become their UTF-8 text, or one U+FFFD per byte when the run is not valid UTF-8. */
    private static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        for (String t : tokens) {
            int b = byteToken(t);
            if (b >= 0) {
                run.write(b);
                continue;
            }
            flush(run, out);
            out.add(t);
        }
        flush(run, out);
        return out;
    }

    private static void flush(ByteArrayOutputStream run, List<String> out) {
        if (run.size() == 0) return;
        byte[] bytes = run.toByteArray();
        run.reset();
        try {
            out.add(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            for (int i = 0; i < bytes.length; i++) out.add("\uFFFD");
        }
    }

    /** The byte of a {@code <0xNN>} token, else -1. */
    static int byteToken(String t) {
        if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') return -1;
        int hi = Character.digit(t.charAt(3), 16), lo = Character.digit(t.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    private static String strip(String t, int content, int start, int stop) {
        int[] cps = t.codePoints().toArray();
        int from = 0;
        for (int i = 0; i < Math.min(start, cps.length) && cps[i] == content; i++) from = i + 1;
        int to = cps.length;
        for (int i = 0; i < stop && cps.length - 1 - i >= 0 && cps[cps.length - 1 - i] == content; i++) to = cps.length - 1 - i;
        return from >= to ? "" : new String(cps, from, to - from);
    }
}
