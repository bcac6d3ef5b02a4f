package dev.tamp.formats.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
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
import dev.tamp.formats.CheckpointReader;
import dev.tamp.formats.FileRegions;
import dev.tamp.formats.HfConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads safetensors: one file, or a Hugging Face directory (config.json plus model.safetensors or a sharded
 * model.safetensors.index.json). Tensors are memory-mapped one by one; the header is validated completely
 * (length, dtypes, shapes, offsets that must tile the data buffer exactly) before any tensor is touched.
 */
public final class SafetensorsReader implements CheckpointReader {
    static final long MAX_HEADER = 100L << 20;

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
        Map<String, Object> config = new LinkedHashMap<>();
        Map<String, EncodedTensor> weights = new LinkedHashMap<>();
        byte[] tokenizer = null;
        if (Files.isDirectory(path)) {
            Path cfg = path.resolve("config.json");
            if (!Files.isRegularFile(cfg)) throw BadInputException.inFile(path, "directory has no config.json");
            config.putAll(HfConfig.read(cfg));
            for (Path shard : shards(path)) readFile(shard, weights, config);
            Path tok = path.resolve("tokenizer.json");
            try {
                if (Files.isRegularFile(tok)) tokenizer = Files.readAllBytes(tok);
            } catch (IOException e) {
                throw BadInputException.inFile(tok, "cannot read: " + e.getMessage(), e);
            }
        } else {
            readFile(path, weights, config);
            Path cfg = path.toAbsolutePath().resolveSibling("config.json");
            if (Files.isRegularFile(cfg)) config.putAll(HfConfig.read(cfg));
        }
        String arch = HfConfig.architecture(config);
        return new Model(ModelFormat.SAFETENSORS, path.toString(), arch, null, weights, config, Map.of(), tokenizer, List.of());
    }

    /** The shard files of a directory, in index order (or the single model file). */
    static List<Path> shards(Path dir) {
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(index)) {
            JsonNode n;
            try {
                n = Json.parse(Files.readAllBytes(index));
            } catch (IOException e) {
                throw BadInputException.inFile(index, "not valid JSON: " + e.getMessage(), e);
            }
            JsonNode map = n.path("weight_map");
            if (!map.isObject() || map.size() == 0) throw BadInputException.inFile(index, "has no weight_map");
            LinkedHashSet<String> files = new LinkedHashSet<>();
            map.fields().forEachRemaining(e -> files.add(e.getValue().asText()));
            List<Path> out = new ArrayList<>();
            Path base = dir.toAbsolutePath().normalize();
            for (String f : files) {
                Path p = base.resolve(f).normalize();
                if (!p.startsWith(base)) throw BadInputException.inFile(index, "shard " + f + " lies outside the directory");
                if (!Files.isRegularFile(p)) throw BadInputException.inFile(index, "names missing shard " + f);
                out.add(p);
            }
            return out;
        }
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

    /** Reads one file's tensors into {@code out} (names must not repeat across shards). */
    static void readFile(Path file, Map<String, EncodedTensor> out, Map<String, Object> config) {
        long size = FileRegions.size(file);
        if (size == 0) throw BadInputException.inFile(file, "empty file");
        if (size < 8) throw BadInputException.inFile(file, "truncated safetensors file (" + size + " bytes)");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long headerLen = FileRegions.map(file, ch, 0, 8).getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER || headerLen > size - 8) {
                throw BadInputException.inFile(file, "safetensors header length " + headerLen + " is impossible for a "
                        + size + "-byte file (truncated or not safetensors)");
            }
            ByteBuffer hb = FileRegions.map(file, ch, 8, headerLen);
            byte[] hbytes = new byte[(int) headerLen];
            hb.get(hbytes);
            JsonNode header;
            try {
                header = Json.parse(new String(hbytes, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw BadInputException.inFile(file, "safetensors header is not valid JSON");
            }
            if (!header.isObject()) throw BadInputException.inFile(file, "safetensors header is not a JSON object");
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            record Entry(String name, DType dtype, long[] shape, long begin, long end) {}
            List<Entry> entries = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String name = f.getKey();
                JsonNode v = f.getValue();
                if (name.equals("__metadata__")) {
                    v.fields().forEachRemaining(m -> config.put("metadata." + m.getKey(), m.getValue().asText()));
                    continue;
                }
                String dt = v.path("dtype").asText("");
                DType dtype = SafetensorsDTypes.parse(dt);
                if (dtype == null) {
                    if (dt.isEmpty()) throw BadInputException.inFile(file, "tensor " + name + " has no dtype");
                    throw new UnsupportedModelException(file + ": tensor " + name + " has dtype " + dt + ", which tamp does not read");
                }
                JsonNode shapeNode = v.path("shape");
                JsonNode offs = v.path("data_offsets");
                if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2) {
                    throw BadInputException.inFile(file, "tensor " + name + " lacks a shape or data_offsets");
                }
                long[] shape = new long[shapeNode.size()];
                for (int i = 0; i < shape.length; i++) {
                    if (!shapeNode.get(i).canConvertToLong() || shapeNode.get(i).asLong() < 0) {
                        throw BadInputException.inFile(file, "tensor " + name + " has an invalid dimension " + shapeNode.get(i));
                    }
                    shape[i] = shapeNode.get(i).asLong();
                }
                long begin = offs.get(0).asLong(-1), end = offs.get(1).asLong(-1);
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
                entries.add(new Entry(name, dtype, shape, begin, end));
            }
            // Offsets must tile the buffer: no overlaps, no holes.
            List<Entry> sorted = new ArrayList<>(entries);
            sorted.sort((a, b) -> Long.compare(a.begin(), b.begin()));
            long expect = 0;
            for (Entry e : sorted) {
                if (e.begin() != expect) {
                    throw BadInputException.inFile(file, "tensor " + e.name() + " starts at " + e.begin() + ", expected " + expect
                            + " (overlapping or gapped data_offsets)");
                }
                expect = e.end();
            }
            for (Entry e : entries) {
                ByteBuffer b = FileRegions.map(file, ch, dataStart + e.begin(), e.end() - e.begin());
                if (out.put(e.name(), new DenseWeight(Tensor.of(e.dtype(), e.shape(), b))) != null) {
                    throw BadInputException.inFile(file, "tensor " + e.name() + " appears in more than one shard");
                }
            }
        } catch (IOException e) {
            throw BadInputException.inFile(file, "cannot read: " + e.getMessage(), e);
        }
    }
}
