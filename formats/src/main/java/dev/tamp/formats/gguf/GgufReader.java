package dev.tamp.formats.gguf;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.family.FusedProjections;
import dev.tamp.formats.family.ModelFamily;
import dev.tamp.formats.io.CheckpointReader;
import dev.tamp.formats.io.FileRegions;
import dev.tamp.formats.io.MessageText;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads GGUF v2/v3 (formats.md §4.2): header, metadata key/values of every type (arrays included), tensor
 * infos, then the tensors. F32/F16/BF16 data is memory-mapped as-is; block-quantized data (Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0, the k-quants Q2_K..Q6_K and Q8_K, IQ4_NL, IQ4_XS, MXFP4) is dequantized to F32 on read, bit for bit as ggml's
 * own to_float does ({@link GgmlBlocks}, {@link GgmlKQuants}), so those tensors cost heap — about 7× their file size
 * for Q4_K — and a file that would not fit is refused up front.
 * Every count and length is checked against the bytes that remain before anything is allocated. Llama-family
 * tensors are renamed to Hugging Face names so the same graph builder serves them.
 */
public final class GgufReader implements CheckpointReader {
    static final int MAGIC = 0x46554747; // "GGUF" little-endian
    static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** Arrays of arrays are legal; a bound keeps a crafted file from exhausting the stack. */
    static final int MAX_ARRAY_NESTING = 8;

    @Override
    public boolean accepts(Path path) {
        if (!Files.isRegularFile(path)) return false;
        if (path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) return true;
        byte[] m = FileRegions.magic(path, 4);
        return m.length == 4 && m[0] == 'G' && m[1] == 'G' && m[2] == 'U' && m[3] == 'F';
    }

    /** One tensor info: row-major shape (GGUF lists dims innermost first), ggml type id, offset in the data section. */
    public record TensorInfo(String name, long[] shape, int type, long offset) {}

    /**
     * A parsed GGUF header: version, all metadata (integers as Long — unsigned 64-bit values beyond
     * Long.MAX_VALUE stay negative —, floats as Double, bools, Strings, arrays as unmodifiable Lists), the tensor
     * infos in file order, and where the data section starts.
     */
    public record Header(int version, Map<String, Object> metadata, List<TensorInfo> tensors, long alignment, long dataStart) {}

    /** Parses and validates only the header (no tensor data is touched). */
    public static Header readHeader(Path path) {
        return MessageText.oneLine(() -> readHeaderChecked(path));
    }

    private static Header readHeaderChecked(Path path) {
        long size = FileRegions.size(path);
        if (size == 0) throw BadInputException.inFile(path, "empty file");
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return header(path, ch, size);
        } catch (IOException e) {
            throw BadInputException.inFile(path, "cannot read: " + e.getMessage(), e);
        }
    }

    @Override
    public Model read(Path path, Progress progress) {
        return MessageText.oneLine(() -> readModel(path, progress));
    }

    private Model readModel(Path path, Progress progress) {
        long size = FileRegions.size(path);
        if (size == 0) throw BadInputException.inFile(path, "empty file");
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            Header h = header(path, ch, size);
            String arch = h.metadata().getOrDefault("general.architecture", "unknown").toString();
            ModelFamily family = ModelFamily.ofGguf(arch);
            boolean llama = family != null && family.llamaGraph;
            checkDequantizedSize(path, h.tensors());
            Map<String, EncodedTensor> weights = new LinkedHashMap<>();
            progress.begin("reading " + path.getFileName(), h.tensors().size());
            for (TensorInfo info : h.tensors()) {
                String name = llama ? GgufNames.toHf(family, info.name()) : info.name();
                if (weights.put(name, new DenseWeight(tensor(path, ch, info, h.dataStart(), size))) != null) {
                    throw BadInputException.inFile(path, "tensor " + info.name() + " appears twice");
                }
                progress.update(weights.size(), info.name());
            }
            progress.end();
            Map<String, Object> config = config(h.metadata(), arch, weights);
            if (FusedProjections.fused(family)) {
                Map<String, EncodedTensor> split = FusedProjections.split(path.toString(), weights, config);
                weights.clear();
                weights.putAll(split);
            }
            return new Model(ModelFormat.GGUF, path.toString(), family != null ? family.id : arch, null, weights, config, Map.of(), null, List.of());
        } catch (IOException e) {
            throw BadInputException.inFile(path, "cannot read: " + e.getMessage(), e);
        }
    }


    private static Header header(Path path, FileChannel ch, long size) {
        // Headers (vocabularies included) are far below 2 GiB; the window bounds every read below.
        ByteBuffer b = FileRegions.map(path, ch, 0, Math.min(size, Integer.MAX_VALUE)).order(ByteOrder.LITTLE_ENDIAN);
        try {
            if (b.getInt() != MAGIC) throw BadInputException.inFile(path, "not a GGUF file (bad magic)");
            int version = b.getInt();
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                throw new UnsupportedModelException(path + ": big-endian GGUF files are not supported");
            }
            if (version < 2 || version > 3) {
                throw new UnsupportedModelException(path + ": GGUF version " + version + " is not supported (2 and 3 are)");
            }
            long tensorCount = b.getLong();
            long kvCount = b.getLong();
            // Smallest possible entries: a KV is an empty key (8) + type (4) + a 1-byte value; a tensor info is an
            // empty name (8) + n_dims (4) + type (4) + offset (8).
            if (tensorCount < 0 || tensorCount > b.remaining() / 24 || kvCount < 0 || kvCount > b.remaining() / 13) {
                throw BadInputException.inFile(path, "GGUF header declares " + tensorCount + " tensors and " + kvCount
                        + " metadata entries, more than the " + size + "-byte file can hold");
            }
            Map<String, Object> meta = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                String key = string(path, b, "metadata key");
                Object v = value(path, b, b.getInt(), key, 0);
                if (meta.put(key, v) != null) throw BadInputException.inFile(path, "metadata key " + key + " appears twice");
            }
            List<TensorInfo> infos = new ArrayList<>();
            for (long i = 0; i < tensorCount; i++) {
                String name = string(path, b, "tensor name");
                int nd = b.getInt();
                if (nd < 1 || nd > MAX_DIMS) throw BadInputException.inFile(path, "tensor " + name + " has " + nd + " dimensions (1.." + MAX_DIMS + ")");
                long[] shape = new long[nd];
                for (int d = 0; d < nd; d++) {
                    long v = b.getLong();
                    if (v < 0) throw BadInputException.inFile(path, "tensor " + name + " has a negative dimension " + v);
                    shape[nd - 1 - d] = v; // GGUF lists the innermost (fastest-varying) dimension first
                }
                infos.add(new TensorInfo(name, shape, b.getInt(), b.getLong()));
            }
            long align = alignment(path, meta);
            for (TensorInfo t : infos) {
                if (t.offset() % align != 0) {
                    throw BadInputException.inFile(path, "tensor " + t.name() + " data offset " + t.offset() + " is not a multiple of the alignment " + align);
                }
            }
            long dataStart = (b.position() + align - 1) / align * align;
            return new Header(version, Collections.unmodifiableMap(meta), List.copyOf(infos), align, dataStart);
        } catch (BufferUnderflowException e) {
            throw BadInputException.inFile(path, "truncated GGUF header");
        }
    }

    private static long alignment(Path path, Map<String, Object> meta) {
        Object a = meta.get("general.alignment");
        if (a == null) return DEFAULT_ALIGNMENT;
        if (!(a instanceof Long n) || n <= 0 || n % 8 != 0 || n > 1 << 20) {
            throw BadInputException.inFile(path, "general.alignment " + a + " is invalid (a positive multiple of 8 is required)");
        }
        return n;
    }

    /** Refuses before allocating when the dequantized block-quantized tensors would not fit in the heap. */
    private static void checkDequantizedSize(Path path, List<TensorInfo> infos) {
        long bytes = 0;
        for (TensorInfo info : infos) {
            GgmlType t = GgmlType.of(info.type());
            if (t != null && t.isBlockQuantized()) {
                try {
                    bytes = Math.addExact(bytes, Math.multiplyExact(Tensor.numel(info.shape()), 4L));
                } catch (ArithmeticException | IllegalArgumentException e) {
                    throw BadInputException.inFile(path, "tensor " + info.name() + " declares an impossible size");
                }
            }
        }
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > available) {
            throw new UnsupportedModelException(path + ": its block-quantized tensors dequantize to " + (bytes >> 20)
                    + " MiB of F32, more than the " + (available >> 20) + " MiB of free heap (raise -Xmx)");
        }
    }

    private static Tensor tensor(Path path, FileChannel ch, TensorInfo info, long dataStart, long size) {
        GgmlType t = GgmlType.of(info.type());
        if (t == null) {
            throw new UnsupportedModelException(path + ": tensor " + info.name() + " has ggml type " + GgmlType.describe(info.type())
                    + ", which tamp does not read (" + GgmlType.supportedNames() + " are supported)");
        }
        long inner = info.shape()[info.shape().length - 1];
        if (inner % t.blockSize != 0) {
            throw BadInputException.inFile(path, "tensor " + info.name() + " rows of " + inner + " are not a whole number of "
                    + t + " blocks of " + t.blockSize);
        }
        long n, bytes;
        try {
            n = Tensor.numel(info.shape());
            bytes = t.bytes(n);
        } catch (ArithmeticException e) {
            throw BadInputException.inFile(path, "tensor " + info.name() + " declares an impossible size");
        }
        if (info.offset() < 0 || info.offset() > size - dataStart || bytes > size - dataStart - info.offset()) {
            throw BadInputException.inFile(path, "tensor " + info.name() + " at data offset " + info.offset() + " (" + bytes
                    + " bytes) lies outside the file (truncated or lying header)");
        }
        ByteBuffer raw = FileRegions.map(path, ch, dataStart + info.offset(), bytes);
        return switch (t) {
            case F32 -> Tensor.of(DType.F32, info.shape(), raw);
            case F16 -> Tensor.of(DType.F16, info.shape(), raw);
            case BF16 -> Tensor.of(DType.BF16, info.shape(), raw);
            case Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, MXFP4 -> Tensor.ofFloats(GgmlBlocks.dequantize(t, raw, floats(path, info, n)), info.shape());
            case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_XS -> Tensor.ofFloats(GgmlKQuants.dequantize(t, raw, floats(path, info, n)), info.shape());
        };
    }

    /** {@code n} as the length of the F32 array a block-quantized tensor dequantizes into. */
    private static int floats(Path path, TensorInfo info, long n) {
        if (n > (Integer.MAX_VALUE - 8) / 4) {
            throw new UnsupportedModelException(path + ": tensor " + info.name() + " dequantizes to more than 2 GiB of F32");
        }
        return (int) n;
    }

    private static String string(Path path, ByteBuffer b, String what) {
        long len = b.getLong();
        if (len < 0 || len > b.remaining()) throw BadInputException.inFile(path, "GGUF " + what + " length " + len + " exceeds the file");
        byte[] s = new byte[(int) len];
        b.get(s);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(s)).toString();
        } catch (CharacterCodingException e) {
            throw BadInputException.inFile(path, "GGUF " + what + " is not valid UTF-8");
        }
    }

    /** Smallest encoded size of one value of a type, so array counts can be checked before reading. */
    private static int minBytes(int type) {
        return switch (type) {
            case 0, 1, 7 -> 1;
            case 2, 3 -> 2;
            case 4, 5, 6 -> 4;
            case 8, 10, 11, 12 -> 8;
            case 9 -> 12;
            default -> 1;
        };
    }

    private static Object value(Path path, ByteBuffer b, int type, String key, int depth) {
        switch (type) {
            case 0: return (long) (b.get() & 0xFF);
            case 1: return (long) b.get();
            case 2: return (long) (b.getShort() & 0xFFFF);
            case 3: return (long) b.getShort();
            case 4: return b.getInt() & 0xFFFFFFFFL;
            case 5: return (long) b.getInt();
            case 6: return (double) b.getFloat();
            case 7: {
                byte v = b.get();
                if (v != 0 && v != 1) throw BadInputException.inFile(path, "metadata " + key + " is a bool holding " + v);
                return v == 1;
            }
            case 8: return string(path, b, "metadata " + key + " string");
            case 9: {
                if (depth >= MAX_ARRAY_NESTING) throw BadInputException.inFile(path, "metadata " + key + " nests arrays too deeply");
                int et = b.getInt();
                long count = b.getLong();
                if (count < 0 || count > b.remaining() / minBytes(et)) {
                    throw BadInputException.inFile(path, "metadata " + key + " declares " + count + " array elements, more than the file holds");
                }
                List<Object> items = new ArrayList<>((int) Math.min(count, 1 << 16));
                for (long i = 0; i < count; i++) items.add(value(path, b, et, key, depth + 1));
                return Collections.unmodifiableList(items);
            }
            case 10: return b.getLong();
            case 11: return b.getLong();
            case 12: return b.getDouble();
            default: throw BadInputException.inFile(path, "metadata " + key + " has unknown value type " + type);
        }
    }

    /**
     * HF-style config from GGUF metadata ({@code <arch>.embedding_length} → hidden_size, ...), plus every
     * {@code general.*} key; arrays (the tokenizer vocabulary) appear as {@code "array[n]"} — the full values are
     * in {@link #readHeader(Path)}.
     */
    private static Map<String, Object> config(Map<String, Object> meta, String arch, Map<String, EncodedTensor> weights) {
        Map<String, Object> c = new LinkedHashMap<>();
        String[][] keys = {
                {"embedding_length", "hidden_size"}, {"feed_forward_length", "intermediate_size"},
                {"block_count", "num_hidden_layers"}, {"attention.head_count", "num_attention_heads"},
                {"attention.head_count_kv", "num_key_value_heads"}, {"context_length", "max_position_embeddings"},
                {"attention.layer_norm_rms_epsilon", "rms_norm_eps"}, {"attention.layer_norm_epsilon", "layer_norm_eps"},
                {"rope.freq_base", "rope_theta"}, {"vocab_size", "vocab_size"}, {"attention.key_length", "head_dim"},
                {"attention.sliding_window", "sliding_window"}, {"attention.sliding_window_pattern", "sliding_window_pattern"},
                {"rope.freq_base_swa", "rope_local_base_freq"}, {"attn_logit_softcapping", "attn_logit_softcapping"},
                {"final_logit_softcapping", "final_logit_softcapping"}};
        for (String[] k : keys) {
            Object v = meta.get(arch + "." + k[0]);
            if (v != null && !(v instanceof List)) c.put(k[1], v);
        }
        EncodedTensor emb = weights.containsKey("model.embed_tokens.weight") ? weights.get("model.embed_tokens.weight") : weights.get("token_embd.weight");
        if (emb != null && emb.shape().length == 2) c.putIfAbsent("vocab_size", emb.shape()[0]);
        if (meta.get("tokenizer.ggml.tokens") instanceof List<?> tokens) c.putIfAbsent("vocab_size", (long) tokens.size());
        ModelFamily family = ModelFamily.ofGguf(arch);
        if (family != null && family.llamaGraph) {
            c.put("model_type", family.id);
            c.put("rope_interleaved", family.ggufInterleavedRope);
            c.put("tie_word_embeddings", !weights.containsKey("lm_head.weight"));
        }
        meta.forEach((k, v) -> {
            if (k.startsWith("general.")) c.put(k, v instanceof List<?> l ? "array[" + l.size() + "]" : v);
        });
        return c;
    }
}
