package dev.tamp.formats.pytorch;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.CheckpointReader;
import dev.tamp.formats.HfConfig;
import dev.tamp.formats.ModelLoader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads PyTorch state dicts saved by {@code torch.save} (the zip format of torch ≥ 1.6: {@code <prefix>/data.pkl}
 * plus one entry per storage under {@code <prefix>/data/}). The pickle is interpreted by
 * {@link RestrictedUnpickler}, which executes nothing. Nested dicts (a "state_dict" or "model" key) are
 * flattened with dotted names. A directory with config.json and pytorch_model.bin reads as a HF checkpoint.
 * Storages are read onto the heap (zip entries have no mappable offset through java.util.zip).
 */
public final class PyTorchReader implements CheckpointReader {
    @Override
    public boolean accepts(Path path) {
        if (Files.isDirectory(path)) return Files.isRegularFile(path.resolve("pytorch_model.bin"));
        String n = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".pt") || n.endsWith(".pth")) return true;
        if (!n.endsWith(".bin")) return false;
        byte[] m = ModelLoader.magic(path, 2);
        return (m.length == 2 && m[0] == 'P' && m[1] == 'K') || (m.length == 2 && (m[0] & 0xFF) == 0x80);
    }

    @Override
    public Model read(Path path, Progress progress) {
        Map<String, Object> config = new LinkedHashMap<>();
        Path file = path;
        if (Files.isDirectory(path)) {
            Path cfg = path.resolve("config.json");
            if (!Files.isRegularFile(cfg)) throw BadInputException.inFile(path, "directory has no config.json");
            config.putAll(HfConfig.read(cfg));
            file = path.resolve("pytorch_model.bin");
        }
        Map<String, EncodedTensor> weights = readStateDict(file);
        return new Model(ModelFormat.PYTORCH, path.toString(), HfConfig.architecture(config), null, weights, config, Map.of(), null, List.of());
    }

    static Map<String, EncodedTensor> readStateDict(Path file) {
        if (dev.tamp.formats.FileRegions.size(file) == 0) throw BadInputException.inFile(file, "empty file");
        byte[] head = ModelLoader.magic(file, 2);
        if (head.length == 2 && (head[0] & 0xFF) == 0x80) {
            throw new UnsupportedModelException(file + ": legacy (pre-1.6) torch.save format; re-save it with a newer torch or convert to safetensors");
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry pkl = null;
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                if (e.getName().endsWith("/data.pkl") || e.getName().equals("data.pkl")) { pkl = e; break; }
            }
            if (pkl == null) throw BadInputException.inFile(file, "zip archive has no data.pkl (not a torch.save file)");
            String prefix = pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
            ZipEntry bo = zip.getEntry(prefix + "byteorder");
            if (bo != null && !new String(read(zip, bo, file, 16), StandardCharsets.US_ASCII).trim().equals("little")) {
                throw new UnsupportedModelException(file + ": big-endian tensors are not supported");
            }
            Object root;
            try {
                root = RestrictedUnpickler.load(ByteBuffer.wrap(read(zip, pkl, file, 1L << 30)));
            } catch (RestrictedUnpickler.Refused r) {
                throw BadInputException.inFile(file, r.getMessage());
            }
            Map<String, EncodedTensor> out = new LinkedHashMap<>();
            Map<String, byte[]> storages = new LinkedHashMap<>();
            flatten(file, zip, prefix, "", unwrap(root), out, storages);
            if (out.isEmpty()) throw BadInputException.inFile(file, "holds no tensors");
            return out;
        } catch (ZipException e) {
            throw BadInputException.inFile(file, "not a valid zip archive (truncated or corrupt): " + e.getMessage(), e);
        } catch (IOException e) {
            throw BadInputException.inFile(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** A checkpoint dict wrapping the state dict under "state_dict" or "model" is unwrapped. */
    private static Object unwrap(Object root) {
        if (root instanceof Map<?, ?> m) {
            for (String k : new String[] {"state_dict", "model", "module"}) {
                if (m.get(k) instanceof Map<?, ?> inner && inner.values().stream().anyMatch(v -> v instanceof RestrictedUnpickler.TensorRef || v instanceof Map)) {
                    return inner;
                }
            }
        }
        return root;
    }

    private static void flatten(Path file, ZipFile zip, String prefix, String name, Object v, Map<String, EncodedTensor> out,
                                Map<String, byte[]> storages) throws IOException {
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String k = String.valueOf(e.getKey());
                flatten(file, zip, prefix, name.isEmpty() ? k : name + "." + k, e.getValue(), out, storages);
            }
        } else if (v instanceof RestrictedUnpickler.TensorRef t) {
            out.put(name, new DenseWeight(rebuild(file, zip, prefix, name, t, storages)));
        }
        // other values (ints, strings, optimizer scalars) are not weights
    }

    private static Tensor rebuild(Path file, ZipFile zip, String prefix, String name, RestrictedUnpickler.TensorRef t,
                                  Map<String, byte[]> storages) throws IOException {
        DType dtype = switch (t.storage().type()) {
            case "FloatStorage" -> DType.F32;
            case "HalfStorage" -> DType.F16;
            case "BFloat16Storage" -> DType.BF16;
            case "DoubleStorage" -> DType.F64;
            case "LongStorage" -> DType.I64;
            case "IntStorage" -> DType.I32;
            case "ShortStorage" -> DType.I16;
            case "CharStorage" -> DType.I8;
            case "ByteStorage" -> DType.U8;
            default -> DType.BOOL;
        };
        String key = t.storage().key();
        byte[] data = storages.get(key);
        if (data == null) {
            ZipEntry e = zip.getEntry(prefix + "data/" + key);
            if (e == null) throw BadInputException.inFile(file, "tensor " + name + " refers to missing storage data/" + key);
            data = read(zip, e, file, Integer.MAX_VALUE);
            storages.put(key, data);
        }
        long[] size = t.size();
        long[] stride = t.stride();
        if (size.length != stride.length) throw BadInputException.inFile(file, "tensor " + name + " has mismatched size and stride");
        long numel;
        try {
            numel = Tensor.numel(size);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw BadInputException.inFile(file, "tensor " + name + " has an invalid size");
        }
        int es = dtype.byteSize();
        // The furthest element the view touches must lie inside the storage.
        long last = t.offset();
        for (int i = 0; i < size.length; i++) if (size[i] > 0) last += (size[i] - 1) * stride[i];
        if (t.offset() < 0 || (numel > 0 && (last + 1) * es > data.length)) {
            throw BadInputException.inFile(file, "tensor " + name + " reaches past its storage (" + data.length + " bytes)");
        }
        ByteBuffer src = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (isContiguous(size, stride)) {
            return Tensor.of(dtype, size, src.slice((int) (t.offset() * es), (int) (numel * es)));
        }
        ByteBuffer dst = ByteBuffer.allocate((int) (numel * es)).order(ByteOrder.LITTLE_ENDIAN);
        long[] idx = new long[size.length];
        for (long n = 0; n < numel; n++) {
            long at = t.offset();
            for (int d = 0; d < size.length; d++) at += idx[d] * stride[d];
            dst.put(src.slice((int) (at * es), es));
            for (int d = size.length - 1; d >= 0; d--) {
                if (++idx[d] < size[d]) break;
                idx[d] = 0;
            }
        }
        dst.flip();
        return Tensor.of(dtype, size, dst);
    }

    private static boolean isContiguous(long[] size, long[] stride) {
        long expect = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (size[d] != 1 && stride[d] != expect) return false;
            expect *= size[d];
        }
        return true;
    }

    private static byte[] read(ZipFile zip, ZipEntry e, Path file, long limit) throws IOException {
        long n = e.getSize();
        if (n > limit || n > Integer.MAX_VALUE - 8) throw BadInputException.inFile(file, "zip entry " + e.getName() + " is too large (" + n + " bytes)");
        try (InputStream in = zip.getInputStream(e)) {
            return in.readNBytes((int) Math.min(limit, Integer.MAX_VALUE - 8));
        }
    }
}
