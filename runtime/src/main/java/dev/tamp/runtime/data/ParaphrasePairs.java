package dev.tamp.runtime.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.json.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The bundled KJV↔WEB Old Testament verse pairs (21,819; public domain): the same verse in two English
 * translations is a paraphrase, which makes a labelled retrieval task (query KJV, find its WEB verse).
 */
public final class ParaphrasePairs {
    private static final String RESOURCE = "/dev/tamp/data/eval/kjv-web-ot.jsonl";

    public record Pair(String ref, String kjv, String web) {}

    private ParaphrasePairs() {}

    public static List<Pair> all() {
        List<Pair> out = new ArrayList<>();
        try (BufferedReader r = TextCorpus.resourceReader(RESOURCE)) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) continue;
                JsonNode n = Json.parse(line);
                out.add(new Pair(n.path("ref").asText(), n.path("kjv").asText(), n.path("web").asText()));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read bundled " + RESOURCE, e);
        }
        return out;
    }

    /**
     * {@code count} pairs evenly spaced over the whole list (index ⌊i·size/count⌋), the split the data
     * README's reference numbers were measured on.
     */
    public static List<Pair> evenlySpaced(int count) {
        List<Pair> all = all();
        int n = Math.min(count, all.size());
        List<Pair> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(all.get((int) ((long) i * all.size() / n)));
        return out;
    }
}
