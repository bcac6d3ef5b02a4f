package dev.tamp.formats.tpk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.json.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A verified, opened .tpk: its entries (planes mapped) and metadata. */
public final class TpkFile {
    /** What inspect shows per table entry. */
    public record EntryInfo(String name, int formatTag, int layoutTag, long bytes, boolean derived) {}

    private final Path path;
    private final int major;
    private final int minor;
    private final List<TpkEntry> entries;
    private final ObjectNode metadata;

    TpkFile(Path path, int major, int minor, List<TpkEntry> entries, byte[] meta) {
        this.path = path;
        this.major = major;
        this.minor = minor;
        this.entries = entries;
        try {
            JsonNode n = Json.parse(meta);
            if (!n.isObject()) throw BadInputException.inFile(path, "corrupt .tpk: metadata is not a JSON object");
            this.metadata = (ObjectNode) n;
        } catch (IOException e) {
            throw BadInputException.inFile(path, "corrupt .tpk: metadata is not JSON: "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
        }
    }

    public String version() { return major + "." + minor; }

    public List<EntryInfo> entries() {
        return entries.stream().map(e -> new EntryInfo(e.name(), e.format(), e.layout(),
                (long) e.data().capacity() + e.scales().capacity() + e.aux().capacity(), e.derived())).toList();
    }

    /** The metadata without tamp's own per-tensor encoding parameters. */
    public ObjectNode metadata() {
        ObjectNode m = metadata.deepCopy();
        m.remove(TpkWriter.ENCODINGS_KEY);
        return m;
    }

    public TpkContents contents() {
        Map<String, TpkEntry> byName = new LinkedHashMap<>();
        for (TpkEntry e : entries) {
            if (byName.put(e.name(), e) != null) throw BadInputException.inFile(path, "corrupt .tpk: duplicate entry " + e.name());
        }
        JsonNode enc = metadata.path(TpkWriter.ENCODINGS_KEY);
        EncodingChecks.parameters(path, enc);
        Map<String, EncodedTensor> tensors = new LinkedHashMap<>();
        Map<String, byte[]> blobs = new LinkedHashMap<>();
        for (TpkEntry e : entries) {
            if (e.name().startsWith(TpkWriter.BLOB_PREFIX)) {
                byte[] b = new byte[e.data().capacity()];
                e.data().duplicate().get(b);
                blobs.put(e.name().substring(TpkWriter.BLOB_PREFIX.length()), b);
            } else if (!e.derived()) {
                EncodedTensor t;
                try {
                    t = TensorEntries.decode(path, e.name(), byName, enc);
                } catch (ArithmeticException x) {
                    throw BadInputException.inFile(path, "corrupt .tpk: tensor " + e.name() + " declares an impossible size");
                }
                tensors.put(e.name(), EncodingChecks.consistent(path, e.name(), t));
            }
        }
        return new TpkContents(tensors, blobs, metadata());
    }
}
