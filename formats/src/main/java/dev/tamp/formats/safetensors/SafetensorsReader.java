package dev.tamp.formats.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.family.FusedProjections;
import dev.tamp.formats.family.HfConfig;
import dev.tamp.formats.family.ModelFamily;
import dev.tamp.formats.io.CheckpointReader;
import dev.tamp.formats.io.FileRegions;
import dev.tamp.formats.io.MessageText;
import dev.tamp.formats.io.TensorRegion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads safetensors: one file, or a Hugging Face directory (config.json plus model.safetensors or a sharded
 * model.safetensors.index.json). Tensors are memory-mapped one by one; the header is validated completely
 * (length, dtypes, shapes, offsets that must tile the data buffer exactly) before any tensor is touched.
 */
public final class SafetensorsReader implements CheckpointReader {
    /** The reference implementation's cap on the JSON header (100 MB). */
    static final long MAX_HEADER = 100_000_000L;
    /** Duplicate keys in a header are ambiguous (which entry wins?), so they are refused. */
    private static final ObjectReader STRICT = Json.mapper().reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    @Override
    public boolean accepts(Path path) {
        if (Files.isDirectory(path)) {
            return Files.exists(path.resolve("model.safetensors")) || Files.exists(path.resolve("model.safetensors.index.json"))
                    || hasSafetensors(path);
        }
        return path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors");
    }

    private static boolean hasSafetensors(Path dir) {
        try (var s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().endsWith(".safetensors"));
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public Model read(Path path, Progress progress) {
        return MessageText.oneLine(() -> readModel(path, progress));
    }

    private Model readModel(Path path, Progress progress) {
        Map<String, Object> config = new LinkedHashMap<>();
        Map<String, EncodedTensor> weights = new LinkedHashMap<>();
        byte[] tokenizer = null;
        if (Files.isDirectory(path)) {
            Path cfg = path.resolve("config.json");
            if (!Files.isRegularFile(cfg)) throw BadInputException.inFile(path, "directory has no config.json");
            config.putAll(HfConfig.read(cfg));
            readDirectory(path, weights, config, null);
            Path tok = path.resolve("tokenizer.json");
            try {
                if (Files.isRegularFile(tok)) tokenizer = Files.readAllBytes(tok);
            } catch (IOException e) {
                throw BadInputException.inFile(tok, "cannot read: " + e.getMessage(), e);
            }
        } else {
            readFile(path, weights, config, null);
            Path cfg = path.toAbsolutePath().resolveSibling("config.json");
            if (Files.isRegularFile(cfg)) config.putAll(HfConfig.read(cfg));
        }
        String arch = HfConfig.architecture(config);
        if (FusedProjections.fused(ModelFamily.of(arch))) weights = FusedProjections.split(path.toString(), weights, config);
        if (ModelFamily.of(arch) != null && ModelFamily.of(arch).offsetNorms()) weights = dev.tamp.formats.family.OffsetNorms.toMultipliers(weights);
        return new Model(ModelFormat.SAFETENSORS, path.toString(), arch, null, weights, config, Map.of(), tokenizer, List.of());
    }

    /**
     * Where each tensor of a checkpoint (file or directory) lies, validated as {@link #read} validates, so a
     * caller can read tensors one at a time into memory instead of through the mapped model.
     */
    public static Map<String, TensorRegion> regions(Path path) {
        return MessageText.oneLine(() -> {
            Map<String, TensorRegion> regions = new LinkedHashMap<>();
            Map<String, EncodedTensor> ignored = new LinkedHashMap<>();
            if (Files.isDirectory(path)) {
                readDirectory(path, ignored, new LinkedHashMap<>(), regions);
            } else {
                readFile(path, ignored, new LinkedHashMap<>(), regions);
            }
            Path cfg = Files.isDirectory(path) ? path.resolve("config.json") : path.toAbsolutePath().resolveSibling("config.json");
            if (Files.isRegularFile(cfg)) {
                Map<String, Object> config = HfConfig.read(cfg);
                if (FusedProjections.fused(ModelFamily.of(HfConfig.architecture(config)))) return FusedProjections.splitRegions(path.toString(), regions, config);
            }
            return regions;
        });
    }

    /** The shard files of a directory, in index order (or the single model file). */
    static List<Path> shards(Path dir) {
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(index)) return List.copyOf(indexedShards(index, dir).keySet());
        Path single = dir.resolve("model.safetensors");
        if (Files.isRegularFile(single)) return List.of(single);
        try (var s = Files.list(dir)) {
            List<Path> all = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
            if (all.isEmpty()) throw BadInputException.inFile(dir, "no .safetensors file");
            return all;
        } catch (IOException e) {
            throw BadInputException.inFile(dir, "cannot list: " + e.getMessage(), e);
        }
    }

    /**
     * An index's weight_map grouped by shard file (in order of first mention): shard → tensor names. Shards
     * must be regular files inside the directory.
     */
    static Map<Path, List<String>> indexedShards(Path index, Path dir) {
        JsonNode n;
        try {
            n = STRICT.readTree(Files.readAllBytes(index));
        } catch (IOException e) {
            throw BadInputException.inFile(index, "not valid JSON: " + firstLine(e.getMessage()), e);
        }
        JsonNode map = n == null ? null : n.path("weight_map");
        if (map == null || !map.isObject() || map.size() == 0) throw BadInputException.inFile(index, "has no weight_map");
        Map<Path, List<String>> out = new LinkedHashMap<>();
        Path base = dir.toAbsolutePath().normalize();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) throw BadInputException.inFile(index, "weight_map entry " + e.getKey() + " is not a file name");
            String f = e.getValue().asText();
            Path p;
            try {
                p = base.resolve(f).normalize();
            } catch (java.nio.file.InvalidPathException x) {
                throw BadInputException.inFile(index, "weight_map names an invalid file " + f);
            }
            if (!p.startsWith(base)) throw BadInputException.inFile(index, "shard " + f + " lies outside the directory");
            out.computeIfAbsent(p, k -> {
                if (!Files.isRegularFile(k)) throw BadInputException.inFile(index, "names missing shard " + f);
                return new ArrayList<>();
            }).add(e.getKey());
        }
        return out;
    }

    private static void readDirectory(Path dir, Map<String, EncodedTensor> weights, Map<String, Object> config,
                                      Map<String, TensorRegion> regions) {
        Path index = dir.resolve("model.safetensors.index.json");
        if (!Files.isRegularFile(index)) {
            for (Path shard : shards(dir)) readFile(shard, weights, config, regions);
            return;
        }
        // The index and the shards must agree: a tensor the index promises but no shard holds would
        // surface much later as a "missing weight"; one a shard holds but the index omits means a mixed-up set.
        for (Map.Entry<Path, List<String>> e : indexedShards(index, dir).entrySet()) {
            Map<String, EncodedTensor> fromShard = new LinkedHashMap<>();
            readFile(e.getKey(), fromShard, config, regions);
            for (String name : e.getValue()) {
                if (!fromShard.containsKey(name)) {
                    throw BadInputException.inFile(index, "maps tensor " + name + " to " + e.getKey().getFileName() + ", which does not hold it");
                }
            }
            for (Map.Entry<String, EncodedTensor> t : fromShard.entrySet()) {
                if (!e.getValue().contains(t.getKey())) {
                    throw BadInputException.inFile(index, "does not map tensor " + t.getKey() + " found in " + e.getKey().getFileName());
                }
                if (weights.put(t.getKey(), t.getValue()) != null) {
                    throw BadInputException.inFile(e.getKey(), "tensor " + t.getKey() + " appears in more than one shard");
                }
            }
        }
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }

    /** One tensor's header entry, validated. */
    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    /**
     * Reads one file's tensors into {@code out} in file order (by data offset; names must not repeat across
     * shards) and its {@code __metadata__} into {@code config} as {@code metadata.<key>} strings.
     */
    static void readFile(Path file, Map<String, EncodedTensor> out, Map<String, Object> config, Map<String, TensorRegion> regions) {
        long size = FileRegions.size(file);
        if (size == 0) throw BadInputException.inFile(file, "empty file");
        if (size < 8) throw BadInputException.inFile(file, "truncated safetensors file (" + size + " bytes)");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long headerLen = FileRegions.map(file, ch, 0, 8).getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER || headerLen > size - 8) {
                throw BadInputException.inFile(file, "safetensors header length " + headerLen + " is impossible for a "
                        + size + "-byte file (truncated or not safetensors; the limit is " + MAX_HEADER + ")");
            }
            byte[] hbytes = new byte[(int) headerLen];
            FileRegions.map(file, ch, 8, headerLen).get(hbytes);
            JsonNode header;
            try {
                header = STRICT.readTree(hbytes);
            } catch (IOException e) {
                throw BadInputException.inFile(file, "safetensors header is not valid JSON: " + firstLine(e.getMessage()));
            }
            if (header == null || !header.isObject()) throw BadInputException.inFile(file, "safetensors header is not a JSON object");
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            List<Entry> entries = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    metadata(file, f.getValue(), config);
                } else {
                    entries.add(entry(file, f.getKey(), f.getValue(), dataLen));
                }
            }
            // File order = data order; the stable sort keeps header order among zero-byte tensors.
            List<Entry> sorted = new ArrayList<>(entries);
            sorted.sort(Comparator.comparingLong(Entry::begin));
            long expect = 0;
            for (Entry e : sorted) {
                if (e.begin() != expect) {
                    throw BadInputException.inFile(file, "tensor " + e.name() + " starts at " + e.begin() + ", expected " + expect
                            + " (overlapping or gapped data_offsets)");
                }
                expect = e.end();
            }
            if (expect != dataLen) {
                throw BadInputException.inFile(file, "tensors cover " + expect + " of the " + dataLen
                        + " data bytes (trailing bytes: corrupt or lying header)");
            }
            for (Entry e : sorted) {
                ByteBuffer b = FileRegions.map(file, ch, dataStart + e.begin(), e.end() - e.begin());
                if (regions != null) regions.put(e.name(), new TensorRegion(file, dataStart + e.begin(), e.end() - e.begin(), e.dtype(), e.shape()));
                if (out.put(e.name(), new DenseWeight(Tensor.of(e.dtype(), e.shape(), b))) != null) {
                    throw BadInputException.inFile(file, "tensor " + e.name() + " appears in more than one shard");
                }
            }
        } catch (IOException e) {
            throw BadInputException.inFile(file, "cannot read: " + e.getMessage(), e);
        }
    }

    private static void metadata(Path file, JsonNode v, Map<String, Object> config) {
        if (!v.isObject()) throw BadInputException.inFile(file, "__metadata__ is not a JSON object");
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) throw BadInputException.inFile(file, "__metadata__ value " + m.getKey() + " is not a string");
            config.put("metadata." + m.getKey(), m.getValue().asText());
        }
    }

    private static Entry entry(Path file, String name, JsonNode v, long dataLen) {
        if (!v.isObject()) throw BadInputException.inFile(file, "tensor " + name + " is not described by a JSON object");
        JsonNode dtNode = v.path("dtype");
        if (!dtNode.isTextual()) throw BadInputException.inFile(file, "tensor " + name + " has no dtype");
        String dt = dtNode.asText();
        DType dtype = SafetensorsDTypes.parse(dt);
        if (dtype == null) {
            if (SafetensorsDTypes.isKnownUnsupported(dt)) {
                throw new UnsupportedModelException(file + ": tensor " + name + " has dtype " + dt
                        + ", which tamp does not read (convert it to F16/BF16/F32 first)");
            }
            throw BadInputException.inFile(file, "tensor " + name + " has unknown dtype " + dt);
        }
        JsonNode shapeNode = v.path("shape");
        JsonNode offs = v.path("data_offsets");
        if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2) {
            throw BadInputException.inFile(file, "tensor " + name + " lacks a shape or data_offsets");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw BadInputException.inFile(file, "tensor " + name + " has an invalid dimension " + d);
            }
            shape[i] = d.asLong();
        }
        for (JsonNode o : offs) {
            if (!o.isIntegralNumber() || !o.canConvertToLong()) {
                throw BadInputException.inFile(file, "tensor " + name + " has a non-integer data offset " + o);
            }
        }
        long begin = offs.get(0).asLong(), end = offs.get(1).asLong();
        long bytes;
        try {
            bytes = Math.multiplyExact(Tensor.numel(shape), dtype.byteSize());
        } catch (ArithmeticException e) {
            throw BadInputException.inFile(file, "tensor " + name + " declares an impossible size");
        }
        if (begin < 0 || end < begin || end > dataLen) {
            throw BadInputException.inFile(file, "tensor " + name + " has data_offsets [" + begin + ", " + end
                    + "] outside the " + dataLen + "-byte data buffer (truncated or lying header)");
        }
        if (end - begin != bytes) {
            throw BadInputException.inFile(file, "tensor " + name + " spans " + (end - begin) + " bytes but its shape needs " + bytes);
        }
        return new Entry(name, dtype, shape, begin, end);
    }
}
