package dev.tamp.cli.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.json.Json;
import dev.tamp.formats.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * What a recipe's earlier runs completed, kept in the work directory so an interrupted or edited recipe
 * resumes: a step is skipped when its arguments, the hash of its input and the hash of its recorded output
 * all still match. Outputs are deterministic, so a step that had to run again and produced the same bytes
 * lets the following steps be skipped too.
 */
final class RecipeState {
    static final String FILE = "recipe-state.json";

    /** One completed step. {@code outputSha256} is null for steps that only check. */
    record Done(int index, List<String> arguments, String inputSha256, String output, String outputSha256) {}

    private final Path file;
    private final TreeMap<Integer, Done> done = new TreeMap<>();

    private RecipeState(Path file) { this.file = file; }

    /** Reads the state in {@code workdir}; a missing or unreadable file means nothing is done. */
    static RecipeState load(Path workdir) {
        RecipeState s = new RecipeState(workdir.resolve(FILE));
        if (!Files.isRegularFile(s.file)) return s;
        try {
            JsonNode root = Json.parse(Files.readAllBytes(s.file));
            for (JsonNode n : root.path("steps")) {
                List<String> args = new ArrayList<>();
                n.path("arguments").forEach(a -> args.add(a.asText()));
                s.done.put(n.path("index").asInt(), new Done(n.path("index").asInt(), args, n.path("input_sha256").asText(),
                        n.hasNonNull("output") ? n.get("output").asText() : null,
                        n.hasNonNull("output_sha256") ? n.get("output_sha256").asText() : null));
            }
        } catch (IOException | RuntimeException e) {
            s.done.clear(); // a damaged record only costs a re-run
        }
        return s;
    }

    Done get(int index) { return done.get(index); }

    void clear() { done.clear(); }

    /** Records a completed step. Later records stay: each is checked against its input's hash before use. */
    void complete(Done d) {
        done.put(d.index(), d);
        save();
    }

    private void save() {
        ObjectNode root = Json.object();
        ArrayNode steps = root.putArray("steps");
        for (Done d : done.values()) {
            ObjectNode n = steps.addObject();
            n.put("index", d.index());
            ArrayNode a = n.putArray("arguments");
            d.arguments().forEach(a::add);
            n.put("input_sha256", d.inputSha256());
            n.put("output", d.output());
            n.put("output_sha256", d.outputSha256());
        }
        byte[] bytes = Json.canonicalBytes(root);
        AtomicFiles.write(file, tmp -> Files.write(tmp, bytes));
    }
}
