package dev.tamp.formats.pytorch;

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
import dev.tamp.formats.family.HfConfig;
import dev.tamp.formats.io.CheckpointReader;
import dev.tamp.formats.io.FileRegions;
import dev.tamp.formats.io.MessageText;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads PyTorch state dicts saved by {@code torch.save} (the zip format of torch ≥ 1.6: {@code <prefix>/data.pkl},
 * one entry per storage under {@code <prefix>/data/}, {@code <prefix>/byteorder}). The pickle is interpreted by
 * {@link RestrictedUnpickler}, which executes nothing. Storages are memory-mapped in place (torch stores them
 * uncompressed); contiguous tensors are views of them, non-contiguous views are copied honoring their strides.
 * Nested dicts are flattened with dotted names, and a checkpoint wrapping its weights under "state_dict",
 * "model" or "module" is unwrapped. A directory with config.json and pytorch_model.bin (or a sharded
 * pytorch_model.bin.index.json) reads as a Hugging Face checkpoint. The pre-1.6 formats are recognised and refused.
 */
public final class PyTorchReader implements CheckpointReader {
    /** PROTO 2, LONG1 of 10 bytes: the start of a legacy torch.save stream's magic number 0x1950a86a20f9469cfc6c. */
    private static final byte[] LEGACY_MAGIC = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
            (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};
    /** data.pkl is parsed on the heap; real ones are kilobytes to a few megabytes. */
    private static final long MAX_PICKLE = 1L << 30;
    /** Nesting of dicts inside the state dict that is still plausible (and bounds recursion). */
    private static final int MAX_NESTING = 64;

    @Override
    public boolean accepts(Path path) {
        if (Files.isDirectory(path)) {
            return Files.isRegularFile(path.resolve("pytorch_model.bin")) || Files.isRegularFile(path.resolve("pytorch_model.bin.index.json"));
        }
        String n = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".pt") || n.endsWith(".pth")) return true;
        if (!n.endsWith(".bin")) return false;
        byte[] m = FileRegions.magic(path, 262);
        return (m.length >= 2 && m[0] == 'P' && m[1] == 'K') || isLegacy(m);
    }

    /** The pre-1.6 formats: a bare pickle stream opening with torch's magic number, or a tar archive. */
    static boolean isLegacy(byte[] head) {
        if (head.length >= LEGACY_MAGIC.length && java.util.Arrays.equals(head, 0, LEGACY_MAGIC.length, LEGACY_MAGIC, 0, LEGACY_MAGIC.length)) return true;
        return head.length >= 262 && new String(head, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
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
            for (Path shard : shards(path)) {
                for (Map.Entry<String, EncodedTensor> e : readStateDict(shard).entrySet()) {
                    if (weights.put(e.getKey(), e.getValue()) != null) {
                        throw BadInputException.inFile(shard, "tensor " + e.getKey() + " appears in more than one shard");
                    }
                }
            }
            Path tok = path.resolve("tokenizer.json");
            try {
                if (Files.isRegularFile(tok)) tokenizer = Files.readAllBytes(tok);
            } catch (IOException e) {
                throw BadInputException.inFile(tok, "cannot read: " + e.getMessage(), e);
            }
        } else {
            weights.putAll(readStateDict(path));
        }
        return new Model(ModelFormat.PYTORCH, path.toString(), HfConfig.architecture(config), null, weights, config, Map.of(), tokenizer, List.of());
    }

    /** pytorch_model.bin, or the shards a pytorch_model.bin.index.json names (inside the directory). */
    static List<Path> shards(Path dir) {
        Path index = dir.resolve("pytorch_model.bin.index.json");
        if (!Files.isRegularFile(index)) return List.of(dir.resolve("pytorch_model.bin"));
        JsonNode map;
        try {
            JsonNode n = Json.parse(Files.readAllBytes(index));
            map = n == null ? null : n.get("weight_map");
        } catch (IOException e) {
            throw BadInputException.inFile(index, "not valid JSON: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
        }
        if (map == null || !map.isObject() || map.size() == 0) throw BadInputException.inFile(index, "has no weight_map");
        Path base = dir.toAbsolutePath().normalize();
        Set<Path> files = new LinkedHashSet<>();
        for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
            String f = it.next().asText();
            Path p = base.resolve(f).normalize();
            if (!p.startsWith(base)) throw BadInputException.inFile(index, "shard " + f + " lies outside the directory");
            if (!Files.isRegularFile(p)) throw BadInputException.inFile(index, "names missing shard " + f);
            files.add(p);
        }
        return List.copyOf(files);
    }

    /** The tensors of one torch.save file, flattened to dotted names, in pickle order. */
    public static Map<String, EncodedTensor> readStateDict(Path file) {
        return MessageText.oneLine(() -> readStateDictChecked(file));
    }

    private static Map<String, EncodedTensor> readStateDictChecked(Path file) {
        if (FileRegions.size(file) == 0) throw BadInputException.inFile(file, "empty file");
        if (isLegacy(FileRegions.magic(file, 262))) {
            throw new UnsupportedModelException(file + ": legacy (pre-1.6, non-zip) torch.save format; re-save it with "
                    + "torch >= 1.6 (torch.save(torch.load(f), f)) or convert it to safetensors");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ZipDirectory zip = ZipDirectory.read(file, ch);
            ZipDirectory.Entry pkl = null;
            for (ZipDirectory.Entry e : zip.entries().values()) {
                if (e.name().endsWith("/data.pkl") || e.name().equals("data.pkl")) { pkl = e; break; }
            }
            if (pkl == null) throw BadInputException.inFile(file, "zip archive has no data.pkl (not a torch.save file)");
            String prefix = pkl.name().substring(0, pkl.name().length() - "data.pkl".length());
            ZipDirectory.Entry bo = zip.entries().get(prefix + "byteorder");
            if (bo != null) {
                ByteBuffer b = zip.bytes(bo, 64);
                byte[] s = new byte[Math.min(b.remaining(), 64)];
                b.get(s);
                String order = new String(s, StandardCharsets.US_ASCII).trim();
                if (!order.equals("little")) throw new UnsupportedModelException(file + ": byte order '" + order + "' is not supported (little-endian only)");
            }
            Object root;
            try {
                root = RestrictedUnpickler.load(zip.bytes(pkl, MAX_PICKLE));
            } catch (RestrictedUnpickler.Refused r) {
                throw BadInputException.inFile(file, r.getMessage());
            }
            Map<String, EncodedTensor> out = new LinkedHashMap<>();
            new Flattener(file, zip, prefix, out).flatten("", unwrap(root), 0);
            if (out.isEmpty()) throw BadInputException.inFile(file, "holds no tensors");
            return out;
        } catch (IOException e) {
            throw BadInputException.inFile(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** A checkpoint dict wrapping the state dict under "state_dict", "model" or "module" is unwrapped. */
    private static Object unwrap(Object root) {
        if (root instanceof Map<?, ?> m) {
            for (String k : new String[] {"state_dict", "model", "module"}) {
                if (m.get(k) instanceof Map<?, ?> inner
                        && inner.values().stream().anyMatch(v -> v instanceof RestrictedUnpickler.TensorRef || v instanceof Map)) {
                    return inner;
                }
            }
        }
        return root;
    }

    /** Walks the unpickled object tree, rebuilding tensors from their storages. */
    private static final class Flattener {
        private final Path file;
        private final ZipDirectory zip;
        private final String prefix;
        private final Map<String, EncodedTensor> out;
        private final Map<String, ByteBuffer> storages = new LinkedHashMap<>();
        private final Set<Object> open = Collections.newSetFromMap(new IdentityHashMap<>());

        Flattener(Path file, ZipDirectory zip, String prefix, Map<String, EncodedTensor> out) {
            this.file = file;
            this.zip = zip;
            this.prefix = prefix;
            this.out = out;
        }

        void flatten(String name, Object v, int depth) {
            if (v instanceof Map<?, ?> m) {
                // a memo reference can make a dict contain itself: refuse instead of recursing forever
                if (depth > MAX_NESTING || !open.add(m)) throw BadInputException.inFile(file, "state dict nests too deeply or contains itself");
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    String k = String.valueOf(e.getKey());
                    flatten(name.isEmpty() ? k : name + "." + k, e.getValue(), depth + 1);
                }
                open.remove(m);
            } else if (v instanceof RestrictedUnpickler.TensorRef t) {
                if (out.put(name, new DenseWeight(rebuild(name, t))) != null) throw BadInputException.inFile(file, "tensor name " + name + " repeats");
            }
            // other values (ints, strings, optimizer scalars) are not weights
        }

        private Tensor rebuild(String name, RestrictedUnpickler.TensorRef t) {
            DType dtype = dtypeOf(t.storage().type());
            int es = dtype.byteSize();
            String key = t.storage().key();
            ByteBuffer data = storages.get(key);
            if (data == null) {
                ZipDirectory.Entry e = zip.entries().get(prefix + "data/" + key);
                if (e == null) throw BadInputException.inFile(file, "tensor " + name + " refers to missing storage data/" + key);
                data = zip.bytes(e, Integer.MAX_VALUE);
                if (t.storage().numel() < 0 || data.remaining() / es < t.storage().numel()) {
                    throw BadInputException.inFile(file, "storage data/" + key + " holds " + data.remaining() + " bytes, fewer than its "
                            + t.storage().numel() + " declared " + dtype.displayName() + " elements");
                }
                storages.put(key, data);
            }
            long[] size = t.size(), stride = t.stride();
            if (size.length != stride.length) throw BadInputException.inFile(file, "tensor " + name + " has mismatched size and stride");
            long numel, last = t.offset();
            try {
                numel = Tensor.numel(size);
                for (int i = 0; i < size.length; i++) {
                    if (stride[i] < 0) throw BadInputException.inFile(file, "tensor " + name + " has a negative stride");
                    if (size[i] > 0) last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
                }
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw BadInputException.inFile(file, "tensor " + name + " has an invalid size " + java.util.Arrays.toString(size));
            }
            // The furthest element the view touches must lie inside the storage.
            long elements = data.remaining() / es;
            if (t.offset() < 0 || (numel > 0 && last >= elements)) {
                throw BadInputException.inFile(file, "tensor " + name + " reaches past its storage (" + elements + " elements)");
            }
            // numel × element size can overflow where strides of 0 let a huge view fit a small storage
            if (numel > Integer.MAX_VALUE / es) throw new UnsupportedModelException(file + ": tensor " + name + " exceeds 2 GiB");
            ByteBuffer src = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            if (isContiguous(size, stride)) return Tensor.of(dtype, size, src.slice((int) (t.offset() * es), (int) (numel * es)));
            // A non-contiguous view is copied. One with more elements than its storage repeats elements (stride 0,
            // an expanded tensor): a few bytes of file could ask for gigabytes of copy, and state dicts never hold one.
            if (numel > elements) {
                throw new UnsupportedModelException(file + ": tensor " + name + " is an expanded view (" + numel
                        + " elements over a storage of " + elements + "); save a contiguous copy (tensor.contiguous())");
            }
            ByteBuffer dst = ByteBuffer.allocate((int) (numel * es)).order(ByteOrder.LITTLE_ENDIAN);
            long[] idx = new long[size.length];
            byte[] one = new byte[es];
            for (long n = 0; n < numel; n++) {
                long at = t.offset();
                for (int d = 0; d < size.length; d++) at += idx[d] * stride[d];
                src.get((int) (at * es), one);
                dst.put(one);
                for (int d = size.length - 1; d >= 0; d--) {
                    if (++idx[d] < size[d]) break;
                    idx[d] = 0;
                }
            }
            dst.flip();
            return Tensor.of(dtype, size, dst);
        }
    }

    /** The element type of a storage class (FloatStorage, ...) or, for untyped storages, a dtype name (float32, ...). */
    static DType dtypeOf(String type) {
        return switch (type) {
            case "FloatStorage", "float32", "float" -> DType.F32;
            case "HalfStorage", "float16", "half" -> DType.F16;
            case "BFloat16Storage", "bfloat16" -> DType.BF16;
            case "DoubleStorage", "float64", "double" -> DType.F64;
            case "LongStorage", "int64", "long" -> DType.I64;
            case "IntStorage", "int32", "int" -> DType.I32;
            case "ShortStorage", "int16", "short" -> DType.I16;
            case "CharStorage", "int8" -> DType.I8;
            case "ByteStorage", "uint8" -> DType.U8;
            case "BoolStorage", "bool" -> DType.BOOL;
            default -> throw new IllegalStateException("storage type " + type + " passed the allow-list but has no dtype");
        };
    }

    private static boolean isContiguous(long[] size, long[] stride) {
        long expect = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (size[d] != 1 && stride[d] != expect) return false;
            expect *= size[d];
        }
        return true;
    }
}
