package dev.tamp.formats.gguf;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Half;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.CheckpointReader;
import dev.tamp.formats.FileRegions;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads GGUF v2/v3 (formats.md §4.2): header, metadata key/values (scalars kept in the config; arrays
 * counted), tensor infos, and F32/F16/BF16 data (mapped) and Q8_0/Q4_0 data (dequantized to F32 on read).
 * Every count and length is checked against the bytes that remain before anything is allocated. Llama-family
 * tensors are renamed to Hugging Face names so the same graph builder serves them; llama.cpp stores Q/K in
 * Meta's interleaved RoPE layout, which the config records.
 */
public final class GgufReader implements CheckpointReader {
    static final int MAGIC = 0x46554747; // "GGUF" little-endian

    @Override
    public boolean accepts(Path path) {
        if (!Files.isRegularFile(path)) return false;
        if (path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) return true;
        byte[] m = dev.tamp.formats.ModelLoader.magic(path, 4);
        return m.length == 4 && m[0] == 'G' && m[1] == 'G' && m[2] == 'U' && m[3] == 'F';
    }

    record Info(String name, long[] shape, int type, long offset) {}

    @Override
    public Model read(Path path, Progress progress) {
        long size = FileRegions.size(path);
        if (size == 0) throw BadInputException.inFile(path, "empty file");
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer b = FileRegions.map(path, ch, 0, Math.min(size, Integer.MAX_VALUE)).order(ByteOrder.LITTLE_ENDIAN);
            Map<String, Object> meta = new LinkedHashMap<>();
            List<Info> infos = new ArrayList<>();
            long dataStart;
            try {
                if (b.getInt() != MAGIC) throw BadInputException.inFile(path, "not a GGUF file (bad magic)");
                int version = b.getInt();
                if (version < 2 || version > 3) throw new UnsupportedModelException(path + ": GGUF version " + version + " is not supported (2 and 3 are)");
                long tensorCount = b.getLong();
                long kvCount = b.getLong();
                if (tensorCount < 0 || tensorCount > b.remaining() / 24 || kvCount < 0 || kvCount > b.remaining() / 12) {
                    throw BadInputException.inFile(path, "GGUF header declares " + tensorCount + " tensors and " + kvCount
                            + " metadata entries, more than the file can hold");
                }
                for (long i = 0; i < kvCount; i++) {
                    String key = string(path, b);
                    int type = b.getInt();
                    Object v = value(path, b, type, key);
                    if (v != null) meta.put(key, v);
                }
                for (long i = 0; i < tensorCount; i++) {
                    String name = string(path, b);
                    int nd = b.getInt();
                    if (nd < 0 || nd > 8) throw BadInputException.inFile(path, "tensor " + name + " has " + nd + " dimensions");
                    long[] shape = new long[nd];
                    for (int d = 0; d < nd; d++) {
                        long v = b.getLong();
                        if (v < 0) throw BadInputException.inFile(path, "tensor " + name + " has a negative dimension");
                        shape[nd - 1 - d] = v; // GGUF lists the innermost dimension first
                    }
                    infos.add(new Info(name, shape, b.getInt(), b.getLong()));
                }
                long align = meta.get("general.alignment") instanceof Number n ? n.longValue() : 32;
                if (align <= 0 || align > 1 << 20) throw BadInputException.inFile(path, "GGUF alignment " + align + " is invalid");
                dataStart = (b.position() + align - 1) / align * align;
            } catch (BufferUnderflowException e) {
                throw BadInputException.inFile(path, "truncated GGUF header");
            }
            Map<String, EncodedTensor> weights = new LinkedHashMap<>();
            String arch = meta.getOrDefault("general.architecture", "unknown").toString();
            boolean llama = isLlamaFamily(arch);
            for (Info info : infos) {
                String name = llama ? GgufNames.toHf(info.name()) : info.name();
                weights.put(name, new DenseWeight(tensor(path, ch, info, dataStart, size)));
            }
            Map<String, Object> config = config(meta, arch, weights);
            return new Model(ModelFormat.GGUF, path.toString(), llama ? "llama" : arch, null, weights, config, Map.of(), null, List.of());
        } catch (IOException e) {
            throw BadInputException.inFile(path, "cannot read: " + e.getMessage(), e);
        }
    }

    static boolean isLlamaFamily(String arch) {
        return arch.equals("llama") || arch.equals("mistral") || arch.equals("qwen2");
    }

    private static Tensor tensor(Path path, FileChannel ch, Info info, long dataStart, long size) {
        GgmlType t = GgmlType.of(info.type());
        if (t == null) throw new UnsupportedModelException(path + ": tensor " + info.name() + " has ggml type " + info.type()
                + ", which tamp does not read (F32, F16, BF16, Q8_0, Q4_0 are supported)");
        long n;
        try {
            n = Tensor.numel(info.shape());
        } catch (ArithmeticException e) {
            throw BadInputException.inFile(path, "tensor " + info.name() + " declares an impossible size");
        }
        if (n % t.blockSize != 0) throw BadInputException.inFile(path, "tensor " + info.name() + " is not a whole number of " + t + " blocks");
        long bytes = t.bytes(n);
        if (info.offset() < 0 || info.offset() > size - dataStart) {
            throw BadInputException.inFile(path, "tensor " + info.name() + " offset " + info.offset() + " lies outside the file");
        }
        ByteBuffer raw = FileRegions.map(path, ch, dataStart + info.offset(), bytes);
        return switch (t) {
            case F32 -> Tensor.of(DType.F32, info.shape(), raw);
            case F16 -> Tensor.of(DType.F16, info.shape(), raw);
            case BF16 -> Tensor.of(DType.BF16, info.shape(), raw);
            case Q8_0, Q4_0 -> Tensor.ofFloats(GgmlBlocks.dequantize(t, raw, (int) n), info.shape());
        };
    }

    private static String string(Path path, ByteBuffer b) {
        long len = b.getLong();
        if (len < 0 || len > b.remaining()) throw BadInputException.inFile(path, "GGUF string length " + len + " exceeds the file");
        byte[] s = new byte[(int) len];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    /** Reads one metadata value; arrays are skipped and reported by their element count. */
    private static Object value(Path path, ByteBuffer b, int type, String key) {
        switch (type) {
            case 0: return (long) (b.get() & 0xFF);
            case 1: return (long) b.get();
            case 2: return (long) (b.getShort() & 0xFFFF);
            case 3: return (long) b.getShort();
            case 4: return b.getInt() & 0xFFFFFFFFL;
            case 5: return (long) b.getInt();
            case 6: return (double) b.getFloat();
            case 7: return b.get() != 0;
            case 8: return string(path, b);
            case 9: {
                int et = b.getInt();
                long count = b.getLong();
                if (count < 0 || count > b.remaining()) throw BadInputException.inFile(path, "metadata " + key + " declares " + count + " elements");
                for (long i = 0; i < count; i++) value(path, b, et, key);
                return "array[" + count + "]";
            }
            case 10: return b.getLong();
            case 11: return b.getLong();
            case 12: return b.getDouble();
            default: throw BadInputException.inFile(path, "metadata " + key + " has unknown value type " + type);
        }
    }

    /** HF-style config from GGUF metadata (`<arch>.embedding_length` → hidden_size, ...). */
    private static Map<String, Object> config(Map<String, Object> meta, String arch, Map<String, EncodedTensor> weights) {
        Map<String, Object> c = new LinkedHashMap<>();
        String[][] keys = {
                {"embedding_length", "hidden_size"}, {"feed_forward_length", "intermediate_size"},
                {"block_count", "num_hidden_layers"}, {"attention.head_count", "num_attention_heads"},
                {"attention.head_count_kv", "num_key_value_heads"}, {"context_length", "max_position_embeddings"},
                {"attention.layer_norm_rms_epsilon", "rms_norm_eps"}, {"rope.freq_base", "rope_theta"}};
        for (String[] k : keys) {
            Object v = meta.get(arch + "." + k[0]);
            if (v != null) c.put(k[1], v);
        }
        EncodedTensor emb = weights.get("model.embed_tokens.weight");
        if (emb != null) c.put("vocab_size", emb.shape()[0]);
        if (isLlamaFamily(arch)) {
            c.put("model_type", arch);
            c.put("rope_interleaved", true);
            c.put("tie_word_embeddings", !weights.containsKey("lm_head.weight"));
        }
        meta.forEach((k, v) -> { if (k.startsWith("general.")) c.put(k, v); });
        return c;
    }
}
